import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOperation } from "../../../src/admin/admin.operations.js";
import { leanRailsEvents, toWireEvent } from "../../../src/api/leanrails/events.schemas.js";
import { parseCommand } from "../../../src/cli/main.js";
import { createKassaServices } from "../../../src/composition.js";
import type { NewCheckoutSession } from "../../../src/core/checkout-sessions/checkout-sessions.types.js";
import { Decimal } from "../../../src/core/money/money.js";
import type { Services } from "../../../src/core/services.js";
import type { Database } from "../../../src/db/database.js";
import { createMerchant, written } from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";
import {
  CARD,
  movableClock,
  type ReceivedRequest,
  startReceiver,
  TEST_WEBHOOK_SETTINGS,
} from "../../core/webhooks/support.js";

const PUBLIC_URL = "https://pay.kassa.test";

/**
 * The receiver's side, written from leanrails.md alone: X-Signature `t=<unix>,v1=<hex>` where hex
 * is HMAC-SHA256 keyed with the whole whsec_ string over "v1=" + t + "." + raw body; receivers
 * reject |now - t| > 300. Returns why it is refused, or null.
 */
function signatureProblem(request: ReceivedRequest, secret: string, now = Date.now()): string | null {
  const header = request.headers["x-signature"];
  if (typeof header !== "string") return "no X-Signature";
  const fields = header.split(",").map((p) => p.split("=", 2) as [string, string]);
  const t = fields.find(([k]) => k === "t")?.[1];
  if (!t || !/^\d+$/.test(t)) return "no t";
  if (Math.abs(now / 1000 - Number(t)) > 300) return "too old";
  const mac = createHmac("sha256", Buffer.from(secret, "utf8")).update(`v1=${t}.${request.body}`).digest("hex");
  return fields.some(([k, v]) => k === "v1" && v === mac) ? null : "bad signature";
}

let db: Database;
let drop: () => Promise<void>;
let services: Services;
const clock = movableClock();
let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  services = createKassaServices(db, clock.fn, { webhooks: TEST_WEBHOOK_SETTINGS, publicUrl: PUBLIC_URL });
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
  await drop();
});

/** A LeanRails session as its adapter creates one: two items in euros, `cs_` ids. */
const leanRailsSession = (): NewCheckoutSession => ({
  api: "leanrails",
  currency: "eur",
  lineItems: [
    {
      description: "T-shirt",
      quantity: new Decimal(2),
      unitLabel: null,
      unitAmount: new Decimal(2000),
      amount: new Decimal(4000),
      productRef: null,
      priceRef: null,
    },
    {
      description: "Mug",
      quantity: new Decimal(1),
      unitLabel: null,
      unitAmount: new Decimal(1250),
      amount: new Decimal(1250),
      productRef: null,
      priceRef: null,
    },
  ],
  successUrl: "https://shop.example/ok",
  cancelUrl: "https://shop.example/cancel",
  clientReferenceId: "order-7",
  metadata: { cart: "42" },
  apiData: { mode: "payment", ui_mode: "hosted", customer_creation: "if_required" },
  idPrefixes: { session: "cs_", lineItem: "csli_" },
});

async function endpoint(accountId: string, path: string, enabledEvents: string[]) {
  return written(
    await services.webhookEndpoints.create(accountId, "leanrails", {
      url: `${receiver.url}/${path}`,
      enabledEvents,
      idPrefix: "we_",
    }),
  );
}

const receivedAt = (path: string) => receiver.requests.filter((r) => r.path === `/hooks/${path}`);

