import { afterAll, describe, expect, it } from "vitest";
import { isReplay, withKey } from "../api/idempotency/support.js";
import { cleanUp, kill, type Server, stop, waitFor, within } from "../helpers/processes.js";
import { pay } from "../api/hosted-page/support.js";
import { type Receiver, startReceiver } from "../core/webhooks/support.js";
import {
  busyConnections,
  FAULT_TEST_TIMEOUT_MS,
  faultServerEnv,
  faultStore,
  holdWrites,
  keysAndSessions,
  merchantOn,
  notifiedSessionParams,
  sessionIdOf,
  sql,
  startKassa,
  waitingFor,
} from "./support.js";

/**
 * Fault: the server is killed with SIGKILL (no shutdown, no drain) in the middle of a load of
 * session creates and hosted-page payments, then started again on the same database. What the
 * clients were told stands, and nothing is half-written: each session committed with its created
 * event and its key's stored response, each payment with its session's completion, event, order
 * and notification; and a request that got no answer can be retried with its Idempotency-Key
 * (a payment, by paying again) without doing anything twice.
 */

/** Clients that only create sessions, and clients that create one and pay it on the hosted page, in turn. */
const CREATORS = 24;
const PAYERS = 8;
/** The kill comes once the clients were answered this many creates and payments... */
const CREATED_BEFORE_KILL = 120;
const PAID_BEFORE_KILL = 12;
/** ...and this many creates wait inside the database, in the middle of their request. */
const CREATES_HELD = 4;
/** How a request whose server died fails (a request sent after the kill finds nothing listening). */
const CONNECTION_LOST = /other side closed|ECONNRESET|ECONNREFUSED|EPIPE|socket hang up|terminated/;

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await cleanUp();
  for (const fn of cleanups.reverse()) await fn();
});

interface Create {
  key: string;
  body: Record<string, unknown>;
  status: number | null;
  sessionId: string | null;
  error: string | null;
}

interface Payment {
  sessionId: string;
  status: number | null;
  error: string | null;
}

