import type { Db, Transactor } from "../../db/database.js";
import { invalidParameters, notFound } from "../errors.js";
import type { PortfoliosRepository } from "../portfolios/portfolios.repository.js";
import { catalogueProblems, categoriesReferencedOutside } from "./catalogue-rules.js";
import type { AllocationRow, ProjectsRepository } from "./projects.repository.js";
import type {
  Catalogue,
  CatalogueImportResult,
  CataloguePortfolio,
  PortfolioCategoryAllocation,
  ProjectCategoryWithProjects,
  ProjectWithIssuances,
} from "./projects.types.js";

/** Allocation rows by portfolio, each portfolio's in position order. */
function byPortfolio(rows: AllocationRow[]): Map<string, AllocationRow[]> {
  const grouped = new Map<string, AllocationRow[]>();
  for (const row of rows) {
    const list = grouped.get(row.portfolioId);
    if (list) list.push(row);
    else grouped.set(row.portfolioId, [row]);
  }
  return grouped;
}

const INVALID_CATALOGUE = "The catalogue did not validate; nothing was imported";

/** Whether a portfolio's stored allocations already are the ones given (same categories, order and fractions). */
function sameAllocations(stored: AllocationRow[], given: NonNullable<CataloguePortfolio["categoryAllocations"]>) {
  return (
    stored.length === given.length &&
    stored.every((s, i) => s.categoryId === given[i]!.categoryId && s.allocatedFraction.eq(given[i]!.allocatedFraction))
  );
}

/**
 * The carbon catalogue: projects with their credit issuances, their categories, and portfolios'
 * allocations to categories. It is installation-wide, like portfolios: every account sees the
 * same catalogue. Operators load it with `importCatalogue` (one transaction) and read it back
 * with `exportCatalogue`, in the same shape, so exporting and importing again changes nothing.
 */
