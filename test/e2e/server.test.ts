import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readMigrations } from "../../src/db/migrate.js";
import { withAdmin } from "../helpers/database.js";
import { databaseUrlFor } from "../helpers/postgres.js";
import {
  answers,
  cleanEnv,
  cleanUp,
  freePorts,
  kill,
  launch,
  type Proc,
  ROOT,
  SERVER_ARGS,
  type Server,
  sleep,
  startServer,
  stop,
  tempDir,
  waitFor,
  waitReady,
  within,
} from "../helpers/processes.js";

/**
 * The real thing: `node --import tsx src/server.ts` and `node bin/kassa.js` as child processes,
 * talked to over HTTP and signals, on a fresh embedded store in a temp dir (and, when
 * DATABASE_URL is set, on a fresh PostgreSQL database too).
 */

const CLI_ARGS = [path.join(ROOT, "bin/kassa.js")];
const KEY_PATTERN = /export KASSA_KEY=(sk_test_[A-Za-z0-9]+)/g;

afterAll(cleanUp);

// ---------------------------------------------------------------------------------------------
// Processes

/** A clean environment at LOG_LEVEL debug: the assertions read the request log lines (incoming ones are debug). */
const serverEnv = (extra: Record<string, string>) => cleanEnv({ LOG_LEVEL: "debug", ...extra });

/** A server on two fresh loopback ports (PORT and ADMIN_PORT), not yet waited for. */
async function startOnFreePorts(extra: Record<string, string>): Promise<Server> {
  const [port, adminPort] = await freePorts(2);
  return startServer(serverEnv({ HOST: "127.0.0.1", PORT: String(port), ADMIN_PORT: String(adminPort), ...extra }));
}

/** `kassa ...args` with the given environment; stdout parsed as JSON when it is JSON. */
async function kassa(env: NodeJS.ProcessEnv, ...args: string[]) {
  const proc = launch(process.execPath, [...CLI_ARGS, ...args], env);
  const { code } = await within(proc.exited, 60_000, `kassa ${args.join(" ")}`);
  let json: any = null;
  try {
    json = JSON.parse(proc.stdout);
  } catch {
    json = null;
  }
  return { code, stdout: proc.stdout, stderr: proc.stderr, json };
}

/** The pino lines a process wrote (everything on stdout after the demo banner). */
function logLines(proc: Proc): Array<Record<string, any>> {
  return proc.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, any>);
}

function printedKeys(proc: Proc): string[] {
  return [...proc.stdout.matchAll(KEY_PATTERN)].map((m) => m[1]!);
}

// ---------------------------------------------------------------------------------------------
// HTTP

