import { Decimal } from "../money/money.js";
import type { Catalogue, CatalogueProject } from "../projects/projects.types.js";
import type { Services } from "../services.js";

export interface DemoSeed {
  accountId: string;
  portfolioId: string;
  apiKey: string;
}

/** The demo portfolio's prices: 2 cents per kg at checkout (100 kg = $2.00), 1.8 through the API. */
export const DEMO_PORTFOLIO = {
  id: "demo",
  name: "Demo Climate Portfolio",
  summary: "A sample portfolio for trying Kassa",
  checkoutPricePerKgUsdCents: new Decimal(2),
  apiPricePerKgUsdCents: new Decimal("1.8"),
};

const REGISTRY = "https://registry.example/projects";

const demoProject = (
  id: string,
  categoryId: string,
  name: string,
  type: string,
  unSdgGoals: number[],
  registryId: string,
  issuances: [year: number, tonnes: string][],
  details: CatalogueProject["details"] = {},
): CatalogueProject => ({
  id,
  categoryId,
  name,
  type,
  unSdgGoals,
  details: {
    registryName: "Example Registry (fictional)",
    registryId,
    registryUrl: `${REGISTRY}/${registryId}`,
    ...details,
  },
  creditIssuances: issuances.map(([vintageYear, tonnes]) => ({
    vintageYear,
    totalAmount: new Decimal(tonnes),
    serialPrefix: `${registryId}-${vintageYear}`,
  })),
});

/**
 * The demo's carbon catalogue: made up from end to end (every name says "fictional", every link
 * is on registry.example), so nobody takes it for real credits. Replace it with
 * `kassa catalog import` (see README, "The carbon catalogue").
 */
export const DEMO_CATALOGUE: Catalogue = {
  categories: [
    {
      id: "demoForest",
      name: "Example Forests (fictional)",
      description: "Made-up projects that plant and protect trees.",
      primaryImageUrl: null,
    },
    {
      id: "demoSoil",
      name: "Example Soil Carbon (fictional)",
      description: "Made-up projects that store carbon in farm soils.",
      primaryImageUrl: null,
    },
    {
      id: "demoRemoval",
      name: "Example Engineered Removal (fictional)",
      description: "Made-up projects that remove carbon with technology.",
      primaryImageUrl: null,
    },
  ],
  projects: [
    demoProject(
      "demoRidge",
      "demoForest",
      "Example Ridge Reforestation (fictional)",
      "Reforestation",
      [13, 15],
      "EXR-0001",
      [
        [2022, "5000"],
        [2023, "8000"],
      ],
      {
        developer: "Example Growers Cooperative (fictional)",
        summary: "Native trees on made-up pasture. A demo entry: no such project or credits exist.",
        locationName: "Nowhere Ridge, Exampleland (fictional)",
        methodology: "EX-REF-1 (fictional)",
        impactType: "removal",
        lifetime: { startYear: 2020, endYear: 2060 },
      },
    ),
    demoProject(
      "demoMangrove",
      "demoForest",
      "Example Bay Mangroves (fictional)",
      "Blue carbon",
      [13, 14],
      "EXR-0002",
      [[2021, "3000"]],
      { summary: "Made-up mangrove restoration. A demo entry: no such project or credits exist." },
    ),
    demoProject(
      "demoFarm",
      "demoSoil",
      "Example Valley Farm Soil (fictional)",
      "Soil carbon",
      [2, 13, 15],
      "EXR-0003",
      [[2023, "4000"]],
    ),
    demoProject(
      "demoPrairie",
      "demoSoil",
      "Example Prairie Grassland (fictional)",
      "Grassland conservation",
      [13, 15],
      "EXR-0004",
      [[2024, "2500"]],
    ),
    demoProject("demoBiochar", "demoRemoval", "Example Works Biochar (fictional)", "Biochar", [9, 13], "EXR-0005", [
      [2024, "1500"],
    ]),
  ],
  portfolios: [
    {
      id: DEMO_PORTFOLIO.id,
      description: "A fictional blend of example forests, soil and engineered removal, for trying Kassa.",
      categoryAllocations: [
        { categoryId: "demoForest", allocatedFraction: new Decimal("0.5") },
        { categoryId: "demoSoil", allocatedFraction: new Decimal("0.3") },
        { categoryId: "demoRemoval", allocatedFraction: new Decimal("0.2") },
      ],
    },
  ],
};

/**
 * On an empty store, creates a demo account, one secret key, a default portfolio and the
 * fictional demo catalogue (DEMO_CATALOGUE, allocated by that portfolio) so a new user can try the
 * API at once. Returns the key (to print once), or null when the store already
 * has accounts. The caller holds the migration lock, so concurrent instances seed at most once.
 */
export async function seedDemoIfEmpty(services: Services): Promise<DemoSeed | null> {
  if ((await services.repos.accounts.count()) > 0) return null;
  // One transaction: a crash midway must not leave an account without the key that was never shown.
  return services.transaction(async (tx) => {
    const portfolio =
      (await services.repos.portfolios.findById(DEMO_PORTFOLIO.id, tx)) ??
      (await services.portfolios.create({ ...DEMO_PORTFOLIO, isDefault: true }, tx));
    await services.projects.importCatalogue(DEMO_CATALOGUE, tx);
    const account = await services.accounts.create({ name: "Demo account", defaultPortfolioId: portfolio.id }, tx);
    const key = await services.apiKeys.create(account.id, tx);
    return { accountId: account.id, portfolioId: portfolio.id, apiKey: key.secret };
  });
}
