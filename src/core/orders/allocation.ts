import { type FieldErrors, insufficientCredits, invalidParameters } from "../errors.js";
import { Decimal } from "../money/money.js";
import { AMOUNT_KG_MAX_DECIMALS } from "../portfolios/pricing.js";
import type { CreditIssuance, Project, Retirement } from "../projects/projects.types.js";

/**
 * Fulfilment's arithmetic, pure: which credits an order retires, and the serial numbers they
 * carry. Everything is counted in whole milligrams (BigInt): an order's kg has at most six
 * decimals, so every share, every draw and every serial number is exact.
 *
 * The rules:
 * - By the portfolio: the order's kg is split between the portfolio's categories in proportion to
 *   their allocated fractions (largest remainder: each category gets its share rounded down to a
 *   milligram, and the milligrams left over go one each to the categories with the largest
 *   remainders, earlier categories first on a tie), so the parts sum exactly to the order's kg.
 * - Within a category, credits are drawn oldest vintage first across the category's projects
 *   (on a tie, the project earlier in the category's order), each issuance as far as it has
 *   credits left (issued tonnes x 1000 - kg already retired).
 * - An explicit allocation names projects and kg (summing exactly to the order's kg); each
 *   project's share is drawn from its own issuances, oldest vintage first.
 * - Not enough credits anywhere: `insufficient_credits`, naming what was missing; nothing is drawn.
 *
 * Serial numbers: a retirement's range is `<serial prefix>-<first>-<last>`, where first and last
 * count the issuance's milligrams from 1 in the order they were retired (an issuance of 5 credits
 * holds milligrams 1 to 5,000,000,000). An issuance's retired amount only grows, under a row lock,
 * so the ranges of two orders never overlap. An issuance without a serial prefix gives no range.
 */

const MG_PER_KG = 1_000_000n;
const MG_PER_TONNE = 1_000_000_000n;

/** A decimal amount of kg in whole milligrams (it has at most six decimals). */
export function kgToMg(kg: Decimal): bigint {
  const mg = kg.times(MG_PER_KG.toString());
  if (!mg.isInteger()) throw new Error(`${kg.toFixed()} kg is not a whole number of milligrams`);
  return BigInt(mg.toFixed(0));
}

export const mgToKg = (mg: bigint): Decimal => new Decimal(mg.toString()).div(MG_PER_KG.toString());

/** What an issuance still has to retire, in milligrams (never below zero). */
export function remainingMg(issuance: Pick<CreditIssuance, "totalAmount" | "retiredKg">): bigint {
  const issued = BigInt(issuance.totalAmount.times(MG_PER_TONNE.toString()).toFixed(0, Decimal.ROUND_FLOOR));
  const left = issued - kgToMg(issuance.retiredKg);
  return left > 0n ? left : 0n;
}

/** One category of the order's portfolio: its fraction, its projects in order, their issuances. */
export interface CategoryStock {
  categoryId: string;
  categoryName: string;
  allocatedFraction: Decimal;
  /** In the category's order. */
  projects: Project[];
  /** Of those projects (any order). */
  issuances: CreditIssuance[];
}

/** One project an operator named, with the kg it should give. */
export interface ExplicitShare {
  projectId: string;
  amountKg: Decimal;
}

/** Credits taken from one issuance. */
export interface Draw {
  projectId: string;
  vintageYear: number;
  amountKg: Decimal;
  /** What the issuance had retired before this draw (where its serial numbers continue). */
  retiredBeforeKg: Decimal;
  serialPrefix: string | null;
}

/** What the order takes from one project. */
export interface PlannedAllocation {
  project: Project;
  amountKg: Decimal;
  /** Oldest vintage first. */
  draws: Draw[];
}

/**
 * Splits `totalMg` in proportion to `weights` (non-negative integers, not all zero), exactly: the
 * parts sum to `totalMg`. Largest remainder; a tie goes to the earlier weight.
 */