describe("kill -9 of the server during a load of creates and payments, then a restart", () => {
  it("keeps every answered session and payment, leaves nothing half-written, and lets unanswered requests retry", {
    timeout: FAULT_TEST_TIMEOUT_MS,
  }, async () => {
    const store = await faultStore();
    cleanups.push(store.drop);
    const receiver: Receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const merchant = await merchantOn(store.services);
    const env = await faultServerEnv(store.url);
    // Its own process group, so the kill takes the whole server at once.
    const first: Server = await startKassa(env, { group: true });
    const api = merchant.api(first);

    // The load: CREATORS + PAYERS clients (32 requests in flight), each sending its next request
    // as soon as it has its answer, every create with a fresh key, until the kill.
    const creates: Create[] = [];
    const payments: Payment[] = [];
    const load = { creating: 0, paying: 0, stopped: false };
    const create = async (key: string): Promise<Create> => {
      const c: Create = { key, body: notifiedSessionParams(receiver.url), status: null, sessionId: null, error: null };
      creates.push(c);
      load.creating++;
      try {
        const res = await api("POST", "/v1/checkout/sessions", c.body, withKey(c.key));
        c.status = res.status;
        if (res.status === 201) c.sessionId = res.body.id;
      } catch (error) {
        c.error = String((error as Error).cause ?? error);
      } finally {
        load.creating--;
      }
      return c;
    };
    const payOnPage = async (sessionId: string) => {
      const p: Payment = { sessionId, status: null, error: null };
      payments.push(p);
      load.paying++;
      try {
        p.status = (await pay(first.url, sessionId)).status;
      } catch (error) {
        p.error = String((error as Error).cause ?? error);
      } finally {
        load.paying--;
      }
    };
    const creator = async (c: number) => {
      for (let n = 0; !load.stopped; n++) await create(`crash-${c}-${n}`);
    };
    const payer = async (c: number) => {
      for (let n = 0; !load.stopped; n++) {
        const { sessionId } = await create(`crash-pay-${c}-${n}`);
        if (sessionId && !load.stopped) await payOnPage(sessionId);
      }
    };
    const clients = Promise.all([
      ...Array.from({ length: CREATORS }, (_, c) => creator(c)),
      ...Array.from({ length: PAYERS }, (_, c) => payer(c)),
    ]);

    const answeredCreates = () => creates.filter((c) => c.status === 201).length;
    const answeredPayments = () => payments.filter((p) => p.status === 303).length;
    await waitFor(
      () => answeredCreates() >= CREATED_BEFORE_KILL && answeredPayments() >= PAID_BEFORE_KILL,
      45_000,
      "the load to get going",
    );
    // The kill must find requests in the middle of their work, whatever the timing of this
    // client and the server (on a busy machine the server may answer everything the client has
    // sent before the kill lands): writes of sessions are held back in the database until the
    // server is gone, so the creates and payments arriving meanwhile wait there, mid-request.
    const hold = await holdWrites(store.url, "checkout_sessions");
    cleanups.push(hold.release);
    const held = await waitFor(
      async () => {
        const waiting = await waitingFor(store.url, "checkout_sessions");
        // A payment completing its session and the expiry sweep update it; a create inserts.
        const creates = waiting.filter((q) => !/^\s*update\b/i.test(q));
        return creates.length >= CREATES_HELD
          ? { creates: creates.length, updates: waiting.length - creates.length }
          : null;
      },
      30_000,
      `${CREATES_HELD} creates to wait in the database`,
    );
    load.stopped = true;
    const inFlight = { creates: load.creating, payments: load.paying };
    kill(first);
    expect(await within(first.exited, 30_000, "the killed server to exit")).toEqual({ code: null, signal: "SIGKILL" });
    await within(clients, 30_000, "the clients to see the kill");
    // What the dead server had sent to the database runs out (a statement that was waiting may
    // still commit, a transaction that was waiting for its next statement rolls back).
    await hold.release();
    await waitFor(async () => (await busyConnections(store.url)) === 0, 30_000, "the dead server's queries to end");

    // What the clients saw: answers before the kill (all of them successes), none for the requests in flight.
    const created = creates.filter((c) => c.status === 201);
    const paid = payments.filter((p) => p.status === 303);
    const unansweredCreates = creates.filter((c) => c.error);
    const unansweredPayments = payments.filter((p) => p.error);
    expect(held.creates).toBeGreaterThanOrEqual(CREATES_HELD);
    expect(inFlight.creates).toBeGreaterThanOrEqual(CREATES_HELD);
    expect(created.length).toBeGreaterThanOrEqual(CREATED_BEFORE_KILL);
    expect(paid.length).toBeGreaterThanOrEqual(PAID_BEFORE_KILL);
    expect(unansweredCreates.length).toBeGreaterThanOrEqual(CREATES_HELD);
    // No answer means the connection died with the server, nothing else.
    for (const { error } of [...unansweredCreates, ...unansweredPayments]) expect(error).toMatch(CONNECTION_LOST);
    expect(creates.filter((c) => c.status !== null && c.status !== 201)).toEqual([]);
    expect(payments.filter((p) => p.status !== null && p.status !== 303)).toEqual([]);

    const server = await startKassa(env, { group: true });
    const again = merchant.api(server);

    // Every session the clients were given is there, through the API and in the database; every
    // payment they saw go through completed its session.
    const paidIds = new Set(paid.map((p) => p.sessionId));
    const reads = await Promise.all(created.map((c) => again("GET", `/v1/checkout/sessions/${c.sessionId}`)));
    reads.forEach((res, i) => {
      const id = created[i]!.sessionId!;
      expect(res.status, res.text).toBe(200);
      expect(res.body.id).toBe(id);
      expect(res.body.state).toEqual(paidIds.has(id) ? "complete" : expect.stringMatching(/^(open|complete)$/));
    });
    const found = await keysAndSessions(store.url, merchant.account.id);
    for (const c of created) expect(found.sessionOfKey.get(c.key), c.key).toBe(c.sessionId);

    const complete = await expectNothingHalfWritten(store.url, merchant.account.id);
    expect(complete.length).toBeGreaterThanOrEqual(paid.length);
    expect(complete.length).toBeGreaterThan(0);

    // A session create records its key in its own statement, complete with the response: a crash
    // leaves the key written whole with its session, or not at all; never a key in flight.
    expect(found.keys.filter((k) => k.state !== "complete")).toEqual([]);

    // The unanswered creates, retried with their keys: a key the killed request committed replays
    // its session; one it never committed runs now; twice, and the second time everything replays.
    const retry = (c: Create) => again("POST", "/v1/checkout/sessions", c.body, withKey(c.key));
    const firstTry = await Promise.all(unansweredCreates.map(retry));
    const sessionOfRetry = new Map<string, string>();
    firstTry.forEach((res, i) => {
      const c = unansweredCreates[i]!;
      expect(res.status, res.text).toBe(201);
      expect(isReplay(res)).toBe(found.sessionOfKey.has(c.key));
      if (isReplay(res)) expect(res.body.id).toBe(found.sessionOfKey.get(c.key));
      sessionOfRetry.set(c.key, res.body.id);
    });
    const retried = await Promise.all(unansweredCreates.map(retry));
    retried.forEach((res, i) => {
      const c = unansweredCreates[i]!;
      expect(res.status, res.text).toBe(201);
      expect(isReplay(res)).toBe(true);
      expect(res.body.id).toBe(sessionOfRetry.get(c.key));
    });

    // No duplicates: still exactly one session per key, the one each retry was answered with.
    const final = await keysAndSessions(store.url, merchant.account.id);
    expect(final.keys.filter((k) => k.state !== "complete")).toEqual([]);
    expect(final.keys.length).toBe(creates.length);
    expect(final.sessions.length).toBe(creates.length);
    for (const [key, id] of sessionOfRetry) expect(final.sessionOfKey.get(key), key).toBe(id);
    for (const c of created) expect(final.sessionOfKey.get(c.key), c.key).toBe(c.sessionId);
    const replayed = await again("POST", "/v1/checkout/sessions", created[0]!.body, withKey(created[0]!.key));
    expect(isReplay(replayed)).toBe(true);
    expect(sessionIdOf(replayed.text)).toBe(created[0]!.sessionId);

    // The unanswered payments, tried again by their customers: each session is paid once.
    await Promise.all(
      unansweredPayments.map(async (p) => {
        const res = await again("GET", `/v1/checkout/sessions/${p.sessionId}`);
        if (res.body.state === "open") expect((await pay(server.url, p.sessionId)).status).toBe(303);
      }),
    );
    const completeAfter = await expectNothingHalfWritten(store.url, merchant.account.id);
    const completeIds = new Set(completeAfter.map((s) => s.id));
    for (const p of [...paid, ...unansweredPayments]) expect(completeIds.has(p.sessionId), p.sessionId).toBe(true);

    expect((await stop(server)).code).toBe(0);
  });
});

