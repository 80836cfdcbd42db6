import { afterAll, describe, expect, it } from "vitest";
import { cleanUp, stop, waitFor } from "../helpers/processes.js";
import { pay } from "../api/hosted-page/support.js";
import { type Receiver, startReceiver } from "../core/webhooks/support.js";
import {
  deliveriesOf,
  expectEveryNotification,
  FAULT_TEST_TIMEOUT_MS,
  faultServerEnv,
  faultStore,
  merchantOn,
  notifiedSessionParams,
  recordAnswers,
  startKassa,
} from "./support.js";

/**
 * Fault: the merchant's notification receiver is down (answers 500) while orders are placed, and
 * comes back later. Kassa keeps retrying from its outbox: every notification arrives, none is
 * lost, and a retry is the same notification again (same webhook-id, same body).
 */

const SESSIONS = 20;
/** The receiver fails until every notification has been refused this many times. */
const REFUSALS = 3;

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await cleanUp();
  for (const fn of cleanups.reverse()) await fn();
});

describe("a notification receiver that answers 500 for a while, then recovers", () => {
  it(`gets every one of ${SESSIONS} notifications, retries carrying the same webhook-id and body`, {
    timeout: FAULT_TEST_TIMEOUT_MS,
  }, async () => {
    const store = await faultStore();
    cleanups.push(store.drop);
    const receiver: Receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    let down = true;
    const answers = recordAnswers(receiver, () => (down ? 500 : 200));

    const server = await startKassa(await faultServerEnv(store.url));
    const merchant = await merchantOn(store.services);
    const api = merchant.api(server);

    // Orders placed while the receiver is down: sessions through the API, paid on the hosted page.
    const sessionIds = await Promise.all(
      Array.from({ length: SESSIONS }, async () => {
        const created = await api("POST", "/v1/checkout/sessions", notifiedSessionParams(receiver.url));
        expect(created.status, created.text).toBe(201);
        const paid = await pay(server.url, created.body.id);
        expect(paid.status, paid.html).toBe(303);
        return created.body.id as string;
      }),
    );

    // Down until every notification was refused REFUSALS times (so each one was retried).
    await waitFor(
      () => {
        const refused = [...answers.values()].filter((s) => s.length >= REFUSALS);
        return refused.length === SESSIONS;
      },
      45_000,
      `each of ${SESSIONS} notifications to be refused ${REFUSALS} times`,
    );
    const pending = await deliveriesOf(store.url, merchant.account.id);
    expect(pending.size).toBe(SESSIONS);
    expect([...pending.values()].every((d) => d.status === "pending")).toBe(true);
    down = false;

    await waitFor(
      async () => {
        const deliveries = await deliveriesOf(store.url, merchant.account.id);
        return [...deliveries.values()].every((d) => d.status === "succeeded");
      },
      45_000,
      "every notification to be delivered once the receiver is back",
    );

    const counts = await expectEveryNotification({
      url: store.url,
      services: store.services,
      accountId: merchant.account.id,
      receiver,
      answers,
      paidSessionIds: sessionIds,
    });
    expect(counts.size).toBe(SESSIONS);
    // Every notification was retried through the outage: REFUSALS failures at least, then its 200.
    for (const [id, n] of counts) expect(n, id).toBeGreaterThanOrEqual(REFUSALS + 1);

    expect((await stop(server)).code).toBe(0);
  });
});
