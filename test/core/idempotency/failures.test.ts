import type { FastifyInstance } from "fastify";
import { idempotencyConcurrentRequests } from "../../../src/core/errors.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { requestHash } from "../../../src/api/idempotency/hashing.js";
import { buildApp } from "../../../src/app.js";
import { createCheckoutSessionsService } from "../../../src/core/checkout-sessions/checkout-sessions.service.js";
import { IDEMPOTENCY_LEASE_MS } from "../../../src/core/idempotency/idempotency.types.js";
import type { Services } from "../../../src/core/services.js";
import { Prisma } from "../../../src/db/database.js";
import { apiClient, createCnaughtSession, createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectProblem, sessionParams } from "../../api/cnaught/support.js";
import {
  expectIdempotencyProblem,
  expectOneOriginal,
  expectReplayOf,
  isReplay,
  NO_RATE_LIMIT,
  newKey,
  withKey,
} from "../../api/idempotency/support.js";

/**
 * Idempotency under failure: crashes inside the write's transaction, requests that die holding a
 * key, requests that outlive their lease, and keys that expire. Real HTTP, real database; the
 * crashes are real exceptions thrown inside the real transaction.
 */

let t: TestApp;
const variants: FastifyInstance[] = [];
beforeAll(async () => {
  t = await startTestApp(NO_RATE_LIMIT);
});
afterAll(async () => {
  for (const app of variants) await app.close();
  await t.close();
});
afterEach(() => {
  (t.clock as { now: Date | null }).now = null; // back to the system clock
});

const HOUR = 3_600_000;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

/** The same app on the same database, with some services replaced: how a test makes a request fail for real. */
async function appWith(services: Services): Promise<string> {
  const app = await buildApp({ config: t.config, db: t.db, services });
  variants.push(app);
  return app.listen({ host: "127.0.0.1", port: 0 });
}

/**
 * Services whose checkout-session create fails inside its one statement: the key and the session
 * are in it, and a statement run for the inserted session is refused by the database (an event
 * of no account: a foreign-key violation), so the statement fails after the key and the session
 * were inserted.
 */
function failingInStatement(onFail: (sessionId: string) => void): Services {
  const s = t.services;
  const checkoutSessions = createCheckoutSessionsService({
    sessions: {
      ...s.repos.sessions,
      insertWith: (session, parts) => {
        onFail(session.id);
        return s.repos.sessions.insertWith(session, {
          ...parts,
          followers: (source) => [
            Prisma.sql`INSERT INTO events (id, account_id, type, subject_type, subject_id, data)
              SELECT 'evt_failing_follower', 'no-such-account', 'test.failing', 'checkout_session', id, '{}'::jsonb
              FROM ${Prisma.raw(source)}`,
          ],
        });
      },
    },
    lifecycles: {},
    payments: s.repos.payments,
    paymentProvider: s.adapters.paymentProvider,
    transaction: s.transaction,
    clock: s.clock,
    events: s.repos.events,
  });
  return { ...s, checkoutSessions };
}

/** Services whose subaccount create throws inside its transaction, after the subaccount and `within` ran. */
function crashingSubaccountCreate(): Services {
  const real = t.services.subaccounts;
  return {
    ...t.services,
    subaccounts: {
      ...real,
      create: (accountId, fields, within) =>
        real.create(accountId, fields, {
          ...within!,
          async inTransaction(tx, created) {
            await within!.inTransaction(tx, created);
            throw new Error("simulated crash after the subaccount and its response were written");
          },
        }),
    },
  };
}

const sessionCount = (accountId: string) => t.db.prisma.checkoutSession.count({ where: { accountId } });
const keyRows = (accountId: string, key: string) => t.db.prisma.idempotencyKey.findMany({ where: { accountId, key } });

