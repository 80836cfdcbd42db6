import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCheckoutSessionsService } from "../../src/core/checkout-sessions/checkout-sessions.service.js";
import { effectiveState } from "../../src/core/checkout-sessions/checkout-sessions.types.js";
import { isAppError } from "../../src/core/errors.js";
import { Decimal } from "../../src/core/money.js";
import { createKassaServices } from "../../src/composition.js";
import type { Services } from "../../src/core/services.js";
import type { Database } from "../../src/db/database.js";
import { createMerchant } from "../helpers/app.js";
import { createTestDatabase, storeKind } from "../helpers/database.js";

let db: Database;
let drop: () => Promise<void>;
let services: Services;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  services = createKassaServices(db);
});
afterAll(() => drop());

const input = {
  amountKg: new Decimal("100"),
  successUrl: "https://shop.example/ok?id={CHECKOUT_SESSION_ID}",
  cancelUrl: "https://shop.example/cancel",
};

describe(`checkout sessions service (${storeKind})`, () => {
  it("records the session and its created event in one transaction", async () => {
    const m = await createMerchant(services);
    const session = await services.checkoutSessions.create({ accountId: m.account.id, subaccountId: null }, input);
    const events = await services.repos.events.listForSubject("checkout_session", session.id);
    expect(events.map((e) => e.type)).toEqual(["checkout_session.created"]);
    expect(events[0]!.accountId).toBe(m.account.id);
    expect(events[0]!.data).toMatchObject({ id: session.id, amount_kg: "100", price_usd_cents: 200, state: "open" });
  });

  it("writes no session when recording its event fails", async () => {
    const m = await createMerchant(services);
    const failing = createCheckoutSessionsService({
      sessions: services.repos.sessions,
      portfolios: services.portfolios,
      orders: services.orders,
      payments: services.repos.payments,
      paymentProvider: services.adapters.paymentProvider,
      transaction: services.transaction,
      clock: services.clock,
      events: {
        ...services.repos.events,
        // The event's insert fails inside the one statement (no such account: a foreign-key violation).
        insertAfter: (source, event) => services.repos.events.insertAfter(source, { ...event, accountId: "missing" }),
      },
    });
    await expect(failing.create({ accountId: m.account.id, subaccountId: null }, input)).rejects.toThrow(/foreign key/);
    const count = await db.prisma.checkoutSession.count({ where: { accountId: m.account.id } });
    expect(count).toBe(0);
  });

  it("prices from the checkout price and refuses totals under 50 cents, naming amount_kg", async () => {
    const m = await createMerchant(services, { checkoutPricePerKg: "3", apiPricePerKg: "1" });
    const scope = { accountId: m.account.id, subaccountId: null };
    const session = await services.checkoutSessions.create(scope, { ...input, amountKg: new Decimal("16.667") });
    expect(session.priceUsdCents).toBe(51); // 50.001 rounds up
    const error = await services.checkoutSessions
      .create(scope, { ...input, amountKg: new Decimal("16.3") }) // 48.9 -> 49 cents
      .catch((e: unknown) => e);
    expect(isAppError(error) && error.code).toBe("invalid_parameters");
    expect(isAppError(error) && Object.keys(error.details.fields ?? {})).toEqual(["amount_kg"]);
  });
});

describe("effectiveState", () => {
  const expiresAt = new Date("2026-01-02T00:00:00Z");
  it("reads an open session as expired from its expiry on", () => {
    expect(effectiveState({ state: "open", expiresAt }, new Date("2026-01-01T23:59:59.999Z"))).toBe("open");
    expect(effectiveState({ state: "open", expiresAt }, expiresAt)).toBe("expired");
  });
  it("never changes a completed session", () => {
    expect(effectiveState({ state: "complete", expiresAt }, new Date("2030-01-01T00:00:00Z"))).toBe("complete");
  });
});
