import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toWireOrder } from "../../../src/api/cnaught/orders.schemas.js";
import {
  createCheckoutSessionsService,
  MAX_PAYMENT_ATTEMPTS,
} from "../../../src/core/checkout-sessions/checkout-sessions.service.js";
import { type AppError, isAppError } from "../../../src/core/errors.js";
import type { EventsRepository } from "../../../src/core/events/events.repository.js";
import { Decimal } from "../../../src/core/money/money.js";
import { createOrdersService } from "../../../src/core/orders/orders.service.js";
import type { Order } from "../../../src/core/orders/orders.types.js";
import { TEST_CARDS } from "../../../src/core/payments/test-provider.js";
import type { Scope } from "../../../src/core/scope.js";
import type { Services } from "../../../src/core/services.js";
import type { Clock } from "../../../src/core/time.js";
import type { WebhooksRepository } from "../../../src/core/webhooks/webhooks.repository.js";
import { createKassaServices } from "../../../src/composition.js";
import { type Database, openDatabase } from "../../../src/db/database.js";
import { apiLifecycles } from "../../../src/api/notification-formats.js";
import { createCnaughtSession, createMerchant, payForOrder, TEST_PUBLIC_URL, written } from "../../helpers/app.js";
import { plentyOfCredits, retiredKg, seedCredits } from "../../helpers/credits.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";

/**
 * The session lifecycle in the core, on a real store: paying (one transaction: payment, session,
 * order, events, notification), declines, double submits, expiry and its sweeper, and the
 * operator's order transitions. PostgreSQL when DATABASE_URL is set, else PGlite.
 */

let db: Database;
let dbUrl: string | null;
let drop: () => Promise<void>;
let services: Services;

/** The services' clock: real time unless a test pins it. */
let now: Date | null = null;
const clock: Clock = () => now ?? new Date();

beforeAll(async () => {
  ({ db, url: dbUrl, drop } = await createTestDatabase());
  services = createKassaServices(db, clock);
});
afterAll(() => drop());
beforeEach(() => {
  now = null;
});

const card = (number: string) => ({ number, expMonth: 12, expYear: 2034, cvc: "123" });
const GOOD_CARD = card(TEST_CARDS.success);

const CALLBACK = "https://shop.example/hooks/orders";

async function merchant() {
  const m = await createMerchant(services);
  const scope: Scope = { accountId: m.account.id, subaccountId: null };
  return { ...m, scope };
}

/** A merchant whose default portfolio has credits to fulfil from (one project, 10,000 t of 2020). */
async function merchantWithCredits() {
  const m = await merchant();
  const [category] = await seedCredits(services, m.portfolio!.id, plentyOfCredits());
  return { ...m, projectId: category!.projects[0]!.id };
}

function newSession(scope: Scope, overrides: { notificationUrl?: string | null; description?: string | null } = {}) {
  return createCnaughtSession(services, scope, {
    amountKg: new Decimal("125.5"),
    description: "description" in overrides ? overrides.description : "Offset for order #42",
    notificationUrl: "notificationUrl" in overrides ? overrides.notificationUrl : CALLBACK,
  });
}

/** A placed order, produced the only way there is: paying a session. */
async function placedOrder(scope: Scope, overrides: Parameters<typeof newSession>[1] = {}): Promise<Order> {
  const session = await newSession(scope, overrides);
  return payForOrder(services, session.id, GOOD_CARD);
}

/** Everything the lifecycle writes about one session, read from the store. */
async function recorded(sessionId: string) {
  const session = await db.prisma.checkoutSession.findUniqueOrThrow({ where: { id: sessionId } });
  const orders = await db.prisma.order.findMany({ where: { checkoutSessionId: sessionId } });
  const payments = await db.prisma.payment.findMany({
    where: { checkoutSessionId: sessionId },
    orderBy: { createdAt: "asc" },
  });
  // The session's events as the log keeps them: its creation is read from its own row.
  const sessionEvents = await services.repos.events.listForSubject("checkout_session", sessionId);
  const orderIds = orders.map((o) => o.id);
  const orderEvents = await db.prisma.event.findMany({
    where: { subjectType: "order", subjectId: { in: orderIds } },
    orderBy: { createdAt: "asc" },
  });
  const deliveries = await db.prisma.webhookDelivery.findMany({
    where: { subjectType: "order", subjectId: { in: orderIds } },
    orderBy: { createdAt: "asc" },
  });
  return { session, orders, payments, sessionEvents, orderEvents, deliveries };
}

