import { type Db, Prisma } from "../../db/database.js";
import { Decimal } from "../money/money.js";
import type {
  CreditIssuance,
  PortfolioCategoryAllocation,
  Project,
  ProjectCategory,
  ProjectCategoryWithProjects,
  ProjectDetails,
  ProjectWithIssuances,
} from "./projects.types.js";

type ProjectRow = NonNullable<Awaited<ReturnType<Db["project"]["findUnique"]>>>;
type CategoryRow = NonNullable<Awaited<ReturnType<Db["projectCategory"]["findUnique"]>>>;
type IssuanceRow = NonNullable<Awaited<ReturnType<Db["creditIssuance"]["findUnique"]>>>;

/** A project row as Prisma reads it, as the core knows it (other features' queries read projects too). */
export const toProject = (row: ProjectRow): Project => ({
  id: row.id,
  categoryId: row.categoryId,
  name: row.name,
  type: row.type,
  unSdgGoals: row.unSdgGoals,
  details: (row.details ?? {}) as ProjectDetails,
  position: row.position,
});

const toCategory = (row: CategoryRow): ProjectCategory => ({
  id: row.id,
  name: row.name,
  description: row.description,
  primaryImageUrl: row.primaryImageUrl,
});

const toIssuance = (row: IssuanceRow): CreditIssuance => ({
  projectId: row.projectId,
  vintageYear: row.vintageYear,
  totalAmount: new Decimal(row.totalAmount.toString()),
  serialPrefix: row.serialPrefix,
  retiredKg: new Decimal(row.retiredKg.toString()),
});

interface LockedIssuanceRow {
  project_id: string;
  vintage_year: number;
  total_amount: string;
  serial_prefix: string | null;
  retired_kg: string;
}

/**
 * Locks the issuances matched by `where` (a condition on project_id) for the rest of `tx` and
 * returns them as they are once locked. Every transaction that writes issuances takes their locks
 * here first, in one order (project, vintage), so that fulfilments and catalogue imports touching
 * the same issuances queue rather than deadlock.
 */
export async function lockIssuances(tx: Db, where: Prisma.Sql): Promise<CreditIssuance[]> {
  const rows = await tx.$queryRaw<LockedIssuanceRow[]>`
    SELECT project_id, vintage_year, total_amount::text AS total_amount, serial_prefix, retired_kg::text AS retired_kg
    FROM credit_issuances
    WHERE ${where}
    ORDER BY project_id, vintage_year
    FOR UPDATE`;
  return rows.map((row) => ({
    projectId: row.project_id,
    vintageYear: Number(row.vintage_year),
    totalAmount: new Decimal(row.total_amount),
    serialPrefix: row.serial_prefix,
    retiredKg: new Decimal(row.retired_kg),
  }));
}

/** A category's projects in the order it shows them. */
const PROJECTS_IN_ORDER = { orderBy: [{ position: "asc" as const }, { id: "asc" as const }] };
const ISSUANCES_IN_ORDER = { orderBy: { vintageYear: "asc" as const } };

/** One portfolio allocation row as stored (the catalogue's export and an import's comparison). */
export interface AllocationRow {
  portfolioId: string;
  categoryId: string;
  allocatedFraction: Decimal;
  position: number;
}

/** Rows an import writes, as one JSON parameter each statement expands (jsonb_to_recordset). */
export interface CategoryWrite {
  id: string;
  name: string;
  description: string | null;
  primaryImageUrl: string | null;
}
export interface ProjectWrite {
  id: string;
  categoryId: string | null;
  name: string;
  type: string;
  unSdgGoals: number[];
  details: ProjectDetails;
  position: number;
}
export interface IssuanceWrite {
  projectId: string;
  vintageYear: number;
  totalAmount: Decimal;
  serialPrefix: string | null;
}

/**
 * Every query of the carbon catalogue: projects, their categories and credit issuances, and
 * portfolios' allocations to categories. The catalogue is installation-wide (no tenant column).
 * Reads load a whole tree in one query per level (Prisma's `include`), never one per row; the
 * import's writes are one statement per table, each a no-op for rows that would not change.
 */
