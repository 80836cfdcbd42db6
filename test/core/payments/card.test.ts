import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { luhnValid, validateCard } from "../../../src/core/payments/card.js";

const NOW = new Date("2026-11-26T12:00:00Z");
const ok = (input: Partial<Parameters<typeof validateCard>[0]> = {}) =>
  validateCard({ number: "4242 4242 4242 4242", expiry: "12 / 34", cvc: "123", ...input }, NOW);

/** Appends the Luhn check digit to `body`. */
function withCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error("unreachable");
}

describe("validateCard", () => {
  it("accepts a test card with spaces, dashes or none, in MM / YY, MM/YY or MM/YYYY", () => {
    for (const [number, expiry] of [
      ["4242 4242 4242 4242", "12 / 34"],
      ["4242-4242-4242-4242", "12/34"],
      ["4242424242424242", "1/2034"],
      [" 4242424242424242 ", " 01 / 34 "],
    ]) {
      const result = ok({ number, expiry, name: "  Ada  " });
      expect(result, `${number} ${expiry}`).toEqual({
        card: {
          number: "4242424242424242",
          expMonth: Number(expiry!.trim().split("/")[0]),
          expYear: 2034,
          cvc: "123",
          name: "Ada",
        },
      });
    }
    expect(ok({ name: "   " })).toMatchObject({ card: { name: null } });
  });

  it("checks the number: empty, letters, too short, too long, Luhn", () => {
    const cases: Array<[string, string]> = [
      ["", "Enter your card number."],
      ["4242 4242 4242 424a", "Your card number may only contain digits."],
      ["4242.4242.4242.4242", "Your card number may only contain digits."],
      ["42424242424", "Your card number is incomplete."],
      ["4".repeat(20), "Your card number is too long."],
      ["4242 4242 4242 4241", "Your card number is invalid."],
    ];
    for (const [number, message] of cases) expect(ok({ number }), number).toEqual({ errors: { number: message } });
  });

  it("accepts every length from 12 to 19 digits when the Luhn digit is right", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{11,18}$/), (body) => {
        const number = withCheckDigit(body);
        const result = validateCard(
          { number, expiry: "12/34", cvc: number.startsWith("34") || number.startsWith("37") ? "1234" : "123" },
          NOW,
        );
        return "card" in result && result.card.number === number;
      }),
    );
  });

  it("refuses any single changed digit (Luhn catches every one-digit typo)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^4[0-9]{14}$/), fc.nat(15), fc.integer({ min: 1, max: 9 }), (body, at, delta) => {
        const number = withCheckDigit(body);
        const typo = number.slice(0, at) + ((Number(number[at]) + delta) % 10) + number.slice(at + 1);
        return "errors" in validateCard({ number: typo, expiry: "12/34", cvc: "123" }, NOW);
      }),
    );
  });

  it("checks the expiry against the current UTC month", () => {
    expect(ok({ expiry: "11/26" })).toHaveProperty("card"); // this month: still valid
    expect(ok({ expiry: "10/26" })).toEqual({ errors: { expiry: "Your card's expiry date is in the past." } });
    expect(ok({ expiry: "12/25" })).toEqual({ errors: { expiry: "Your card's expiry date is in the past." } });
    expect(ok({ expiry: "00/30" })).toEqual({ errors: { expiry: "Your card's expiry month is invalid." } });
    expect(ok({ expiry: "13/30" })).toEqual({ errors: { expiry: "Your card's expiry month is invalid." } });
    expect(ok({ expiry: "12/2099" })).toEqual({ errors: { expiry: "Your card's expiry year is invalid." } });
    for (const expiry of ["", "123", "12345", "12/3", "ab/cd", "12/345", "1 2 34"]) {
      expect(ok({ expiry }), expiry).toHaveProperty("errors.expiry");
    }
    // A phone's digits-only keypad (inputmode numeric) has no slash: the digits alone are enough.
    for (const expiry of ["1234", "12 34", "122034", "12-34", "1 34"]) {
      expect(ok({ expiry }), expiry).toHaveProperty("card.expMonth", expiry.startsWith("1 ") ? 1 : 12);
    }
    // Midnight UTC on the 1st: the previous month is past.
    const first = new Date("2027-01-01T00:00:00Z");
    expect(validateCard({ number: "4242424242424242", expiry: "12/26", cvc: "123" }, first)).toHaveProperty(
      "errors.expiry",
    );
  });

  it("wants 3 CVC digits, 4 for American Express", () => {
    expect(ok({ cvc: "" })).toEqual({ errors: { cvc: "Enter your card's security code." } });
    expect(ok({ cvc: "12" })).toHaveProperty(
      "errors.cvc",
      "Your card's security code has 3 digits (on the back of the card).",
    );
    expect(ok({ cvc: "1234" })).toHaveProperty("errors.cvc");
    expect(ok({ cvc: "12a" })).toHaveProperty("errors.cvc", "Your card's security code may only contain digits.");
    const amex = "3782 822463 10005";
    expect(ok({ number: amex, cvc: "1234" })).toHaveProperty("card.cvc", "1234");
    expect(ok({ number: amex, cvc: "123" })).toHaveProperty(
      "errors.cvc",
      "Your card's security code has 4 digits (on the front of the card).",
    );
  });

  it("reports every field at once", () => {
    expect(validateCard({ number: "1", expiry: "1/21", cvc: "x" }, NOW)).toEqual({
      errors: {
        number: "Your card number is incomplete.",
        expiry: "Your card's expiry date is in the past.",
        cvc: "Your card's security code may only contain digits.",
      },
    });
  });
});
