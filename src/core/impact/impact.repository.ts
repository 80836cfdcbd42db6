import type { Db, Sql } from "../../db/database.js";
import { Decimal } from "../money/money.js";
import type { Project, ProjectDetails } from "../projects/projects.types.js";
import { type EquivalentKey, isEquivalentKey } from "./equivalents.js";
import type { ImpactOwner, ImpactPage, ImpactWindow } from "./impact.types.js";

/** One project's share of an owner's fulfilled orders in a window, with its category. */
export interface ProjectTotal {
  project: Project;
  category: { id: string; name: string; description: string | null };
  offsetKg: Decimal;
  vintageYears: number[];
}

/** What one statement reads for a report: the owner, the window's total and its projects. */
export interface ImpactTotals {
  name: string;
  logoId: string | null;
  createdAt: Date;
  totalKg: Decimal;
  projects: ProjectTotal[];
}

interface TotalsRow {
  name: string;
  logo_id: string | null;
  created_at: Date;
  total_kg: string;
  project_id: string | null;
  project_name: string;
  project_type: string;
  un_sdg_goals: number[] | null;
  details: ProjectDetails | null;
  position: number;
  category_id: string;
  category_name: string;
  category_description: string | null;
  project_kg: string;
  vintage_years: number[] | null;
}

/**
 * One statement, one snapshot: the owner (an account, or one of its live subaccounts; no row when
 * there is none), the sum of its fulfilled orders whose fulfilment falls in [$3, $4) (NULL: open),
 * and one row per project those orders' allocations drew from, with the kg and the distinct
 * vintages. A subaccount's report counts its own orders; an account's counts all of its orders,
 * its subaccounts' included. Projects without a category are left out of the rows (their kg stay
 * in the total).
 */
const TOTALS = `
WITH owner AS (
  SELECT COALESCE(s.name, a.name) AS name, s.logo_id, COALESCE(s.created_at, a.created_at) AS created_at
  FROM accounts a
  LEFT JOIN subaccounts s ON s.id = $2::text AND s.account_id = a.id AND s.deleted_at IS NULL
  WHERE a.id = $1::text AND ($2::text IS NULL OR s.id IS NOT NULL)
),
fulfilled AS (
  SELECT o.id, o.amount_kg
  FROM orders o
  WHERE o.account_id = $1::text
    AND ($2::text IS NULL OR o.subaccount_id = $2::text)
    AND o.state = 'fulfilled'
    AND ($3::timestamptz IS NULL OR o.fulfilled_at >= $3::timestamptz)
    AND ($4::timestamptz IS NULL OR o.fulfilled_at < $4::timestamptz)
),
total AS (SELECT COALESCE(SUM(amount_kg), 0) AS kg FROM fulfilled),
allocated AS (
  SELECT opa.project_id, opa.amount_kg, opa.vintage_years
  FROM order_project_allocations opa JOIN fulfilled f ON f.id = opa.order_id
),
by_project AS (SELECT project_id, SUM(amount_kg) AS kg FROM allocated GROUP BY project_id),
vintages AS (
  SELECT project_id, array_agg(DISTINCT y ORDER BY y) AS years
  FROM allocated CROSS JOIN LATERAL unnest(vintage_years) AS y
  GROUP BY project_id
)
SELECT owner.name, owner.logo_id, owner.created_at, total.kg::text AS total_kg,
       p.id AS project_id, p.name AS project_name, p.type AS project_type, p.un_sdg_goals, p.details,
       p.position, c.id AS category_id, c.name AS category_name, c.description AS category_description,
       bp.kg::text AS project_kg, v.years AS vintage_years
FROM owner CROSS JOIN total
LEFT JOIN (
  by_project bp
  JOIN projects p ON p.id = bp.project_id
  JOIN project_categories c ON c.id = p.category_id
  LEFT JOIN vintages v ON v.project_id = bp.project_id
) ON true`;

/** An enabled page by its slug, with an owner that still exists (a deleted subaccount has none). */
const ENABLED_PAGE_BY_SLUG = `
SELECT ip.id, ip.account_id, ip.subaccount_id, ip.slug, ip.enabled, ip.enabled_equivalents, ip.created_at, ip.updated_at
FROM impact_pages ip
LEFT JOIN subaccounts s ON s.id = ip.subaccount_id
WHERE ip.slug = $1 AND ip.enabled AND (ip.subaccount_id IS NULL OR s.deleted_at IS NULL)`;

interface PageRow {
  id: string;
  account_id: string;
  subaccount_id: string | null;
  slug: string;
  enabled: boolean;
  enabled_equivalents: string[] | null;
  created_at: Date;
  updated_at: Date;
}

