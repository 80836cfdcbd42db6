import type { Db, Transactor } from "../../db/database.js";
import { countCreated, countExpired, countPayment, noMetrics, type SessionMetrics } from "../../metrics/metrics.js";
import {
  type FieldErrors,
  idempotencyConcurrentRequests,
  invalidParameters,
  invalidPagination,
  invalidState,
  notFound,
} from "../errors.js";
import type { EventsRepository } from "../events/events.repository.js";
import type { WithinWrite, Written } from "../idempotency/idempotency.types.js";
import { newId } from "../ids.js";
import { amountProblem, Decimal, isIsoCurrency } from "../money/money.js";
import type { CardDetails, DeclineCode, PaymentProvider } from "../payments/payment-provider.js";
import type { PaymentsRepository } from "../payments/payments.repository.js";
import { inScope, type Scope } from "../scope.js";
import { addHours, type Clock } from "../time.js";
import { redirectUrlProblem } from "../urls.js";
import type { CheckoutSessionsRepository, Merchant } from "./checkout-sessions.repository.js";
import { SESSION_CREATED, sessionSnapshot } from "./checkout-sessions.record.js";
import {
  type CheckoutSession,
  type CustomerDetails,
  DEFAULT_SESSION_LIFETIME_HOURS,
  effectiveState,
  type NewCheckoutSession,
} from "./checkout-sessions.types.js";
import type { SessionLifecycles } from "./lifecycle.js";

export const CHECKOUT_SESSION_EVENTS = {
  /** Recorded by the session's own row (see SESSION_CREATED), not as a row of the event log. */
  created: SESSION_CREATED,
  completed: "checkout_session.completed",
  expired: "checkout_session.expired",
} as const;

/** What paying a session came to. A decline leaves the session open; paying twice pays once. */
export type PayOutcome =
  | { outcome: "paid"; session: CheckoutSession }
  | { outcome: "already_paid"; session: CheckoutSession }
  | { outcome: "declined"; session: CheckoutSession; code: DeclineCode; message: string };

/** How long paying may hold the session's transaction open (the provider's charge runs inside it). */
const PAYMENT_TRANSACTION_TIMEOUT_MS = 60_000;

/** Charge attempts one session allows (declines included) before it refuses to try more cards. */
export const MAX_PAYMENT_ATTEMPTS = 10;

/** How many expired sessions one sweep records per transaction. */
const EXPIRY_BATCH = 100;

/** Asset codes accepted for currencies without an ISO exponent (a protocol's tokens). */
const ASSET_CODE = /^[A-Z][A-Z0-9]{1,11}$/;

export const DEFAULT_PAGE_LIMIT = 10;
export const MAX_PAGE_LIMIT = 100;

export interface SessionPage {
  limit?: number | null;
  startingAfter?: string | null;
  endingBefore?: string | null;
}

