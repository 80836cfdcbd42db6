import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Plumbing for the end-to-end tests that run Kassa as real child processes: free ports, a clean
 * environment, waiting and stopping, and a tracker so that nothing they start outlives the test
 * file. A file using `launch` (or `startServer`, `tempDir`) registers `afterAll(cleanUp)`.
 */

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER_ARGS = ["--import", "tsx", path.join(ROOT, "src/server.ts")];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or a rejection naming `what` once `ms` have passed (the timer never keeps the run alive). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns something truthy; a throw from `check` ends the wait at once. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  ms: number,
  what: string,
): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<Awaited<T>>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// Ports and environment

function listen(port: number): Promise<net.Server | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(null));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

async function closeAll(servers: Array<net.Server | null>): Promise<void> {
  await Promise.all(servers.map((s) => s && new Promise((r) => s.close(r))));
}

/**
 * `count` distinct free loopback ports, all held open while choosing so they differ. With
 * `consecutive` they are P, P + 1, ...: the server's ADMIN_PORT defaults to PORT + 1, so a test
 * that leaves it unset needs both free.
 */
export async function freePorts(count: number, { consecutive = false } = {}): Promise<number[]> {
  if (!consecutive) {
    const servers = await Promise.all(Array.from({ length: count }, () => listen(0)));
    const ports = servers.map((s) => (s?.address() as net.AddressInfo | undefined)?.port);
    await closeAll(servers);
    if (ports.includes(undefined)) throw new Error("could not listen on a free loopback port");
    return ports as number[];
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listen(0);
    if (!first) continue;
    const port = (first.address() as net.AddressInfo).port;
    const rest: Array<net.Server | null> = [];
    for (let next = port + 1; next < port + count && next <= 65535; next++) rest.push(await listen(next));
    await closeAll([first, ...rest]);
    if (rest.length === count - 1 && !rest.includes(null)) return Array.from({ length: count }, (_, i) => port + i);
  }
  throw new Error(`found no ${count} adjacent free ports`);
}

/** Variables Kassa (or its CLI) reads: a value set in the caller's shell would change what a test runs. */
const KASSA_VARIABLES = [
  "DATABASE_URL",
  "DATABASE_POOL_SIZE",
  "DATA_DIR",
  "HOST",
  "PORT",
  "ADMIN_HOST",
  "ADMIN_PORT",
  "ADMIN_TOKEN",
  "PUBLIC_URL",
  "DEMO_SEED",
  "LOG_LEVEL",
  "TRUST_PROXY",
  "SHUTDOWN_TIMEOUT_MS",
  "BODY_LIMIT_BYTES",
  "RATE_LIMIT_MAX",
  "RATE_LIMIT_WINDOW_MS",
  "REDIS_URL",
  "MAX_HEADER_BYTES",
  "REQUEST_TIMEOUT_MS",
  "KEEP_ALIVE_TIMEOUT_MS",
  "HEADERS_TIMEOUT_MS",
  "AUTH_FAILURE_LIMIT_MAX",
  "AUTH_FAILURE_WINDOW_MS",
  "PAY_LIMIT_MAX",
  "PAY_LIMIT_WINDOW_MS",
  "WORKERS",
  "WORKER_INTERVAL_MS",
  "WEBHOOK_ALLOW_PRIVATE_URLS",
  "REDIRECT_ALLOW_PRIVATE_URLS",
  "WEBHOOK_TIMEOUT_MS",
  "WEBHOOK_RETRY_BASE_MS",
  "WEBHOOK_RETRY_MAX_MS",
  "WEBHOOK_SECRET_ROTATION_HOURS",
  "LOGO_ALLOW_PRIVATE_URLS",
  "LOGO_MAX_BYTES",
  "LOGO_FETCH_TIMEOUT_MS",
  "KASSA_ADMIN_URL",
  "KASSA_KEY",
  "NODE_OPTIONS",
];

/**
 * The environment minus anything of ours (or a proxy, which would catch curl's loopback calls)
 * the caller's shell may have set, in production mode, plus `extra`.
 */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(http_proxy|https_proxy|all_proxy|no_proxy)$/i.test(name)) delete env[name];
  }
  for (const name of KASSA_VARIABLES) delete env[name];
  return { ...env, NODE_ENV: "production", ...extra };
}