/** Stored names the code no longer knows are dropped, not shown. */
const knownEquivalents = (stored: readonly string[] | null): EquivalentKey[] => (stored ?? []).filter(isEquivalentKey);

const fromRow = (row: PageRow): ImpactPage => ({
  id: row.id,
  accountId: row.account_id,
  subaccountId: row.subaccount_id,
  slug: row.slug,
  enabled: row.enabled,
  equivalents: knownEquivalents(row.enabled_equivalents),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

type PrismaPage = NonNullable<Awaited<ReturnType<Db["impactPage"]["findFirst"]>>>;

const toPage = (row: PrismaPage): ImpactPage => ({
  id: row.id,
  accountId: row.accountId,
  subaccountId: row.subaccountId,
  slug: row.slug,
  enabled: row.enabled,
  equivalents: knownEquivalents(row.enabledEquivalents),
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

export type ImpactPageFields = Pick<ImpactPage, "slug" | "enabled" | "equivalents">;

export function createImpactRepository(db: Db, sql: Sql) {
  return {
    /** The report's numbers for `owner` in `window`, in one statement; null when the owner does not exist. */
    async totals(owner: ImpactOwner, window: ImpactWindow): Promise<ImpactTotals | null> {
      const rows = await sql.query<TotalsRow>({
        text: TOTALS,
        values: [owner.accountId, owner.subaccountId, window.from, window.to],
      });
      const first = rows[0];
      if (!first) return null;
      return {
        name: first.name,
        logoId: first.logo_id,
        createdAt: first.created_at,
        totalKg: new Decimal(first.total_kg),
        projects: rows
          .filter((r) => r.project_id !== null)
          .map((r) => ({
            project: {
              id: r.project_id!,
              categoryId: r.category_id,
              name: r.project_name,
              type: r.project_type,
              unSdgGoals: r.un_sdg_goals ?? [],
              details: r.details ?? {},
              position: r.position,
            },
            category: { id: r.category_id, name: r.category_name, description: r.category_description },
            offsetKg: new Decimal(r.project_kg),
            vintageYears: r.vintage_years ?? [],
          })),
      };
    },

    async findEnabledBySlug(slug: string): Promise<ImpactPage | null> {
      const [row] = await sql.query<PageRow>({ text: ENABLED_PAGE_BY_SLUG, values: [slug] });
      return row ? fromRow(row) : null;
    },

    async findByOwner(owner: ImpactOwner, tx: Db = db): Promise<ImpactPage | null> {
      const row = await tx.impactPage.findFirst({
        where: { accountId: owner.accountId, subaccountId: owner.subaccountId },
      });
      return row ? toPage(row) : null;
    },

    /** Whether another page than `exceptId` has `slug`. */
    async slugTaken(slug: string, exceptId: string | null, tx: Db = db): Promise<boolean> {
      const row = await tx.impactPage.findFirst({
        where: { slug, ...(exceptId ? { NOT: { id: exceptId } } : {}) },
        select: { id: true },
      });
      return row !== null;
    },

    /** The owner's name (for a default slug); null when the account, or the live subaccount in it, does not exist. */
    async ownerName(owner: ImpactOwner, tx: Db = db): Promise<string | null> {
      if (owner.subaccountId === null) {
        const account = await tx.account.findUnique({ where: { id: owner.accountId }, select: { name: true } });
        return account?.name ?? null;
      }
      const subaccount = await tx.subaccount.findFirst({
        where: { id: owner.subaccountId, accountId: owner.accountId, deletedAt: null },
        select: { name: true },
      });
      return subaccount?.name ?? null;
    },

    async insert(page: ImpactOwner & ImpactPageFields & { id: string; now: Date }, tx: Db = db): Promise<ImpactPage> {
      const row = await tx.impactPage.create({
        data: {
          id: page.id,
          accountId: page.accountId,
          subaccountId: page.subaccountId,
          slug: page.slug,
          enabled: page.enabled,
          enabledEquivalents: page.equivalents,
          createdAt: page.now,
          updatedAt: page.now,
        },
      });
      return toPage(row);
    },

    async update(id: string, fields: ImpactPageFields & { now: Date }, tx: Db = db): Promise<ImpactPage> {
      const row = await tx.impactPage.update({
        where: { id },
        data: {
          slug: fields.slug,
          enabled: fields.enabled,
          enabledEquivalents: fields.equivalents,
          updatedAt: fields.now,
        },
      });
      return toPage(row);
    },
  };
}

export type ImpactRepository = ReturnType<typeof createImpactRepository>;