export function createProjectsRepository(db: Db) {
  return {
    async findProject(id: string, tx: Db = db): Promise<ProjectWithIssuances | null> {
      const row = await tx.project.findUnique({ where: { id }, include: { creditIssuances: ISSUANCES_IN_ORDER } });
      return row ? { ...toProject(row), creditIssuances: row.creditIssuances.map(toIssuance) } : null;
    },

    async findCategory(id: string, tx: Db = db): Promise<ProjectCategoryWithProjects | null> {
      const row = await tx.projectCategory.findUnique({ where: { id }, include: { projects: PROJECTS_IN_ORDER } });
      return row ? { ...toCategory(row), projects: row.projects.map(toProject) } : null;
    },

    /** A portfolio's allocations in order, each category with its projects (three queries in all). */
    async allocationsOf(portfolioId: string, tx: Db = db): Promise<PortfolioCategoryAllocation[]> {
      const rows = await tx.portfolioCategoryAllocation.findMany({
        where: { portfolioId },
        orderBy: { position: "asc" },
        include: { category: { include: { projects: PROJECTS_IN_ORDER } } },
      });
      return rows.map((row) => ({
        allocatedFraction: new Decimal(row.allocatedFraction.toString()),
        category: { ...toCategory(row.category), projects: row.category.projects.map(toProject) },
      }));
    },

    /** Serialises catalogue imports (a transaction-scoped advisory lock, released at commit). */
    async lockForImport(tx: Db) {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('kassa_catalogue_import'))`;
    },

    async existingCategoryIds(ids: string[], tx: Db = db): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await tx.projectCategory.findMany({ where: { id: { in: ids } }, select: { id: true } });
      return new Set(rows.map((r) => r.id));
    },

    /**
     * The stored issuances of `projectIds`, locked for the rest of `tx` (see `lockIssuances`): what
     * they have retired cannot change until the import that checks it commits.
     */
    async lockIssuancesOf(projectIds: string[], tx: Db): Promise<CreditIssuance[]> {
      if (projectIds.length === 0) return [];
      return lockIssuances(
        tx,
        Prisma.sql`project_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(projectIds)}::jsonb))`,
      );
    },

    /** Allocation rows of the given portfolios, or of every portfolio; by portfolio, then position. */
    async allocationRows(portfolioIds?: string[], tx: Db = db): Promise<AllocationRow[]> {
      const rows = await tx.portfolioCategoryAllocation.findMany({
        where: portfolioIds ? { portfolioId: { in: portfolioIds } } : {},
        orderBy: [{ portfolioId: "asc" }, { position: "asc" }],
      });
      return rows.map((r) => ({ ...r, allocatedFraction: new Decimal(r.allocatedFraction.toString()) }));
    },

    async listCategories(tx: Db = db): Promise<ProjectCategory[]> {
      return (await tx.projectCategory.findMany({ orderBy: { id: "asc" } })).map(toCategory);
    },

    /** Every project with its issuances, in `position` order (two queries). */
    async listProjects(tx: Db = db): Promise<ProjectWithIssuances[]> {
      const rows = await tx.project.findMany({
        ...PROJECTS_IN_ORDER,
        include: { creditIssuances: ISSUANCES_IN_ORDER },
      });
      return rows.map((row) => ({ ...toProject(row), creditIssuances: row.creditIssuances.map(toIssuance) }));
    },

    /** Inserts or updates categories; returns how many rows changed. */
    async upsertCategories(rows: CategoryWrite[], tx: Db): Promise<number> {
      if (rows.length === 0) return 0;
      return tx.$executeRawUnsafe(
        `INSERT INTO project_categories (id, name, description, primary_image_url)
         SELECT r.id, r.name, r.description, r.primary_image_url
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, name text, description text, primary_image_url text)
         ON CONFLICT (id) DO UPDATE SET
           name = EXCLUDED.name, description = EXCLUDED.description, primary_image_url = EXCLUDED.primary_image_url
         WHERE (project_categories.name, project_categories.description, project_categories.primary_image_url)
           IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.description, EXCLUDED.primary_image_url)`,
        JSON.stringify(
          rows.map((r) => ({
            id: r.id,
            name: r.name,
            description: r.description,
            primary_image_url: r.primaryImageUrl,
          })),
        ),
      );
    },

    /** Inserts or updates projects; returns how many rows changed. */
    async upsertProjects(rows: ProjectWrite[], tx: Db): Promise<number> {
      if (rows.length === 0) return 0;
      return tx.$executeRawUnsafe(
        `INSERT INTO projects (id, category_id, name, type, un_sdg_goals, details, position)
         SELECT r.id, r.category_id, r.name, r.type,
                ARRAY(SELECT g.value::int FROM jsonb_array_elements_text(r.un_sdg_goals) WITH ORDINALITY g(value, n) ORDER BY g.n),
                r.details, r.position
         FROM jsonb_to_recordset($1::jsonb)
           AS r(id text, category_id text, name text, type text, un_sdg_goals jsonb, details jsonb, position int)
         ON CONFLICT (id) DO UPDATE SET
           category_id = EXCLUDED.category_id, name = EXCLUDED.name, type = EXCLUDED.type,
           un_sdg_goals = EXCLUDED.un_sdg_goals, details = EXCLUDED.details, position = EXCLUDED.position
         WHERE (projects.category_id, projects.name, projects.type, projects.un_sdg_goals, projects.details, projects.position)
           IS DISTINCT FROM (EXCLUDED.category_id, EXCLUDED.name, EXCLUDED.type, EXCLUDED.un_sdg_goals, EXCLUDED.details, EXCLUDED.position)`,
        JSON.stringify(
          rows.map((r) => ({
            id: r.id,
            category_id: r.categoryId,
            name: r.name,
            type: r.type,
            un_sdg_goals: r.unSdgGoals,
            details: r.details,
            position: r.position,
          })),
        ),
      );
    },

    /**
     * Inserts or updates issuances by (project, vintage), leaving `retired_kg` as it is; returns how
     * many changed. Rows are written in (project, vintage) order, the order `lockIssuances` takes.
     */
    async upsertIssuances(rows: IssuanceWrite[], tx: Db): Promise<number> {
      if (rows.length === 0) return 0;
      return tx.$executeRawUnsafe(
        `INSERT INTO credit_issuances (project_id, vintage_year, total_amount, serial_prefix)
         SELECT r.project_id, r.vintage_year, r.total_amount::numeric, r.serial_prefix
         FROM jsonb_to_recordset($1::jsonb) AS r(project_id text, vintage_year int, total_amount text, serial_prefix text)
         ORDER BY r.project_id, r.vintage_year
         ON CONFLICT (project_id, vintage_year) DO UPDATE SET
           total_amount = EXCLUDED.total_amount, serial_prefix = EXCLUDED.serial_prefix
         WHERE (credit_issuances.total_amount, credit_issuances.serial_prefix)
           IS DISTINCT FROM (EXCLUDED.total_amount, EXCLUDED.serial_prefix)`,
        JSON.stringify(
          rows.map((r) => ({
            project_id: r.projectId,
            vintage_year: r.vintageYear,
            total_amount: r.totalAmount.toFixed(),
            serial_prefix: r.serialPrefix,
          })),
        ),
      );
    },

    /** Replaces the allocations of `portfolioIds` with `rows` (two statements). */
    async replaceAllocations(portfolioIds: string[], rows: AllocationRow[], tx: Db) {
      if (portfolioIds.length === 0) return;
      await tx.portfolioCategoryAllocation.deleteMany({ where: { portfolioId: { in: portfolioIds } } });
      if (rows.length === 0) return;
      await tx.portfolioCategoryAllocation.createMany({
        data: rows.map((r) => ({ ...r, allocatedFraction: r.allocatedFraction.toFixed() })),
      });
    },
  };
}

export type ProjectsRepository = ReturnType<typeof createProjectsRepository>;