async function orderTrail(orderId: string) {
  const order = await db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  const events = await db.prisma.event.findMany({
    where: { subjectType: "order", subjectId: orderId },
    orderBy: { createdAt: "asc" },
  });
  const deliveries = await db.prisma.webhookDelivery.findMany({
    where: { subjectType: "order", subjectId: orderId },
    orderBy: { createdAt: "asc" },
  });
  return { order, events, deliveries };
}

/** The AppError code `promise` rejects with (fails the test when it resolves or throws something else). */
async function errorCode(promise: Promise<unknown>): Promise<AppError["code"]> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error.code;
}

/**
 * The services with some of the core's collaborators replaced (a failing event store or webhook
 * outbox), everything else real and on the same database.
 */
function servicesWith(replace: {
  events?: Pick<EventsRepository, "record">;
  webhooks?: Pick<WebhooksRepository, "enqueue">;
}) {
  const events = { ...services.repos.events, ...replace.events };
  const orders = createOrdersService({
    orders: services.repos.orders,
    fulfilment: services.repos.fulfilment,
    certificateUrls: services.adapters.certificateUrls,
    events,
    webhooks: replace.webhooks ?? services.repos.webhooks,
    sessionApi: (id, tx) => services.repos.sessions.apiOf(id, tx),
    notificationFormats: services.adapters.notificationFormats,
    portfolios: services.portfolios,
    receiverUrlProblem: services.receiverUrlProblem,
    transaction: services.transaction,
    clock,
  });
  const checkoutSessions = createCheckoutSessionsService({
    sessions: services.repos.sessions,
    events,
    lifecycles: apiLifecycles(
      { orders, events, webhooks: services.repos.webhooks, webhookEndpoints: services.webhookEndpoints, clock },
      { publicUrl: TEST_PUBLIC_URL },
    ),
    payments: services.repos.payments,
    paymentProvider: services.adapters.paymentProvider,
    transaction: services.transaction,
    clock,
  });
  return { orders, checkoutSessions };
}

/** An event store that fails to record events of `type` (and records every other one). */
const eventsFailingOn = (type: string): Pick<EventsRepository, "record"> => ({
  record: async (event, tx) => {
    if (event.type === type) throw new Error(`event store down (${type})`);
    return services.repos.events.record(event, tx);
  },
});

const failingOutbox: Pick<WebhooksRepository, "enqueue"> = {
  enqueue: async () => {
    throw new Error("outbox down");
  },
};

