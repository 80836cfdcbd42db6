import type { Db, Transactor, WithinWrite } from "../../db/database.js";
import {
  idempotencyConcurrentRequests,
  invalidParameter,
  invalidParameters,
  invalidState,
  notFound,
  type FieldErrors,
} from "../errors.js";
import type { EventsRepository } from "../events/events.repository.js";
import { newId } from "../ids.js";
import {
  amountKgProblem,
  MAXIMUM_CHECKOUT_TOTAL_USD_CENTS,
  MINIMUM_CHECKOUT_TOTAL_USD_CENTS,
  priceInCents,
} from "../money.js";
import type { Order } from "../orders/orders.types.js";
import type { OrdersService } from "../orders/orders.service.js";
import type { CardDetails, DeclineCode, PaymentProvider } from "../payments/payment-provider.js";
import type { PaymentsRepository } from "../payments/payments.repository.js";
import type { PortfoliosService } from "../portfolios/portfolios.service.js";
import { unitPrice } from "../portfolios/portfolios.service.js";
import { inScope, type Scope } from "../scope.js";
import { addHours, type Clock } from "../time.js";
import { httpUrlProblem, privateHostProblem, redirectUrlProblem } from "../urls.js";
import type { CheckoutSessionsRepository, Merchant } from "./checkout-sessions.repository.js";
import {
  type CheckoutSession,
  DEFAULT_SESSION_LIFETIME_HOURS,
  effectiveState,
  type NewCheckoutSession,
} from "./checkout-sessions.types.js";

export const CHECKOUT_SESSION_EVENTS = {
  created: "checkout_session.created",
  completed: "checkout_session.completed",
  expired: "checkout_session.expired",
} as const;

/** What paying a session came to. A decline leaves the session open; paying twice pays once. */
export type PayOutcome =
  | { outcome: "paid"; session: CheckoutSession; order: Order }
  | { outcome: "already_paid"; session: CheckoutSession }
  | { outcome: "declined"; session: CheckoutSession; code: DeclineCode; message: string };

/** How long paying may hold the session's transaction open (the provider's charge runs inside it). */
const PAYMENT_TRANSACTION_TIMEOUT_MS = 60_000;

/** Charge attempts one session allows (declines included) before it refuses to try more cards. */
export const MAX_PAYMENT_ATTEMPTS = 10;

/** How many expired sessions one sweep records per transaction. */
const EXPIRY_BATCH = 100;

/** The session as events record it: plain JSON, decimals as strings. */
const eventSnapshot = (s: CheckoutSession) => ({
  id: s.id,
  subaccount_id: s.subaccountId,
  portfolio_id: s.portfolioId,
  amount_kg: s.amountKg.toFixed(),
  price_usd_cents: s.priceUsdCents,
  currency: s.currency,
  state: s.state,
  expires_at: s.expiresAt.toISOString(),
});

