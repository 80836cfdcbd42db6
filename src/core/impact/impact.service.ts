import { customAlphabet } from "nanoid";
import { isUniqueViolation, type Transactor } from "../../db/database.js";
import { conflict, invalidParameter, notFound } from "../errors.js";
import { createExpiringCache } from "../expiring-cache.js";
import { newId } from "../ids.js";
import { Decimal } from "../money/money.js";
import type { Clock } from "../time.js";
import { EQUIVALENT_KEYS, type EquivalentKey, equivalentsOf, isEquivalentKey } from "./equivalents.js";
import type { ImpactRepository, ImpactTotals } from "./impact.repository.js";
import type { CategoryImpact, Impact, ImpactOwner, ImpactPage, ImpactWindow } from "./impact.types.js";

/** A page's slug: lower-case letters, digits and single hyphens inside, 3 to 64 characters. */
export const SLUG = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,63}$/;
const SLUG_RULE =
  "must be 3 to 64 lower-case letters, digits and single hyphens, starting and ending with a letter or digit";

const suffix = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyz", 6);

/** A readable slug from a name: "Café Ünïcorn, Inc." -> "cafe-unicorn-inc"; "impact" when nothing is left. */
export function slugFrom(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
  return base.length >= 3 ? base : `impact-${base || suffix()}`.replace(/-+$/, "");
}

/**
 * How long a public page's report may be served from this instance's memory: the time the page
 * already tells browsers and shared caches it may be kept (its Cache-Control max-age).
 */
export const PUBLIC_PAGE_TTL_SECONDS = 60;
/** Public pages whose reports one instance keeps at most. */
export const PUBLIC_PAGE_CACHE_ENTRIES = 1_000;

/** Most kg first; equal kg by name, so a report reads the same on every request. */
const mostKgFirst = (a: { kg: Decimal; name: string }, b: { kg: Decimal; name: string }) =>
  b.kg.cmp(a.kg) || a.name.localeCompare(b.name);

/** Projects grouped by category; categories and the projects in each, most kg first. */
function categoriesOf(projects: ImpactTotals["projects"]): CategoryImpact[] {
  const categories = new Map<string, CategoryImpact>();
  for (const p of projects) {
    let category = categories.get(p.category.id);
    if (!category) {
      category = { category: p.category, offsetKg: new Decimal(0), projects: [] };
      categories.set(p.category.id, category);
    }
    category.offsetKg = category.offsetKg.plus(p.offsetKg);
    category.projects.push({ project: p.project, offsetKg: p.offsetKg, vintageYears: p.vintageYears });
  }
  for (const c of categories.values()) {
    c.projects.sort((a, b) =>
      mostKgFirst({ kg: a.offsetKg, name: a.project.name }, { kg: b.offsetKg, name: b.project.name }),
    );
  }
  return [...categories.values()].sort((a, b) =>
    mostKgFirst({ kg: a.offsetKg, name: a.category.name }, { kg: b.offsetKg, name: b.category.name }),
  );
}

export interface EnableImpactPage {
  /** Kept when absent (a new page gets one made from the owner's name). */
  slug?: string;
  /** Kept when absent (a new page shows all four). */
  equivalents?: string[];
}

