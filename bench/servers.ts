/**
 * Starting, readying and stopping the two servers under test, each in a process of its own:
 * Kassa as production runs it (`npm run build`, then `npm run start:prod`'s command), and the
 * reference server, with the same Node flags. Their stdout (request logs) goes to /dev/null unless a log folder is given;
 * stderr always goes to a file in bench/results/.logs/.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { OC_GATEWAY, OC_GATEWAY_OCID, OC_KASSA_OCID, OC_MERCHANT, OC_MERCHANT_OCID } from "./opencharge.js";
import { loadConfig } from "../src/config.js";

const execFileAsync = promisify(execFile);

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** Set once the process has exited, expectedly or not. */
  exited: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface LogOptions {
  /** bench/results/.logs */
  dir: string;
  /** Also keep stdout (the request log) there; otherwise it goes to /dev/null. */
  keepStdout: boolean;
  stamp: string;
}

/** A port nothing listens on right now (others may run servers on the usual ones). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The Node flags production starts Kassa with: those of `npm run start:prod`
 * (`node <flags> dist/src/server.js`, as the Dockerfile's CMD). Both servers get them.
 */
export function productionNodeFlags(root: string): string[] {
  const scripts = (
    JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }
  ).scripts;
  const words = (scripts["start:prod"] ?? "").split(/\s+/).filter(Boolean);
  if (words[0] !== "node" || words.at(-1) !== "dist/src/server.js") {
    throw new Error(
      `package.json's start:prod must read "node [flags] dist/src/server.js" (it reads "${scripts["start:prod"]}")`,
    );
  }
  return words.slice(1, -1);
}

/** `npm run build` (Prisma client, then tsc to dist/); its output is shown only when it fails. */
export function buildKassa(root: string): void {
  const result = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8", stdio: "pipe" });
  if (result.status !== 0) {
    process.stderr.write(`${result.stdout}\n${result.stderr}\n`);
    throw new Error(`npm run build failed (exit ${result.status ?? result.signal})`);
  }
}

function startProcess(
  name: string,
  url: string,
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logs: LogOptions },
): ServerProcess {
  mkdirSync(options.logs.dir, { recursive: true });
  const stdout = options.logs.keepStdout
    ? openSync(path.join(options.logs.dir, `${options.logs.stamp}-${name}.log`), "w")
    : openSync("/dev/null", "w");
  const stderr = openSync(path.join(options.logs.dir, `${options.logs.stamp}-${name}.err.log`), "w");
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", stdout, stderr],
  });
  closeSync(stdout);
  closeSync(stderr);
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  let exit: Promise<void> = Promise.resolve();
  const server: ServerProcess = {
    name,
    url,
    pid: child.pid,
    exited: null,
    async stop(graceMs = 15_000) {
      if (server.exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
  exit = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      server.exited = { code, signal };
      resolve();
    });
  });
  return server;
}

