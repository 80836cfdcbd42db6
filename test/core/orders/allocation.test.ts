import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocateByPortfolio,
  allocateExplicitly,
  type CategoryStock,
  kgToMg,
  type PlannedAllocation,
  remainingMg,
  retirementsOf,
  serialNumberRange,
  splitProportionally,
} from "../../../src/core/orders/allocation.js";
import { type AppError, isAppError } from "../../../src/core/errors.js";
import { Decimal } from "../../../src/core/money/money.js";
import type { CreditIssuance, Project } from "../../../src/core/projects/projects.types.js";

/** Fulfilment's arithmetic, without a store: splits, draws, shortages and serial ranges. */

const d = (v: string | number) => new Decimal(String(v));

const project = (id: string, position = 0, registryUrl?: string): Project => ({
  id,
  categoryId: "cat",
  name: `Project ${id}`,
  type: "Forestry",
  unSdgGoals: [],
  details: registryUrl ? { registryUrl } : {},
  position,
});

const issuance = (
  projectId: string,
  vintageYear: number,
  tonnes: string,
  retiredKg = "0",
  serialPrefix: string | null = `${projectId}-${vintageYear}`,
): CreditIssuance => ({ projectId, vintageYear, totalAmount: d(tonnes), retiredKg: d(retiredKg), serialPrefix });

const category = (name: string, fraction: string, projects: Project[], issuances: CreditIssuance[]): CategoryStock => ({
  categoryId: name,
  categoryName: name,
  allocatedFraction: d(fraction),
  projects,
  issuances,
});

/** What a plan comes to, as plain text: project -> kg, and each draw. */
const summary = (plan: PlannedAllocation[]) =>
  plan.map((p) => ({
    project: p.project.id,
    kg: p.amountKg.toFixed(),
    draws: p.draws.map((dr) => `${dr.vintageYear}:${dr.amountKg.toFixed()}@${dr.retiredBeforeKg.toFixed()}`),
  }));

function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
  throw new Error("expected an AppError");
}

describe("splitProportionally", () => {
  it("splits exactly, the leftover milligrams going to the largest remainders, earlier first on a tie", () => {
    expect(splitProportionally(100n, [60n, 40n])).toEqual([60n, 40n]);
    // 100 mg in thirds: 33.33 each; the one left over goes to the first.
    expect(splitProportionally(100n, [1n, 1n, 1n])).toEqual([34n, 33n, 33n]);
    // 10 in 1:2 -> 3.33, 6.67: the larger remainder (6.67) gets it.
    expect(splitProportionally(10n, [1n, 2n])).toEqual([3n, 7n]);
    expect(splitProportionally(5n, [0n, 3n])).toEqual([0n, 5n]);
    expect(() => splitProportionally(5n, [0n, 0n])).toThrow();
  });

  it("always sums to the total, each part within one unit of its exact share (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 8n }), { minLength: 1, maxLength: 8 }),
        (total, weights) => {
          fc.pre(weights.some((w) => w > 0n));
          const parts = splitProportionally(total, weights);
          expect(parts.reduce((a, b) => a + b, 0n)).toBe(total);
          const sum = weights.reduce((a, b) => a + b, 0n);
          parts.forEach((part, i) => {
            const floor = (total * weights[i]!) / sum;
            expect(part === floor || part === floor + 1n).toBe(true);
          });
        },
      ),
    );
  });
});

