import { Decimal as DecimalJs } from "decimal.js";

/**
 * Money and quantities never pass through binary floating point: amounts are decimal.js values
 * built from their decimal text, prices are integer cents. See README "Money".
 *
 * decimal.js rounds every result to `precision` significant digits (20 by default), which could
 * round a product down before it is rounded up to whole cents. Amounts (16 digits) times prices
 * (13 digits) need at most 29; 40 keeps every product exact.
 */
export const Decimal = DecimalJs.clone({ precision: 40 });
export type Decimal = DecimalJs;

/** The smallest total a checkout session may charge, in USD cents ($0.50). */
export const MINIMUM_CHECKOUT_TOTAL_USD_CENTS = 50;

/** The largest total a checkout session may charge, in USD cents: its column is a 32-bit integer. */
export const MAXIMUM_CHECKOUT_TOTAL_USD_CENTS = 2_147_483_647;

/** Most decimal places accepted in a kilogram amount (one milligram). */
export const AMOUNT_KG_MAX_DECIMALS = 6;

/** Largest kilogram amount accepted (a million tonnes); keeps every amount exact in 15 digits. */
export const AMOUNT_KG_MAX = new Decimal("1000000000");

/**
 * A JSON number as an exact decimal. JSON.parse has already turned the text into a double; its
 * shortest round-trip string (what String() gives) is the original decimal text for any value
 * of at most 15 significant digits, which the bounds above guarantee for accepted amounts.
 */
export function decimalFromJsonNumber(value: number | string): Decimal {
  return new Decimal(typeof value === "number" ? String(value) : value.trim());
}

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
  const exact = amountKg.times(pricePerKgUsdCents);
  return exact.toDecimalPlaces(0, Decimal.ROUND_CEIL).toNumber();
}

/** A stored decimal as a JSON number for the wire (display only; never fed back into pricing). */
export const decimalToNumber = (d: Decimal | { toString(): string }): number => Number(d.toString());
