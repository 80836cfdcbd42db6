/**
 * Currencies: ISO 4217 codes with their minor-unit exponent (JPY 0, USD 2, KWD 3), and asset
 * codes that have no ISO exponent (a protocol's own tokens), whose amounts are exact decimals.
 *
 * Amounts in the core are always `Decimal`s in the currency's minor unit: whole numbers for an
 * ISO currency (cents, yen, fils), and any exact decimal for an asset without an exponent (whose
 * "minor unit" is the unit itself). No amount ever passes through binary floating point.
 */

/** ISO 4217 exponents that are not 2 (ISO 4217 list one, as published by SIX, amendment 178). */
const EXPONENT_NOT_TWO: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

/** Codes ISO 4217 lists without a minor unit at all (precious metals, testing, special drawing rights). */
const NO_MINOR_UNIT = new Set([
  "XAG",
  "XAU",
  "XBA",
  "XBB",
  "XBC",
  "XBD",
  "XDR",
  "XPD",
  "XPT",
  "XSU",
  "XTS",
  "XUA",
  "XXX",
]);

/** The ISO 4217 codes this runtime's ICU knows (active ones; historic ones are not offered for new money). */
const ISO_CODES: ReadonlySet<string> = new Set(Intl.supportedValuesOf("currency"));

/** Whether `code` (any case) is an ISO 4217 currency with a minor unit. */
export const isIsoCurrency = (code: string): boolean => {
  const upper = code.toUpperCase();
  return ISO_CODES.has(upper) && !NO_MINOR_UNIT.has(upper);
};

/**
 * The number of decimal places of the currency's minor unit, or null for a code that is not an
 * ISO currency (an asset whose amounts are exact decimals in its own unit).
 */
export function minorUnitExponent(code: string): number | null {
  const upper = code.toUpperCase();
  if (!isIsoCurrency(upper)) return null;
  return EXPONENT_NOT_TWO[upper] ?? 2;
}