describe(`paying a session (${storeKind})`, () => {
  it("completes the session and places one order, with its events and notification, in one go", async () => {
    const m = await merchant();
    const sub = written(
      await services.subaccounts.create(m.account.id, {
        name: "Corner Shop",
        email: null,
        logoUrl: null,
        defaultPortfolioId: null,
      }),
    );
    const scope = { accountId: m.account.id, subaccountId: sub.id };
    const session = await newSession(scope);
    now = new Date(session.createdAt.getTime() + 60_000); // a minute later, well within its lifetime

    const outcome = await services.checkoutSessions.pay(session.id, GOOD_CARD);

    expect(outcome.outcome).toBe("paid");
    if (outcome.outcome !== "paid") return;
    expect(outcome.session).toMatchObject({ id: session.id, state: "complete", completedAt: now });
    const order = (await services.repos.orders.findByCheckoutSession(session.id))!;
    expect(order).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9]{10}$/),
      orderNumber: expect.stringMatching(/^[1-9]\d*$/),
      accountId: m.account.id,
      subaccountId: sub.id,
      checkoutSessionId: session.id,
      portfolioId: m.portfolio!.id,
      amountKg: new Decimal("125.5"),
      priceUsdCents: 251, // 125.5 kg x 2 cents
      description: "Offset for order #42",
      metadata: null,
      state: "placed",
      callbackUrl: CALLBACK,
      certificatePublicUrl: null,
      certificateDownloadPublicUrl: null,
      projectAllocations: [],
      createdAt: now,
      fulfilledAt: null,
      cancelledAt: null,
    });

    const r = await recorded(session.id);
    expect(r.session.state).toBe("complete");
    expect(r.session.completedAt).toEqual(now);
    expect(r.orders.map((o) => o.id)).toEqual([order.id]);
    expect(r.orders[0]!.amountKg.toString()).toBe("125.5");

    expect(r.payments).toHaveLength(1);
    expect(r.payments[0]).toMatchObject({
      accountId: m.account.id,
      provider: "test",
      status: "succeeded",
      currency: "USD",
      providerReference: expect.stringMatching(/^test_ch_/),
      declineCode: null,
      cardBrand: "visa",
      cardLast4: "4242",
    });
    expect(r.payments[0]!.amount.toString()).toBe("251"); // 125.5 kg x 2 cents, in the session's currency
    // Never the card number itself.
    expect(JSON.stringify(r.payments)).not.toContain(TEST_CARDS.success);

    expect(r.sessionEvents.map((e) => e.type)).toEqual(["checkout_session.created", "checkout_session.completed"]);
    expect(r.sessionEvents[1]!.data).toMatchObject({ id: session.id, state: "complete" });
    expect(r.orderEvents.map((e) => e.type)).toEqual(["order.placed"]);
    expect(r.orderEvents[0]).toMatchObject({ accountId: m.account.id, subjectId: order.id });
    expect(r.orderEvents[0]!.data).toEqual({
      id: order.id,
      order_number: order.orderNumber,
      subaccount_id: sub.id,
      checkout_session_id: session.id,
      amount_kg: "125.5",
      price_usd_cents: 251,
      state: "placed",
    });

    expect(r.deliveries).toHaveLength(1);
    const delivery = r.deliveries[0]!;
    expect(delivery).toMatchObject({
      accountId: m.account.id,
      eventId: r.orderEvents[0]!.id,
      subjectType: "order",
      subjectId: order.id,
      url: CALLBACK,
      status: "pending",
      attemptCount: 0,
      nextAttemptAt: now,
      lockedUntil: null,
      completedAt: null,
    });
    expect(delivery.id).toMatch(/^msg_/);
    // The exact body every attempt sends: CNaught's {"order": ...}, the order as the API shows it.
    expect(JSON.parse(delivery.payload)).toEqual({ order: toWireOrder(order) });
    expect(JSON.parse(delivery.payload).order).toMatchObject({
      id: order.id,
      order_number: order.orderNumber,
      amount_kg: 125.5,
      price_usd_cents: 251,
      state: "placed",
      callback_url: CALLBACK,
      subaccount_id: sub.id,
      checkout_session_id: session.id,
      description: "Offset for order #42",
    });
  });

  it("writes no notification when the session has no notification URL (the event is still recorded)", async () => {
    const { scope } = await merchant();
    const session = await newSession(scope, { notificationUrl: null, description: null });
    const outcome = await services.checkoutSessions.pay(session.id, GOOD_CARD);
    expect(outcome.outcome).toBe("paid");

    const r = await recorded(session.id);
    expect(r.orders).toHaveLength(1);
    expect(r.orders[0]).toMatchObject({ callbackUrl: null, description: null, subaccountId: null, state: "placed" });
    expect(r.orderEvents.map((e) => e.type)).toEqual(["order.placed"]);
    expect(r.deliveries).toEqual([]);
  });

  it("order numbers are distinct and increase from one order to the next", async () => {
    const { scope } = await merchant();
    const first = await placedOrder(scope);
    const second = await placedOrder(scope);
    expect(BigInt(second.orderNumber)).toBeGreaterThan(BigInt(first.orderNumber));
  });

  for (const [what, replace] of [
    ["recording the order.placed event fails", { events: eventsFailingOn("order.placed") }],
    ["recording the checkout_session.completed event fails", { events: eventsFailingOn("checkout_session.completed") }],
    ["writing the notification fails", { webhooks: failingOutbox }],
  ] as const) {
    it(`writes nothing at all when ${what}: the session stays open and can still be paid`, async () => {
      const { scope } = await merchant();
      const session = await newSession(scope);
      const broken = servicesWith(replace);

      await expect(broken.checkoutSessions.pay(session.id, GOOD_CARD)).rejects.toThrow(/down/);

      const r = await recorded(session.id);
      expect(r.session.state).toBe("open");
      expect(r.session.completedAt).toBeNull();
      expect(r.payments).toEqual([]);
      expect(r.orders).toEqual([]);
      expect(r.sessionEvents.map((e) => e.type)).toEqual(["checkout_session.created"]);
      expect(await db.prisma.webhookDelivery.count({ where: { accountId: scope.accountId } })).toBe(0);
      expect(await db.prisma.event.count({ where: { accountId: scope.accountId, subjectType: "order" } })).toBe(0);

      // Nothing half-done is left behind: the working service pays it normally.
      const retry = await services.checkoutSessions.pay(session.id, GOOD_CARD);
      expect(retry.outcome).toBe("paid");
      const after = await recorded(session.id);
      expect(after.payments).toHaveLength(1);
      expect(after.orders).toHaveLength(1);
      expect(after.deliveries).toHaveLength(1);
    });
  }

  it("declines leave the session open, record each declined attempt, and a good card then pays", async () => {
    const { scope } = await merchant();
    const session = await newSession(scope);
    // One second apart, so the attempts' recorded order is their real order.
    const at = (seconds: number) => {
      now = new Date(session.createdAt.getTime() + seconds * 1000);
    };

    at(1);
    const declined = await services.checkoutSessions.pay(session.id, card(TEST_CARDS.declined));
    expect(declined).toMatchObject({ outcome: "declined", code: "card_declined", session: { state: "open" } });
    at(2);
    const poor = await services.checkoutSessions.pay(session.id, card(TEST_CARDS.insufficientFunds));
    expect(poor).toMatchObject({ outcome: "declined", code: "insufficient_funds" });
    if (poor.outcome === "declined") expect(poor.message).toMatch(/insufficient funds/i);
    at(3);
    const stranger = await services.checkoutSessions.pay(session.id, card("4111111111111111"));
    expect(stranger).toMatchObject({ outcome: "declined", code: "card_declined" });

    let r = await recorded(session.id);
    expect(r.session.state).toBe("open");
    expect(r.session.completedAt).toBeNull();
    expect(r.orders).toEqual([]);
    expect(r.sessionEvents.map((e) => e.type)).toEqual(["checkout_session.created"]);
    expect(r.payments.map((p) => [p.status, p.declineCode, p.cardLast4, p.providerReference])).toEqual([
      ["declined", "card_declined", "0002", null],
      ["declined", "insufficient_funds", "9995", null],
      ["declined", "card_declined", "1111", null],
    ]);
    expect((await services.checkoutSessions.get(scope, session.id)).state).toBe("open");

    at(4);
    const paid = await services.checkoutSessions.pay(session.id, GOOD_CARD);
    expect(paid.outcome).toBe("paid");
    r = await recorded(session.id);
    expect(r.payments.map((p) => p.status)).toEqual(["declined", "declined", "declined", "succeeded"]);
    expect(r.orders).toHaveLength(1);
  });

  it(`after ${MAX_PAYMENT_ATTEMPTS} attempts a session tries no more cards, not even a good one`, async () => {
    const { scope } = await merchant();
    const session = await newSession(scope);
    for (let i = 0; i < MAX_PAYMENT_ATTEMPTS; i++) {
      expect((await services.checkoutSessions.pay(session.id, card(TEST_CARDS.declined))).outcome).toBe("declined");
    }
    const refused = await services.checkoutSessions.pay(session.id, GOOD_CARD);
    expect(refused).toMatchObject({ outcome: "declined", code: "too_many_attempts", session: { state: "open" } });
    const r = await recorded(session.id);
    expect(r.payments).toHaveLength(MAX_PAYMENT_ATTEMPTS);
    expect(r.payments.every((p) => p.status === "declined")).toBe(true);
    expect(r.orders).toEqual([]);
  });

  it("ten submits at once pay once: one order, one succeeded payment, the others already_paid", async () => {
    const { scope } = await merchant();
    const session = await newSession(scope);

    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => services.checkoutSessions.pay(session.id, GOOD_CARD)),
    );

    const kinds = outcomes.map((o) => o.outcome).sort();
    expect(kinds).toEqual([...Array<string>(9).fill("already_paid"), "paid"]);
    for (const o of outcomes) expect(o.session.state).toBe("complete");
    const r = await recorded(session.id);
    expect(r.orders).toHaveLength(1);
    expect(r.payments).toHaveLength(1);
    expect(r.payments[0]!.status).toBe("succeeded");
    expect(r.sessionEvents.map((e) => e.type)).toEqual(["checkout_session.created", "checkout_session.completed"]);
    expect(r.orderEvents.map((e) => e.type)).toEqual(["order.placed"]);
    expect(r.deliveries).toHaveLength(1);

    // A later submit (the back button) is answered the same way, and charges nothing.
    const late = await services.checkoutSessions.pay(session.id, GOOD_CARD);
    expect(late.outcome).toBe("already_paid");
    expect((await recorded(session.id)).payments).toHaveLength(1);
  });

  it("a decline racing a good card never leaves two orders or a complete session without its payment", async () => {
    const { scope } = await merchant();
    const session = await newSession(scope);
    const outcomes = await Promise.all([
      services.checkoutSessions.pay(session.id, card(TEST_CARDS.declined)),
      services.checkoutSessions.pay(session.id, GOOD_CARD),
      services.checkoutSessions.pay(session.id, card(TEST_CARDS.declined)),
      services.checkoutSessions.pay(session.id, GOOD_CARD),
    ]);
    expect(outcomes.filter((o) => o.outcome === "paid")).toHaveLength(1);
    const r = await recorded(session.id);
    expect(r.session.state).toBe("complete");
    expect(r.orders).toHaveLength(1);
    expect(r.payments.filter((p) => p.status === "succeeded")).toHaveLength(1);
  });

  it("an unknown session is not found", async () => {
    expect(await errorCode(services.checkoutSessions.pay("NoSuchSess", GOOD_CARD))).toBe("not_found");
  });
});

