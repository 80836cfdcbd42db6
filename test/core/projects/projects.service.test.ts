import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKassaServices } from "../../../src/composition.js";
import { type AppError, isAppError } from "../../../src/core/errors.js";
import { Decimal } from "../../../src/core/money/money.js";
import type { Catalogue } from "../../../src/core/projects/projects.types.js";
import type { Services } from "../../../src/core/services.js";
import type { Database } from "../../../src/db/database.js";
import { FIXTURE_IDS, fixtureCatalogue, seedCatalogue } from "../../helpers/catalogue.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";

let db: Database;
let drop: () => Promise<void>;
let services: Services;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  services = createKassaServices(db);
});
afterAll(() => drop());

let counter = 0;
async function newPortfolio() {
  return services.portfolios.create({
    id: `cat${++counter}`,
    name: `Catalogue test ${counter}`,
    checkoutPricePerKgUsdCents: new Decimal(2),
    apiPricePerKgUsdCents: new Decimal("1.5"),
  });
}

async function appError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

/** Everything the catalogue's tables hold, to compare before and after. */
async function snapshot() {
  const [categories, projects, issuances, allocations, portfolios] = await Promise.all([
    db.prisma.projectCategory.findMany({ orderBy: { id: "asc" }, omit: { createdAt: true } }),
    db.prisma.project.findMany({ orderBy: { id: "asc" }, omit: { createdAt: true } }),
    db.prisma.creditIssuance.findMany({ orderBy: [{ projectId: "asc" }, { vintageYear: "asc" }] }),
    db.prisma.portfolioCategoryAllocation.findMany({ orderBy: [{ portfolioId: "asc" }, { position: "asc" }] }),
    db.prisma.portfolio.findMany({ orderBy: { id: "asc" } }),
  ]);
  return JSON.parse(JSON.stringify({ categories, projects, issuances, allocations, portfolios }));
}

describe(`projects service: import and export (${storeKind})`, () => {
  it("imports the fixture, reads it back, and a second import changes nothing", async () => {
    const portfolio = await newPortfolio();
    const { result } = await seedCatalogue(services, { portfolioIds: [portfolio.id] });
    expect(result.projects.total).toBe(3);
    expect(result.creditIssuances.total).toBe(4);

    const ridge = await services.projects.getProject(FIXTURE_IDS.ridge);
    expect(ridge.name).toBe("Test Ridge Reforestation (fictional)");
    expect(ridge.creditIssuances.map((i) => [i.vintageYear, i.totalAmount.toFixed(), i.serialPrefix])).toEqual([
      [2021, "1000", "EX-RIDGE-2021"],
      [2022, "2500.5", "EX-RIDGE-2022"],
    ]);
    const forestry = await services.projects.getCategory(FIXTURE_IDS.forestry);
    expect(forestry.projects.map((p) => p.id)).toEqual([FIXTURE_IDS.ridge, FIXTURE_IDS.valley]);
    const allocations = await services.projects.allocationsFor(portfolio.id);
    expect(allocations.map((a) => [a.allocatedFraction.toFixed(), a.category.id, a.category.projects.length])).toEqual([
      ["0.6", FIXTURE_IDS.forestry, 2],
      ["0.4", FIXTURE_IDS.soil, 1],
    ]);

    const before = await snapshot();
    const again = await services.projects.importCatalogue(fixtureCatalogue([portfolio.id]));
    expect(Object.values(again).map((c) => c.changed)).toEqual([0, 0, 0, 0]);
    expect(await snapshot()).toEqual(before);
  });

  it("export then import is a no-op", async () => {
    await seedCatalogue(services, { portfolioIds: [(await newPortfolio()).id] });
    const exported = await services.projects.exportCatalogue();
    await services.projects.importCatalogue(exported); // positions may be renumbered once
    const before = await snapshot();
    const result = await services.projects.importCatalogue(await services.projects.exportCatalogue());
    expect(Object.values(result).map((c) => c.changed)).toEqual([0, 0, 0, 0]);
    expect(await snapshot()).toEqual(before);
    expect(await services.projects.exportCatalogue()).toEqual(exported);
  });

  it("refuses a bad catalogue with every problem under its path, writing nothing", async () => {
    await seedCatalogue(services);
    const portfolio = await newPortfolio();
    const before = await snapshot();
    const bad: Catalogue = {
      categories: [{ id: "newCat", name: "New", description: null, primaryImageUrl: null }],
      projects: [
        {
          id: "newProject",
          categoryId: "noSuchCategory",
          name: "New project",
          type: "Reforestation",
          unSdgGoals: [13],
          details: {},
          creditIssuances: [{ vintageYear: 2024, totalAmount: new Decimal(-1), serialPrefix: null }],
        },
      ],
      portfolios: [
        {
          id: portfolio.id,
          categoryAllocations: [
            { categoryId: "newCat", allocatedFraction: new Decimal("0.5") },
            { categoryId: FIXTURE_IDS.soil, allocatedFraction: new Decimal("0.4") },
          ],
        },
        { id: "noSuchPortfolio", summary: "x" },
      ],
    };
    const error = await appError(services.projects.importCatalogue(bad));
    expect(error.code).toBe("invalid_parameters");
    expect(Object.keys(error.details.fields ?? {}).sort()).toEqual([
      "portfolios.0.categoryAllocations",
      "projects.0.creditIssuances.0.totalAmount",
    ]);
    // Once the file is right in itself, the store's checks speak.
    bad.projects[0]!.creditIssuances[0]!.totalAmount = new Decimal(10);
    bad.portfolios[0]!.categoryAllocations![0]!.allocatedFraction = new Decimal("0.6");
    const stored = await appError(services.projects.importCatalogue(bad));
    expect(Object.keys(stored.details.fields ?? {}).sort()).toEqual(["portfolios.1.id", "projects.0.categoryId"]);
    expect(await snapshot()).toEqual(before);
  });
});
