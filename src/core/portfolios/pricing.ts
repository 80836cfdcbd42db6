import { Decimal, roundedUpProduct } from "../money/money.js";

/**
 * Pricing carbon credits by the kilogram: amounts of at most a billion kg with at most six
 * decimals, prices in (possibly fractional) USD cents per kg, totals rounded up to a whole cent.
 */

/** Most decimal places accepted in a kilogram amount (one milligram). */
export const AMOUNT_KG_MAX_DECIMALS = 6;

/** Largest kilogram amount accepted (a million tonnes); keeps every amount exact in 15 digits. */
export const AMOUNT_KG_MAX = new Decimal("1000000000");

/** Why an amount of kilograms is unacceptable, or null when it is fine. */
export function amountKgProblem(amount: Decimal): string | null {
  if (!amount.isFinite()) return "must be a finite number";
  if (amount.lte(0)) return "must be greater than 0";
  if (amount.gt(AMOUNT_KG_MAX)) return `must be at most ${AMOUNT_KG_MAX.toFixed()}`;
  if (amount.decimalPlaces() > AMOUNT_KG_MAX_DECIMALS)
    return `must have at most ${AMOUNT_KG_MAX_DECIMALS} decimal places`;
  return null;
}

/**
 * Total price in whole USD cents: amount x unit price, rounded up to the next whole cent so a
 * buyer is never undercharged by rounding.
 */
export function priceInCents(amountKg: Decimal, pricePerKgUsdCents: Decimal): number {
  return roundedUpProduct(amountKg, pricePerKgUsdCents).toNumber();
}

/** Largest total a single purchase may come to: a 32-bit integer of cents, as CNaught's clients type it. */
export const MAX_TOTAL_USD_CENTS = 2_147_483_647;

/**
 * The whole kilograms a budget buys: the budget divided by the unit price, rounded DOWN to a
 * whole kilogram, so the order's price (that many kg, rounded up to a cent) never exceeds the
 * budget. Zero when the budget does not buy one kilogram.
 */
export function wholeKgForBudget(totalUsdCents: Decimal, pricePerKgUsdCents: Decimal): Decimal {
  return totalUsdCents.div(pricePerKgUsdCents).toDecimalPlaces(0, Decimal.ROUND_FLOOR);
}
