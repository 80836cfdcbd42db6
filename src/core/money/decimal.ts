import { Decimal as DecimalJs } from "decimal.js";

/**
 * Money and quantities never pass through binary floating point: amounts are decimal.js values
 * built from their decimal text. See README "Money".
 *
 * decimal.js rounds every result to `precision` significant digits (20 by default), which could
 * round a product down before it is rounded up to a whole minor unit. Amounts (16 digits) times
 * prices (13 digits) need at most 29; 40 keeps every product exact.
 */
export const Decimal = DecimalJs.clone({ precision: 40 });
export type Decimal = DecimalJs;

/**
 * A JSON number as an exact decimal. JSON.parse has already turned the text into a double; its
 * shortest round-trip string (what String() gives) is the original decimal text for any value
 * of at most 15 significant digits, which adapters' bounds guarantee for accepted amounts.
 */
export function decimalFromJsonNumber(value: number | string): Decimal {
  return new Decimal(typeof value === "number" ? String(value) : value.trim());
}

/** A stored decimal as a JSON number for the wire (display only; never fed back into pricing). */
export const decimalToNumber = (d: Decimal | { toString(): string }): number => Number(d.toString());

/** quantity x unit amount, rounded up to a whole minor unit so a buyer is never undercharged by rounding. */
export const roundedUpProduct = (quantity: Decimal, unitAmount: Decimal): Decimal =>
  quantity.times(unitAmount).toDecimalPlaces(0, Decimal.ROUND_CEIL);
