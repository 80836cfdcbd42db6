import { randomBytes } from "node:crypto";
import type { ProjectDetails } from "../../src/core/projects/projects.types.js";
import type { Database } from "../../src/db/database.js";

/**
 * Credits to fulfil orders from, written straight into the catalogue tables: categories with
 * their projects and issuances, allocated to a portfolio by fractions. Every call makes new ids,
 * so tests sharing a database do not meet each other's rows.
 */

export interface IssuanceSeed {
  vintage: number;
  /** Whole credits (tonnes), as decimal text. */
  tonnes: string;
  serialPrefix?: string | null;
  retiredKg?: string;
}

export interface ProjectSeed {
  name: string;
  type?: string;
  details?: ProjectDetails;
  issuances: IssuanceSeed[];
}

export interface CategorySeed {
  name: string;
  /** The portfolio's allocated fraction, as decimal text. */
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
  db: Database,
  portfolioId: string | null,
  categories: CategorySeed[],
): Promise<SeededCategory[]> {
  const seeded: SeededCategory[] = [];
  for (const [position, category] of categories.entries()) {
    const categoryId = uniqueId("cat");
    await db.prisma.projectCategory.create({ data: { id: categoryId, name: category.name } });
    if (portfolioId) {
      await db.prisma.portfolioCategoryAllocation.create({
        data: { portfolioId, categoryId, allocatedFraction: category.fraction, position },
      });
    }
    const projects: SeededCategory["projects"] = [];
    for (const [projectPosition, project] of category.projects.entries()) {
      const projectId = uniqueId("prj");
      await db.prisma.project.create({
        data: {
          id: projectId,
          categoryId,
          name: project.name,
          type: project.type ?? "Forestry",
          details: (project.details ?? {}) as object,
          position: projectPosition,
          creditIssuances: {
            create: project.issuances.map((i) => ({
              vintageYear: i.vintage,
              totalAmount: i.tonnes,
              serialPrefix: i.serialPrefix === undefined ? `SN-${projectId}-${i.vintage}` : i.serialPrefix,
              retiredKg: i.retiredKg ?? "0",
            })),
          },
        },
      });
      projects.push({ id: projectId, name: project.name });
    }
    seeded.push({ id: categoryId, name: category.name, projects });
  }
  return seeded;
}

/** What an issuance has retired so far, in kg, as decimal text. */
export async function retiredKg(db: Database, projectId: string, vintage: number): Promise<string> {
  const row = await db.prisma.creditIssuance.findUniqueOrThrow({
    where: { projectId_vintageYear: { projectId, vintageYear: vintage } },
  });
  return row.retiredKg.toString();
}

/** One category with one project holding plenty of credits (10,000 t), for tests about something else. */
export const plentyOfCredits = (name = "Reforestation"): CategorySeed[] => [
  {
    name,
    fraction: "1",
    projects: [
      {
        name: `${name} project`,
        details: { registryName: "Verra", registryUrl: "https://registry.example/projects/1" },
        issuances: [{ vintage: 2020, tonnes: "10000" }],
      },
    ],
  },
];