export function createCheckoutSessionsService(deps: {
  sessions: CheckoutSessionsRepository;
  events: Pick<EventsRepository, "record" | "insertAfter">;
  portfolios: Pick<PortfoliosService, "resolveFor">;
  orders: Pick<OrdersService, "placeForSession">;
  payments: PaymentsRepository;
  paymentProvider: PaymentProvider;
  /** Notification URLs may name localhost or a private IP (config WEBHOOK_ALLOW_PRIVATE_URLS); default no. */
  allowPrivateNotificationUrls?: boolean;
  /** Redirect URLs may name localhost or a private IP (config REDIRECT_ALLOW_PRIVATE_URLS); default yes. */
  allowPrivateRedirectUrls?: boolean;
  transaction: Transactor;
  clock: Clock;
}) {
  const { sessions, events, portfolios, orders, payments, paymentProvider, transaction, clock } = deps;

  const sessionEvent = (session: CheckoutSession, type: string) => ({
    accountId: session.accountId,
    type,
    subjectType: "checkout_session",
    subjectId: session.id,
    data: eventSnapshot(session),
  });
  const recordEvent = (session: CheckoutSession, type: string, tx: Db) =>
    events.record(sessionEvent(session, type), tx);

  /** How many times create() makes its statement when what stood in its way (an abandoned key) is cleared. */
  const CREATE_ATTEMPTS = 2;

  /** Rules every API shares, whatever its wire format already checked. */
  function validate(input: NewCheckoutSession) {
    const fields: FieldErrors = {};
    const amount = amountKgProblem(input.amountKg);
    if (amount) fields.amount_kg = [`'amount_kg' ${amount}`];
    for (const [key, url] of [
      ["success_url", input.successUrl],
      ["cancel_url", input.cancelUrl],
    ] as const) {
      const problem = redirectUrlProblem(url, { allowLocal: deps.allowPrivateRedirectUrls ?? true });
      if (problem) fields[key] = [`'${key}' ${problem}`];
    }
    if (input.notificationUrl != null) {
      const problem =
        httpUrlProblem(input.notificationUrl) ??
        (deps.allowPrivateNotificationUrls ? null : privateHostProblem(input.notificationUrl));
      if (problem) fields["notification_config.url"] = [`'notification_config.url' ${problem}`];
    }
    if (Object.keys(fields).length) throw invalidParameters(fields);
  }

  return {
    /**
     * Creates a session and records its checkout_session.created event, with `within` (the
     * idempotent response) when given, in one statement: one round trip, all or nothing.
     */
    async create(
      scope: Scope,
      input: NewCheckoutSession,
      within?: WithinWrite<CheckoutSession>,
    ): Promise<CheckoutSession> {
      validate(input);
      const portfolio = await portfolios.resolveFor(scope, input.portfolioId);
      const priceUsdCents = priceInCents(input.amountKg, unitPrice(portfolio, "checkout"));
      if (priceUsdCents < MINIMUM_CHECKOUT_TOTAL_USD_CENTS) {
        throw invalidParameter(
          "amount_kg",
          `'amount_kg' is too small: the total price (${priceUsdCents} cents) must be at least ${MINIMUM_CHECKOUT_TOTAL_USD_CENTS} cents`,
        );
      }
      if (priceUsdCents > MAXIMUM_CHECKOUT_TOTAL_USD_CENTS) {
        throw invalidParameter(
          "amount_kg",
          `'amount_kg' is too large: the total price (${priceUsdCents} cents) must be at most ${MAXIMUM_CHECKOUT_TOTAL_USD_CENTS} cents`,
        );
      }
      const now = clock();
      const session: CheckoutSession = {
        id: newId.checkoutSession(),
        accountId: scope.accountId,
        subaccountId: scope.subaccountId,
        portfolioId: portfolio.id,
        amountKg: input.amountKg,
        priceUsdCents,
        currency: "usd",
        successUrl: input.successUrl,
        cancelUrl: input.cancelUrl,
        description: input.description ?? null,
        notificationUrl: input.notificationUrl ?? null,
        state: "open",
        createdAt: now,
        expiresAt: addHours(now, DEFAULT_SESSION_LIFETIME_HOURS),
        completedAt: null,
        api: input.api ?? "cnaught",
      };
      const created = (source: string) => [
        events.insertAfter(source, sessionEvent(session, CHECKOUT_SESSION_EVENTS.created)),
      ];
      for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        const guard = within?.statement(session);
        if (await sessions.insertWith(session, created, guard?.sql)) return session;
        if (!guard) throw new Error(`checkout session ${session.id} was not inserted`);
        await guard.refused(); // throws why, or returns when the way is clear
      }
      throw idempotencyConcurrentRequests();
    },

    /** The session (as a reader sees it now) and who sells it, for the public hosted page. */
    async getForPage(id: string): Promise<{ session: CheckoutSession; merchant: Merchant }> {
      const found = await sessions.findWithMerchant(id);
      if (!found) throw notFound("checkout_session", id);
      return { ...found, session: { ...found.session, state: effectiveState(found.session, clock()) } };
    },

    /**
     * Charges the card and, when the charge succeeds, completes the session: one transaction
     * holding the session's row lock, so concurrent submits (a double click, two tabs) charge
     * and complete it once and place one order. A decline is recorded and leaves it open.
     */
    async pay(id: string, card: CardDetails): Promise<PayOutcome> {
      return transaction(
        async (tx) => {
          const session = await sessions.lockById(id, tx);
          if (!session) throw notFound("checkout_session", id);
          if (session.state === "complete") return { outcome: "already_paid", session };
          const now = clock();
          if (effectiveState(session, now) !== "open") throw invalidState("This checkout session has expired");

          const attempt = (await payments.countForSession(id, tx)) + 1;
          // A session is not a card-testing oracle: after so many attempts no card is tried any more.
          if (attempt > MAX_PAYMENT_ATTEMPTS) {
            return {
              outcome: "declined",
              session,
              code: "too_many_attempts",
              message: "Too many payment attempts for this checkout. Please contact the merchant.",
            };
          }
          const charge = await paymentProvider.charge({
            amountUsdCents: session.priceUsdCents,
            currency: session.currency,
            card,
            description: session.description,
            idempotencyKey: `${session.id}:${attempt}`,
          });
          await payments.insert(
            {
              id: newId.payment(),
              accountId: session.accountId,
              checkoutSessionId: session.id,
              provider: paymentProvider.name,
              status: charge.status,
              amountUsdCents: session.priceUsdCents,
              currency: session.currency,
              providerReference: charge.status === "succeeded" ? charge.reference : null,
              declineCode: charge.status === "declined" ? charge.code : null,
              cardBrand: charge.cardBrand,
              cardLast4: charge.cardLast4,
              createdAt: now,
            },
            tx,
          );
          if (charge.status === "declined") {
            return { outcome: "declined", session, code: charge.code, message: charge.message };
          }
          const completed = await sessions.complete(id, now, tx);
          // Unreachable while the row is locked and was open; a broken invariant must not commit a charge.
          if (!completed) throw new Error(`checkout session ${id} could not be completed`);
          await recordEvent(completed, CHECKOUT_SESSION_EVENTS.completed, tx);
          const order = await orders.placeForSession(completed, tx);
          return { outcome: "paid", session: completed, order };
        },
        // A provider's charge runs inside this transaction: give it longer than Prisma's 5 s default,
        // so a slow but successful charge is not rolled back (a retry would reuse its idempotency key).
        { timeoutMs: PAYMENT_TRANSACTION_TIMEOUT_MS },
      );
    },

    /**
     * Records the expiry of sessions past expires_on (state and event, one transaction per
     * batch). Safe to run on several instances at once. Returns how many it expired.
     */
    async expireDue(): Promise<number> {
      let total = 0;
      for (;;) {
        const expired = await transaction(async (tx) => {
          const batch = await sessions.expireDue(clock(), EXPIRY_BATCH, tx);
          for (const session of batch) await recordEvent(session, CHECKOUT_SESSION_EVENTS.expired, tx);
          return batch.length;
        });
        total += expired;
        if (expired < EXPIRY_BATCH) return total;
      }
    },

    /** The session as a reader sees it now; another tenant's or out-of-scope id is not found. */
    async get(scope: Scope, id: string): Promise<CheckoutSession> {
      const session = await sessions.findForAccount(scope.accountId, id);
      if (!session || !inScope(scope, session)) throw notFound("checkout_session", id);
      return { ...session, state: effectiveState(session, clock()) };
    },
  };
}

export type CheckoutSessionsService = ReturnType<typeof createCheckoutSessionsService>;
