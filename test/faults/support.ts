import pg from "pg";
import { Webhook } from "standardwebhooks";
import { expect } from "vitest";
import { createKassaServices } from "../../src/composition.js";
import type { Services } from "../../src/core/services.js";
import { apiClient, createMerchant } from "../helpers/app.js";
import { createTestDatabase, withAdmin } from "../helpers/database.js";
import { cleanEnv, freePorts, type Server, startServer, waitReady } from "../helpers/processes.js";
import { sessionParams } from "../api/cnaught/support.js";
import type { Receiver } from "../core/webhooks/support.js";

/**
 * Shared pieces of the fault harness (not a test file itself): real Kassa server processes on one
 * fresh PostgreSQL database, real HTTP clients and receivers, and checks read from the database
 * from outside the servers. The harness needs PostgreSQL (several processes on one store), so its
 * files are `*.postgres.test.ts`, run only when DATABASE_URL is set (see vitest.config.ts).
 */

/**
 * Each test's timeout: a run takes seconds on a quiet machine, several times that on a 2-core
 * one busy with the rest of the suite (no assertion depends on how long anything took).
 */
export const FAULT_TEST_TIMEOUT_MS = 120_000;

/** A fresh database (its URL for the servers), Kassa's services on it for setting up accounts. */
export async function faultStore(): Promise<{ url: string; services: Services; drop: () => Promise<void> }> {
  const { db, url, drop } = await createTestDatabase();
  if (!url) throw new Error("the fault harness needs PostgreSQL: set DATABASE_URL");
  return { url, services: createKassaServices(db), drop };
}

/** A merchant (account, default portfolio, secret key) and an API client per server URL. */
export async function merchantOn(services: Services) {
  const merchant = await createMerchant(services);
  return { ...merchant, api: (server: Server) => apiClient(server.url, merchant.key) };
}

/**
 * The environment of a server on `url`: production mode (cleanEnv), request limits off (the
 * harness applies load on purpose), receivers on loopback allowed, and quick worker ticks and
 * webhook retries so that a receiver outage is over in seconds. `extra` overrides.
 */
export async function faultServerEnv(url: string, extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const [port, adminPort] = await freePorts(2);
  return cleanEnv({
    DATABASE_URL: url,
    HOST: "127.0.0.1",
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    LOG_LEVEL: "warn",
    DEMO_SEED: "false",
    RATE_LIMIT_MAX: "0",
    PAY_LIMIT_MAX: "0",
    WEBHOOK_ALLOW_PRIVATE_URLS: "true",
    WORKER_INTERVAL_MS: "50",
    WEBHOOK_RETRY_BASE_MS: "100",
    WEBHOOK_RETRY_MAX_MS: "400",
    // A receiver's answer is never cut short on a starved machine (a cut attempt would be retried).
    WEBHOOK_TIMEOUT_MS: "30000",
    ...extra,
  });
}

/** Starts a server with `env` and waits until it answers (see startServer for `group`). */
export async function startKassa(env: NodeJS.ProcessEnv, opts: { group?: boolean } = {}): Promise<Server> {
  const server = startServer(env, opts);
  await waitReady(server);
  return server;
}

/** Rows of `text` run on `url` through a one-off client (checks from outside the servers). */
export async function sql<T extends object>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  return withAdmin(url, async (c) => (await c.query(text, params)).rows as T[]);
}

/**
 * Holds back every write to `table` until `release` (a SHARE ROW EXCLUSIVE lock, in a transaction
 * of its own): reads go on, and writers wait inside the database, in the middle of their request.
 */
export async function holdWrites(url: string, table: string): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("BEGIN");
  await client.query(`LOCK TABLE ${table} IN SHARE ROW EXCLUSIVE MODE`);
  let released: Promise<void> | null = null;
  return {
    release: () => {
      released ??= client.query("ROLLBACK").then(
        () => client.end(),
        () => client.end(),
      );
      return released;
    },
  };
}

/** The statements waiting for a lock on `table` (their text as PostgreSQL shows it). */
export async function waitingFor(url: string, table: string): Promise<string[]> {
  const rows = await sql<{ query: string }>(
    url,
    `SELECT a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE NOT l.granted AND l.relation = $1::text::regclass`,
    [table],
  );
  return rows.map((r) => r.query);
}