export function createCheckoutSessionsService(deps: {
  sessions: CheckoutSessionsRepository;
  events: Pick<EventsRepository, "record">;
  payments: PaymentsRepository;
  paymentProvider: PaymentProvider;
  /** What each API does when one of its sessions completes or expires, in the same transaction. */
  lifecycles: SessionLifecycles;
  /** Redirect URLs may name localhost or a private IP (config REDIRECT_ALLOW_PRIVATE_URLS); default yes. */
  allowPrivateRedirectUrls?: boolean;
  transaction: Transactor;
  clock: Clock;
  metrics?: SessionMetrics; // metrics: counted once committed (src/metrics/metrics.ts)
}) {
  const { sessions, events, payments, paymentProvider, lifecycles, transaction, clock } = deps;
  const metrics = deps.metrics ?? noMetrics;

  const sessionEvent = (session: CheckoutSession, type: string) => ({
    accountId: session.accountId,
    type,
    subjectType: "checkout_session",
    subjectId: session.id,
    data: sessionSnapshot(session) as unknown as Record<string, unknown>,
  });

  /** The state change's event, then what the session's API does about it, in `tx`. */
  async function recordTransition(session: CheckoutSession, to: "completed" | "expired", tx: Db) {
    const eventId = await events.record(sessionEvent(session, CHECKOUT_SESSION_EVENTS[to]), tx);
    await lifecycles[session.api]?.[to]?.(session, { tx, eventId });
  }

  /** How many times create() makes its statement when what stood in its way (an abandoned key) is cleared. */
  const CREATE_ATTEMPTS = 2;

  /** Rules every API shares, whatever its wire format already checked. Field paths are the core's. */
  function validate(input: NewCheckoutSession, now: Date) {
    const fields: FieldErrors = {};
    const currency = input.currency.toUpperCase();
    if (!isIsoCurrency(currency) && !ASSET_CODE.test(input.currency)) {
      fields.currency = ["must be an ISO 4217 currency code or an upper-case asset code"];
    }
    if (input.lineItems.length === 0) fields.lineItems = ["must have at least 1 item"];
    input.lineItems.forEach((item, i) => {
      if (!item.quantity.isFinite() || item.quantity.lte(0))
        fields[`lineItems.${i}.quantity`] = ["must be greater than 0"];
      const problem = amountProblem(item.amount, currency);
      if (problem) fields[`lineItems.${i}.amount`] = [problem];
    });
    for (const [key, url] of [
      ["successUrl", input.successUrl],
      ["cancelUrl", input.cancelUrl],
    ] as const) {
      const problem =
        url == null ? null : redirectUrlProblem(url, { allowLocal: deps.allowPrivateRedirectUrls ?? true });
      if (problem) fields[key] = [problem];
    }
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) fields.expiresAt = ["must be in the future"];
    if (Object.keys(fields).length) throw invalidParameters(fields);
  }

  function newSession(scope: Scope, input: NewCheckoutSession, now: Date): CheckoutSession {
    const currency = input.currency.toUpperCase();
    const lineItemPrefix = input.idPrefixes?.lineItem ?? "li_";
    const lineItems = input.lineItems.map((item) => ({ ...item, id: `${lineItemPrefix}${newId.lineItem()}` }));
    const subtotal = lineItems.reduce((sum, item) => sum.plus(item.amount), new Decimal(0));
    const fields: FieldErrors = {};
    const problem = amountProblem(subtotal, currency);
    if (problem) fields.amountTotal = [problem];
    if (Object.keys(fields).length) throw invalidParameters(fields);
    return {
      id: `${input.idPrefixes?.session ?? ""}${newId.checkoutSession()}`,
      accountId: scope.accountId,
      subaccountId: scope.subaccountId,
      api: input.api,
      currency: isIsoCurrency(currency) ? currency : input.currency,
      lineItems,
      amountSubtotal: subtotal,
      amountTotal: subtotal,
      successUrl: input.successUrl,
      cancelUrl: input.cancelUrl ?? null,
      description: input.description ?? null,
      metadata: input.metadata ?? null,
      clientReferenceId: input.clientReferenceId ?? null,
      customerRef: input.customerRef ?? null,
      customerEmail: input.customerEmail ?? null,
      customerDetails: null,
      collectEmail: input.collectEmail ?? false,
      collectBillingAddress: input.collectBillingAddress ?? false,
      paymentId: null,
      state: "open",
      createdAt: now,
      expiresAt: input.expiresAt ?? addHours(now, DEFAULT_SESSION_LIFETIME_HOURS),
      completedAt: null,
      apiData: input.apiData ?? {},
    };
  }

  /** The session as a reader sees it now; another tenant's or out-of-scope id is not found. */
  async function get(scope: Scope, id: string): Promise<CheckoutSession> {
    const session = await sessions.findForAccount(scope.accountId, id);
    if (!session || !inScope(scope, session)) throw notFound("checkout_session", id);
    return { ...session, state: effectiveState(session, clock()) };
  }

  return {
    get,
    /**
     * Creates a session, with `within` (the idempotency record) when given, in one statement: one
     * round trip, all or nothing. The session's row is also the record of its
     * checkout_session.created event (SESSION_CREATED): the event log reads it from there. With a
     * key that already holds a response, nothing is created and that response is the outcome.
     */
    async create(
      scope: Scope,
      input: NewCheckoutSession,
      within?: WithinWrite<CheckoutSession>,
    ): Promise<Written<CheckoutSession>> {
      const now = clock();
      validate(input, now);
      const session = newSession(scope, input, now);
      for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        const guard = within?.statement(session);
        const inserted = await sessions.insertWith(session, { guard: guard?.sql }).catch((error: unknown) => {
          if (guard?.isRefusal?.(error)) return false; // the key was there: nothing was written
          throw error;
        });
        if (inserted) return { kind: "written", result: countCreated(metrics, session) };
        if (!guard) throw new Error(`checkout session ${session.id} was not inserted`);
        const verdict = await guard.refused(); // throws why, or says the way is clear, or gives the replay
        if (verdict !== "retry") return { kind: "replay", response: verdict };
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
     * and complete it once, and its API's completion (an order, an event) happens once. A
     * decline is recorded and leaves it open.
     */
    async pay(id: string, card: CardDetails, customer: CustomerDetails | null = null): Promise<PayOutcome> {
      return transaction<PayOutcome>(
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
            amount: session.amountTotal,
            currency: session.currency,
            card,
            description: session.description,
            idempotencyKey: `${session.id}:${attempt}`,
          });
          const paymentId = newId.payment();
          await payments.insert(
            {
              id: paymentId,
              accountId: session.accountId,
              checkoutSessionId: session.id,
              provider: paymentProvider.name,
              status: charge.status,
              amount: session.amountTotal,
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
          const completed = await sessions.complete(id, { at: now, paymentId, customerDetails: customer }, tx);
          // Unreachable while the row is locked and was open; a broken invariant must not commit a charge.
          if (!completed) throw new Error(`checkout session ${id} could not be completed`);
          await recordTransition(completed, "completed", tx);
          return { outcome: "paid", session: completed };
        },
        // A provider's charge runs inside this transaction: give it longer than Prisma's 5 s default,
        // so a slow but successful charge is not rolled back (a retry would reuse its idempotency key).
        { timeoutMs: PAYMENT_TRANSACTION_TIMEOUT_MS },
      ).then((outcome) => countPayment(metrics, outcome)); // metrics: once committed (and transaction<PayOutcome> above)
    },

    /**
     * Expires an open session now (an API's explicit expiry): state, event and the API's own
     * handling in one transaction. A session that is not open is invalid_state.
     */
    async expire(scope: Scope, id: string): Promise<CheckoutSession> {
      const current = await get(scope, id);
      return transaction(async (tx) => {
        const expired = await sessions.expireNow(current.id, scope.accountId, clock(), tx);
        if (!expired) {
          const now = await sessions.findForAccount(scope.accountId, id, tx);
          const state = now ? effectiveState(now, clock()) : current.state;
          throw invalidState(`Only an open checkout session can be expired; this one is ${state}`);
        }
        await recordTransition(expired, "expired", tx);
        return expired;
      });
    },

    /**
     * Records the expiry of sessions past their expiry (state, event and each API's handling, one
     * transaction per batch). Safe to run on several instances at once. Returns how many it expired.
     */
    async expireDue(): Promise<number> {
      let total = 0;
      if (!(await sessions.anyDue(clock()))) return total;
      for (;;) {
        const expired = await transaction(async (tx) => {
          const batch = await sessions.expireDue(clock(), EXPIRY_BATCH, tx);
          for (const session of batch) await recordTransition(session, "expired", tx);
          return batch;
        }).then((batch) => countExpired(metrics, batch)); // counted once committed
        total += expired;
        if (expired < EXPIRY_BATCH) return total;
      }
    },

    /** One page of the scope's sessions created through `api`, newest first. */
    async list(scope: Scope, api: string, query: SessionPage = {}) {
      const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
        throw invalidPagination(`'limit' must be an integer between 1 and ${MAX_PAGE_LIMIT}`);
      }
      if (query.startingAfter && query.endingBefore) {
        throw invalidPagination("Pass at most one of 'starting_after' and 'ending_before'");
      }
      const page = await sessions.page(
        { accountId: scope.accountId, subaccountId: scope.subaccountId, api },
        { limit, startingAfter: query.startingAfter, endingBefore: query.endingBefore },
      );
      if (!page) {
        const cursor = query.startingAfter ? "starting_after" : "ending_before";
        throw invalidPagination(`'${cursor}' is not the id of a checkout session in this scope`);
      }
      const now = clock();
      return {
        sessions: page.sessions.map((s) => ({ ...s, state: effectiveState(s, now) })),
        hasMore: page.hasMore,
      };
    },
  };
}

export type CheckoutSessionsService = ReturnType<typeof createCheckoutSessionsService>;
