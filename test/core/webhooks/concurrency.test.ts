import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Decimal } from "../../../src/core/money/money.js";
import { createCnaughtSession, createMerchant } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { waitFor } from "../../helpers/processes.js";
import { startTestWorkers, stopTestWorkers } from "../../helpers/workers.js";
import { placeOrder, type Receiver, startReceiver, webhookTestbed } from "./support.js";

/**
 * Several instances on one database: two services instances (on PostgreSQL each with a pool of
 * its own, as two server processes) run their workers side by side.
 */

let bed: Awaited<ReturnType<typeof webhookTestbed>>;
let receiver: Receiver | null = null;

beforeAll(async () => {
  // Quick retries, so that failed first attempts come round again while the other instance is busy.
  bed = await webhookTestbed({ retryBaseMs: 10, retryMaxMs: 40 });
});
afterEach(async () => {
  await stopTestWorkers();
  await receiver?.close();
  receiver = null;
});
afterAll(() => bed.close());

describe(`several instances (${storeKind})`, () => {
  it("two workers racing never attempt one delivery at the same time; every attempt is recorded once", async () => {
    // Slow answers widen the window for an overlap; every first and second request fails, so
    // each delivery is retried while both workers are claiming.
    receiver = await startReceiver({ delayMs: 25 });
    receiver.state.respond = (_request, nth) => (nth <= 2 ? 500 : 200);
    const orders = [];
    for (let i = 0; i < 12; i++) orders.push((await placeOrder(bed.services, receiver.url)).order);

    const a = bed.services;
    const b = await bed.anotherInstance();
    const workers = [
      startTestWorkers({ services: a }, { intervalMs: 10 }),
      startTestWorkers({ services: b }, { intervalMs: 10 }),
    ];
    const ids = orders.map((o) => o.id);
    const deliveries = await waitFor(
      async () => {
        const all = await bed.db.prisma.webhookDelivery.findMany({
          where: { subjectId: { in: ids } },
          include: { attempts: true },
        });
        return all.every((d) => d.status === "succeeded") ? all : null;
      },
      60_000,
      "every delivery to succeed",
    );
    await Promise.all(workers.map((w) => w.stop()));
    expect(workers.flatMap((w) => w.errors)).toEqual([]);

    expect(receiver.overlaps).toEqual([]);
    expect(deliveries).toHaveLength(orders.length);
    for (const d of deliveries) {
      const sent = receiver.requests.filter((q) => q.headers["webhook-id"] === d.id);
      // Exactly the three requests the receiver needed, each one a recorded attempt.
      expect(sent).toHaveLength(3);
      expect(d.attempts.map((x) => x.attempt).sort()).toEqual([1, 2, 3]);
      expect(d.attempts.map((x) => x.responseStatus).sort()).toEqual([200, 500, 500]);
      expect(d.attemptCount).toBe(3);
    }
  });

  it("the expiry sweep on two instances records each session's expiry and its event once", async () => {
    const merchant = await createMerchant(bed.services);
    const scope = { accountId: merchant.account.id, subaccountId: null };
    const sessions = [];
    for (let i = 0; i < 8; i++) {
      sessions.push(await createCnaughtSession(bed.services, scope, { amountKg: new Decimal("50") }));
    }
    const ids = sessions.map((s) => s.id);
    bed.clock.advanceHours(25);
    try {
      const b = await bed.anotherInstance();
      const workers = [
        startTestWorkers(bed, { intervalMs: 10 }),
        startTestWorkers({ services: b }, { intervalMs: 10 }),
      ];
      await waitFor(
        async () =>
          (await bed.db.prisma.checkoutSession.count({ where: { id: { in: ids }, state: "expired" } })) === ids.length,
        60_000,
        "every session to be recorded as expired",
      );
      // Let both sweep a few more times: a second recording would show up now.
      const sweeps = await Promise.all([b.checkoutSessions.expireDue(), bed.services.checkoutSessions.expireDue()]);
      expect(sweeps).toEqual([0, 0]);
      await Promise.all(workers.map((w) => w.stop()));
      expect(workers.flatMap((w) => w.errors)).toEqual([]);
    } finally {
      bed.clock.real();
    }
    const events = await bed.db.prisma.event.findMany({
      where: { subjectType: "checkout_session", subjectId: { in: ids }, type: "checkout_session.expired" },
    });
    expect(events.map((e) => e.subjectId).sort()).toEqual([...ids].sort());
  });
});
