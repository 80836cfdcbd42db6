/** The core's money: exact decimals in minor units, and what each currency's minor unit is. */
export { Decimal, decimalFromJsonNumber, decimalToNumber, roundedUpProduct } from "./decimal.js";
export { isIsoCurrency, minorUnitExponent } from "./currencies.js";
import type { Decimal } from "./decimal.js";
import { minorUnitExponent } from "./currencies.js";

/** The largest amount the store's columns hold exactly (NUMERIC(38,18): 20 integer digits). */
export const MAX_AMOUNT_DIGITS = 20;

/** Why `amount` (minor units of `currency`) is not a storable amount, or null when it is. */
export function amountProblem(amount: Decimal, currency: string): string | null {
  if (!amount.isFinite()) return "must be a finite number";
  if (amount.isNegative()) return "must not be negative";
  if (amount.trunc().toFixed().length > MAX_AMOUNT_DIGITS) return `must have at most ${MAX_AMOUNT_DIGITS} digits`;
  const exponent = minorUnitExponent(currency);
  if (exponent !== null && !amount.isInteger()) return "must be a whole number of the currency's minor unit";
  if (amount.decimalPlaces() > 18) return "must have at most 18 decimal places";
  return null;
}

/**
 * The amount as a decimal string in the currency's major unit: 1234 USD cents -> "12.34", 500 JPY
 * -> "500", 1234 KWD fils -> "1.234"; an asset without an exponent is its amount as it stands.
 */
export function toMajorUnits(amount: Decimal, currency: string): string {
  const exponent = minorUnitExponent(currency);
  return exponent === null ? amount.toFixed() : amount.div(10 ** exponent).toFixed(exponent);
}