export function splitProportionally(totalMg: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (sum <= 0n) throw new Error("weights must not all be zero");
  const parts = weights.map((w) => (totalMg * w) / sum);
  const remainders = weights.map((w, i) => ({ i, r: (totalMg * w) % sum }));
  let left = totalMg - parts.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left === 0n) break;
    parts[i]! += 1n;
    left -= 1n;
  }
  return parts;
}

/** A fraction with at most eight decimals (the column's scale) as an integer weight. */
const fractionWeight = (fraction: Decimal) => BigInt(fraction.times(1e8).toFixed(0, Decimal.ROUND_FLOOR));

interface Stock {
  issuance: CreditIssuance;
  project: Project;
  /** Position of the project in the list it came from (ties between equal vintages). */
  rank: number;
  /** Retired so far (before this order, then with what it has drawn), and still to retire. */
  retired: bigint;
  left: bigint;
}

/** Draws `needMg` from `stock` oldest vintage first (ties by rank), taking from `stock` as it goes; what is still missing. */
function drawFrom(stock: Stock[], needMg: bigint, into: Map<string, PlannedAllocation>): bigint {
  const ordered = [...stock].sort((a, b) => a.issuance.vintageYear - b.issuance.vintageYear || a.rank - b.rank);
  let need = needMg;
  for (const s of ordered) {
    if (need === 0n) break;
    // biome-ignore lint/complexity/useMathMinMax: Math.min takes no bigint
    const take = s.left < need ? s.left : need;
    if (take === 0n) continue;
    const retiredBefore = s.retired;
    s.retired += take;
    s.left -= take;
    need -= take;
    let planned = into.get(s.project.id);
    if (!planned) {
      planned = { project: s.project, amountKg: new Decimal(0), draws: [] };
      into.set(s.project.id, planned);
    }
    planned.amountKg = planned.amountKg.plus(mgToKg(take));
    planned.draws.push({
      projectId: s.project.id,
      vintageYear: s.issuance.vintageYear,
      amountKg: mgToKg(take),
      retiredBeforeKg: mgToKg(retiredBefore),
      serialPrefix: s.issuance.serialPrefix,
    });
  }
  return need;
}

function stockOf(projects: readonly Project[], issuances: readonly CreditIssuance[]): Stock[] {
  const rank = new Map(projects.map((p, i) => [p.id, { p, i }]));
  return issuances.flatMap((issuance) => {
    const of = rank.get(issuance.projectId);
    return of
      ? [{ issuance, project: of.p, rank: of.i, retired: kgToMg(issuance.retiredKg), left: remainingMg(issuance) }]
      : [];
  });
}

/** Each allocation's draws oldest vintage first. */
function oldestFirst(planned: PlannedAllocation[]): PlannedAllocation[] {
  for (const p of planned) p.draws.sort((a, b) => a.vintageYear - b.vintageYear);
  return planned;
}

const kgText = (mg: bigint) => mgToKg(mg).toFixed();

/**
 * The order's kg drawn from its portfolio's categories by their fractions (see the rules above).
 * Throws insufficient_credits when the portfolio has no categories or a category runs short.
 */
export function allocateByPortfolio(
  orderId: string,
  amountKg: Decimal,
  categories: readonly CategoryStock[],
): PlannedAllocation[] {
  const weighted = categories.filter((c) => fractionWeight(c.allocatedFraction) > 0n);
  if (!weighted.length) {
    throw insufficientCredits(
      `Order '${orderId}' cannot be fulfilled: its portfolio has no project categories to draw credits from`,
    );
  }
  const shares = splitProportionally(
    kgToMg(amountKg),
    weighted.map((c) => fractionWeight(c.allocatedFraction)),
  );
  const into = new Map<string, PlannedAllocation>();
  const short: string[] = [];
  weighted.forEach((category, i) => {
    const need = shares[i]!;
    const stock = stockOf(category.projects, category.issuances);
    const available = stock.reduce((sum, s) => sum + s.left, 0n);
    const missing = drawFrom(stock, need, into);
    if (missing > 0n) {
      short.push(`'${category.categoryName}' needs ${kgText(need)} kg and has ${kgText(available)} kg left`);
    }
  });
  if (short.length) {
    throw insufficientCredits(`Not enough credits to fulfil order '${orderId}': ${short.join("; ")}`);
  }
  // In the order projects were first drawn from: by category, then oldest vintage.
  return oldestFirst([...into.values()]);
}

