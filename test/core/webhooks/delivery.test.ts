import { getEventListeners } from "node:events";
import { Webhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GIVE_UP_AFTER_HOURS, retryDelayMs } from "../../../src/core/webhooks/webhooks.service.js";
import { seedCatalogue } from "../../helpers/catalogue.js";
import { storeKind } from "../../helpers/database.js";
import { waitFor } from "../../helpers/processes.js";
import { startTestWorkers, stopTestWorkers } from "../../helpers/workers.js";
import {
  closedPort,
  placeOrder,
  type Receiver,
  startReceiver,
  TEST_WEBHOOK_SETTINGS,
  webhookTestbed,
} from "./support.js";

let bed: Awaited<ReturnType<typeof webhookTestbed>>;
const receivers: Receiver[] = [];

beforeAll(async () => {
  bed = await webhookTestbed();
});
afterEach(async () => {
  await stopTestWorkers();
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  bed.clock.real();
  // Deliveries are claimed database-wide: what one test leaves pending must not reach the next.
  await bed.db.prisma.webhookDelivery.updateMany({ where: { status: "pending" }, data: { status: "failed" } });
});
afterAll(() => bed.close());

async function receiver(opts: Parameters<typeof startReceiver>[0] = {}) {
  const r = await startReceiver(opts);
  receivers.push(r);
  return r;
}

const deliveryOf = async (orderId: string) => {
  const [delivery, ...more] = await bed.services.webhooks.deliveries({ orderId });
  expect(more).toHaveLength(0);
  return delivery!;
};

const headersOf = (r: Receiver, i: number) => r.requests[i]!.headers as Record<string, string>;

