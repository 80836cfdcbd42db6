import type { Transactor } from "../../db/database.js";
import { invalidParameter, invalidParameters, notFound, type FieldErrors } from "../errors.js";
import type { EventsRepository } from "../events/events.repository.js";
import { newId } from "../ids.js";
import {
  amountKgProblem,
  MAXIMUM_CHECKOUT_TOTAL_USD_CENTS,
  MINIMUM_CHECKOUT_TOTAL_USD_CENTS,
  priceInCents,
} from "../money.js";
import type { PortfoliosService } from "../portfolios/portfolios.service.js";
import { unitPrice } from "../portfolios/portfolios.service.js";
import { inScope, type Scope } from "../scope.js";
import { addHours, type Clock } from "../time.js";
import { httpUrlProblem, redirectUrlProblem } from "../urls.js";
import type { CheckoutSessionsRepository } from "./checkout-sessions.repository.js";
import {
  type CheckoutSession,
  DEFAULT_SESSION_LIFETIME_HOURS,
  effectiveState,
  type NewCheckoutSession,
} from "./checkout-sessions.types.js";

export const CHECKOUT_SESSION_EVENTS = { created: "checkout_session.created" } as const;

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
  events: Pick<EventsRepository, "record">;
  portfolios: Pick<PortfoliosService, "resolveFor">;
  transaction: Transactor;
  clock: Clock;
}) {
  const { sessions, events, portfolios, transaction, clock } = deps;

  /** Rules every API shares, whatever its wire format already checked. */
  function validate(input: NewCheckoutSession) {
    const fields: FieldErrors = {};
    const amount = amountKgProblem(input.amountKg);
    if (amount) fields.amount_kg = [`'amount_kg' ${amount}`];
    for (const [key, url] of [
      ["success_url", input.successUrl],
      ["cancel_url", input.cancelUrl],
    ] as const) {
      const problem = redirectUrlProblem(url);
      if (problem) fields[key] = [`'${key}' ${problem}`];
    }
    if (input.notificationUrl != null) {
      const problem = httpUrlProblem(input.notificationUrl);
      if (problem) fields["notification_config.url"] = [`'notification_config.url' ${problem}`];
    }
    if (Object.keys(fields).length) throw invalidParameters(fields);
  }

  return {
    async create(scope: Scope, input: NewCheckoutSession): Promise<CheckoutSession> {
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
      };
      return transaction(async (tx) => {
        const created = await sessions.insert(session, tx);
        await events.record(
          {
            accountId: created.accountId,
            type: CHECKOUT_SESSION_EVENTS.created,
            subjectType: "checkout_session",
            subjectId: created.id,
            data: eventSnapshot(created),
          },
          tx,
        );
        return created;
      });
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