/**
 * Every session of the account (its row is the record of its creation), and a complete session has all of its completion
 * (its event, one succeeded payment, its order with the order's event and notification) while an
 * open one has none of it; no session event names a session that is not there. Returns the
 * complete sessions.
 */
async function expectNothingHalfWritten(url: string, accountId: string) {
  const counts = await sql<{
    id: string;
    state: string;
    completed_events: number;
    payments: number;
    orders: number;
    order_events: number;
    deliveries: number;
  }>(
    url,
    `SELECT s.id, s.state,
              (SELECT count(*) FROM events e WHERE e.subject_id = s.id AND e.type = 'checkout_session.completed')::int AS completed_events,
              (SELECT count(*) FROM payments p WHERE p.checkout_session_id = s.id AND p.status = 'succeeded')::int AS payments,
              (SELECT count(*) FROM orders o WHERE o.checkout_session_id = s.id)::int AS orders,
              (SELECT count(*) FROM orders o JOIN events e ON e.subject_id = o.id AND e.type = 'order.placed'
                WHERE o.checkout_session_id = s.id)::int AS order_events,
              (SELECT count(*) FROM orders o JOIN webhook_deliveries d ON d.subject_type = 'order' AND d.subject_id = o.id
                WHERE o.checkout_session_id = s.id)::int AS deliveries
         FROM checkout_sessions s WHERE s.account_id = $1`,
    [accountId],
  );
  for (const s of counts) {
    const done = s.state === "complete" ? 1 : 0;
    expect(s, s.id).toEqual({
      id: s.id,
      state: expect.stringMatching(/^(open|complete)$/),
      completed_events: done,
      payments: done,
      orders: done,
      order_events: done,
      deliveries: done,
    });
  }
  const orphans = await sql(
    url,
    `SELECT e.id FROM events e LEFT JOIN checkout_sessions s ON s.id = e.subject_id
        WHERE e.subject_type = 'checkout_session' AND s.id IS NULL`,
  );
  expect(orphans).toEqual([]);

  return counts.filter((s) => s.state === "complete");
}
