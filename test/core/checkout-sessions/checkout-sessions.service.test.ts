import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCheckoutSessionsService } from "../../../src/core/checkout-sessions/checkout-sessions.service.js";
import {
  effectiveState,
  type NewCheckoutSession,
} from "../../../src/core/checkout-sessions/checkout-sessions.types.js";
import { isAppError } from "../../../src/core/errors.js";
import { Decimal } from "../../../src/core/money/money.js";
import { createKassaServices } from "../../../src/composition.js";
import type { Services } from "../../../src/core/services.js";
import { type Database, Prisma } from "../../../src/db/database.js";
import { createCnaughtSession, createMerchant, written } from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";

let db: Database;
let drop: () => Promise<void>;
let services: Services;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  services = createKassaServices(db);
});
afterAll(() => drop());

const scopeOf = (m: { account: { id: string } }) => ({ accountId: m.account.id, subaccountId: null });

/** A statement run for the inserted session that the database refuses: an event of no account (a foreign-key violation). */
const failingFollower = (source: string) => [
  Prisma.sql`INSERT INTO events (id, account_id, type, subject_type, subject_id, data)
    SELECT 'evt_failing_follower', 'no-such-account', 'test.failing', 'checkout_session', id, '{}'::jsonb
    FROM ${Prisma.raw(source)}`,
];

/** A neutral session: two things in euros, as an API that sells things by the piece asks for it. */
const twoItems = (overrides: Partial<NewCheckoutSession> = {}): NewCheckoutSession => ({
  api: "test-api",
  currency: "eur",
  lineItems: [item("T-shirt", "2", "2000"), item("Mug", "1", "1250")],
  successUrl: "https://shop.example/ok?id={CHECKOUT_SESSION_ID}",
  cancelUrl: "https://shop.example/cancel",
  ...overrides,
});

function item(description: string, quantity: string, unitAmount: string) {
  const q = new Decimal(quantity);
  const unit = new Decimal(unitAmount);
  return {
    description,
    quantity: q,
    unitLabel: null,
    unitAmount: unit,
    amount: q.times(unit),
    productRef: null,
    priceRef: null,
  };
}

const fieldsOf = (error: unknown) => (isAppError(error) ? Object.keys(error.details.fields ?? {}) : error);

