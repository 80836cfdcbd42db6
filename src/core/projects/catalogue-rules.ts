import type { FieldErrors } from "../errors.js";
import { Decimal } from "../money/money.js";
import { httpsUrlProblem, httpUrlProblem } from "../urls.js";
import type { Catalogue, CatalogueProject, ProjectDetails } from "./projects.types.js";

/**
 * What a catalogue must be before it is written, checked without the store: every problem at
 * once, each under its core path (`projects.2.creditIssuances.0.totalAmount`). References to
 * categories and portfolios that are not in the file are checked against the store later.
 */

export const CATALOGUE_LIMITS = {
  idPattern: /^[A-Za-z0-9_-]{1,64}$/,
  name: 256,
  text: 512,
  longText: 10_000,
  url: 2048,
  listItems: 100,
  firstYear: 1900,
  lastYear: 2200,
  /** Tonnes per issuance: below 10^9 with 6 decimals, 15 digits, so a JSON number carries it exactly. */
  maxTonnes: new Decimal("1e9"),
  tonneDecimals: 6,
  /** DECIMAL(9,8). */
  fractionDecimals: 8,
} as const;

const L = CATALOGUE_LIMITS;

export class Problems {
  readonly fields: FieldErrors = Object.create(null);
  add(field: string, reason: string) {
    (this.fields[field] ??= []).push(reason);
  }
  get any() {
    return Object.keys(this.fields).length > 0;
  }
}

const ID_REASON = "must be 1-64 letters, digits, '_' or '-'";

function checkText(p: Problems, field: string, value: unknown, max: number, required = false) {
  if (value === undefined || value === null) {
    if (required) p.add(field, "is required");
    return;
  }
  if (typeof value !== "string") p.add(field, "must be a string");
  else if (value.trim() === "") p.add(field, "must not be empty");
  else if (value.length > max) p.add(field, `must be at most ${max} characters`);
}

function checkUrl(p: Problems, field: string, value: string | undefined | null, image: boolean, required = false) {
  if (value == null) {
    if (required) p.add(field, "is required");
    return;
  }
  const problem =
    value.length > L.url
      ? `must be at most ${L.url} characters`
      : image
        ? httpsUrlProblem(value)
        : httpUrlProblem(value);
  if (problem) p.add(field, problem);
}

function checkYear(p: Problems, field: string, value: number | undefined) {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < L.firstYear || value > L.lastYear) {
    p.add(field, `must be a whole year from ${L.firstYear} to ${L.lastYear}`);
  }
}

function checkList<T>(
  p: Problems,
  field: string,
  list: T[] | undefined,
  each: (item: T, path: string, index: number) => void,
) {
  if (list === undefined) return;
  if (list.length > L.listItems) p.add(field, `must have at most ${L.listItems} items`);
  for (const [i, item] of list.entries()) each(item, `${field}.${i}`, i);
}

/** Duplicate ids in a list: each later occurrence is named with the first one's index. */
function checkUnique(p: Problems, items: { id: string }[], prefix: string) {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const seen = first.get(item.id);
    if (seen === undefined) first.set(item.id, i);
    else p.add(`${prefix}.${i}.id`, `repeats ${prefix}.${seen}.id ('${item.id}')`);
  });
}

const DETAIL_TEXTS: Partial<Record<keyof ProjectDetails, number>> = {
  developer: L.text,
  registryName: L.text,
  registryId: L.text,
  summary: L.longText,
  description: L.longText,
  locationName: L.text,
  methodology: L.text,
  verifier: L.text,
  permanence: L.text,
  impactType: L.text,
  dueDiligence: L.longText,
  beyondCarbon: L.longText,
  riskOfReversal: L.longText,
};

function checkDetails(p: Problems, prefix: string, d: ProjectDetails) {
  for (const [key, max] of Object.entries(DETAIL_TEXTS)) {
    checkText(p, `${prefix}.${key}`, d[key as keyof ProjectDetails], max);
  }
  checkUrl(p, `${prefix}.registryUrl`, d.registryUrl, false);
  checkUrl(p, `${prefix}.primaryImageUrl`, d.primaryImageUrl, true);
  if (d.locationLatitude !== undefined && !(Math.abs(d.locationLatitude) <= 90)) {
    p.add(`${prefix}.locationLatitude`, "must be from -90 to 90");
  }
  if (d.locationLongitude !== undefined && !(Math.abs(d.locationLongitude) <= 180)) {
    p.add(`${prefix}.locationLongitude`, "must be from -180 to 180");
  }
  checkList(p, `${prefix}.activityTypes`, d.activityTypes, (t, path) => checkText(p, path, t, L.text, true));
  checkList(p, `${prefix}.thirdPartyLabels`, d.thirdPartyLabels, (t, path) => checkText(p, path, t, L.text, true));
  if (d.lifetime) {
    checkYear(p, `${prefix}.lifetime.startYear`, d.lifetime.startYear);
    checkYear(p, `${prefix}.lifetime.endYear`, d.lifetime.endYear);
    const { startYear, endYear } = d.lifetime;
    if (startYear !== undefined && endYear !== undefined && startYear > endYear) {
      p.add(`${prefix}.lifetime.endYear`, "must not be before start_year");
    }
  }
  checkList(p, `${prefix}.notableBuyers`, d.notableBuyers, (b, path) => {
    checkText(p, `${path}.name`, b.name, L.name, true);
    checkUrl(p, `${path}.logoUrl`, b.logoUrl, true, true);
    checkText(p, `${path}.logoAltText`, b.logoAltText, L.text);
  });
  const figure = d.dueDiligenceFigure;
  if (figure) {
    checkText(p, `${prefix}.dueDiligenceFigure.description`, figure.description, L.longText, true);
    checkUrl(p, `${prefix}.dueDiligenceFigure.imageUrl`, figure.imageUrl, true, true);
    checkText(p, `${prefix}.dueDiligenceFigure.imageAltText`, figure.imageAltText, L.text);
  }
  checkList(p, `${prefix}.newsArticles`, d.newsArticles, (a, path) => {
    checkText(p, `${path}.title`, a.title, L.text, true);
    checkUrl(p, `${path}.url`, a.url, false, true);
    checkText(p, `${path}.author`, a.author, L.text, true);
    checkText(p, `${path}.publishedOn`, a.publishedOn, 64, true);
    checkText(p, `${path}.take`, a.take, L.longText);
  });
}

