import type { NewCheckoutSession } from "../../core/checkout-sessions/checkout-sessions.types.js";
import { type FieldErrors, invalidParameter, invalidParameters } from "../../core/errors.js";
import { Decimal } from "../../core/money/money.js";
import { unitPrice } from "../../core/portfolios/portfolios.service.js";
import { amountKgProblem, priceInCents } from "../../core/portfolios/pricing.js";
import type { Scope } from "../../core/scope.js";
import type { Services } from "../../core/services.js";
import { CNAUGHT_API } from "./checkout-sessions.schemas.js";

/** CNaught's documented floor for a checkout's total ($0.50). */
export const MINIMUM_CHECKOUT_TOTAL_USD_CENTS = 50;

/** CNaught's price_usd_cents is a 32-bit integer in its clients. */
export const MAXIMUM_CHECKOUT_TOTAL_USD_CENTS = 2_147_483_647;

/** A CNaught checkout as its request states it. */
export interface CnaughtCheckout {
  amountKg: Decimal;
  portfolioId?: string | null;
  successUrl: string;
  cancelUrl: string;
  description?: string | null;
  notificationUrl?: string | null;
}

/**
 * A CNaught checkout in the core's terms: one line item, the portfolio's credits by the
 * kilogram at its checkout price, in USD, totalling at least 50 cents; the notification URL kept
 * for the order the paid session places. Everything wrong with the request's own values is
 * reported at once, before the portfolio is looked up.
 */
export async function cnaughtPurchase(
  services: Pick<Services, "portfolios" | "receiverUrlProblem" | "redirectUrlProblem">,
  scope: Scope,
  checkout: CnaughtCheckout,
): Promise<NewCheckoutSession> {
  const { amountKg } = checkout;
  const notificationUrl = checkout.notificationUrl ?? null;
  const fields: FieldErrors = {};
  const amountProblem = amountKgProblem(amountKg);
  if (amountProblem) fields.amountKg = [amountProblem];
  for (const [key, url] of [
    ["successUrl", checkout.successUrl],
    ["cancelUrl", checkout.cancelUrl],
  ] as const) {
    const problem = services.redirectUrlProblem(url);
    if (problem) fields[key] = [problem];
  }
  const notificationProblem = notificationUrl === null ? null : services.receiverUrlProblem(notificationUrl);
  if (notificationProblem) fields.notificationUrl = [notificationProblem];
  if (Object.keys(fields).length) throw invalidParameters(fields);

  const portfolio = await services.portfolios.resolveFor(scope, checkout.portfolioId);
  const pricePerKg = unitPrice(portfolio, "checkout");
  const priceUsdCents = priceInCents(amountKg, pricePerKg);
  if (priceUsdCents < MINIMUM_CHECKOUT_TOTAL_USD_CENTS) {
    throw invalidParameter(
      "amountKg",
      `'amount_kg' is too small: the total price (${priceUsdCents} cents) must be at least ${MINIMUM_CHECKOUT_TOTAL_USD_CENTS} cents`,
    );
  }
  if (priceUsdCents > MAXIMUM_CHECKOUT_TOTAL_USD_CENTS) {
    throw invalidParameter(
      "amountKg",
      `'amount_kg' is too large: the total price (${priceUsdCents} cents) must be at most ${MAXIMUM_CHECKOUT_TOTAL_USD_CENTS} cents`,
    );
  }
  return {
    api: CNAUGHT_API,
    currency: "USD",
    lineItems: [
      {
        description: `Carbon credits: ${portfolio.name}`,
        quantity: amountKg,
        unitLabel: "kg",
        unitAmount: pricePerKg,
        amount: new Decimal(priceUsdCents),
        productRef: portfolio.id,
        priceRef: null,
      },
    ],
    successUrl: checkout.successUrl,
    cancelUrl: checkout.cancelUrl,
    description: checkout.description,
    apiData: { notification_url: notificationUrl },
  };
}
