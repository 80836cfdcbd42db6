import type { Decimal } from "../../core/money.js";

const group = (digits: string) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");

/** Whole cents as dollars, exactly: 200 -> "$2.00", 123456 -> "$1,234.56". */
export function formatUsd(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}$${group(String(Math.floor(abs / 100)))}.${String(abs % 100).padStart(2, "0")}`;
}

/** Kilograms as stored, no float rounding: 1250.5 -> "1,250.5 kg". */
export function formatKg(amount: Decimal): string {
  const [whole, fraction] = amount.toFixed().split(".");
  return `${group(whole!)}${fraction ? `.${fraction}` : ""} kg`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** A moment in UTC for people: "27 Nov 2026, 14:05 UTC" (the page does not know the reader's zone). */
export function formatUtc(date: Date): string {
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}, ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`;
}