describe(`expiry (${storeKind})`, () => {
  it("paying at or after expires_on is invalid_state and charges nothing, before and after the sweep", async () => {
    const { scope } = await merchant();
    now = new Date("2031-01-01T00:00:00.000Z");
    const session = await newSession(scope);
    expect(session.expiresAt).toEqual(new Date("2031-01-02T00:00:00.000Z"));

    now = new Date(session.expiresAt.getTime() - 1);
    expect((await services.checkoutSessions.get(scope, session.id)).state).toBe("open");

    now = session.expiresAt; // expires_on itself is already too late
    expect(await errorCode(services.checkoutSessions.pay(session.id, GOOD_CARD))).toBe("invalid_state");
    expect((await services.checkoutSessions.get(scope, session.id)).state).toBe("expired");
    // A read already sees it expired; the store still says open until the sweeper records it.
    expect((await recorded(session.id)).session.state).toBe("open");

    now = new Date(session.expiresAt.getTime() + 3_600_000);
    await services.checkoutSessions.expireDue();
    expect(await errorCode(services.checkoutSessions.pay(session.id, GOOD_CARD))).toBe("invalid_state");

    const r = await recorded(session.id);
    expect(r.session.state).toBe("expired");
    expect(r.session.completedAt).toBeNull();
    expect(r.payments).toEqual([]);
    expect(r.orders).toEqual([]);
  });

  it("the sweeper records each due session's expiry and its event once, and leaves others alone", async () => {
    const { scope } = await merchant();
    now = new Date("2032-05-01T00:00:00.000Z");
    const due = await newSession(scope);
    now = new Date("2032-05-01T12:00:00.000Z");
    const fresh = await newSession(scope);
    const paid = await newSession(scope);
    await services.checkoutSessions.pay(paid.id, GOOD_CARD);

    now = new Date("2032-05-02T00:00:01.000Z"); // past `due`, 12 h before `fresh` expires
    const first = await services.checkoutSessions.expireDue();
    expect(first).toBeGreaterThanOrEqual(1);
    const second = await services.checkoutSessions.expireDue();
    expect(second).toBe(0);

    const [d, f, p] = await Promise.all([recorded(due.id), recorded(fresh.id), recorded(paid.id)]);
    expect(d.session.state).toBe("expired");
    expect(d.sessionEvents.map((e) => e.type)).toEqual(["checkout_session.created", "checkout_session.expired"]);
    expect(d.sessionEvents[1]!.data).toMatchObject({ id: due.id, state: "expired" });
    expect(f.session.state).toBe("open");
    expect(f.sessionEvents.map((e) => e.type)).toEqual(["checkout_session.created"]);
    // A completed session never expires, however late it is.
    now = new Date("2040-01-01T00:00:00.000Z");
    await services.checkoutSessions.expireDue();
    const later = await recorded(paid.id);
    expect(later.session.state).toBe("complete");
    expect(later.sessionEvents.map((e) => e.type)).toEqual(p.sessionEvents.map((e) => e.type));
    expect((await recorded(fresh.id)).sessionEvents.map((e) => e.type)).toEqual([
      "checkout_session.created",
      "checkout_session.expired",
    ]);
  });

  it(`two sweepers at once (${storeKind === "postgres" ? "separate pools" : "one store"}) never expire a session twice`, async () => {
    const m = await merchant();
    now = new Date("2033-07-01T00:00:00.000Z");
    // More than one sweep batch (100), so the sweepers overlap over several transactions.
    const count = 250;
    const ids = Array.from({ length: count }, (_, i) => `sweep${String(i).padStart(5, "0")}`);
    await db.prisma.checkoutSession.createMany({
      data: ids.map((id) => ({
        id,
        accountId: m.account.id,
        currency: "USD",
        lineItems: [],
        amountSubtotal: "20",
        amountTotal: "20",
        successUrl: "https://shop.example/ok",
        cancelUrl: "https://shop.example/cancel",
        state: "open",
        createdAt: now!,
        expiresAt: new Date(now!.getTime() + 24 * 3_600_000),
        api: "cnaught",
      })),
    });
    const expiredBefore = await db.prisma.event.count({ where: { type: "checkout_session.expired" } });

    // On PostgreSQL a second instance: its own pool of connections to the same database.
    const other = dbUrl ? await openDatabase({ kind: "postgres", url: dbUrl, poolSize: 5 }) : null;
    try {
      const otherServices = other ? createKassaServices(other, clock) : services;
      now = new Date("2033-07-02T00:00:00.000Z");
      const [a, b] = await Promise.all([
        services.checkoutSessions.expireDue(),
        otherServices.checkoutSessions.expireDue(),
      ]);

      const states = await db.prisma.checkoutSession.groupBy({
        by: ["state"],
        where: { id: { in: ids } },
        _count: true,
      });
      expect(states).toEqual([{ state: "expired", _count: count }]);
      const events = await db.prisma.event.groupBy({
        by: ["subjectId"],
        where: { type: "checkout_session.expired", subjectId: { in: ids } },
        _count: true,
      });
      expect(events).toHaveLength(count);
      expect(events.every((e) => e._count === 1)).toBe(true);
      // What the two report is exactly what they recorded: no session counted by both.
      const expiredAfter = await db.prisma.event.count({ where: { type: "checkout_session.expired" } });
      expect(a + b).toBe(expiredAfter - expiredBefore);
      expect(a + b).toBeGreaterThanOrEqual(count);
    } finally {
      await other?.close();
    }
  });
});

