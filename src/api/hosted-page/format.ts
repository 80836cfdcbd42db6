import { type Decimal, minorUnitExponent, toMajorUnits } from "../../core/money/money.js";

const group = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** A decimal as people read it, every digit kept: 1250.5 -> "1,250.5". */
export function formatDecimal(value: Decimal): string {
  const [whole, fraction] = value.toFixed().split(".");
  return `${group(whole!)}${fraction ? `.${fraction}` : ""}`;
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

/**
 * An amount in minor units as money, exactly: 2501 USD -> "$25.01", 500 JPY -> "¥500", 1234 KWD
 * -> "KWD 1.234". Intl.NumberFormat is given the decimal string (never a float), so no digit is
 * lost however large. An asset without an ISO exponent: its decimal and code, "12.5 USDC".
 */
export function formatMoney(amount: Decimal, currency: string): string {
  const exponent = minorUnitExponent(currency);
  if (exponent === null) return `${formatDecimal(amount)} ${currency}`;
  const code = currency.toUpperCase();
  let format = moneyFormats.get(code);
  if (!format) {
    format = new Intl.NumberFormat("en-US", {
      style: "currency",
      currency: code,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });
    moneyFormats.set(code, format);
  }
  // A decimal string is formatted exactly (Intl.NumberFormat v3); the type only admits number.
  return format.format(toMajorUnits(amount, code) as unknown as number);
}

/** A line's quantity: "1,250.5 kg" with a unit, "× 2" without. */
export const formatQuantity = (quantity: Decimal, unitLabel: string | null) =>
  unitLabel ? `${formatDecimal(quantity)} ${unitLabel}` : `× ${formatDecimal(quantity)}`;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** A moment in UTC for people: "27 Nov 2026, 14:05 UTC" (the page does not know the reader's zone). */
export function formatUtc(date: Date): string {
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}, ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`;
}
