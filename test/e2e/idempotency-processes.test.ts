import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openDatabase } from "../../src/db/database.js";
import { apiClient } from "../helpers/app.js";
import { storeKind, withAdmin } from "../helpers/database.js";
import { databaseUrlFor } from "../helpers/postgres.js";
import {
  cleanEnv,
  cleanUp,
  freePorts,
  type Server,
  startServer,
  stop,
  tempDir,
  waitReady,
} from "../helpers/processes.js";
import { sessionParams } from "../api/cnaught/support.js";
import { expectOneOriginal, expectReplayOf, NO_RATE_LIMIT, newKey, withKey } from "../api/idempotency/support.js";

/**
 * Real server processes sharing one store, the same key sent to all of them at once. On
 * PostgreSQL (DATABASE_URL set) two processes share one database: the database alone decides
 * which request runs. The embedded PGlite store admits one process, so there the same test runs
 * against one process (and says so), rather than being skipped.
 */

const PROCESSES = storeKind === "postgres" ? 2 : 1;
const postgresUrl = process.env.DATABASE_URL;
const KEY_PATTERN = /export KASSA_KEY=(sk_test_[A-Za-z0-9]+)/;

const servers: Server[] = [];
let dataDir: string;
let dbUrl: string | null = null;
let dbName: string | null = null;
let secret: string;

afterAll(async () => {
  await cleanUp();
  if (postgresUrl && dbName) {
    await withAdmin(postgresUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  }
});

beforeAll(async () => {
  dataDir = await tempDir("kassa-idem-");
  const store: Record<string, string> = { DATA_DIR: dataDir };
  if (postgresUrl) {
    // Named after the run's template so global teardown removes it even if this file crashes.
    dbName = `${inject("pgTemplateDatabase") ?? "kassa_idem"}_idem_${randomBytes(4).toString("hex")}`;
    await withAdmin(postgresUrl, (c) => c.query(`CREATE DATABASE ${dbName}`));
    dbUrl = databaseUrlFor(postgresUrl, dbName);
    store.DATABASE_URL = dbUrl;
  }
  for (let i = 0; i < PROCESSES; i++) {
    const [port, adminPort] = await freePorts(2);
    servers.push(
      startServer(
        cleanEnv({
          ...store,
          ...NO_RATE_LIMIT,
          HOST: "127.0.0.1",
          PORT: String(port),
          ADMIN_PORT: String(adminPort),
          DEMO_SEED: "true",
          LOG_LEVEL: "warn",
        }),
      ),
    );
  }
  await Promise.all(servers.map((s) => waitReady(s)));
  // Exactly one process seeded the demo account and printed its key.
  const keys = servers.map((s) => KEY_PATTERN.exec(s.stdout)?.[1]).filter(Boolean) as string[];
  expect(keys).toHaveLength(1);
  secret = keys[0]!;
});

/** Rows of the store, read from outside the servers (PGlite: after they stopped, it is theirs until then). */
async function countRows(): Promise<{ sessions: number; keys: Array<{ state: string }> }> {
  if (dbUrl) {
    return withAdmin(dbUrl, async (c) => ({
      sessions: (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM checkout_sessions")).rows[0]!.n,
      keys: (await c.query<{ state: string }>("SELECT state FROM idempotency_keys")).rows,
    }));
  }
  const db = await openDatabase({ kind: "pglite", dataDir });
  try {
    return {
      sessions: await db.prisma.checkoutSession.count(),
      keys: await db.prisma.idempotencyKey.findMany({ select: { state: true } }),
    };
  } finally {
    await db.close();
  }
}

describe(`one key sent at once to every server process on one ${storeKind} store`, () => {
  it(`runs the request once (${PROCESSES} process${PROCESSES > 1 ? "es" : ""})`, async () => {
    // PostgreSQL: two processes; the embedded store is single-process, so one.
    expect(servers).toHaveLength(storeKind === "postgres" ? 2 : 1);
    const clients = servers.map((s) => apiClient(s.url, secret));
    const key = newKey("processes");

    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        clients[i % clients.length]!("POST", "/v1/checkout/sessions", sessionParams(), withKey(key)),
      ),
    );
    const original = expectOneOriginal(responses);
    // Every process replays the one stored answer.
    for (const client of clients) {
      expectReplayOf(await client("POST", "/v1/checkout/sessions", sessionParams(), withKey(key)), original);
    }

    const exits = await Promise.all(servers.map((s) => stop(s)));
    expect(exits.every((e) => e.code === 0)).toBe(true);
    const rows = await countRows();
    expect(rows.sessions).toBe(1);
    expect(rows.keys).toEqual([{ state: "complete" }]);
  });
});