export function createProjectsService(deps: {
  projects: ProjectsRepository;
  portfolios: Pick<PortfoliosRepository, "findByIds" | "describe" | "list">;
  transaction: Transactor;
  /** Forgets remembered portfolios at once after this instance changed one (the NOTIFY follows). */
  catalogChanged?: () => void;
}) {
  const { projects, portfolios, transaction } = deps;

  async function writeCatalogue(catalogue: Catalogue, tx: Db): Promise<CatalogueImportResult> {
    await projects.lockForImport(tx);
    const problems = catalogueProblems(catalogue);

    // What the file names but does not define must already be in the store.
    const known = await projects.existingCategoryIds(categoriesReferencedOutside(catalogue), tx);
    const defined = new Set(catalogue.categories.map((c) => c.id));
    const categoryExists = (id: string) => defined.has(id) || known.has(id);
    catalogue.projects.forEach((project, i) => {
      if (project.categoryId !== null && !categoryExists(project.categoryId)) {
        problems.add(
          `projects.${i}.categoryId`,
          `names no category in the file or the store ('${project.categoryId}')`,
        );
      }
    });
    const portfolioIds = catalogue.portfolios.map((p) => p.id);
    const stored = new Map((await portfolios.findByIds(portfolioIds, tx)).map((p) => [p.id, p]));
    catalogue.portfolios.forEach((portfolio, i) => {
      if (!stored.has(portfolio.id)) {
        problems.add(
          `portfolios.${i}.id`,
          `names no portfolio ('${portfolio.id}'); portfolios are created with their prices first`,
        );
      }
      portfolio.categoryAllocations?.forEach((a, j) => {
        if (!categoryExists(a.categoryId)) {
          problems.add(
            `portfolios.${i}.categoryAllocations.${j}.categoryId`,
            `names no category in the file or the store ('${a.categoryId}')`,
          );
        }
      });
    });
    // An issuance cannot shrink below what orders already retired from it. Its row is locked
    // before it is read, so no fulfilment retires more from it until this import commits (one
    // waiting for the lock then finds the new total); a fulfilment holding it is waited for.
    const issued = await projects.lockIssuancesOf(
      catalogue.projects.map((p) => p.id),
      tx,
    );
    const retired = new Map(issued.map((i) => [`${i.projectId}/${i.vintageYear}`, i.retiredKg]));
    catalogue.projects.forEach((project, i) => {
      project.creditIssuances.forEach((issuance, j) => {
        const kg = retired.get(`${project.id}/${issuance.vintageYear}`);
        if (kg && issuance.totalAmount.isFinite() && issuance.totalAmount.times(1000).lt(kg)) {
          problems.add(
            `projects.${i}.creditIssuances.${j}.totalAmount`,
            `must be at least the ${kg.div(1000).toFixed()} tonnes already retired`,
          );
        }
      });
    });
    if (problems.any) throw invalidParameters(problems.fields, INVALID_CATALOGUE);

    const categoriesChanged = await projects.upsertCategories(catalogue.categories, tx);
    const projectsChanged = await projects.upsertProjects(
      catalogue.projects.map((p, position) => ({ ...p, position })),
      tx,
    );
    const issuances = catalogue.projects.flatMap((p) => p.creditIssuances.map((i) => ({ ...i, projectId: p.id })));
    const issuancesChanged = await projects.upsertIssuances(issuances, tx);

    const allocated = catalogue.portfolios.filter((p) => p.categoryAllocations !== undefined);
    const storedAllocations = byPortfolio(
      await projects.allocationRows(
        allocated.map((p) => p.id),
        tx,
      ),
    );
    const changedPortfolios = new Set<string>();
    const replaced = allocated.filter(
      (p) => !sameAllocations(storedAllocations.get(p.id) ?? [], p.categoryAllocations!),
    );
    await projects.replaceAllocations(
      replaced.map((p) => p.id),
      replaced.flatMap((p) => p.categoryAllocations!.map((a, position) => ({ portfolioId: p.id, ...a, position }))),
      tx,
    );
    for (const p of replaced) changedPortfolios.add(p.id);
    for (const p of catalogue.portfolios) {
      const current = stored.get(p.id)!;
      const fields = { summary: p.summary, description: p.description, primaryImageUrl: p.primaryImageUrl };
      const changes = Object.fromEntries(
        Object.entries(fields).filter(([k, v]) => v !== undefined && v !== current[k as keyof typeof fields]),
      );
      if (Object.keys(changes).length === 0) continue;
      await portfolios.describe(p.id, changes, tx);
      changedPortfolios.add(p.id);
    }

    return {
      categories: { total: catalogue.categories.length, changed: categoriesChanged },
      projects: { total: catalogue.projects.length, changed: projectsChanged },
      creditIssuances: { total: issuances.length, changed: issuancesChanged },
      portfolios: { total: catalogue.portfolios.length, changed: changedPortfolios.size },
    };
  }

  return {
    async getProject(id: string): Promise<ProjectWithIssuances> {
      const project = await projects.findProject(id);
      if (!project) throw notFound("project", id);
      return project;
    },

    async getCategory(id: string): Promise<ProjectCategoryWithProjects> {
      const category = await projects.findCategory(id);
      if (!category) throw notFound("project_category", id);
      return category;
    },

    /** A portfolio's allocations, each category with its projects (none for an unknown portfolio). */
    allocationsFor: (portfolioId: string): Promise<PortfolioCategoryAllocation[]> =>
      projects.allocationsOf(portfolioId),

    /**
     * Loads a catalogue: categories, projects and issuances upserted, portfolios' descriptions set
     * and allocations replaced, in one transaction (`tx` when given), serialised with other imports.
     * Nothing is written unless all of it is valid; the problems name their paths in the file.
     */
    async importCatalogue(catalogue: Catalogue, tx?: Db): Promise<CatalogueImportResult> {
      // Checked before a transaction opens too, so a file that cannot be right costs no lock.
      const problems = catalogueProblems(catalogue);
      if (problems.any) throw invalidParameters(problems.fields, INVALID_CATALOGUE);
      if (tx) return writeCatalogue(catalogue, tx);
      const result = await transaction((tx) => writeCatalogue(catalogue, tx));
      if (result.portfolios.changed > 0) deps.catalogChanged?.();
      return result;
    },

    /** The whole catalogue in the shape `importCatalogue` takes (projects in their `position` order). */
    async exportCatalogue(): Promise<Catalogue> {
      return transaction(async (tx) => {
        const categories = await projects.listCategories(tx);
        const allProjects = await projects.listProjects(tx);
        const allPortfolios = await portfolios.list(tx);
        const allocations = byPortfolio(await projects.allocationRows(undefined, tx));
        return {
          categories,
          projects: allProjects.map((p) => ({
            id: p.id,
            categoryId: p.categoryId,
            name: p.name,
            type: p.type,
            unSdgGoals: p.unSdgGoals,
            details: p.details,
            creditIssuances: p.creditIssuances.map((i) => ({
              vintageYear: i.vintageYear,
              totalAmount: i.totalAmount,
              serialPrefix: i.serialPrefix,
            })),
          })),
          portfolios: allPortfolios.map((p) => ({
            id: p.id,
            summary: p.summary,
            description: p.description,
            primaryImageUrl: p.primaryImageUrl,
            categoryAllocations: (allocations.get(p.id) ?? []).map((a) => ({
              categoryId: a.categoryId,
              allocatedFraction: a.allocatedFraction,
            })),
          })),
        };
      });
    },
  };
}

export type ProjectsService = ReturnType<typeof createProjectsService>;
