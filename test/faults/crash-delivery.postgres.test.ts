import { afterAll, describe, expect, it } from "vitest";
import { cleanUp, kill, stop, waitFor, within } from "../helpers/processes.js";
import { pay } from "../api/hosted-page/support.js";
import { type Receiver, startReceiver } from "../core/webhooks/support.js";
import {
  FAULT_TEST_TIMEOUT_MS,
  faultServerEnv,
  faultStore,
  merchantOn,
  notifiedSessionParams,
  sql,
  startKassa,
} from "./support.js";

/**
 * Fault: the server is killed with SIGKILL while its notifications are in flight (the receiver
 * has them and has not answered yet). Every attempt counted is on record: the cut-short ones as
 * `unknown`, and after the lease the next server sends them again and records those attempts too.
 */

const NOTIFICATIONS = 3;

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await cleanUp();
  for (const fn of cleanups.reverse()) await fn();
});

interface AttemptRow {
  delivery_id: string;
  attempt_count: number;
  status: string;
  attempt: number | null;
  outcome: string | null;
  response_status: number | null;
}

const attemptsOf = (url: string, accountId: string) =>
  sql<AttemptRow>(
    url,
    `SELECT d.id AS delivery_id, d.attempt_count, d.status, a.attempt, a.outcome, a.response_status
       FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id
      WHERE d.account_id = $1 ORDER BY d.id, a.attempt`,
    [accountId],
  );

describe("kill -9 of the server while notifications are in flight, then a restart", () => {
  it("records every attempt: the cut-short ones as unknown, then the attempts that delivered", {
    timeout: FAULT_TEST_TIMEOUT_MS,
  }, async () => {
    const store = await faultStore();
    cleanups.push(store.drop);
    // Holds every request far past the kill.
    const receiver: Receiver = await startReceiver({ delayMs: 60_000 });
    cleanups.push(() => receiver.close());
    const merchant = await merchantOn(store.services);
    const env = await faultServerEnv(store.url);

    // The orders are placed on a server without workers, so that one batch takes all their
    // notifications (a worker waits for its batch: one held request would hold back the next).
    const placing = await startKassa({ ...env, WORKERS: "false" });
    const api = merchant.api(placing);
    for (let i = 0; i < NOTIFICATIONS; i++) {
      const created = await api("POST", "/v1/checkout/sessions", notifiedSessionParams(receiver.url));
      expect(created.status, created.text).toBe(201);
      expect((await pay(placing.url, created.body.id)).status).toBe(303);
    }
    expect((await stop(placing)).code).toBe(0);

    const first = await startKassa(env, { group: true });
    await waitFor(() => receiver.requests.length === NOTIFICATIONS, 30_000, "every notification to be in flight");

    kill(first);
    expect(await within(first.exited, 30_000, "the killed server to exit")).toEqual({ code: null, signal: "SIGKILL" });

    // What the dead server left: each attempt it counted is on record, in flight.
    const left = await attemptsOf(store.url, merchant.account.id);
    expect(left).toHaveLength(NOTIFICATIONS);
    for (const row of left) {
      expect(row).toMatchObject({ attempt_count: 1, status: "pending", attempt: 1, outcome: "in_flight" });
    }

    // The lease (WEBHOOK_TIMEOUT_MS + 60 s) is what a crash delays a notification by: run out here.
    await sql(
      store.url,
      "UPDATE webhook_deliveries SET locked_until = now() - interval '1 second' WHERE account_id = $1",
      [merchant.account.id],
    );
    receiver.state.delayMs = 0;
    const second = await startKassa(env);
    await waitFor(
      async () => (await attemptsOf(store.url, merchant.account.id)).every((r) => r.status === "succeeded"),
      45_000,
      "every notification to be delivered by the restarted server",
    );

    const rows = await attemptsOf(store.url, merchant.account.id);
    const byDelivery = new Map<string, AttemptRow[]>();
    for (const row of rows) byDelivery.set(row.delivery_id, [...(byDelivery.get(row.delivery_id) ?? []), row]);
    expect(byDelivery.size).toBe(NOTIFICATIONS);
    for (const [id, attempts] of byDelivery) {
      expect(attempts[0]!.attempt_count, id).toBe(attempts.length);
      expect(
        attempts.map((a) => [a.attempt, a.outcome, a.response_status]),
        id,
      ).toEqual([
        [1, "unknown", null],
        [2, "succeeded", 200],
      ]);
      // The receiver saw as many requests as there are attempts on record.
      expect(receiver.requests.filter((r) => r.headers["webhook-id"] === id)).toHaveLength(attempts.length);
    }
    expect((await stop(second)).code).toBe(0);
  });
});