describe(`operators move orders on (${storeKind})`, () => {
  it("fulfil: placed -> fulfilled with its credits, certificate, event and notification; fulfilled can still be cancelled, once", async () => {
    const { scope, projectId } = await merchantWithCredits();
    const order = await placedOrder(scope);
    now = new Date(order.createdAt.getTime() + 3_600_000);

    const fulfilled = await services.orders.fulfill(order.id);
    const certificate = services.adapters.certificateUrls(order.id);
    expect(certificate.page).toMatch(new RegExp(`/certificates/${order.id}$`));
    expect(fulfilled).toEqual({
      ...order,
      state: "fulfilled",
      fulfilledAt: now,
      certificatePublicUrl: certificate.page,
      certificateDownloadPublicUrl: `${certificate.page}.pdf`,
      projectAllocations: [
        {
          project: expect.objectContaining({ id: projectId }),
          amountKg: new Decimal("125.5"),
          vintageYears: [2020],
          retirements: [
            { serialNumberRange: `SN-${projectId}-2020-1-125500000`, url: "https://registry.example/projects/1" },
          ],
        },
      ],
    });
    expect(await retiredKg(db, projectId, 2020)).toBe("125.5");

    let trail = await orderTrail(order.id);
    expect(trail.order).toMatchObject({ state: "fulfilled", fulfilledAt: now, cancelledAt: null });
    expect(trail.events.map((e) => e.type)).toEqual(["order.placed", "order.fulfilled"]);
    expect(trail.events[1]!.data).toMatchObject({ id: order.id, state: "fulfilled" });
    expect(trail.deliveries).toHaveLength(2);
    const notification = trail.deliveries.find((d) => d.eventId === trail.events[1]!.id)!;
    expect(notification).toMatchObject({ url: CALLBACK, status: "pending", nextAttemptAt: now });
    expect(JSON.parse(notification.payload)).toEqual({ order: toWireOrder(fulfilled) });
    expect(JSON.parse(notification.payload).order).toMatchObject({
      state: "fulfilled",
      certificate_public_url: certificate.page,
      project_allocations: [{ project: { id: projectId }, amount_kg: 125.5 }],
    });

    expect(await errorCode(services.orders.fulfill(order.id))).toBe("invalid_state");
    trail = await orderTrail(order.id);
    expect(trail.order.state).toBe("fulfilled");
    expect(trail.events).toHaveLength(2);

    // A fulfilled order may be cancelled (CNaught credits its price); its certificate goes with it.
    const cancelled = await services.orders.cancel(order.id);
    expect(cancelled).toMatchObject({
      state: "cancelled",
      fulfilledAt: now,
      cancelledAt: now,
      certificatePublicUrl: null,
      certificateDownloadPublicUrl: null,
    });
    expect(await errorCode(services.orders.cancel(order.id))).toBe("invalid_state");
    trail = await orderTrail(order.id);
    expect(trail.events.map((e) => e.type)).toEqual(["order.placed", "order.fulfilled", "order.cancelled"]);
    expect(trail.deliveries).toHaveLength(3);
    expect(JSON.parse(trail.deliveries[2]!.payload).order).toMatchObject({
      state: "cancelled",
      certificate_public_url: null,
      certificate_download_public_url: null,
      project_allocations: [{ project: { id: projectId }, amount_kg: 125.5 }],
    });
    // Retired credits stay retired: a registry does not un-retire them.
    expect(await retiredKg(db, projectId, 2020)).toBe("125.5");
  });

  it("cancel: placed -> cancelled with its event and notification; then fulfil is invalid_state", async () => {
    const { scope } = await merchantWithCredits();
    const order = await placedOrder(scope);

    const cancelled = await services.orders.cancel(order.id);
    expect(cancelled).toMatchObject({ id: order.id, state: "cancelled", fulfilledAt: null, projectAllocations: [] });
    expect(cancelled.cancelledAt).toBeInstanceOf(Date);

    expect(await errorCode(services.orders.fulfill(order.id))).toBe("invalid_state");
    expect(await errorCode(services.orders.cancel(order.id))).toBe("invalid_state");

    const trail = await orderTrail(order.id);
    expect(trail.order).toMatchObject({ state: "cancelled", certificatePublicUrl: null, fulfilledAt: null });
    expect(trail.events.map((e) => e.type)).toEqual(["order.placed", "order.cancelled"]);
    expect(trail.deliveries.map((d) => JSON.parse(d.payload).order.state).sort()).toEqual(["cancelled", "placed"]);
  });

  it("an order without a callback URL gets events, no notification", async () => {
    const { scope } = await merchantWithCredits();
    const order = await placedOrder(scope, { notificationUrl: null });
    const fulfilled = await services.orders.fulfill(order.id);
    expect(fulfilled).toMatchObject({ state: "fulfilled", certificatePublicUrl: expect.stringContaining(order.id) });
    const trail = await orderTrail(order.id);
    expect(trail.events.map((e) => e.type)).toEqual(["order.placed", "order.fulfilled"]);
    expect(trail.deliveries).toEqual([]);
  });

  it("refuses an unknown order, and an order its portfolio has no credits for, changing nothing", async () => {
    const { scope } = await merchant(); // a portfolio without categories
    const order = await placedOrder(scope);
    expect(await errorCode(services.orders.fulfill("NoSuchOrdr"))).toBe("not_found");
    expect(await errorCode(services.orders.cancel("NoSuchOrdr"))).toBe("not_found");
    expect(await errorCode(services.orders.fulfill(order.id))).toBe("insufficient_credits");
    const trail = await orderTrail(order.id);
    expect(trail.order.state).toBe("placed");
    expect(trail.events).toHaveLength(1);
  });

  it("a transition whose notification cannot be written does not happen", async () => {
    const { scope, projectId } = await merchantWithCredits();
    const order = await placedOrder(scope);
    const broken = servicesWith({ webhooks: failingOutbox });
    await expect(broken.orders.fulfill(order.id)).rejects.toThrow("outbox down");
    // The credits it would have retired were not.
    expect(await retiredKg(db, projectId, 2020)).toBe("0");
    expect(await db.prisma.orderProjectAllocation.count({ where: { orderId: order.id } })).toBe(0);
    const brokenEvents = servicesWith({ events: eventsFailingOn("order.cancelled") });
    await expect(brokenEvents.orders.cancel(order.id)).rejects.toThrow("event store down");
    const trail = await orderTrail(order.id);
    expect(trail.order).toMatchObject({ state: "placed", fulfilledAt: null, cancelledAt: null });
    expect(trail.order.certificatePublicUrl).toBeNull();
    expect(trail.events.map((e) => e.type)).toEqual(["order.placed"]);
    expect(trail.deliveries).toHaveLength(1);
  });

  it("fulfil and cancel at once: the order ends cancelled; a fulfil after the cancel is invalid_state", async () => {
    const { scope } = await merchantWithCredits();
    const orders = await Promise.all(Array.from({ length: 5 }, () => placedOrder(scope)));
    for (const order of orders) {
      const [fulfil, cancel] = await Promise.allSettled([
        services.orders.fulfill(order.id),
        services.orders.cancel(order.id),
      ]);
      // A cancel succeeds from placed and from fulfilled alike; a fulfil only before it.
      expect(cancel.status).toBe("fulfilled");
      if (fulfil.status === "rejected") {
        expect(isAppError(fulfil.reason) && fulfil.reason.code).toBe("invalid_state");
      }
      const fulfilledFirst = fulfil.status === "fulfilled";
      const trail = await orderTrail(order.id);
      expect(trail.order).toMatchObject({ state: "cancelled", certificatePublicUrl: null });
      expect(trail.order.fulfilledAt === null).toBe(!fulfilledFirst);
      expect(trail.events.map((e) => e.type)).toEqual(
        fulfilledFirst ? ["order.placed", "order.fulfilled", "order.cancelled"] : ["order.placed", "order.cancelled"],
      );
      expect(trail.deliveries).toHaveLength(trail.events.length);
    }
  });
});

