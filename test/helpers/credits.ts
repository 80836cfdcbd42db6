import { randomBytes } from "node:crypto";
import { Decimal } from "../../src/core/money/money.js";
import type { Catalogue, ProjectDetails } from "../../src/core/projects/projects.types.js";
import type { Services } from "../../src/core/services.js";
import type { Database } from "../../src/db/database.js";

/**
 * Credits to fulfil orders from, shaped by the test: categories with their projects and
 * issuances, allocated to a portfolio by fractions, loaded through the catalogue import
 * (`services.projects.importCatalogue`) as an operator's file would be. Every call makes new ids,
 * so tests sharing a database never draw on each other's issuances and their serial numbers are
 * their own. (For a fixed, shared catalogue see `seedCatalogue` in ./catalogue.ts.)
 */

export interface IssuanceSeed {
  vintage: number;
  /** Whole credits (tonnes), as decimal text. */
  tonnes: string;
  /** Defaults to `SN-<project id>-<vintage>`; null for an issuance without serial numbers. */
  serialPrefix?: string | null;
}

export interface ProjectSeed {
  name: string;
  type?: string;
  details?: ProjectDetails;
  issuances: IssuanceSeed[];
}

export interface CategorySeed {
  name: string;
  /** The portfolio's allocated fraction, as decimal text (a portfolio's sum to 1). */
  fraction: string;
  projects: ProjectSeed[];
}

export interface SeededCategory {
  id: string;
  name: string;
  projects: { id: string; name: string }[];
}

const uniqueId = (prefix: string) => `${prefix}${randomBytes(5).toString("hex")}`;

export async function seedCredits(
  services: Pick<Services, "projects">,
  portfolioId: string,
  categories: CategorySeed[],
): Promise<SeededCategory[]> {
  const seeded: SeededCategory[] = categories.map((c) => ({
    id: uniqueId("cat"),
    name: c.name,
    projects: c.projects.map((p) => ({ id: uniqueId("prj"), name: p.name })),
  }));
  const catalogue: Catalogue = {
    categories: seeded.map((c) => ({ id: c.id, name: c.name, description: null, primaryImageUrl: null })),
    projects: categories.flatMap((c, i) =>
      c.projects.map((p, j) => {
        const id = seeded[i]!.projects[j]!.id;
        return {
          id,
          categoryId: seeded[i]!.id,
          name: p.name,
          type: p.type ?? "Forestry",
          unSdgGoals: [],
          details: p.details ?? {},
          creditIssuances: p.issuances.map((s) => ({
            vintageYear: s.vintage,
            totalAmount: new Decimal(s.tonnes),
            serialPrefix: s.serialPrefix === undefined ? `SN-${id}-${s.vintage}` : s.serialPrefix,
          })),
        };
      }),
    ),
    portfolios: [
      {
        id: portfolioId,
        categoryAllocations: categories.map((c, i) => ({
          categoryId: seeded[i]!.id,
          allocatedFraction: new Decimal(c.fraction),
        })),
      },
    ],
  };
  await services.projects.importCatalogue(catalogue);
  return seeded;
}

/** What an issuance has retired so far, in kg, as decimal text. */
export async function retiredKg(db: Database, projectId: string, vintage: number): Promise<string> {
  const row = await db.prisma.creditIssuance.findUniqueOrThrow({
    where: { projectId_vintageYear: { projectId, vintageYear: vintage } },
  });
  return row.retiredKg.toString();
}

/** One category with one project holding plenty of credits (10,000 t of 2020). */
export const plentyOfCredits = (name = "Reforestation"): CategorySeed[] => [
  {
    name,
    fraction: "1",
    projects: [
      {
        name: `${name} project`,
        details: { registryName: "Example Registry", registryUrl: "https://registry.example/projects/1" },
        issuances: [{ vintage: 2020, tonnes: "10000" }],
      },
    ],
  },
];