/** Polls GET /readyz until it answers 200; fails when the process exits or `timeoutMs` passes. */
export async function waitReady(server: ServerProcess, logDir: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited) {
      throw new Error(`${server.name} exited during start (${JSON.stringify(server.exited)}); see ${logDir}`);
    }
    try {
      const response = await fetch(`${server.url}/readyz`);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${server.name} was not ready within ${timeoutMs} ms`);
}

export interface Kassa {
  server: ServerProcess;
  env: NodeJS.ProcessEnv;
  /** DATABASE_POOL_SIZE in effect for this Kassa (its default): the reference gets the same. Null on the embedded store. */
  poolSize: number | null;
}

/** What both servers are started with: nothing from the calling shell but PATH and HOME. */
const productionEnv = (port: number): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NODE_ENV: "production",
  HOST: "127.0.0.1",
  PORT: String(port),
});

/** Where Kassa keeps its data in a run: a PostgreSQL database, or the embedded store (PGlite) in a folder. */
export type KassaStore = { kind: "postgres"; url: string } | { kind: "embedded"; dataDir: string };

/**
 * Kassa with its production settings, limits off: RATE_LIMIT_MAX=0 and AUTH_FAILURE_LIMIT_MAX=0
 * turn the per-key and per-address limits off (src/config.ts, src/api/rate-limit.ts). On
 * PostgreSQL it is given DATABASE_URL; on the embedded store no DATABASE_URL and DATA_DIR, as
 * `npm start` runs it with nothing set. Only the variables below are passed, so a shell's own
 * PORT, DATABASE_URL or DATA_DIR cannot leak in.
 */
export async function startKassa(root: string, store: KassaStore, logs: LogOptions): Promise<Kassa> {
  const port = await freePort();
  const adminPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...productionEnv(port),
    ...(store.kind === "postgres" ? { DATABASE_URL: store.url } : { DATA_DIR: store.dataDir }),
    ADMIN_PORT: String(adminPort),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    RATE_LIMIT_MAX: "0",
    AUTH_FAILURE_LIMIT_MAX: "0",
    OPENCHARGE_OCID: OC_KASSA_OCID,
  };
  const config = loadConfig(env);
  const expected = store.kind === "postgres" ? "postgres" : "pglite";
  if (config.store.kind !== expected) throw new Error(`Kassa must run on ${expected} here`);
  const url = `http://127.0.0.1:${port}`;
  const server = startProcess("kassa", url, process.execPath, [...productionNodeFlags(root), "dist/src/server.js"], {
    cwd: root,
    env,
    logs,
  });
  await waitReady(server, logs.dir);
  return { server, env, poolSize: config.store.kind === "postgres" ? config.store.poolSize : null };
}

/** Runs `node bin/kassa.js ARGS` against the running Kassa (its admin API) and parses its JSON. */
async function kassaCli<T>(root: string, env: NodeJS.ProcessEnv, args: string[]): Promise<T> {
  try {
    const { stdout } = await execFileAsync(process.execPath, ["bin/kassa.js", ...args], { cwd: root, env });
    return JSON.parse(stdout) as T;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`kassa ${args.join(" ")} failed: ${stderr || (error as Error).message}`);
  }
}

/**
 * A merchant account, the installation's default portfolio (2 cents/kg) and a secret API key,
 * through the CLI as README "Operating Kassa" shows. Answers the key.
 */
export async function setUpMerchant(root: string, kassa: Kassa): Promise<string> {
  const account = await kassaCli<{ id: string }>(root, kassa.env, ["accounts", "create", "--name", "Bench"]);
  await kassaCli(root, kassa.env, [
    "portfolios",
    "create",
    "--name",
    "Bench",
    "--id",
    "bench",
    "--default",
    "--checkout-price-per-kg-usd-cents",
    "2",
    "--api-price-per-kg-usd-cents",
    "2",
  ]);
  const key = await kassaCli<{ secret: string }>(root, kassa.env, ["keys", "create", "--account", account.id]);
  return key.secret;
}

/** The Opencharge scenario's merchant and merchant gateway, registered through the CLI. */
export async function setUpOpencharge(root: string, kassa: Kassa): Promise<void> {
  for (const [ocid, name, key, role] of [
    [OC_MERCHANT_OCID, "Bench merchant", OC_MERCHANT.publicHex, "merchant"],
    [OC_GATEWAY_OCID, "Bench gateway", OC_GATEWAY.publicHex, "merchant-gateway"],
  ] as const) {
    await kassaCli(root, kassa.env, [
      ...["opencharge", "participants", "add", "--ocid", ocid, "--name", name, "--public-key", key],
      ...["--endpoint", `https://${role}.bench.example/opencharge`, "--role", role],
    ]);
  }
}

/** The reference server (bench/reference-server.ts, through tsx) with Kassa's pool size. */
export async function startReference(
  root: string,
  databaseUrl: string,
  poolSize: number,
  logs: LogOptions,
): Promise<ServerProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...productionEnv(port),
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: String(poolSize),
  };
  const server = startProcess(
    "reference",
    `http://127.0.0.1:${port}`,
    process.execPath,
    [...productionNodeFlags(root), "--import", "tsx", "bench/reference-server.ts"],
    { cwd: root, env, logs },
  );
  await waitReady(server, logs.dir);
  return server;
}