describe(`webhook delivery (${storeKind})`, () => {
  it("POSTs the order to the notification URL, signed so that standardwebhooks verifies it", async () => {
    const r = await receiver();
    const { order, merchant } = await placeOrder(bed.services, r.url);
    const summary = await bed.services.webhooks.deliverDue();
    expect(summary).toMatchObject({ claimed: 1, succeeded: 1, failed: 0 });

    expect(r.requests).toHaveLength(1);
    const request = r.requests[0]!;
    const delivery = await deliveryOf(order.id);
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/hooks");
    expect(request.body).toBe(delivery.payload);
    expect(request.headers).toMatchObject({
      "webhook-id": delivery.id,
      "content-type": "application/json",
      "user-agent": "Kassa-Webhooks/1",
    });
    const { secret } = await bed.services.webhooks.secret(merchant.account.id);
    const verified = new Webhook(secret).verify(request.body, headersOf(r, 0)) as {
      order: { id: string; state: string };
    };
    expect(verified.order).toMatchObject({ id: order.id, state: "placed" });

    expect(delivery).toMatchObject({ status: "succeeded", attemptCount: 1 });
    expect(delivery.completedAt).toBeInstanceOf(Date);
    expect(delivery.event.type).toBe("order.placed");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({
      attempt: 1,
      responseStatus: 200,
      outcome: "succeeded",
      error: null,
      nextAttemptAt: null,
    });
    expect(delivery.attempts[0]!.durationMs).toBeGreaterThanOrEqual(0);

    // Done is done: nothing is due any more.
    expect((await bed.services.webhooks.deliverDue()).claimed).toBe(0);
    expect(r.requests).toHaveLength(1);
  });

  it("every state change is its own notification: placed, then fulfilled (and cancelled on another order)", async () => {
    const r = await receiver();
    const first = await placeOrder(bed.services, r.url);
    await seedCatalogue(bed.services, { portfolioIds: [first.merchant.portfolio!.id] });
    await bed.services.orders.fulfill(first.order.id);
    const second = await placeOrder(bed.services, r.url);
    await bed.services.orders.cancel(second.order.id);
    while ((await bed.services.webhooks.deliverDue()).claimed > 0);
    const states = r.requests.map((q) => {
      const { order } = JSON.parse(q.body) as { order: { id: string; state: string } };
      return `${order.id === first.order.id ? "first" : "second"} ${order.state}`;
    });
    expect(states.sort()).toEqual(["first fulfilled", "first placed", "second cancelled", "second placed"]);
    expect(new Set(r.requests.map((q) => q.headers["webhook-id"])).size).toBe(4);
  });

  it("a secret is created on first need and stays; rotating sends both signatures until the window ends", async () => {
    const r = await receiver();
    const { order, merchant } = await placeOrder(bed.services, r.url);
    const accountId = merchant.account.id;
    const original = await bed.services.webhooks.secret(accountId);
    expect(original.secret).toMatch(/^whsec_/);
    expect(original.previousSecret).toBeNull();
    expect((await bed.services.webhooks.secret(accountId)).secret).toBe(original.secret);

    const rotated = await bed.services.webhooks.secret(accountId, { rotate: true });
    expect(rotated.secret).not.toBe(original.secret);
    expect(rotated.previousSecret).toBe(original.secret);
    expect(rotated.previousSecretExpiresAt!.getTime() - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect((await bed.services.webhooks.secret(accountId)).secret).toBe(rotated.secret);

    await bed.services.webhooks.deliverDue();
    const during = headersOf(r, 0);
    expect(during["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(() => new Webhook(rotated.secret).verify(r.requests[0]!.body, during)).not.toThrow();
    expect(() => new Webhook(original.secret).verify(r.requests[0]!.body, during)).not.toThrow();

    // A rotation made more than the window ago: only the new secret signs.
    bed.clock.set(new Date(Date.now() - (TEST_WEBHOOK_SETTINGS.secretRotationHours + 1) * 3_600_000));
    const again = await bed.services.webhooks.secret(accountId, { rotate: true });
    bed.clock.real();
    expect((await bed.services.webhooks.secret(accountId)).previousSecret).toBeNull();
    await seedCatalogue(bed.services, { portfolioIds: [merchant.portfolio!.id] });
    await bed.services.orders.fulfill(order.id);
    await bed.services.webhooks.deliverDue();
    const after = headersOf(r, 1);
    expect(after["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(() => new Webhook(again.secret).verify(r.requests[1]!.body, after)).not.toThrow();
    expect(() => new Webhook(rotated.secret).verify(r.requests[1]!.body, after)).toThrow(/No matching signature/);
  });

  it("a secret for an account that does not exist is not found", async () => {
    await expect(bed.services.webhooks.secret("acct_nope")).rejects.toMatchObject({ code: "not_found" });
    await expect(bed.services.webhooks.secret("acct_nope", { rotate: true })).rejects.toMatchObject({
      code: "not_found",
    });
  });

  it("a receiver answering 500 gets the notification once it recovers, with the same webhook-id; each attempt is recorded", async () => {
    const r = await receiver({ status: 500 });
    const { order } = await placeOrder(bed.services, r.url);
    const start = Date.now();
    bed.clock.set(new Date(start));
    expect(await bed.services.webhooks.deliverDue()).toMatchObject({ claimed: 1, failed: 1 });

    let delivery = await deliveryOf(order.id);
    expect(delivery.status).toBe("pending");
    const failed = delivery.attempts[0]!;
    expect(failed).toMatchObject({
      attempt: 1,
      responseStatus: 500,
      outcome: "failed",
      error: "receiver answered 500",
    });
    // Backoff: not before retryBaseMs, not after base * 2^1.
    const wait = failed.nextAttemptAt!.getTime() - start;
    expect(wait).toBeGreaterThanOrEqual(TEST_WEBHOOK_SETTINGS.retryBaseMs);
    expect(wait).toBeLessThanOrEqual(2 * TEST_WEBHOOK_SETTINGS.retryBaseMs);
    expect(delivery.nextAttemptAt).toEqual(failed.nextAttemptAt);

    // Not due yet: nothing is sent.
    expect((await bed.services.webhooks.deliverDue()).claimed).toBe(0);

    bed.clock.set(failed.nextAttemptAt!);
    expect(await bed.services.webhooks.deliverDue()).toMatchObject({ claimed: 1, failed: 1 });
    r.state.status = 204;
    bed.clock.advanceMs(TEST_WEBHOOK_SETTINGS.retryMaxMs);
    expect(await bed.services.webhooks.deliverDue()).toMatchObject({ claimed: 1, succeeded: 1 });

    delivery = await deliveryOf(order.id);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.attempts.map((a) => [a.attempt, a.responseStatus, a.outcome])).toEqual([
      [1, 500, "failed"],
      [2, 500, "failed"],
      [3, 204, "succeeded"],
    ]);
    expect(r.requests).toHaveLength(3);
    expect(new Set(r.requests.map((q) => q.headers["webhook-id"]))).toEqual(new Set([delivery.id]));
    expect(new Set(r.requests.map((q) => q.body)).size).toBe(1);
  });

  it("a receiver that is down (connection refused) and then comes up gets it, delivered by the workers", async () => {
    const port = await closedPort();
    const { order } = await placeOrder(bed.services, `http://127.0.0.1:${port}/hooks`);
    bed.clock.set(new Date());
    const workers = startTestWorkers(bed);
    const first = await waitFor(
      async () => {
        const attempt = (await deliveryOf(order.id)).attempts[0];
        return attempt?.outcome === "in_flight" ? null : attempt;
      },
      30_000,
      "the first (failing) attempt to be settled",
    );
    expect(first).toMatchObject({ attempt: 1, responseStatus: null, outcome: "failed" });
    expect(first.error).toMatch(/ECONNREFUSED/);

    const r = await receiver({ port });
    bed.clock.advanceMs(TEST_WEBHOOK_SETTINGS.retryMaxMs);
    const delivered = await waitFor(
      async () => {
        const d = await deliveryOf(order.id);
        return d.status === "succeeded" ? d : null;
      },
      30_000,
      "the delivery to succeed",
    );
    await workers.stop();
    expect(workers.errors).toEqual([]);
    expect(delivered.attempts.at(-1)).toMatchObject({ responseStatus: 200, outcome: "succeeded" });
    expect(delivered.attempts.slice(0, -1).every((a) => a.outcome === "failed" && a.error)).toBe(true);
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]!.headers["webhook-id"]).toBe(delivered.id);
  });

  it("gives up once 24 h have passed since the notification was written: delivery failed, last attempt gave_up", async () => {
    const r = await receiver({ status: 503 });
    const { order } = await placeOrder(bed.services, r.url);
    const written = (await deliveryOf(order.id)).createdAt;
    bed.clock.set(new Date(written.getTime() + 1000));
    await bed.services.webhooks.deliverDue();

    // Just before the deadline: a retry is scheduled, but never after the deadline.
    bed.clock.set(new Date(written.getTime() + GIVE_UP_AFTER_HOURS * 3_600_000 - 1000));
    await bed.services.webhooks.deliverDue();
    let delivery = await deliveryOf(order.id);
    expect(delivery.attempts[1]).toMatchObject({ outcome: "failed" });
    expect(delivery.attempts[1]!.nextAttemptAt!.getTime()).toBe(written.getTime() + GIVE_UP_AFTER_HOURS * 3_600_000);

    bed.clock.set(delivery.attempts[1]!.nextAttemptAt!);
    expect(await bed.services.webhooks.deliverDue()).toMatchObject({ claimed: 1, gaveUp: 1 });
    delivery = await deliveryOf(order.id);
    expect(delivery.status).toBe("failed");
    expect(delivery.completedAt).toBeInstanceOf(Date);
    expect(delivery.attempts.at(-1)).toMatchObject({
      attempt: 3,
      responseStatus: 503,
      outcome: "gave_up",
      nextAttemptAt: null,
    });

    bed.clock.advanceHours(48);
    expect((await bed.services.webhooks.deliverDue()).claimed).toBe(0);
    expect(r.requests).toHaveLength(3);
  });

  it("a redirect is not followed and counts as a failure", async () => {
    const target = await receiver();
    const r = await receiver({ status: 302 });
    r.state.headers = { location: target.url };
    const { order } = await placeOrder(bed.services, r.url);
    await bed.services.webhooks.deliverDue();
    const delivery = await deliveryOf(order.id);
    expect(delivery.attempts[0]).toMatchObject({
      responseStatus: 302,
      outcome: "failed",
      error: "receiver answered 302; redirects are not followed",
    });
    expect(target.requests).toHaveLength(0);
  });

  it("a receiver that does not answer within the timeout is a failed attempt", async () => {
    const r = await receiver({ delayMs: 3_000 });
    const { order } = await placeOrder(bed.services, r.url);
    await bed.servicesWith({ timeoutMs: 200 }).webhooks.deliverDue();
    const delivery = await deliveryOf(order.id);
    expect(delivery.attempts[0]).toMatchObject({
      responseStatus: null,
      outcome: "failed",
      error: "no response within 200 ms",
    });
  });

  it("a large response body is not read to the end; the 2xx still counts", async () => {
    const r = await receiver();
    r.state.body = "x".repeat(1024 * 1024);
    const { order } = await placeOrder(bed.services, r.url);
    expect(await bed.services.webhooks.deliverDue()).toMatchObject({ succeeded: 1 });
    expect((await deliveryOf(order.id)).status).toBe("succeeded");
  });

  it("with private URLs not allowed, a loopback receiver is refused (and recorded why); allowed, it is delivered", async () => {
    const r = await receiver();
    const { order } = await placeOrder(bed.services, r.url);
    const strict = bed.servicesWith({ allowPrivateUrls: false });
    expect(await strict.webhooks.deliverDue()).toMatchObject({ claimed: 1, failed: 1 });
    let delivery = await deliveryOf(order.id);
    expect(delivery.attempts[0]).toMatchObject({
      responseStatus: null,
      outcome: "failed",
      error: "address 127.0.0.1 is loopback; set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow",
    });
    expect(r.requests).toHaveLength(0);

    bed.clock.advanceMs(TEST_WEBHOOK_SETTINGS.retryMaxMs);
    expect(await bed.services.webhooks.deliverDue()).toMatchObject({ claimed: 1, succeeded: 1 });
    delivery = await deliveryOf(order.id);
    expect(delivery.status).toBe("succeeded");
    expect(r.requests).toHaveLength(1);
  });

  it("a worker that dies holding a lease delays the delivery only until the lease ends; its attempt stays on record as unknown, its late result is not recorded", async () => {
    const r = await receiver();
    const { order } = await placeOrder(bed.services, r.url);
    const now = new Date();
    bed.clock.set(now);
    // A worker claims it and dies while sending: its attempt is on record from the claim on.
    const lease = new Date(now.getTime() + 60_000);
    const [claimed] = await bed.services.repos.webhooks.claimDue(now, lease, 10);
    expect(claimed).toMatchObject({ attempt: 1 });
    expect((await deliveryOf(order.id)).attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, "in_flight"]]);
    expect((await bed.services.webhooks.deliverDue()).claimed).toBe(0);

    bed.clock.set(new Date(lease.getTime() + 1));
    expect(await bed.services.webhooks.deliverDue()).toMatchObject({ claimed: 1, succeeded: 1 });
    // The dead worker waking up: its lease was taken over, so it records nothing.
    const late = await bed.services.transaction((tx) =>
      bed.services.repos.webhooks.settleAttempt(
        claimed!,
        {
          attempt: 1,
          startedAt: now,
          durationMs: 1,
          responseStatus: 500,
          error: "late",
          outcome: "failed",
          nextAttemptAt: now,
          completedAt: null,
        },
        tx,
      ),
    );
    expect(late).toBe(false);
    const delivery = await deliveryOf(order.id);
    expect(delivery.status).toBe("succeeded");
    // Every attempt counted is on record; the one cut short has no known outcome.
    expect(delivery.attemptCount).toBe(2);
    expect(delivery.attempts.map((a) => [a.attempt, a.outcome, a.responseStatus])).toEqual([
      [1, "unknown", null],
      [2, "succeeded", 200],
    ]);
    expect(delivery.attempts[0]!.error).toMatch(/lease/);
    expect(r.requests).toHaveLength(1);
  });

  it("stopping the workers cuts an in-flight attempt short and leaves the delivery due at once", async () => {
    const r = await receiver({ delayMs: 20_000 });
    const { order } = await placeOrder(bed.services, r.url);
    const workers = startTestWorkers(bed);
    await waitFor(() => r.requests.length > 0, 30_000, "the receiver to be called");
    await workers.stop();
    const delivery = await deliveryOf(order.id);
    expect(delivery.status).toBe("pending");
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0]).toMatchObject({ outcome: "failed", error: "aborted: the worker is shutting down" });
    expect(delivery.nextAttemptAt.getTime()).toBe(delivery.attempts[0]!.nextAttemptAt!.getTime());
    expect(delivery.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(workers.errors).toEqual([]);
  });

  it("many deliveries in flight on one stop signal: no MaxListenersExceededWarning, no listener left behind", async () => {
    const r = await receiver({ delayMs: 100 });
    const orders = [];
    for (let i = 0; i < 25; i++) orders.push((await placeOrder(bed.services, r.url)).order);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    const stop = new AbortController();
    try {
      const summary = await bed.services.webhooks.deliverDue({ limit: 25, signal: stop.signal });
      expect(summary).toMatchObject({ claimed: 25, succeeded: 25 });
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);
    expect(r.requests).toHaveLength(25);
  });
});

describe("retry delays", () => {
  const settings = { retryBaseMs: 30_000, retryMaxMs: 3_600_000 };
  it("grow exponentially with full jitter between the base and the cap", () => {
    expect(retryDelayMs(1, settings, () => 0)).toBe(30_000);
    expect(retryDelayMs(1, settings, () => 1)).toBe(60_000);
    expect(retryDelayMs(3, settings, () => 1)).toBe(240_000);
    expect(retryDelayMs(10, settings, () => 1)).toBe(3_600_000);
    expect(retryDelayMs(500, settings, () => 1)).toBe(3_600_000);
    for (let attempt = 1; attempt < 40; attempt++) {
      const delay = retryDelayMs(attempt, settings);
      expect(delay).toBeGreaterThanOrEqual(30_000);
      expect(delay).toBeLessThanOrEqual(3_600_000);
    }
  });
});