describe(`listing orders (${storeKind})`, () => {
  it("orders placed in the same instant list newest first, by order number, in both directions", async () => {
    const { scope } = await merchant();
    now = new Date("2034-02-02T02:02:02.000Z");
    const placed: Order[] = [];
    for (let i = 0; i < 6; i++) placed.push(await placedOrder(scope));
    const newestFirst = [...placed].reverse().map((o) => o.id);

    const all = await services.orders.list(scope);
    expect(all.map((o) => o.id)).toEqual(newestFirst);

    const page1 = await services.orders.list(scope, { limit: 4 });
    expect(page1.map((o) => o.id)).toEqual(newestFirst.slice(0, 4));
    const page2 = await services.orders.list(scope, { limit: 4, startingAfter: page1.at(-1)!.id });
    expect(page2.map((o) => o.id)).toEqual(newestFirst.slice(4));
    const back = await services.orders.list(scope, { limit: 2, endingBefore: page2[0]!.id });
    expect(back.map((o) => o.id)).toEqual(newestFirst.slice(2, 4));
  });

  it("lists only the scope's orders and checks limit and cursors", async () => {
    const a = await merchant();
    const b = await merchant();
    const mine = await placedOrder(a.scope);
    const theirs = await placedOrder(b.scope);
    expect((await services.orders.list(a.scope)).map((o) => o.id)).toEqual([mine.id]);
    expect(await errorCode(services.orders.get(a.scope, theirs.id))).toBe("not_found");
    expect((await services.orders.get(a.scope, mine.id)).id).toBe(mine.id);

    for (const limit of [0, 101, 1.5, -1]) {
      expect(await errorCode(services.orders.list(a.scope, { limit }))).toBe("invalid_pagination");
    }
    expect(await errorCode(services.orders.list(a.scope, { startingAfter: mine.id, endingBefore: mine.id }))).toBe(
      "invalid_pagination",
    );
    // Another account's order is no cursor here.
    expect(await errorCode(services.orders.list(a.scope, { startingAfter: theirs.id }))).toBe("invalid_pagination");
    expect(await errorCode(services.orders.list(a.scope, { endingBefore: "NoSuchOrdr" }))).toBe("invalid_pagination");
  });
});