export function createImpactService(deps: { impact: ImpactRepository; transaction: Transactor; clock: Clock }) {
  const { impact, transaction, clock } = deps;
  /** The public pages' reports, by page: the one statement reading every fulfilled order runs once a minute per page. */
  const publicReports = createExpiringCache<Impact>({
    now: () => clock().getTime(),
    ttlMs: PUBLIC_PAGE_TTL_SECONDS * 1000,
    maxEntries: PUBLIC_PAGE_CACHE_ENTRIES,
  });

  function checkWindow(window: ImpactWindow) {
    if (window.from && window.to && window.to < window.from) throw invalidParameter("to", "must not be before 'from'");
  }

  function checkEquivalents(keys: string[]): EquivalentKey[] {
    const unknown = keys.filter((k) => !isEquivalentKey(k));
    if (unknown.length) {
      throw invalidParameter(
        "equivalents",
        `names unknown equivalents (${unknown.join(", ")}); known: ${EQUIVALENT_KEYS.join(", ")}`,
      );
    }
    return [...new Set(keys as EquivalentKey[])];
  }

  async function report(owner: ImpactOwner, window: ImpactWindow): Promise<Impact | null> {
    const totals = await impact.totals(owner, window);
    if (!totals) return null;
    return {
      name: totals.name,
      logoId: totals.logoId,
      totalKg: totals.totalKg,
      equivalents: equivalentsOf(totals.totalKg),
      since: window.from ?? totals.createdAt,
      to: window.to,
      categories: categoriesOf(totals.projects),
    };
  }

  return {
    /**
     * The impact of `owner`'s fulfilled orders whose fulfilment falls in `window` (from inclusive,
     * to exclusive). The owner comes from a checked scope; one that vanished since is not found.
     */
    async data(owner: ImpactOwner, window: ImpactWindow): Promise<Impact> {
      checkWindow(window);
      const found = await report(owner, window);
      if (!found) throw notFound(owner.subaccountId ? "subaccount" : "account", owner.subaccountId ?? owner.accountId);
      return found;
    },

    /** The owner's page settings, or null when none was ever enabled. */
    pageFor: (owner: ImpactOwner): Promise<ImpactPage | null> => impact.findByOwner(owner),

    /**
     * The public page at `slug`: its settings and its owner's whole impact; not found unless
     * enabled. The settings are read on every request (one look-up by slug), so a page turned off,
     * or whose subaccount was deleted, is gone at once on every instance; the report (every
     * fulfilled order of its owner) is kept in this instance's memory for PUBLIC_PAGE_TTL_SECONDS,
     * as long as the page lets caches keep it, so new fulfilments, names and logos show within it.
     */
    async publicPage(slug: string): Promise<{ page: ImpactPage; impact: Impact }> {
      const page = SLUG.test(slug) ? await impact.findEnabledBySlug(slug) : null;
      const found = page && (await publicReports.remember(page.id, () => report(page, { from: null, to: null })));
      if (!page || !found) throw notFound("impact_page", slug);
      return { page, impact: found };
    },

    /**
     * Turns on the owner's page, creating it the first time (slug from the owner's name, all
     * equivalents) and otherwise keeping what is not given. A slug another page has is a conflict.
     */
    async enable(owner: ImpactOwner, options: EnableImpactPage = {}): Promise<ImpactPage> {
      if (options.slug !== undefined && !SLUG.test(options.slug)) throw invalidParameter("slug", SLUG_RULE);
      const equivalents = options.equivalents && checkEquivalents(options.equivalents);
      try {
        return await transaction(async (tx) => {
          const name = await impact.ownerName(owner, tx);
          if (name === null) {
            throw owner.subaccountId
              ? notFound("subaccount", owner.subaccountId)
              : notFound("account", owner.accountId);
          }
          const current = await impact.findByOwner(owner, tx);
          let slug = options.slug ?? current?.slug;
          if (slug !== undefined && (await impact.slugTaken(slug, current?.id ?? null, tx))) {
            throw conflict(`The impact page slug '${slug}' is taken by another page`);
          }
          if (slug === undefined) {
            slug = slugFrom(name);
            if (await impact.slugTaken(slug, null, tx)) slug = `${slug.slice(0, 57)}-${suffix()}`;
          }
          const fields = {
            slug,
            enabled: true,
            equivalents: equivalents ?? current?.equivalents ?? [...EQUIVALENT_KEYS],
          };
          const now = clock();
          return current
            ? impact.update(current.id, { ...fields, now }, tx)
            : impact.insert({ ...owner, ...fields, id: newId.impactPage(), now }, tx);
        });
      } catch (error) {
        // Another enable got there first (the same slug, or the same owner's first page).
        if (isUniqueViolation(error)) throw conflict("The impact page changed while it was being enabled; try again");
        throw error;
      }
    },

    /** Turns off the owner's page (its slug and equivalents are kept for the next enable). */
    async disable(owner: ImpactOwner): Promise<ImpactPage> {
      return transaction(async (tx) => {
        const current = await impact.findByOwner(owner, tx);
        if (!current) throw notFound("impact_page", owner.subaccountId ?? owner.accountId);
        return impact.update(
          current.id,
          { slug: current.slug, enabled: false, equivalents: current.equivalents, now: clock() },
          tx,
        );
      });
    },
  };
}

export type ImpactService = ReturnType<typeof createImpactService>;