describe(`checkout sessions service (${storeKind})`, () => {
  it("records the session with its line items, totals and created event, in one statement", async () => {
    const m = await createMerchant(services);
    const session = written(await services.checkoutSessions.create(scopeOf(m), twoItems()));
    expect(session.currency).toBe("EUR");
    expect(session.amountSubtotal.toFixed()).toBe("5250");
    expect(session.amountTotal.toFixed()).toBe("5250");
    expect(session.lineItems.map((i) => [i.id.slice(0, 3), i.description, i.amount.toFixed()])).toEqual([
      ["li_", "T-shirt", "4000"],
      ["li_", "Mug", "1250"],
    ]);
    const read = await services.checkoutSessions.get(scopeOf(m), session.id);
    expect(read).toEqual(session);
    const events = await services.repos.events.listForSubject("checkout_session", session.id);
    expect(events.map((e) => e.type)).toEqual(["checkout_session.created"]);
    expect(events[0]!.accountId).toBe(m.account.id);
    expect(events[0]!.data).toMatchObject({ id: session.id, amount_total: "5250", currency: "EUR", state: "open" });
  });

  it("records its creation in its own row: the event log reads checkout_session.created from it", async () => {
    const m = await createMerchant(services);
    const session = written(await services.checkoutSessions.create(scopeOf(m), twoItems()));
    expect(await db.prisma.event.count({ where: { subjectId: session.id } })).toBe(0);
    const [created] = await services.repos.events.listForSubject("checkout_session", session.id);
    expect(await services.repos.events.find(created!.id)).toEqual(created);
    expect(created).toMatchObject({
      subjectType: "checkout_session",
      subjectId: session.id,
      createdAt: session.createdAt,
    });
    // The session as its creation left it, whatever happened to it since.
    await services.checkoutSessions.expire(scopeOf(m), session.id);
    const after = await services.repos.events.listForSubject("checkout_session", session.id);
    expect(after.map((e) => e.type)).toEqual(["checkout_session.created", "checkout_session.expired"]);
    expect(after[0]).toEqual(created);
    expect(after[0]!.data).toMatchObject({ state: "open" });
    expect(after[1]!.data).toMatchObject({ state: "expired" });
  });

  it("writes no session when a statement run with its insert fails", async () => {
    const m = await createMerchant(services);
    const failing = createCheckoutSessionsService({
      sessions: {
        ...services.repos.sessions,
        // Runs for the inserted row inside the one statement, and is refused by the database.
        insertWith: (session, parts) =>
          services.repos.sessions.insertWith(session, { ...parts, followers: failingFollower }),
      },
      lifecycles: {},
      payments: services.repos.payments,
      paymentProvider: services.adapters.paymentProvider,
      transaction: services.transaction,
      clock: services.clock,
      events: services.repos.events,
    });
    await expect(failing.create(scopeOf(m), twoItems())).rejects.toThrow(/foreign key/);
    const count = await db.prisma.checkoutSession.count({ where: { accountId: m.account.id } });
    expect(count).toBe(0);
  });

  it("keeps amounts whole in the currency's minor unit: yen have none, dinars three", async () => {
    const m = await createMerchant(services);
    const yen = written(
      await services.checkoutSessions.create(
        scopeOf(m),
        twoItems({ currency: "JPY", lineItems: [item("Tea", "3", "500")] }),
      ),
    );
    expect(yen.amountTotal.toFixed()).toBe("1500");
    const fractional = await services.checkoutSessions
      .create(scopeOf(m), twoItems({ currency: "JPY", lineItems: [item("Tea", "1", "0.5")] }))
      .catch((e: unknown) => e);
    expect(fieldsOf(fractional)).toEqual(["lineItems.0.amount"]);
    const dinars = written(
      await services.checkoutSessions.create(
        scopeOf(m),
        twoItems({ currency: "KWD", lineItems: [item("Dates", "1", "1234")] }),
      ),
    );
    expect(dinars.amountTotal.toFixed()).toBe("1234");
  });

  it("takes exact decimal amounts for an asset without an ISO exponent", async () => {
    const m = await createMerchant(services);
    const session = written(
      await services.checkoutSessions.create(
        scopeOf(m),
        twoItems({ currency: "USDC", lineItems: [item("Coffee", "1", "12.345678"), item("Cake", "2", "0.1")] }),
      ),
    );
    expect(session.currency).toBe("USDC");
    expect(session.amountTotal.toFixed()).toBe("12.545678");
    const read = await services.checkoutSessions.get(scopeOf(m), session.id);
    expect(read.amountTotal.toFixed()).toBe("12.545678");
  });

  it("refuses what no API may ask for, naming the core's fields", async () => {
    const m = await createMerchant(services);
    const refused = await services.checkoutSessions
      .create(
        scopeOf(m),
        twoItems({ currency: "e$", lineItems: [], successUrl: "ftp://x", expiresAt: new Date(Date.now() - 1000) }),
      )
      .catch((e: unknown) => e);
    expect(fieldsOf(refused)).toEqual(["currency", "lineItems", "successUrl", "expiresAt"]);
  });
});

describe(`the CNaught purchase as a line item (${storeKind})`, () => {
  it("prices from the checkout price and refuses totals under 50 cents, naming amount_kg", async () => {
    const m = await createMerchant(services, { checkoutPricePerKg: "3", apiPricePerKg: "1" });
    const session = await createCnaughtSession(services, scopeOf(m), { amountKg: new Decimal("16.667") });
    expect(session.amountTotal.toNumber()).toBe(51); // 50.001 rounds up
    expect(session.lineItems).toHaveLength(1);
    expect(session.lineItems[0]).toMatchObject({ unitLabel: "kg", productRef: m.portfolio!.id });
    expect(session.lineItems[0]!.quantity.toFixed()).toBe("16.667");
    const error = await createCnaughtSession(services, scopeOf(m), { amountKg: new Decimal("16.3") }) // 48.9 -> 49 cents
      .catch((e: unknown) => e);
    expect(isAppError(error) && error.code).toBe("invalid_parameters");
    expect(fieldsOf(error)).toEqual(["amountKg"]);
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