// ---------------------------------------------------------------------------------------------
// Child processes, tracked

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Proc {
  child: ChildProcess;
  /** Started in its own process group, so a kill reaches whatever it started too (bash -> curl). */
  group: boolean;
  stdout: string;
  stderr: string;
  /** Resolves when the process has exited and its output is read. */
  exited: Promise<Exit>;
  /** Set once exited. */
  exit: Exit | null;
}

const running = new Set<Proc>();
const tempDirs: string[] = [];

/** SIGKILL, to the whole group for a group leader; a process already gone is no error. */
export function kill(proc: Proc): void {
  try {
    if (proc.group) process.kill(-proc.child.pid!, "SIGKILL");
    else proc.child.kill("SIGKILL");
  } catch {
    // already gone
  }
}

function killAll(): void {
  for (const proc of running) kill(proc);
}
// Whatever happens to the tests (even a crash past afterAll), no spawned process outlives the file.
process.once("exit", killAll);

/** For `afterAll`: kills every process still running, waits for them, then removes the temp dirs. */
export async function cleanUp(): Promise<void> {
  const leftovers = [...running];
  killAll();
  await Promise.all(
    leftovers.map(({ child }) =>
      child.exitCode !== null || child.signalCode !== null ? null : new Promise((r) => child.once("exit", r)),
    ),
  );
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A fresh directory under the OS temp dir, removed by `cleanUp`. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Spawns `command` in ROOT with its output collected; tracked until it exits. */
export function launch(command: string, args: string[], env: NodeJS.ProcessEnv, { group = false } = {}): Proc {
  const child = spawn(command, args, { cwd: ROOT, env, detached: group, stdio: ["ignore", "pipe", "pipe"] });
  const proc: Proc = { child, group, stdout: "", stderr: "", exit: null, exited: null as never };
  running.add(proc);
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    proc.stdout += chunk;
  });
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    proc.stderr += chunk;
  });
  child.once("exit", () => running.delete(proc));
  proc.exited = new Promise((resolve, reject) => {
    child.once("error", (error) => {
      running.delete(proc);
      reject(error);
    });
    child.once("close", (code, signal) => {
      proc.exit = { code, signal };
      resolve(proc.exit);
    });
  });
  // Awaited where it matters; never an unhandled rejection when a test fails first.
  proc.exited.catch(() => {});
  return proc;
}

// ---------------------------------------------------------------------------------------------
// The server

export interface Server extends Proc {
  url: string;
  adminUrl: string;
  env: NodeJS.ProcessEnv;
}

/**
 * `node --import tsx src/server.ts` with exactly `env` (which sets PORT). The URLs are loopback
 * ones; the admin one follows the server's own default (PORT + 1) when ADMIN_PORT is unset.
 * With `group`, it leads a process group of its own, so `kill` takes down what it started too
 * (tsx's esbuild service): a `kill -9` of the whole server, as a crash test wants it.
 */
export function startServer(env: NodeJS.ProcessEnv, { group = false } = {}): Server {
  const port = Number(env.PORT);
  const adminPort = env.ADMIN_PORT ? Number(env.ADMIN_PORT) : port + 1;
  const proc = launch(process.execPath, SERVER_ARGS, env, { group });
  return Object.assign(proc, { url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}`, env });
}

/** Whether a GET of `url` answers 2xx within 2 s (a refused or hung connection is just "no"). */
export async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** Waits until both listeners answer (the admin one listens last), or fails with the output. */
export async function waitReady(server: Server, ms = 90_000): Promise<void> {
  await waitFor(
    async () => {
      if (server.exit) {
        throw new Error(
          `server exited (${JSON.stringify(server.exit)}) before becoming healthy:\n${server.stderr}\n${server.stdout}`,
        );
      }
      return (await answers(`${server.url}/healthz`)) && (await answers(`${server.adminUrl}/admin/healthz`));
    },
    ms,
    `${server.url} to become healthy; output so far:\n${server.stderr}\n${server.stdout}`,
  );
}

/** SIGTERM and wait for the exit; SIGKILL (and fail) when it hangs, so a hang is never a pass. */
export async function stop(proc: Proc): Promise<Exit> {
  if (proc.exit) return proc.exit;
  proc.child.kill("SIGTERM");
  try {
    return await within(proc.exited, 30_000, "the server to exit after SIGTERM");
  } catch (error) {
    kill(proc);
    throw error;
  }
}
