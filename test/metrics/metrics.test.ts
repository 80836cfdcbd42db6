import { certificateUrlsFor } from "../../src/api/certificates/certificates.urls.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createKassaServices } from "../../src/composition.js";
import { apiLifecycles } from "../../src/api/notification-formats.js";
import { createTestPaymentProvider, TEST_CARDS } from "../../src/core/payments/test-provider.js";
import { createServices, type Services } from "../../src/core/services.js";
import type { Database } from "../../src/db/database.js";
import type { Metrics } from "../../src/metrics/metrics.js";
import { createCnaughtSession, createMerchant } from "../helpers/app.js";
import { createTestDatabase, storeKind } from "../helpers/database.js";
import { CARD, movableClock, type Receiver, startReceiver } from "../core/webhooks/support.js";

/** Metrics that remember each call as a string, in order. */
function recordingMetrics(): Metrics & { calls: string[] } {
  const calls: string[] = [];
  const note =
    (name: string) =>
    (...args: unknown[]) =>
      void calls.push([name, ...args].join(":"));
  return {
    calls,
    sessionCreated: note("created"),
    sessionCompleted: note("completed"),
    sessionsExpired: note("expired"),
    paymentDeclined: note("declined"),
    deliveryAttempt: note("delivery"),
    idempotentReplay: note("replay"),
    rateLimited: note("rate-limited"),
    httpRequest: note("http"),
  };
}

const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent" });
const clock = movableClock();
let db: Database;
let drop: () => Promise<void>;
let metrics: ReturnType<typeof recordingMetrics>;
let services: Services;
const receivers: Receiver[] = [];

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
});
afterEach(async () => {
  clock.real();
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  await db.prisma.webhookDelivery.updateMany({ where: { status: "pending" }, data: { status: "failed" } });
  await db.prisma.checkoutSession.updateMany({ where: { state: "open" }, data: { state: "expired" } });
});
afterAll(() => drop());

function withMetrics() {
  metrics = recordingMetrics();
  services = createKassaServices(db, clock.fn, config, metrics);
}

async function openSession(s: Services, notificationUrl: string | null = null) {
  const merchant = await createMerchant(s);
  const scope = { accountId: merchant.account.id, subaccountId: null };
  const session = await createCnaughtSession(s, scope, {
    successUrl: "https://shop.example/ok",
    cancelUrl: "https://shop.example/cart",
    notificationUrl,
  });
  return { scope, session };
}

describe(`the core counts what committed (${storeKind})`, () => {
  it("counts a created session, a decline, a payment and an expiry once each", async () => {
    withMetrics();
    const { session } = await openSession(services);
    await openSession(services); // left open: it expires below
    expect(metrics.calls).toEqual(["created:cnaught", "created:cnaught"]);

    metrics.calls.length = 0;
    const declined = await services.checkoutSessions.pay(session.id, { ...CARD, number: TEST_CARDS.insufficientFunds });
    expect(declined.outcome).toBe("declined");
    expect((await services.checkoutSessions.pay(session.id, CARD)).outcome).toBe("paid");
    expect((await services.checkoutSessions.pay(session.id, CARD)).outcome).toBe("already_paid");
    expect(metrics.calls).toEqual(["declined:cnaught:insufficient_funds", "completed:cnaught"]);

    metrics.calls.length = 0;
    clock.advanceHours(25);
    expect(await services.checkoutSessions.expireDue()).toBe(1);
    expect(await services.checkoutSessions.expireDue()).toBe(0);
    expect(metrics.calls).toEqual(["expired:cnaught:1"]);
  });

  it("counts nothing for a payment whose transaction rolls back", async () => {
    withMetrics();
    // An order notification that cannot be rendered: paying charges and completes the session,
    // then fails inside the transaction, which rolls everything back.
    const broken = createServices(
      db,
      clock.fn,
      {
        lifecycles: (core) => apiLifecycles(core, { publicUrl: config.publicUrl }),
        webhookSigners: {},
        certificateUrls: certificateUrlsFor(config.publicUrl),
        notificationFormats: {
          cnaught: () => {
            throw new Error("cannot render");
          },
        },
        paymentProvider: createTestPaymentProvider(),
        metrics,
      },
      { webhooks: config.webhooks },
    );
    const { scope, session } = await openSession(broken, "http://127.0.0.1:9/hooks");
    metrics.calls.length = 0;
    await expect(broken.checkoutSessions.pay(session.id, CARD)).rejects.toThrow("cannot render");
    expect((await services.checkoutSessions.get(scope, session.id)).state).toBe("open");
    expect(metrics.calls).toEqual([]);

    // The same payment through working services commits, and counts.
    expect((await services.checkoutSessions.pay(session.id, CARD)).outcome).toBe("paid");
    expect(metrics.calls).toEqual(["completed:cnaught"]);
  });

  it("counts each delivery attempt by its outcome once recorded", async () => {
    withMetrics();
    const receiver = await startReceiver({ status: 500 });
    receivers.push(receiver);
    const { session } = await openSession(services, receiver.url);
    await services.checkoutSessions.pay(session.id, CARD);
    metrics.calls.length = 0;

    expect(await services.webhooks.deliverDue()).toMatchObject({ claimed: 1, failed: 1 });
    receiver.state.status = 200;
    clock.advanceHours(2); // past the retry's delay
    expect(await services.webhooks.deliverDue()).toMatchObject({ claimed: 1, succeeded: 1 });
    expect(metrics.calls).toEqual(["delivery:failed", "delivery:succeeded"]);
  });
});