/**
 * Checks an explicit allocation against the order (every project named once, known, each share
 * positive with at most six decimals, the shares summing exactly to the order's kg), then draws
 * each share from its project's issuances, oldest vintage first.
 */
export function allocateExplicitly(
  orderId: string,
  amountKg: Decimal,
  shares: readonly ExplicitShare[],
  projects: readonly Project[],
  issuances: readonly CreditIssuance[],
): PlannedAllocation[] {
  const fields: FieldErrors = {};
  const known = new Map(projects.map((p) => [p.id, p]));
  const seen = new Set<string>();
  if (!shares.length) fields.allocation = ["must name at least one project"];
  shares.forEach((share, i) => {
    if (!known.has(share.projectId)) {
      fields[`allocation.${i}.projectId`] = [`is not a project in the catalogue: '${share.projectId}'`];
    } else if (seen.has(share.projectId)) {
      fields[`allocation.${i}.projectId`] = [`names project '${share.projectId}' a second time`];
    }
    seen.add(share.projectId);
    const kg = share.amountKg;
    if (!kg.isFinite() || kg.lte(0)) fields[`allocation.${i}.amountKg`] = ["must be greater than 0"];
    else if (kg.decimalPlaces() > AMOUNT_KG_MAX_DECIMALS) {
      fields[`allocation.${i}.amountKg`] = [`must have at most ${AMOUNT_KG_MAX_DECIMALS} decimal places`];
    }
  });
  if (!Object.keys(fields).length) {
    const sum = shares.reduce((total, s) => total.plus(s.amountKg), new Decimal(0));
    if (!sum.eq(amountKg)) {
      fields.allocation = [`must sum to the order's ${amountKg.toFixed()} kg; it sums to ${sum.toFixed()} kg`];
    }
  }
  if (Object.keys(fields).length) throw invalidParameters(fields, "The allocation does not fit the order");

  const into = new Map<string, PlannedAllocation>();
  const short: string[] = [];
  for (const share of shares) {
    const project = known.get(share.projectId)!;
    const stock = stockOf(
      [project],
      issuances.filter((i) => i.projectId === project.id),
    );
    const available = stock.reduce((sum, s) => sum + s.left, 0n);
    const need = kgToMg(share.amountKg);
    if (drawFrom(stock, need, into) > 0n) {
      short.push(
        `project '${project.name}' (${project.id}) needs ${kgText(need)} kg and has ${kgText(available)} kg left`,
      );
    }
  }
  if (short.length) {
    throw insufficientCredits(`Not enough credits to fulfil order '${orderId}': ${short.join("; ")}`);
  }
  // In the operator's order of projects.
  return oldestFirst(shares.map((s) => into.get(s.projectId)!));
}

/** The serial numbers a draw retires: `<prefix>-<first>-<last>` in milligrams of its issuance; none without a prefix. */
export function serialNumberRange(draw: Pick<Draw, "serialPrefix" | "retiredBeforeKg" | "amountKg">): string | null {
  if (!draw.serialPrefix) return null;
  const first = kgToMg(draw.retiredBeforeKg) + 1n;
  const last = kgToMg(draw.retiredBeforeKg) + kgToMg(draw.amountKg);
  return `${draw.serialPrefix}-${first}-${last}`;
}

/** The retirements a planned allocation records: one per draw, with its range and the project's registry page. */
export function retirementsOf(planned: PlannedAllocation): Retirement[] {
  const url = planned.project.details.registryUrl;
  return planned.draws.map((draw) => {
    const range = serialNumberRange(draw);
    return { ...(range ? { serialNumberRange: range } : {}), ...(url ? { url } : {}) };
  });
}
