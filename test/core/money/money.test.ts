import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Decimal, decimalFromJsonNumber } from "../../../src/core/money/money.js";
import {
  AMOUNT_KG_MAX,
  AMOUNT_KG_MAX_DECIMALS,
  amountKgProblem,
  priceInCents,
} from "../../../src/core/portfolios/pricing.js";

const d = (text: string) => new Decimal(text);

describe("priceInCents", () => {
  it.each([
    // [amount kg, price c/kg, cents]
    ["100", "2", 200],
    ["1", "2", 2],
    ["0.5", "2", 1],
    ["100", "1.8", 180],
    ["3", "1.8", 6], // 5.4 -> 6
    ["0.1", "3", 1], // 0.3 -> 1
    ["1.1", "100", 110], // a float gives 110.00000000000001 and ceil 111
    ["0.07", "100", 7], // a float gives 7.000000000000001 and ceil 8
    ["0.29", "100", 29], // a float gives 28.999999999999996
    ["2.675", "100", 268], // 267.5 -> 268
    ["1000000000", "2", 2_000_000_000],
    ["999999999.999999", "0.000001", 1000], // 999.999999999999 -> 1000
    ["0.000001", "0.000001", 1], // any positive amount costs at least a cent
    ["33.333333", "3", 100], // 99.999999 -> 100
    ["33.333334", "3", 101], // 100.000002 -> 101
  ])("%s kg at %s c/kg costs %i cents", (amount, price, cents) => {
    expect(priceInCents(d(amount), d(price))).toBe(cents);
  });

  it("rounds up, never to nearest: 0.000001 cent over a whole cent is a cent more", () => {
    expect(priceInCents(d("1.000001"), d("1"))).toBe(2);
    expect(priceInCents(d("1.999999"), d("1"))).toBe(2);
    expect(priceInCents(d("2"), d("1"))).toBe(2);
  });

  it("returns a plain number", () => {
    expect(typeof priceInCents(d("1"), d("1"))).toBe("number");
  });
});

describe("amountKgProblem", () => {
  it.each(["0.000001", "1", "100", "999999999.999999", "1000000000", "12.5"])("accepts %s", (text) => {
    expect(amountKgProblem(d(text))).toBeNull();
  });

  it.each([
    ["0", "greater than 0"],
    ["-1", "greater than 0"],
    ["-0.000001", "greater than 0"],
    ["1000000000.000001", "at most 1000000000"],
    ["1e10", "at most 1000000000"],
    ["0.0000001", "at most 6 decimal places"],
    ["1.1234567", "at most 6 decimal places"],
    ["NaN", "finite"],
    ["Infinity", "finite"],
    ["-Infinity", "finite"],
  ])("rejects %s (%s)", (text, problem) => {
    expect(amountKgProblem(d(text))).toContain(problem);
  });

  it("bounds match the exported constants", () => {
    expect(AMOUNT_KG_MAX.toFixed()).toBe("1000000000");
    expect(AMOUNT_KG_MAX_DECIMALS).toBe(6);
  });
});

describe("decimalFromJsonNumber", () => {
  it.each([
    [0.1, "0.1"],
    [100, "100"],
    [12.5, "12.5"],
    [999999999.999999, "999999999.999999"],
    [0.000001, "0.000001"],
    [1e-7, "0.0000001"],
    [123456789012345, "123456789012345"],
  ])("%d is exactly %s", (value, text) => {
    expect(decimalFromJsonNumber(value).equals(d(text))).toBe(true);
  });

  it("keeps JSON's decimal text: 0.1 + 0.2 style float noise never appears", () => {
    const parsed = JSON.parse('{"amount_kg": 1.1}') as { amount_kg: number };
    expect(decimalFromJsonNumber(parsed.amount_kg).times(100).toFixed()).toBe("110");
  });

  it("accepts decimal strings, trimmed", () => {
    expect(decimalFromJsonNumber(" 2.50 ").equals(d("2.5"))).toBe(true);
    expect(decimalFromJsonNumber("100").toFixed()).toBe("100");
  });
});

/** A Decimal with at most `decimals` places in (0, max], built from an integer count of units. */
const decimalIn = (max: bigint, decimals: number) => {
  const scale = 10n ** BigInt(decimals);
  return fc.bigInt({ min: 1n, max: max * scale }).map((units) => new Decimal(units.toString()).div(scale.toString()));
};

describe("properties", () => {
  // Amounts the API accepts (<= 1e9 kg, <= 6 places); prices with <= 6 places up to $10,000/kg,
  // which keeps every total below 2^53 (an exact JavaScript integer).
  const amounts = decimalIn(1_000_000_000n, 6);
  const prices = decimalIn(1_000_000n, 6);

  it("priceInCents is a whole number of cents, never below the exact price and less than a cent above", () => {
    fc.assert(
      fc.property(amounts, prices, (amount, price) => {
        expect(amountKgProblem(amount)).toBeNull();
        const cents = priceInCents(amount, price);
        const exact = amount.times(price);
        expect(Number.isSafeInteger(cents)).toBe(true);
        expect(new Decimal(cents).gte(exact)).toBe(true);
        expect(new Decimal(cents).lt(exact.plus(1))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("priceInCents is exact when the product is a whole number of cents", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 1000 }), (kg, price) => {
        expect(priceInCents(new Decimal(kg), new Decimal(price))).toBe(kg * price);
      }),
    );
  });

  it("priceInCents never decreases when the amount grows", () => {
    fc.assert(
      fc.property(amounts, amounts, prices, (a, b, price) => {
        const [lo, hi] = a.lte(b) ? [a, b] : [b, a];
        expect(priceInCents(lo, price)).toBeLessThanOrEqual(priceInCents(hi, price));
      }),
    );
  });

  /** Decimal text of at most 15 significant digits, e.g. "0.00012", "123.45", "987654321098765". */
  const decimalText = fc
    .tuple(
      fc.stringMatching(/^[1-9][0-9]{0,14}$/), // the significant digits
      fc.integer({ min: -20, max: 20 }), // where the decimal point goes, relative to the digits' end
      fc.boolean(),
    )
    .map(([digits, shift, negative]) => {
      let text: string;
      if (shift >= 0) text = digits + "0".repeat(Math.min(shift, 15 - digits.length));
      else if (-shift < digits.length) text = `${digits.slice(0, shift)}.${digits.slice(shift)}`;
      else text = `0.${"0".repeat(-shift - digits.length)}${digits}`;
      return negative ? `-${text}` : text;
    });

  it("decimalFromJsonNumber(Number(text)) is exactly the text's decimal for <= 15 significant digits", () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        expect(new Decimal(text).precision()).toBeLessThanOrEqual(15);
        expect(decimalFromJsonNumber(Number(text)).equals(new Decimal(text))).toBe(true);
        // And through JSON.parse, the way request bodies arrive.
        const parsed = JSON.parse(`{"v":${text}}`) as { v: number };
        expect(decimalFromJsonNumber(parsed.v).equals(new Decimal(text))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("every accepted amount survives JSON exactly (the bounds keep it within 15 digits)", () => {
    fc.assert(
      fc.property(amounts, (amount) => {
        const text = amount.toFixed();
        expect(decimalFromJsonNumber(Number(text)).equals(amount)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("priceInCents keeps every digit of large products", () => {
  it("rounds 999000.000001 kg x 1000.000001 c/kg = 999000001.000000000001 up to 999000002", () => {
    expect(priceInCents(new Decimal("999000.000001"), new Decimal("1000.000001"))).toBe(999000002);
  });
});