describe(`LeanRails events to webhook endpoints (${storeKind})`, () => {
  it("a paid session's checkout.session.completed reaches each subscribed endpoint, signed with its secret", async () => {
    const m = await createMerchant(services);
    const scope = { accountId: m.account.id, subaccountId: null };
    const completedOnly = await endpoint(m.account.id, "a-completed", ["checkout.session.completed"]);
    const everything = await endpoint(m.account.id, "a-all", ["*"]);
    const expiredOnly = await endpoint(m.account.id, "a-expired", ["checkout.session.expired"]);
    const off = await endpoint(m.account.id, "a-off", ["*"]);
    written(await services.webhookEndpoints.update(m.account.id, "leanrails", off.id, { status: "disabled" }));

    const session = written(await services.checkoutSessions.create(scope, leanRailsSession()));
    const paid = await services.checkoutSessions.pay(session.id, CARD, {
      email: "ada@example.com",
      name: "Ada Lovelace",
      phone: null,
      address: null,
    });
    expect(paid.outcome).toBe("paid");
    const summary = await services.webhooks.deliverDue();
    expect(summary).toMatchObject({ claimed: 2, succeeded: 2 });

    const [toCompleted] = receivedAt("a-completed");
    const [toAll] = receivedAt("a-all");
    expect(receivedAt("a-expired")).toEqual([]);
    expect(receivedAt("a-off")).toEqual([]);
    if (!toCompleted || !toAll) throw new Error("not delivered");

    expect(signatureProblem(toCompleted, completedOnly.secret)).toBeNull();
    expect(signatureProblem(toAll, everything.secret)).toBeNull();
    expect(signatureProblem(toAll, completedOnly.secret)).toBe("bad signature");
    expect(signatureProblem(toCompleted, expiredOnly.secret)).toBe("bad signature");
    expect(toCompleted.headers["fluveo-signature"]).toBe(toCompleted.headers["x-signature"]);
    expect(toCompleted.headers["content-type"]).toBe("application/json");
    expect(toCompleted.headers["user-agent"]).toMatch(/\S/);
    expect(toCompleted.body).toBe(toAll.body); // the same bytes to every endpoint

    const deliveries = await services.webhooks.deliveries({ accountId: m.account.id });
    expect(deliveries.map((d) => [d.endpointId, d.id, d.status]).sort()).toEqual(
      [
        [completedOnly.id, toCompleted.headers["webhook-id"], "succeeded"],
        [everything.id, toAll.headers["webhook-id"], "succeeded"],
      ].sort(),
    );

    const event = JSON.parse(toCompleted.body);
    const [coreEvent] = (await services.repos.events.listForSubject("checkout_session", session.id)).filter(
      (e) => e.type === "checkout_session.completed",
    );
    expect(event).toMatchObject({
      id: coreEvent?.id,
      object: "event",
      type: "checkout.session.completed",
      livemode: false,
      api_version: "2026-03-09",
      data: {
        object: {
          id: session.id,
          object: "checkout.session",
          mode: "payment",
          status: "complete",
          payment_status: "paid",
          ui_mode: "hosted",
          url: `${PUBLIC_URL}/pay/${session.id}`,
          currency: "eur",
          amount_subtotal: 5250,
          amount_total: 5250,
          metadata: { cart: "42" },
          client_reference_id: "order-7",
          customer_details: { email: "ada@example.com", name: "Ada Lovelace" },
          livemode: false,
        },
      },
    });
    expect(event.id).toMatch(/^evt_/);
    expect(event.data.object.payment_intent).toMatch(/^pi_/);
    expect(Math.abs(event.created - Date.now() / 1000)).toBeLessThan(300);

    // GET /v1/events/{id} renders the recorded event: the very bytes that were delivered.
    const read = await services.events.getSessionEvent(leanRailsEvents(m.account.id), event.id);
    expect(JSON.stringify(toWireEvent(read, PUBLIC_URL))).toBe(toCompleted.body);
  });

  it("an expired session's checkout.session.expired goes to the endpoints subscribed to it", async () => {
    const m = await createMerchant(services);
    const scope = { accountId: m.account.id, subaccountId: null };
    const expiredOnly = await endpoint(m.account.id, "b-expired", ["checkout.session.expired"]);
    await endpoint(m.account.id, "b-completed", ["checkout.session.completed"]);
    const session = written(await services.checkoutSessions.create(scope, leanRailsSession()));
    await services.checkoutSessions.expire(scope, session.id);
    await services.webhooks.deliverDue();
    expect(receivedAt("b-completed")).toEqual([]);
    const [received] = receivedAt("b-expired");
    if (!received) throw new Error("not delivered");
    expect(signatureProblem(received, expiredOnly.secret)).toBeNull();
    expect(JSON.parse(received.body)).toMatchObject({
      type: "checkout.session.expired",
      data: { object: { id: session.id, status: "expired", payment_status: "unpaid", payment_intent: null } },
    });
  });

  it("nothing is written for an account without endpoints, and a failed delivery is retried and recorded", async () => {
    const lonely = await createMerchant(services);
    const lonelyScope = { accountId: lonely.account.id, subaccountId: null };
    const quiet = written(await services.checkoutSessions.create(lonelyScope, leanRailsSession()));
    await services.checkoutSessions.expire(lonelyScope, quiet.id);
    expect(await services.webhooks.deliveries({ accountId: lonely.account.id })).toEqual([]);

    const m = await createMerchant(services);
    const scope = { accountId: m.account.id, subaccountId: null };
    const flaky = await endpoint(m.account.id, "c-flaky", ["*"]);
    receiver.state.respond = (r, nth) => (r.path === "/hooks/c-flaky" && nth === 1 ? 503 : 200);
    try {
      clock.set(new Date());
      const session = written(await services.checkoutSessions.create(scope, leanRailsSession()));
      await services.checkoutSessions.expire(scope, session.id);
      expect(await services.webhooks.deliverDue()).toMatchObject({ claimed: 1, failed: 1 });
      // LeanRails retries at about 1 minute (up to 10% later), not with the core's backoff.
      clock.advanceMs(50_000);
      expect(await services.webhooks.deliverDue()).toMatchObject({ claimed: 0 });
      clock.advanceMs(17_000);
      expect(await services.webhooks.deliverDue()).toMatchObject({ claimed: 1, succeeded: 1 });
    } finally {
      receiver.state.respond = null;
      clock.real();
    }
    const [delivery] = await services.webhooks.deliveries({ endpointId: flaky.id });
    expect(delivery?.attempts.map((a) => [a.responseStatus, a.outcome])).toEqual([
      [503, "failed"],
      [200, "succeeded"],
    ]);
    const [first, second] = receivedAt("c-flaky");
    expect(first?.body).toBe(second?.body);
    expect(first?.headers["webhook-id"]).toBe(second?.headers["webhook-id"]);

    // `kassa webhooks deliveries --endpoint we_…` shows them to operators, with every attempt.
    const { command, args } = parseCommand(["webhooks", "deliveries", "--endpoint", flaky.id]);
    const listed = (await runOperation({ services, db }, command.operation, args)) as {
      endpoint_id: string;
      event: string;
      signature: string;
      attempts: unknown[];
    }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      id: delivery?.id,
      endpoint_id: flaky.id,
      event: "checkout_session.expired",
      signature: "leanrails",
      status: "succeeded",
      attempt_count: 2,
    });
    expect(listed[0]?.attempts).toHaveLength(2);
  });

  it("a failing receiver is retried at about 1 m, 5 m, 30 m, 2 h, 8 h, 24 h and 72 h, then given up", async () => {
    const m = await createMerchant(services);
    const scope = { accountId: m.account.id, subaccountId: null };
    const down = await endpoint(m.account.id, "e-down", ["*"]);
    receiver.state.respond = (r) => (r.path === "/hooks/e-down" ? 500 : 200);
    // The delivery's row is stamped by the store's clock: start from now.
    const start = new Date();
    const MINUTE = 60_000;
    const documented = [1, 5, 30, 120, 480, 1440, 4320].map((minutes) => minutes * MINUTE);
    try {
      clock.set(start);
      const session = written(await services.checkoutSessions.create(scope, leanRailsSession()));
      await services.checkoutSessions.expire(scope, session.id);
      expect(await services.webhooks.deliverDue()).toMatchObject({ claimed: 1, failed: 1 });
      for (const [i, after] of documented.entries()) {
        const [pending] = await services.webhooks.deliveries({ endpointId: down.id });
        const due = pending?.nextAttemptAt.getTime() ?? 0;
        // Each retry is due at its documented time after the event, at most 10% later.
        expect(due - start.getTime()).toBeGreaterThanOrEqual(after);
        expect(due - start.getTime()).toBeLessThanOrEqual(after * 1.1 + 5_000);
        clock.set(new Date(due));
        const last = i === documented.length - 1;
        expect(await services.webhooks.deliverDue()).toMatchObject(
          last ? { claimed: 1, gaveUp: 1 } : { claimed: 1, failed: 1 },
        );
      }
    } finally {
      receiver.state.respond = null;
      clock.real();
    }
    const [delivery] = await services.webhooks.deliveries({ endpointId: down.id });
    expect(delivery?.status).toBe("failed");
    expect(delivery?.attempts.map((a) => a.outcome)).toEqual([...Array(7).fill("failed"), "gave_up"]);
  });

  it("a delivery whose signature scheme no signer knows is not sent: its attempt fails with the reason and is retried", async () => {
    const m = await createMerchant(services);
    const scope = { accountId: m.account.id, subaccountId: null };
    const target = await endpoint(m.account.id, "d-unsigned", ["*"]);
    const session = written(await services.checkoutSessions.create(scope, leanRailsSession()));
    // A logged event to hang the delivery on (deliveries reference the event log's rows).
    const eventId = await services.repos.events.record({
      accountId: m.account.id,
      type: "checkout_session.completed",
      subjectType: "checkout_session",
      subjectId: session.id,
      data: {},
    });
    await services.transaction((tx) =>
      services.webhookEndpoints.enqueueEvent(
        {
          accountId: m.account.id,
          api: "leanrails",
          eventId,
          type: "checkout.session.completed",
          subjectType: "checkout_session",
          subjectId: session.id,
          payload: "{}",
          signature: "no-such-scheme",
        },
        tx,
      ),
    );
    expect(await services.webhooks.deliverDue()).toMatchObject({ claimed: 1, failed: 1 });
    expect(receivedAt("d-unsigned")).toEqual([]);
    const [delivery] = await services.webhooks.deliveries({ endpointId: target.id });
    expect(delivery).toMatchObject({ status: "pending", signature: "no-such-scheme" });
    expect(delivery?.attempts).toEqual([
      expect.objectContaining({ outcome: "failed", responseStatus: null, error: expect.stringContaining("signer") }),
    ]);
  });
});
