import type { CardDetails } from "./payment-provider.js";

/** What the hosted page's card form sends, as typed. */
export interface CardInput {
  number: string;
  /** "MM / YY", "MM/YY", "MM/YYYY", or the digits alone ("MMYY", "MMYYYY"). */
  expiry: string;
  cvc: string;
  name?: string | null;
}

export type CardField = "number" | "expiry" | "cvc";
export type CardErrors = Partial<Record<CardField, string>>;

/** The longest cardholder name passed on; the form's input has the same maxlength. */
export const MAX_CARDHOLDER_NAME = 200;

/** How far ahead an expiry date may be before it is taken for a typo (as card networks do). */
const MAX_YEARS_AHEAD = 50;

/** The Luhn checksum every card number carries in its last digit. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const isAmex = (digits: string) => /^3[47]/.test(digits);

function numberProblem(raw: string): string | null {
  const typed = raw.trim();
  if (typed === "") return "Enter your card number.";
  // Spaces and dashes are how people group the digits; anything else is a typo.
  if (!/^[\d -]+$/.test(typed)) return "Your card number may only contain digits.";
  const digits = typed.replace(/[ -]/g, "");
  if (digits.length < 12) return "Your card number is incomplete.";
  if (digits.length > 19) return "Your card number is too long.";
  if (!luhnValid(digits)) return "Your card number is invalid.";
  return null;
}

function parseExpiry(raw: string, now: Date): { month: number; year: number } | { problem: string } {
  const typed = raw.trim();
  if (typed === "") return { problem: "Enter your card's expiry date." };
  // Phones show a digits-only keypad for this field (inputmode numeric, and the page has no script
  // to put the slash in), so "1234" and "12 34" are as good as "12 / 34".
  const match =
    /^(\d{1,2})\s*[/-]\s*(\d{2}|\d{4})$/.exec(typed) ??
    /^(\d{1,2})\s+(\d{2}|\d{4})$/.exec(typed) ??
    /^(\d{2})(\d{2}|\d{4})$/.exec(typed);
  if (!match) return { problem: "Enter the expiry date as MM / YY." };
  const month = Number(match[1]);
  const year = match[2]!.length === 2 ? 2000 + Number(match[2]) : Number(match[2]);
  if (month < 1 || month > 12) return { problem: "Your card's expiry month is invalid." };
  const thisYear = now.getUTCFullYear();
  const thisMonth = now.getUTCMonth() + 1;
  // A card is valid through the last day of its expiry month.
  if (year < thisYear || (year === thisYear && month < thisMonth)) {
    return { problem: "Your card's expiry date is in the past." };
  }
  if (year > thisYear + MAX_YEARS_AHEAD) return { problem: "Your card's expiry year is invalid." };
  return { month, year };
}

function cvcProblem(raw: string, digits: string | null): string | null {
  const cvc = raw.trim();
  if (cvc === "") return "Enter your card's security code.";
  if (!/^\d+$/.test(cvc)) return "Your card's security code may only contain digits.";
  // Without a valid number the expected length is unknown: accept either.
  const expected = digits === null ? null : isAmex(digits) ? 4 : 3;
  if (expected === null ? cvc.length < 3 || cvc.length > 4 : cvc.length !== expected) {
    return expected === 4
      ? "Your card's security code has 4 digits (on the front of the card)."
      : expected === 3
        ? "Your card's security code has 3 digits (on the back of the card)."
        : "Your card's security code is invalid.";
  }
  return null;
}

/**
 * Checks what a customer typed into the card form before anything is charged: the number's
 * length and Luhn digit, an expiry date not in the past (UTC months, at `now`), a CVC of 3
 * digits (4 for American Express). Returns the card in the provider's terms, or one message per
 * field, written for the customer.
 */
export function validateCard(input: CardInput, now: Date): { card: CardDetails } | { errors: CardErrors } {
  const errors: CardErrors = {};
  const numberIssue = numberProblem(input.number);
  if (numberIssue) errors.number = numberIssue;
  const digits = numberIssue ? null : input.number.replace(/[ -]/g, "").trim();
  const expiry = parseExpiry(input.expiry, now);
  if ("problem" in expiry) errors.expiry = expiry.problem;
  // The CVC's length follows the brand, known from the first digits even when the number is wrong.
  const typedDigits = /^[\d -]+$/.test(input.number.trim()) ? input.number.replace(/[ -]/g, "").trim() : "";
  const cvcIssue = cvcProblem(input.cvc, typedDigits.length >= 2 ? typedDigits : null);
  if (cvcIssue) errors.cvc = cvcIssue;
  if (digits === null || "problem" in expiry || cvcIssue) return { errors };
  const name = (input.name ?? "").trim().slice(0, MAX_CARDHOLDER_NAME);
  return {
    card: { number: digits, expMonth: expiry.month, expYear: expiry.year, cvc: input.cvc.trim(), name: name || null },
  };
}