describe("allocateByPortfolio", () => {
  const a = project("A", 0, "https://registry.example/A");
  const b = project("B", 1);

  it("splits the order's kg by the categories' fractions", () => {
    const plan = allocateByPortfolio("ord", d(100), [
      category("Removal", "0.6", [a], [issuance("A", 2020, "1")]),
      category("Avoidance", "0.4", [b], [issuance("B", 2021, "1")]),
    ]);
    expect(summary(plan)).toEqual([
      { project: "A", kg: "60", draws: ["2020:60@0"] },
      { project: "B", kg: "40", draws: ["2021:40@0"] },
    ]);
  });

  it("rounds to milligrams so the parts sum exactly to the order, even with fractions that do not sum to 1", () => {
    const c = project("C", 2);
    const plan = allocateByPortfolio("ord", d(100), [
      category("X", "0.33333333", [a], [issuance("A", 2020, "1")]),
      category("Y", "0.33333333", [b], [issuance("B", 2020, "1")]),
      category("Z", "0.33333333", [c], [issuance("C", 2020, "1")]),
    ]);
    expect(plan.map((p) => p.amountKg.toFixed())).toEqual(["33.333334", "33.333333", "33.333333"]);
    expect(plan.reduce((sum, p) => sum.plus(p.amountKg), d(0)).toFixed()).toBe("100");
  });

  it("draws the oldest vintage first across a category's projects; on a tie, the earlier project", () => {
    const stock = category(
      "Forests",
      "1",
      [a, b],
      [
        issuance("A", 2021, "1"),
        issuance("A", 2019, "0.01"), // 10 kg
        issuance("B", 2019, "0.02"), // 20 kg
        issuance("B", 2018, "0.005", "2"), // 3 kg left of 5
      ],
    );
    expect(summary(allocateByPortfolio("ord", d(50), [stock]))).toEqual([
      // First drawn: B's 2018 (3 kg left, 2 kg retired before), then 2019 (A before B), then A's 2021.
      { project: "B", kg: "23", draws: ["2018:3@2", "2019:20@0"] },
      { project: "A", kg: "27", draws: ["2019:10@0", "2021:17@0"] },
    ]);
  });

  it("skips a category with a zero fraction and an exhausted issuance", () => {
    const plan = allocateByPortfolio("ord", d("0.5"), [
      category("Unused", "0", [b], [issuance("B", 2020, "1")]),
      category("Used", "1", [a], [issuance("A", 2019, "0.001", "1"), issuance("A", 2020, "1")]),
    ]);
    expect(summary(plan)).toEqual([{ project: "A", kg: "0.5", draws: ["2020:0.5@0"] }]);
  });

  it("refuses when a category runs short, naming it and what it has, and when there is no category", () => {
    const error = thrown(() =>
      allocateByPortfolio("ord1", d(100), [
        category("Removal", "0.5", [a], [issuance("A", 2020, "0.01")]), // 10 kg, needs 50
        category("Avoidance", "0.5", [b], [issuance("B", 2020, "1")]),
      ]),
    );
    expect(error.code).toBe("insufficient_credits");
    expect(error.message).toBe("Not enough credits to fulfil order 'ord1': 'Removal' needs 50 kg and has 10 kg left");
    expect(thrown(() => allocateByPortfolio("ord1", d(1), [])).code).toBe("insufficient_credits");
    expect(thrown(() => allocateByPortfolio("ord1", d(1), [category("Empty", "1", [a], [])])).code).toBe(
      "insufficient_credits",
    );
  });

  it("never overdraws an issuance and always allocates exactly the order; orders' serial ranges never overlap (property)", () => {
    const projects = [project("A", 0), project("B", 1), project("C", 0)];
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 2_000_000 }), { minLength: 1, maxLength: 12 }), // order sizes in mg
        fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 4, maxLength: 4 }), // issuance sizes in grams
        fc.integer({ min: 1, max: 99_999_999 }),
        (orders, grams, weight) => {
          // Two categories over three projects and four issuances; stock is carried from order to order.
          const stock = [
            issuance("A", 2019, d(grams[0]!).div(1e6).toFixed()),
            issuance("A", 2021, d(grams[1]!).div(1e6).toFixed()),
            issuance("B", 2020, d(grams[2]!).div(1e6).toFixed()),
            issuance("C", 2020, d(grams[3]!).div(1e6).toFixed()),
          ];
          const fraction = d(weight).div(1e8);
          const ranges: Array<{ prefix: string; first: bigint; last: bigint }> = [];
          for (const [n, mg] of orders.entries()) {
            const kg = d(mg).div(1e6);
            const categories = [
              category("One", fraction.toFixed(), [projects[0]!, projects[1]!], stock.slice(0, 3)),
              category("Two", d(1).minus(fraction).toFixed(), [projects[2]!], stock.slice(3)),
            ];
            const before = stock.map(remainingMg);
            let plan: PlannedAllocation[];
            try {
              plan = allocateByPortfolio(`ord${n}`, kg, categories);
            } catch (error) {
              expect(isAppError(error) && error.code).toBe("insufficient_credits");
              continue; // nothing drawn: the stock is as it was
            }
            expect(plan.reduce((sum, p) => sum.plus(p.amountKg), d(0)).eq(kg)).toBe(true);
            for (const p of plan) {
              expect(p.draws.reduce((sum, dr) => sum.plus(dr.amountKg), d(0)).eq(p.amountKg)).toBe(true);
              for (const draw of p.draws) {
                const i = stock.findIndex((s) => s.projectId === draw.projectId && s.vintageYear === draw.vintageYear);
                expect(kgToMg(draw.amountKg)).toBeLessThanOrEqual(before[i]!);
                expect(draw.retiredBeforeKg.eq(stock[i]!.retiredKg)).toBe(true);
                stock[i] = { ...stock[i]!, retiredKg: stock[i]!.retiredKg.plus(draw.amountKg) }; // as the store does
                const [, first, last] = /^(.*)-(\d+)-(\d+)$/.exec(serialNumberRange(draw)!)!.slice(1);
                ranges.push({
                  prefix: `${draw.projectId}-${draw.vintageYear}`,
                  first: BigInt(first!),
                  last: BigInt(last!),
                });
              }
            }
          }
          for (const [i, r] of ranges.entries()) {
            expect(r.first).toBeLessThanOrEqual(r.last);
            for (const other of ranges.slice(i + 1)) {
              if (other.prefix !== r.prefix) continue;
              expect(other.first > r.last || other.last < r.first).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("allocateExplicitly", () => {
  const a = project("A", 0);
  const b = project("B", 1);
  const stock = [issuance("A", 2021, "1"), issuance("A", 2020, "0.01"), issuance("B", 2020, "1")];

  it("draws each named project's kg from its own issuances, oldest first, in the order given", () => {
    const plan = allocateExplicitly(
      "ord",
      d(100),
      [
        { projectId: "B", amountKg: d(70) },
        { projectId: "A", amountKg: d(30) },
      ],
      [a, b],
      stock,
    );
    expect(summary(plan)).toEqual([
      { project: "B", kg: "70", draws: ["2020:70@0"] },
      { project: "A", kg: "30", draws: ["2020:10@0", "2021:20@0"] },
    ]);
  });

  it("refuses an allocation that does not fit the order, naming each problem", () => {
    const fields = (shares: Array<{ projectId: string; amountKg: Decimal }>, kg = d(100)) => {
      const error = thrown(() => allocateExplicitly("ord", kg, shares, [a, b], stock));
      expect(error.code).toBe("invalid_parameters");
      return error.details.fields;
    };
    expect(fields([{ projectId: "A", amountKg: d(99) }])).toEqual({
      allocation: ["must sum to the order's 100 kg; it sums to 99 kg"],
    });
    expect(fields([])).toEqual({ allocation: ["must name at least one project"] });
    expect(
      fields([
        { projectId: "Nope", amountKg: d(50) },
        { projectId: "A", amountKg: d(0) },
        { projectId: "A", amountKg: d("1.0000001") },
      ]),
    ).toEqual({
      "allocation.0.projectId": ["is not a project in the catalogue: 'Nope'"],
      "allocation.1.amountKg": ["must be greater than 0"],
      "allocation.2.projectId": ["names project 'A' a second time"],
      "allocation.2.amountKg": ["must have at most 6 decimal places"],
    });
  });

  it("refuses a project that has too few credits left", () => {
    const error = thrown(() =>
      allocateExplicitly("ord", d(2000), [{ projectId: "A", amountKg: d(2000) }], [a, b], stock),
    );
    expect(error.code).toBe("insufficient_credits");
    expect(error.message).toBe(
      "Not enough credits to fulfil order 'ord': project 'Project A' (A) needs 2000 kg and has 1010 kg left",
    );
  });
});

describe("serial numbers and retirements", () => {
  it("count the issuance's milligrams from 1, continuing what was retired before", () => {
    expect(serialNumberRange({ serialPrefix: "EXR-0981-2019", retiredBeforeKg: d(0), amountKg: d("10.5") })).toBe(
      "EXR-0981-2019-1-10500000",
    );
    expect(
      serialNumberRange({ serialPrefix: "EXR-0981-2019", retiredBeforeKg: d("10.5"), amountKg: d("0.000001") }),
    ).toBe("EXR-0981-2019-10500001-10500001");
    expect(serialNumberRange({ serialPrefix: null, retiredBeforeKg: d(0), amountKg: d(1) })).toBeNull();
  });

  it("give one retirement per draw, with the project's registry page where it has one", () => {
    const withPage = project("A", 0, "https://registry.example/A");
    const plan = allocateByPortfolio("ord", d(15), [
      category("C", "1", [withPage], [issuance("A", 2019, "0.01", "0", null), issuance("A", 2020, "1", "1")]),
    ]);
    expect(retirementsOf(plan[0]!)).toEqual([
      { url: "https://registry.example/A" },
      { serialNumberRange: "A-2020-1000001-6000000", url: "https://registry.example/A" },
    ]);
    expect(retirementsOf({ ...plan[0]!, project: project("A") })).toEqual([
      {},
      { serialNumberRange: "A-2020-1000001-6000000" },
    ]);
  });

  it("an issuance retired beyond what was issued has nothing left", () => {
    expect(remainingMg(issuance("A", 2020, "0.001", "2"))).toBe(0n);
    expect(remainingMg(issuance("A", 2020, "2.5", "1"))).toBe(2_499_000_000n);
  });
});