describe(`a write that fails (${storeKind})`, () => {
  it("leaves neither the session nor the stored response, and the key can be retried", async () => {
    const { api, account, key: secret } = await createMerchantApi(t);
    let sessionId: string | null = null;
    const failingUrl = await appWith(failingInStatement((id) => (sessionId = id)));
    const key = newKey("crash");

    const failed = await apiClient(failingUrl, secret)("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expectProblem(failed, 500, "internal-error");
    expect(sessionId).not.toBeNull();
    // The statement inserted the key and the session before its last part failed: none of it survived.
    expect(await t.db.prisma.checkoutSession.findUnique({ where: { id: sessionId! } })).toBeNull();
    expect(await sessionCount(account.id)).toBe(0);
    expect(await keyRows(account.id, key)).toEqual([]);
    expect(await t.db.prisma.event.count({ where: { subjectId: sessionId! } })).toBe(0);

    const retried = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expect(retried.status, retried.text).toBe(201);
    expect(isReplay(retried)).toBe(false);
    expect(retried.body.id).not.toBe(sessionId);
    expect(await sessionCount(account.id)).toBe(1);
    expectReplayOf(await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key)), retried);
  });

  it("a process that dies before releasing leaves an in-flight key: 409 until its lease passes, then a retry takes it over", async () => {
    const { api, account, key: secret } = await createMerchantApi(t);
    const t0 = new Date();
    t.clock.set(t0);
    // Subaccounts claim their key first, then write in a transaction. The request dies: the
    // transaction rolls back and nothing releases the key (no process left to do it).
    const dying: Services = {
      ...crashingSubaccountCreate(),
      idempotency: { ...t.services.idempotency, release: async () => {} },
    };
    const dyingUrl = await appWith(dying);
    const key = newKey("dead");
    const subaccounts = () => t.db.prisma.subaccount.count({ where: { accountId: account.id } });
    expect((await apiClient(dyingUrl, secret)("POST", "/v1/subaccounts", { name: "Acme" }, withKey(key))).status).toBe(
      500,
    );
    const [dead] = await keyRows(account.id, key);
    expect(dead).toMatchObject({ state: "in_flight", responseBody: null, lockedUntil: at(t0, IDEMPOTENCY_LEASE_MS) });
    expect(await subaccounts()).toBe(0);

    t.clock.set(at(t0, IDEMPOTENCY_LEASE_MS - 1000));
    expectIdempotencyProblem(
      await api("POST", "/v1/subaccounts", { name: "Acme" }, withKey(key)),
      409,
      "idempotency-concurrent-requests",
    );

    t.clock.set(at(t0, IDEMPOTENCY_LEASE_MS));
    const takenOver = await api("POST", "/v1/subaccounts", { name: "Acme" }, withKey(key));
    expect(takenOver.status, takenOver.text).toBe(201);
    expect(isReplay(takenOver)).toBe(false);
    const [row] = await keyRows(account.id, key);
    expect(row).toMatchObject({ state: "complete", responseStatus: 201 });
    expect(row!.id).not.toBe(dead!.id);
    expectReplayOf(await api("POST", "/v1/subaccounts", { name: "Acme" }, withKey(key)), takenOver);
    expect(await subaccounts()).toBe(1);
  });

  it("20 retries at once on an abandoned key: one takes it over, one session", async () => {
    const { api, account } = await createMerchantApi(t);
    const t0 = new Date();
    t.clock.set(t0);
    const key = newKey("abandoned");
    const dead = await t.services.idempotency.begin({
      accountId: account.id,
      scope: "",
      api: "cnaught",
      key,
      requestHash: "whatever the dead request was",
    });
    expect(dead.kind).toBe("proceed");
    t.clock.set(at(t0, IDEMPOTENCY_LEASE_MS + 1));
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key))),
    );
    expectOneOriginal(responses);
    expect(await sessionCount(account.id)).toBe(1);
  });

  it("a request that outlives its lease cannot store its response: its write rolls back, the retry's result stands", async () => {
    const { api, account } = await createMerchantApi(t);
    const t0 = new Date();
    t.clock.set(t0);
    const key = newKey("slow");
    const body = sessionParams();
    const slow = await t.services.idempotency.begin({
      accountId: account.id,
      scope: "",
      api: "cnaught",
      key,
      requestHash: requestHash({ method: "POST", url: "/v1/checkout/sessions", scope: "", body }),
    });
    if (slow.kind !== "proceed") throw new Error("expected to claim the key");
    // While the slow request holds its lease, the same request is refused as concurrent.
    expectIdempotencyProblem(
      await api("POST", "/v1/checkout/sessions", body, withKey(key)),
      409,
      "idempotency-concurrent-requests",
    );

    t.clock.set(at(t0, IDEMPOTENCY_LEASE_MS + 1));
    const retry = await api("POST", "/v1/checkout/sessions", body, withKey(key));
    expect(retry.status, retry.text).toBe(201);

    // The slow request finally writes: storing its response fails, so its session is not written.
    const late = { status: 201, headers: {}, body: "late" };
    await expect(
      createCnaughtSession(
        t.services,
        { accountId: account.id, subaccountId: null },
        {},
        {
          inTransaction: (tx) => t.services.idempotency.complete(slow.record, late, tx),
          statement: () => ({
            sql: t.services.idempotency.completion(slow.record, late),
            refused: async () => {
              throw idempotencyConcurrentRequests();
            },
          }),
        },
      ),
    ).rejects.toMatchObject({ code: "idempotency_concurrent_requests" });
    // And its clean-up leaves the retry's key alone.
    await t.services.idempotency.release(slow.record);

    expect(await sessionCount(account.id)).toBe(1);
    expectReplayOf(await api("POST", "/v1/checkout/sessions", body, withKey(key)), retry);
  });
});