function checkProject(p: Problems, prefix: string, project: CatalogueProject) {
  if (!L.idPattern.test(project.id)) p.add(`${prefix}.id`, ID_REASON);
  checkText(p, `${prefix}.name`, project.name, L.name, true);
  checkText(p, `${prefix}.type`, project.type, L.text, true);
  if (project.categoryId !== null && !L.idPattern.test(project.categoryId)) p.add(`${prefix}.categoryId`, ID_REASON);
  const goals = project.unSdgGoals;
  if (goals.some((g) => !Number.isInteger(g) || g < 1 || g > 17)) {
    p.add(`${prefix}.unSdgGoals`, "must be UN Sustainable Development Goal numbers (1 to 17)");
  } else if (new Set(goals).size !== goals.length) p.add(`${prefix}.unSdgGoals`, "must not repeat a goal");
  checkDetails(p, `${prefix}.details`, project.details);
  const vintages = new Map<number, number>();
  checkList(p, `${prefix}.creditIssuances`, project.creditIssuances, (issuance, path, index) => {
    checkYear(p, `${path}.vintageYear`, issuance.vintageYear);
    const seen = vintages.get(issuance.vintageYear);
    if (seen !== undefined)
      p.add(`${path}.vintageYear`, `repeats ${prefix}.creditIssuances.${seen} (${issuance.vintageYear})`);
    else vintages.set(issuance.vintageYear, index);
    const t = issuance.totalAmount;
    if (!t.isFinite() || t.lte(0)) p.add(`${path}.totalAmount`, "must be greater than 0 (tonnes)");
    else if (t.gte(L.maxTonnes)) p.add(`${path}.totalAmount`, "must be less than 10^9 tonnes");
    else if (t.decimalPlaces() > L.tonneDecimals) p.add(`${path}.totalAmount`, "must have at most 6 decimal places");
    checkText(p, `${path}.serialPrefix`, issuance.serialPrefix, 128);
  });
}

/** Checks everything the file alone can tell; returns the problems found. */
export function catalogueProblems(catalogue: Catalogue): Problems {
  const p = new Problems();
  checkUnique(p, catalogue.categories, "categories");
  checkUnique(p, catalogue.projects, "projects");
  checkUnique(p, catalogue.portfolios, "portfolios");
  catalogue.categories.forEach((c, i) => {
    if (!L.idPattern.test(c.id)) p.add(`categories.${i}.id`, ID_REASON);
    checkText(p, `categories.${i}.name`, c.name, L.name, true);
    checkText(p, `categories.${i}.description`, c.description, L.longText);
    checkUrl(p, `categories.${i}.primaryImageUrl`, c.primaryImageUrl, true);
  });
  for (const [i, project] of catalogue.projects.entries()) checkProject(p, `projects.${i}`, project);
  catalogue.portfolios.forEach((portfolio, i) => {
    const prefix = `portfolios.${i}`;
    checkText(p, `${prefix}.summary`, portfolio.summary, L.text);
    checkText(p, `${prefix}.description`, portfolio.description, L.longText);
    checkUrl(p, `${prefix}.primaryImageUrl`, portfolio.primaryImageUrl, true);
    const allocations = portfolio.categoryAllocations;
    if (!allocations || allocations.length === 0) return;
    const categories = new Map<string, number>();
    let sum = new Decimal(0);
    let fractionsValid = true;
    allocations.forEach((a, j) => {
      const path = `${prefix}.categoryAllocations.${j}`;
      const seen = categories.get(a.categoryId);
      if (seen !== undefined)
        p.add(`${path}.categoryId`, `repeats ${prefix}.categoryAllocations.${seen} ('${a.categoryId}')`);
      else categories.set(a.categoryId, j);
      const f = a.allocatedFraction;
      if (!f.isFinite() || f.lte(0) || f.gt(1)) {
        p.add(`${path}.allocatedFraction`, "must be greater than 0 and at most 1");
        fractionsValid = false;
      } else if (f.decimalPlaces() > L.fractionDecimals) {
        p.add(`${path}.allocatedFraction`, `must have at most ${L.fractionDecimals} decimal places`);
        fractionsValid = false;
      } else sum = sum.plus(f);
    });
    if (fractionsValid && !sum.eq(1)) {
      p.add(`${prefix}.categoryAllocations`, `fractions must sum to exactly 1 (these sum to ${sum.toFixed()})`);
    }
  });
  return p;
}

/** Category ids the file names (projects' and allocations' references) without defining them. */
export function categoriesReferencedOutside(catalogue: Catalogue): string[] {
  const defined = new Set(catalogue.categories.map((c) => c.id));
  const referenced = new Set<string>();
  for (const project of catalogue.projects) if (project.categoryId !== null) referenced.add(project.categoryId);
  for (const portfolio of catalogue.portfolios) {
    for (const a of portfolio.categoryAllocations ?? []) referenced.add(a.categoryId);
  }
  return [...referenced].filter((id) => !defined.has(id));
}