/** How many client connections to the database of `url` (besides this check's) are not idle. */
export async function busyConnections(url: string): Promise<number> {
  const [row] = await sql<{ n: number }>(
    url,
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND backend_type = 'client backend'
        AND pid <> pg_backend_pid() AND state <> 'idle'`,
  );
  return row!.n;
}

/** A session request as a shop sends it, its order notified to `notificationUrl`. */
export const notifiedSessionParams = (notificationUrl: string) =>
  sessionParams({ notification_config: { url: notificationUrl } });

/** The session id a stored (or replayed) 201 names. */
export const sessionIdOf = (responseBody: string): string => (JSON.parse(responseBody) as { id: string }).id;

/**
 * Every Idempotency-Key of `accountId` and every session of it, and the checks that hold whatever
 * happened to the requests: a completed key names a session that exists, no two completed keys
 * name one session, and every session is named by a completed key (a session is only ever
 * created by a keyed request here, in one transaction with its key's stored response).
 */
export async function keysAndSessions(url: string, accountId: string) {
  const keys = await sql<{ key: string; state: string; response_status: number | null; response_body: string | null }>(
    url,
    "SELECT key, state, response_status, response_body FROM idempotency_keys WHERE account_id = $1",
    [accountId],
  );
  const sessions = await sql<{ id: string; state: string }>(
    url,
    "SELECT id, state FROM checkout_sessions WHERE account_id = $1",
    [accountId],
  );
  const sessionIds = new Set(sessions.map((s) => s.id));
  const sessionOfKey = new Map<string, string>();
  for (const k of keys.filter((k) => k.state === "complete")) {
    expect(k.response_status, k.key).toBe(201);
    const id = sessionIdOf(k.response_body!);
    expect(sessionIds.has(id), `key ${k.key} is complete, its session ${id} is missing`).toBe(true);
    sessionOfKey.set(k.key, id);
  }
  const named = [...sessionOfKey.values()];
  expect(new Set(named).size, "two completed keys name one session").toBe(named.length);
  expect([...sessionIds].sort(), "sessions without a completed key").toEqual([...named].sort());
  return { keys, sessions, sessionOfKey };
}

// ---------------------------------------------------------------------------------------------
// Notifications, as a receiver saw them

/** What the receiver answered each webhook-id, request by request. */
export type Answers = Map<string, number[]>;

/**
 * Makes the receiver answer with `decide` (per request; `nth` counts requests with its webhook-id)
 * and note every answer, per webhook-id.
 */
export function recordAnswers(receiver: Receiver, decide: (webhookId: string, nth: number) => number): Answers {
  const answers: Answers = new Map();
  receiver.state.respond = (request, nth) => {
    const id = String(request.headers["webhook-id"]);
    const status = decide(id, nth);
    answers.set(id, [...(answers.get(id) ?? []), status]);
    return status;
  };
  return answers;
}

/** The account's delivery rows with their attempts, by delivery id (= webhook-id). */
export async function deliveriesOf(url: string, accountId: string) {
  const rows = await sql<{ id: string; status: string; subject_id: string; payload: string; attempts: number[] }>(
    url,
    `SELECT d.id, d.status, d.subject_id, d.payload,
            coalesce(array_agg(a.response_status ORDER BY a.attempt) FILTER (WHERE a.id IS NOT NULL), '{}') AS attempts
       FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
      WHERE d.account_id = $1 GROUP BY d.id`,
    [accountId],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Every notification of `accountId` arrived, and only as Kassa wrote it: the receiver saw exactly
 * the delivery rows' webhook-ids, one per paid session; each id always carried the same body (the
 * row's payload, naming its order and session) with a valid signature; each was answered 2xx
 * exactly once, on its last request; and the attempts Kassa recorded are the requests the receiver
 * answered, status for status. Returns the number of requests per webhook-id.
 */
export async function expectEveryNotification(opts: {
  url: string;
  services: Services;
  accountId: string;
  receiver: Receiver;
  answers: Answers;
  paidSessionIds: string[];
}): Promise<Map<string, number>> {
  const { url, services, accountId, receiver, answers, paidSessionIds } = opts;
  const deliveries = await deliveriesOf(url, accountId);
  const orders = await sql<{ id: string; checkout_session_id: string }>(
    url,
    "SELECT id, checkout_session_id FROM orders WHERE account_id = $1",
    [accountId],
  );
  expect(orders.map((o) => o.checkout_session_id).sort()).toEqual([...paidSessionIds].sort());
  expect([...deliveries.values()].map((d) => d.subject_id).sort()).toEqual(orders.map((o) => o.id).sort());
  expect([...deliveries.values()].every((d) => d.status === "succeeded")).toBe(true);

  const byId = new Map<string, typeof receiver.requests>();
  for (const request of receiver.requests) {
    const id = String(request.headers["webhook-id"]);
    byId.set(id, [...(byId.get(id) ?? []), request]);
  }
  expect([...byId.keys()].sort()).toEqual([...deliveries.keys()].sort());

  const { secret } = await services.webhooks.secret(accountId);
  const verifier = new Webhook(secret);
  const orderOfSession = new Map(orders.map((o) => [o.checkout_session_id, o.id]));
  const counts = new Map<string, number>();
  for (const [id, requests] of byId) {
    const delivery = deliveries.get(id)!;
    for (const request of requests) {
      expect(request.body, `webhook-id ${id} carried another body`).toBe(delivery.payload);
      verifier.verify(request.body, request.headers as Record<string, string>);
    }
    const body = JSON.parse(delivery.payload) as { order: { id: string; checkout_session_id: string } };
    expect(body.order.id).toBe(delivery.subject_id);
    expect(orderOfSession.get(body.order.checkout_session_id)).toBe(body.order.id);

    const statuses = answers.get(id) ?? [];
    expect(statuses).toHaveLength(requests.length);
    expect(
      statuses.filter((s) => s >= 200 && s < 300),
      `2xx answers to ${id}`,
    ).toHaveLength(1);
    expect(statuses.at(-1)).toBe(200);
    expect(delivery.attempts, `attempts recorded for ${id}`).toEqual(statuses);
    counts.set(id, requests.length);
  }
  return counts;
}