describe(`a request overtaken after its lease (${storeKind})`, () => {
  it("can neither release nor complete the key its retry now holds", async () => {
    const { api, account } = await createMerchantApi(t);
    const t0 = new Date();
    t.clock.set(t0);
    const key = newKey("fenced");
    const body = sessionParams();
    const claim = {
      accountId: account.id,
      scope: "",
      api: "cnaught",
      key,
      requestHash: requestHash({ method: "POST", url: "/v1/checkout/sessions", scope: "", body }),
    };
    const slow = await t.services.idempotency.begin(claim);
    t.clock.set(at(t0, IDEMPOTENCY_LEASE_MS + 1));
    const retry = await t.services.idempotency.begin(claim); // still running
    if (slow.kind !== "proceed" || retry.kind !== "proceed") throw new Error("expected both to claim the key in turn");
    expect(retry.record.id).not.toBe(slow.record.id);

    // The slow one fails late, then tries to store an answer anyway: neither touches the retry's claim.
    await t.services.idempotency.release(slow.record);
    await expect(
      t.services.idempotency.complete(slow.record, { status: 201, headers: {}, body: '{"from":"slow"}' }),
    ).rejects.toMatchObject({ code: "idempotency_concurrent_requests" });
    expectIdempotencyProblem(
      await api("POST", "/v1/checkout/sessions", body, withKey(key)),
      409,
      "idempotency-concurrent-requests",
    );

    // The retry's answer is the one remembered.
    const stored = {
      status: 201,
      headers: { "content-type": "application/json; charset=utf-8" },
      body: '{"from":"retry"}',
    };
    await t.services.idempotency.complete(retry.record, stored);
    const replay = await api("POST", "/v1/checkout/sessions", body, withKey(key));
    expect(replay.status).toBe(201);
    expect(replay.text).toBe('{"from":"retry"}');
    expect(isReplay(replay)).toBe(true);
  });
});

describe(`keys are kept 24 hours (${storeKind})`, () => {
  it("replays until 24 h have passed; then the key is free for a new request", async () => {
    const { api } = await createMerchantApi(t);
    const t0 = new Date();
    t.clock.set(t0);
    const key = newKey("day");
    const first = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expect(first.status).toBe(201);

    t.clock.set(at(t0, 24 * HOUR - 1000));
    expectReplayOf(await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key)), first);
    expectIdempotencyProblem(
      await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 200 }), withKey(key)),
      422,
      "idempotency-changed-payload",
    );

    t.clock.set(at(t0, 24 * HOUR));
    const fresh = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 200 }), withKey(key));
    expect(fresh.status, fresh.text).toBe(201);
    expect(isReplay(fresh)).toBe(false);
    expect(fresh.body.id).not.toBe(first.body.id);
    expectReplayOf(await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 200 }), withKey(key)), fresh);
  });

  it("prune deletes keys past 24 h (completed ones and dead in-flight ones), and only those", async () => {
    const { api, account } = await createMerchantApi(t);
    const t0 = new Date();
    t.clock.set(t0);
    const completed = newKey("prune-complete");
    expect((await api("POST", "/v1/quotes", { amount_kg: 1 }, withKey(completed))).status).toBe(200);
    const deadInFlight = newKey("prune-dead");
    await t.services.idempotency.begin({
      accountId: account.id,
      scope: "",
      api: "cnaught",
      key: deadInFlight,
      requestHash: "h",
    });
    t.clock.set(at(t0, HOUR));
    const younger = newKey("prune-younger");
    expect((await api("POST", "/v1/quotes", { amount_kg: 1 }, withKey(younger))).status).toBe(200);

    const keysLeft = async () =>
      (await t.db.prisma.idempotencyKey.findMany({ where: { accountId: account.id } })).map((r) => r.key).sort();

    await t.services.idempotency.prune(at(t0, 24 * HOUR - 1));
    expect(await keysLeft()).toEqual([completed, deadInFlight, younger].sort());

    expect(await t.services.idempotency.prune(at(t0, 24 * HOUR))).toBeGreaterThanOrEqual(2);
    expect(await keysLeft()).toEqual([younger]);

    // Without an argument it prunes as of the service's clock.
    t.clock.set(at(t0, 25 * HOUR));
    await t.services.idempotency.prune();
    expect(await keysLeft()).toEqual([]);
  });
});