async function api(
  baseUrl: string,
  key: string | null,
  method: string,
  urlPath: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(baseUrl + urlPath, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

const checkout = (amountKg: number) => ({
  amount_kg: amountKg,
  success_url: "https://shop.example/ok?session={CHECKOUT_SESSION_ID}",
  cancel_url: "https://shop.example/cancel",
});

// ---------------------------------------------------------------------------------------------
// The embedded store (always)

describe("the server process on the embedded store (PGlite)", () => {
  let dataDir: string;
  let first: Server;
  let restarted: Server;
  let demoKey: string;
  /** Every secret sent in an Authorization header; none may reach a log line. */
  const secretsSent = new Set<string>();
  const shop = { accountId: "", keyId: "", key: "", key2: "", revokedKeyId: "" };
  const requestId = `e2e-${randomBytes(6).toString("hex")}`;

  beforeAll(async () => {
    dataDir = await tempDir("kassa-e2e-");
    first = await startOnFreePorts({ DATA_DIR: dataDir });
    await waitReady(first);
  });

  it("first start on an empty data dir prints a demo key once, and the key works", async () => {
    const keys = printedKeys(first);
    expect(keys).toHaveLength(1);
    demoKey = keys[0]!;
    secretsSent.add(demoKey);
    expect(first.stdout).toContain(`embedded store in ${dataDir}`);
    // The pid lock marks this server as the store's owner.
    expect((await readFile(path.join(dataDir, "kassa.pid"), "utf8")).trim()).toBe(String(first.child.pid));

    const portfolios = await api(first.url, demoKey, "GET", "/v1/portfolios", undefined, { "x-request-id": requestId });
    expect(portfolios.status).toBe(200);
    expect(portfolios.headers.get("x-request-id")).toBe(requestId);
    expect(portfolios.body.data.map((p: { id: string }) => p.id)).toContain("demo");

    const session = await api(first.url, demoKey, "POST", "/v1/checkout/sessions", checkout(100));
    expect(session.status).toBe(201);
    expect(session.body.price_usd_cents).toBe(200);
    expect(session.body.portfolio_id).toBe("demo");
    expect(session.body.amount_kg).toBe(100);

    expect((await api(first.url, null, "GET", "/v1/portfolios")).status).toBe(401);
    expect((await api(first.url, "sk_test_not-a-real-key", "GET", "/v1/portfolios")).status).toBe(401);
    expect(await answers(`${first.url}/readyz`)).toBe(true);
  });

  it("logs JSON lines, and a request's lines carry the X-Request-Id it was sent with", async () => {
    const completed = await waitFor(
      () => logLines(first).find((l) => l.reqId === requestId && l.msg === "request completed"),
      5000,
      "the request log line",
    );
    expect(completed.res.statusCode).toBe(200);
    expect(completed.level).toBe(30);
    expect(typeof completed.time).toBe("number");
    expect(completed.req).toMatchObject({ method: "GET", url: "/v1/portfolios" });
    expect(completed.responseTime).toBeGreaterThan(0);
    // One info line per request; the incoming one is debug.
    const incoming = logLines(first).find((l) => l.reqId === requestId && l.msg === "incoming request");
    expect(incoming).toMatchObject({ level: 20, req: { method: "GET", url: "/v1/portfolios" } });
    expect(logLines(first).filter((l) => l.reqId === requestId && l.level >= 30)).toHaveLength(1);
    // Only the demo banner, printed before the first log line, is not JSON.
    const lines = first.stdout.split("\n").filter((l) => l !== "");
    const firstJson = lines.findIndex((l) => l.startsWith("{"));
    expect(firstJson).toBeGreaterThan(0);
    for (const line of lines.slice(firstJson)) expect(() => JSON.parse(line)).not.toThrow();
    expect(logLines(first).some((l) => l.msg === "kassa is ready" && l.store === "pglite")).toBe(true);
  });

  it("the CLI manages accounts, keys and portfolios through the running server's admin API", async () => {
    const env = first.env;
    const account = await kassa(env, "accounts", "create", "--name", "E2E Shop");
    expect(account.code, account.stderr).toBe(0);
    expect(account.json).toMatchObject({ name: "E2E Shop", default_portfolio_id: null });
    shop.accountId = account.json.id;

    // Independent commands run side by side (each CLI process is mostly tsx start-up).
    const [key, key2, portfolio] = await Promise.all([
      kassa(env, "keys", "create", "--account", shop.accountId),
      kassa(env, "keys", "create", "--account", shop.accountId),
      kassa(
        env,
        "portfolios",
        "create",
        "--name",
        "E2E Forests",
        "--checkout-price-per-kg-usd-cents",
        "3",
        "--api-price-per-kg-usd-cents",
        "2.5",
        "--id",
        "e2e-forests",
        "--default",
      ),
    ]);
    expect(key.code, key.stderr).toBe(0);
    expect(key.json).toMatchObject({ account_id: shop.accountId, revoked_on: null });
    expect(key.json.secret).toMatch(/^sk_test_/);
    shop.keyId = key.json.id;
    shop.key = key.json.secret;
    secretsSent.add(shop.key);
    expect(key2.code, key2.stderr).toBe(0);
    expect(key2.json.id).not.toBe(shop.keyId);
    shop.key2 = key2.json.secret;
    secretsSent.add(shop.key2);
    expect(portfolio.code, portfolio.stderr).toBe(0);
    expect(portfolio.json).toMatchObject({
      id: "e2e-forests",
      checkout_price_per_kg_usd_cents: "3",
      api_price_per_kg_usd_cents: "2.5",
      is_default: true,
    });

    const [list, accounts] = await Promise.all([kassa(env, "portfolios", "list"), kassa(env, "accounts", "list")]);
    expect(list.code, list.stderr).toBe(0);
    const byId = Object.fromEntries(list.json.map((p: { id: string; is_default: boolean }) => [p.id, p.is_default]));
    expect(byId).toEqual({ demo: false, "e2e-forests": true });
    expect(accounts.json.map((a: { name: string }) => a.name).sort()).toEqual(["Demo account", "E2E Shop"]);

    // The new key works at once; its account has no default portfolio, so the installation's
    // new default prices it (3 c/kg). The demo account keeps its own default.
    const session = await api(first.url, shop.key, "POST", "/v1/checkout/sessions", checkout(100));
    expect(session.status).toBe(201);
    expect(session.body).toMatchObject({ portfolio_id: "e2e-forests", price_usd_cents: 300 });
    const demo = await api(first.url, demoKey, "POST", "/v1/checkout/sessions", checkout(100));
    expect(demo.body).toMatchObject({ portfolio_id: "demo", price_usd_cents: 200 });

    // They went through the admin API (the server owns the store; the CLI could not open it).
    const adminCalls = logLines(first)
      .filter((l) => l.msg === "request completed" && String(l.req?.url).startsWith("/admin/operations/"))
      .map((l) => l.req.url);
    expect(adminCalls).toEqual(
      expect.arrayContaining([
        "/admin/operations/accounts.create",
        "/admin/operations/keys.create",
        "/admin/operations/portfolios.create",
        "/admin/operations/portfolios.list",
      ]),
    );

    // Errors come back as JSON on stderr with a non-zero exit.
    const [missing, usage] = await Promise.all([
      kassa(env, "keys", "create", "--account", "acct_does_not_exist"),
      kassa(env, "keys", "create"),
    ]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr).error.code).toBe("not_found");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--account");
  });

  it("a revoked key is refused by the running server at once", async () => {
    expect((await api(first.url, shop.key, "GET", "/v1/portfolios")).status).toBe(200);
    const revoked = await kassa(first.env, "keys", "revoke", shop.keyId);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.json).toMatchObject({ id: shop.keyId, account_id: shop.accountId });
    expect(revoked.json.revoked_on).not.toBeNull();
    shop.revokedKeyId = shop.keyId;

    const refused = await api(first.url, shop.key, "GET", "/v1/portfolios");
    expect(refused.status).toBe(401);
    expect((await api(first.url, shop.key, "POST", "/v1/checkout/sessions", checkout(1))).status).toBe(401);
    // The account's other key is untouched.
    expect((await api(first.url, shop.key2, "GET", "/v1/portfolios")).status).toBe(200);
  });

  it("a second server on the same data dir fails with a message about the store being in use", async () => {
    const second = await startOnFreePorts({ DATA_DIR: dataDir });
    const exit = await within(second.exited, 60_000, "the second server to give up");
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(second.stderr).toContain(`The embedded store in ${dataDir} is in use by process ${first.child.pid}`);
    expect(printedKeys(second)).toEqual([]);
    // The first one is unharmed and still owns the store.
    expect(await answers(`${first.url}/healthz`)).toBe(true);
    expect((await api(first.url, demoKey, "GET", "/v1/portfolios")).status).toBe(200);
    expect((await readFile(path.join(dataDir, "kassa.pid"), "utf8")).trim()).toBe(String(first.child.pid));
  });

  it("SIGTERM drains an in-flight request (201), then the process exits 0", async () => {
    const body = JSON.stringify(checkout(100));
    const half = Math.floor(body.length / 2);
    const drainId = `e2e-drain-${randomBytes(4).toString("hex")}`;
    const { port } = new URL(first.url);
    const request = http.request({
      host: "127.0.0.1",
      port: Number(port),
      method: "POST",
      path: "/v1/checkout/sessions",
      agent: false,
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        authorization: `Bearer ${demoKey}`,
        "x-request-id": drainId,
      },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      request.once("error", reject);
      request.once("response", (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.once("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.once("error", reject);
      });
    });
    response.catch(() => {}); // awaited below; a failure before then must not go unhandled
    request.write(body.slice(0, half));
    // The server has routed the request (its headers are in) before the signal arrives.
    await waitFor(
      () => logLines(first).some((l) => l.reqId === drainId && l.msg === "incoming request"),
      10_000,
      "the in-flight request to reach the server",
    );

    first.child.kill("SIGTERM");
    await waitFor(
      () => logLines(first).some((l) => l.msg === "shutting down: draining in-flight requests"),
      10_000,
      "the server to start draining",
    );
    await sleep(300);
    expect(first.exit).toBeNull(); // still draining, waiting for our body
    // New connections are no longer taken while draining.
    expect(await answers(`${first.url}/healthz`)).toBe(false);

    request.end(body.slice(half));
    const answer = await within(response, 15_000, "the drained response");
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({ price_usd_cents: 200, portfolio_id: "demo", amount_kg: 100 });

    const exit = await within(first.exited, 20_000, "the server to exit after draining");
    expect(exit).toEqual({ code: 0, signal: null });
    const lines = logLines(first);
    expect(lines.find((l) => l.reqId === drainId && l.msg === "request completed")?.res.statusCode).toBe(201);
    expect(lines.some((l) => l.msg === "shutdown complete")).toBe(true);
    // The lock is released for whoever opens the store next.
    expect(existsSync(path.join(dataDir, "kassa.pid"))).toBe(false);
  });

  it("with the server stopped, the CLI opens the store itself on the same data dir", async () => {
    expect(first.exit).not.toBeNull();
    const env = first.env; // same PORT/ADMIN_PORT: nothing answers there now
    const accounts = await kassa(env, "accounts", "list");
    expect(accounts.code, accounts.stderr).toBe(0);
    expect(accounts.json.map((a: { name: string }) => a.name).sort()).toEqual(["Demo account", "E2E Shop"]);

    const keys = await kassa(env, "keys", "list", "--account", shop.accountId);
    expect(keys.code, keys.stderr).toBe(0);
    expect(keys.json).toHaveLength(2);
    const revoked = keys.json.find((k: { id: string }) => k.id === shop.revokedKeyId);
    expect(revoked.revoked_on).not.toBeNull();
    expect(JSON.stringify(keys.json)).not.toContain(shop.key); // secrets are never shown again

    const created = await kassa(env, "accounts", "create", "--name", "Offline Shop");
    expect(created.code, created.stderr).toBe(0);
    expect(created.json.name).toBe("Offline Shop");

    // Each run released the store again.
    expect(existsSync(path.join(dataDir, "kassa.pid"))).toBe(false);
  });

  it("a restart on the same data dir prints no new key; every key keeps its state", async () => {
    restarted = await startOnFreePorts({ DATA_DIR: dataDir });
    await waitReady(restarted);
    expect(printedKeys(restarted)).toEqual([]);
    expect(restarted.stdout).not.toContain("sk_test_");
    expect(restarted.stdout).not.toContain("demo account");

    const portfolios = await api(restarted.url, demoKey, "GET", "/v1/portfolios");
    expect(portfolios.status).toBe(200);
    expect(portfolios.body.data.map((p: { id: string }) => p.id).sort()).toEqual(["demo", "e2e-forests"]);
    const session = await api(restarted.url, demoKey, "POST", "/v1/checkout/sessions", checkout(100));
    expect(session.status).toBe(201);
    expect(session.body.price_usd_cents).toBe(200);

    expect((await api(restarted.url, shop.key, "GET", "/v1/portfolios")).status).toBe(401);
    const other = await api(restarted.url, shop.key2, "POST", "/v1/checkout/sessions", checkout(100));
    expect(other.status).toBe(201);
    expect(other.body.price_usd_cents).toBe(300);

    const accounts = await kassa(restarted.env, "accounts", "list");
    expect(accounts.json.map((a: { name: string }) => a.name).sort()).toEqual([
      "Demo account",
      "E2E Shop",
      "Offline Shop",
    ]);

    expect(await stop(restarted)).toEqual({ code: 0, signal: null });
  });

  it("no log line ever carries a secret key sent in Authorization", () => {
    expect(secretsSent.size).toBe(3);
    const lines = [...first.stdout.split("\n"), ...restarted.stdout.split("\n")].filter((l) => l.startsWith("{"));
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      for (const secret of secretsSent) {
        expect(line).not.toContain(secret);
        expect(line).not.toContain(secret.slice(-20));
      }
    }
    for (const secret of secretsSent) {
      expect(first.stderr + restarted.stderr).not.toContain(secret);
    }
    // The demo key appears exactly once: in the banner of the first start.
    expect(first.stdout.split(demoKey).length - 1).toBe(1);
  });

  it("a bad environment variable stops the process with a message naming it", async () => {
    const dir = await tempDir("kassa-e2e-bad-");
    const password = "hunter2-e2e-secret";
    const [badPort, badUrl] = [
      launch(process.execPath, SERVER_ARGS, serverEnv({ DATA_DIR: path.join(dir, "a"), PORT: "abc" })),
      launch(
        process.execPath,
        SERVER_ARGS,
        serverEnv({ DATA_DIR: path.join(dir, "b"), DATABASE_URL: `mysql://root:${password}@db/x` }),
      ),
    ];
    const [portExit, urlExit] = await within(Promise.all([badPort.exited, badUrl.exited]), 60_000, "config errors");

    expect(portExit.code).not.toBe(0);
    expect(portExit.code).not.toBeNull();
    expect(badPort.stderr).toMatch(/^\s+PORT: /m);
    expect(badPort.stderr).toContain('"abc"');

    expect(urlExit.code).not.toBe(0);
    expect(urlExit.code).not.toBeNull();
    expect(badUrl.stderr).toContain("DATABASE_URL");
    expect(badUrl.stderr + badUrl.stdout).not.toContain(password);

    // Nothing was opened or created.
    expect(existsSync(path.join(dir, "a"))).toBe(false);
    expect(existsSync(path.join(dir, "b"))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// PostgreSQL (only when the run has one: DATABASE_URL, as in CI)

const postgresUrl = process.env.DATABASE_URL;
if (postgresUrl) {
  describe("two server processes starting at once on one PostgreSQL database", () => {
    // Named after the run's template so global teardown removes it even if this file crashes.
    const template = inject("pgTemplateDatabase");
    const dbName = `${template ?? "kassa_e2e"}_e2e_${randomBytes(4).toString("hex")}`;
    const dbUrl = databaseUrlFor(postgresUrl, dbName);
    const servers: Server[] = [];

    beforeAll(async () => {
      await withAdmin(postgresUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
    });

    afterAll(async () => {
      for (const server of servers) if (!server.exit) kill(server);
      await Promise.all(servers.map((s) => s.exited.catch(() => null)));
      await withAdmin(postgresUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    });

    it("both become healthy, migrate once, and seed exactly one demo account", async () => {
      const dataDir = await tempDir("kassa-e2e-pg-");
      const env = { DATABASE_URL: dbUrl, DEMO_SEED: "true", DATA_DIR: dataDir };
      servers.push(...(await Promise.all([startOnFreePorts(env), startOnFreePorts(env)])));
      await Promise.all(servers.map((s) => waitReady(s)));

      await withAdmin(dbUrl, async (c) => {
        const { rows } = await c.query<{ migration_name: string; n: number }>(
          `SELECT migration_name, count(*)::int AS n FROM "_prisma_migrations" GROUP BY migration_name ORDER BY 1`,
        );
        const expected = (await readMigrations()).map((m) => ({ migration_name: m.name, n: 1 }));
        expect(expected.length).toBeGreaterThan(0);
        expect(rows).toEqual(expected);
        const accounts = await c.query<{ name: string }>("SELECT name FROM accounts");
        expect(accounts.rows).toEqual([{ name: "Demo account" }]);
        const keys = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM api_keys");
        expect(keys.rows[0]!.n).toBe(1);
      });

      // Exactly one of them seeded, so exactly one printed a key; it works on both.
      const keys = servers.flatMap(printedKeys);
      expect(keys).toHaveLength(1);
      for (const server of servers) {
        expect(logLines(server).some((l) => l.msg === "kassa is ready" && l.store === "postgres")).toBe(true);
        const session = await api(server.url, keys[0]!, "POST", "/v1/checkout/sessions", checkout(100));
        expect(session.status).toBe(201);
        expect(session.body.price_usd_cents).toBe(200);
      }
      // No PGlite store was created: the data dir is untouched.
      expect(existsSync(path.join(dataDir, "pgdata"))).toBe(false);

      const exits = await Promise.all(servers.map((s) => stop(s)));
      expect(exits).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
    });
  });
}
