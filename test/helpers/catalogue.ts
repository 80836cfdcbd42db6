import { Decimal } from "../../src/core/money/money.js";
import type { Catalogue, CatalogueProject, ProjectDetails } from "../../src/core/projects/projects.types.js";
import type { Services } from "../../src/core/services.js";

/**
 * A small, fictional carbon catalogue for tests, loaded through the projects service exactly as
 * `kassa catalog import` loads a file: two categories, three projects with credit issuances (one
 * project with every optional field), and, for the portfolios named, allocations of 0.6 / 0.4.
 * The catalogue is installation-wide, so seeding twice (or from two tests of one file) is a no-op.
 */

export const FIXTURE_IDS = {
  forestry: "tcatForestry",
  soil: "tcatSoil",
  /** Forestry; every optional field set. */
  ridge: "tprjRidge",
  /** Forestry; only the required fields. */
  valley: "tprjValley",
  /** Soil carbon. */
  meadow: "tprjMeadow",
} as const;

/** Every optional field of a project, with fictional values (hosts under .example). */
export const FULL_DETAILS: ProjectDetails = {
  activityTypes: ["Afforestation", "Reforestation"],
  developer: "Example Forestry Cooperative (fictional)",
  registryName: "Example Registry",
  registryId: "EX-1001",
  registryUrl: "https://registry.example/projects/EX-1001",
  summary: "Native trees on former pasture.",
  description: "A fictional reforestation project used by Kassa's tests.",
  locationName: "Example Ridge, Nowhere",
  locationLatitude: 12.5,
  locationLongitude: -45.25,
  primaryImageUrl: "https://images.example/ridge.jpg",
  methodology: "EX-AR-001",
  verifier: "Example Verification Ltd",
  permanence: "40+ years",
  lifetime: { startYear: 2015, endYear: 2055 },
  impactType: "removal",
  dueDiligence: "Site visits and satellite checks.",
  beyondCarbon: "Habitat for birds.",
  riskOfReversal: "Low: fire breaks and a buffer pool.",
  thirdPartyLabels: ["Example Label"],
  notableBuyers: [
    { name: "Example Corp", logoUrl: "https://images.example/corp.png", logoAltText: "Example Corp logo" },
  ],
  dueDiligenceFigure: {
    description: "Canopy cover over time",
    imageUrl: "https://images.example/canopy.png",
    imageAltText: "A chart of canopy cover",
  },
  newsArticles: [
    {
      title: "Trees return to Example Ridge",
      url: "https://news.example/ridge",
      author: "A. Writer",
      publishedOn: "2024-03-01",
      take: "A fair account.",
    },
  ],
};

const issuance = (vintageYear: number, tonnes: string, serialPrefix: string) => ({
  vintageYear,
  totalAmount: new Decimal(tonnes),
  serialPrefix,
});

export const FIXTURE_PROJECTS: CatalogueProject[] = [
  {
    id: FIXTURE_IDS.ridge,
    categoryId: FIXTURE_IDS.forestry,
    name: "Test Ridge Reforestation (fictional)",
    type: "Reforestation",
    unSdgGoals: [13, 15],
    details: FULL_DETAILS,
    creditIssuances: [issuance(2021, "1000", "EX-RIDGE-2021"), issuance(2022, "2500.5", "EX-RIDGE-2022")],
  },
  {
    id: FIXTURE_IDS.valley,
    categoryId: FIXTURE_IDS.forestry,
    name: "Test Valley Mangroves (fictional)",
    type: "Blue carbon",
    unSdgGoals: [14],
    details: {},
    creditIssuances: [issuance(2020, "800", "EX-VALLEY-2020")],
  },
  {
    id: FIXTURE_IDS.meadow,
    categoryId: FIXTURE_IDS.soil,
    name: "Test Meadow Soil Carbon (fictional)",
    type: "Soil carbon",
    unSdgGoals: [2, 13],
    details: {
      developer: "Example Soil Partners (fictional)",
      registryUrl: "https://registry.example/projects/EX-2002",
    },
    creditIssuances: [issuance(2023, "600", "EX-MEADOW-2023")],
  },
];

/** The fixture, with allocations (forestry 0.6, soil 0.4) for each of `portfolioIds`. */
export function fixtureCatalogue(portfolioIds: string[] = []): Catalogue {
  return {
    categories: [
      {
        id: FIXTURE_IDS.forestry,
        name: "Test Forestry (fictional)",
        description: "Trees planted and protected.",
        primaryImageUrl: "https://images.example/forestry.jpg",
      },
      { id: FIXTURE_IDS.soil, name: "Test Soil Carbon (fictional)", description: null, primaryImageUrl: null },
    ],
    projects: FIXTURE_PROJECTS,
    portfolios: portfolioIds.map((id) => ({
      id,
      categoryAllocations: [
        { categoryId: FIXTURE_IDS.forestry, allocatedFraction: new Decimal("0.6") },
        { categoryId: FIXTURE_IDS.soil, allocatedFraction: new Decimal("0.4") },
      ],
    })),
  };
}

/**
 * Loads the fixture through `services.projects.importCatalogue` and gives portfolios `portfolioIds`
 * (which must exist) the fixture's allocations. Returns the ids and the import's result.
 */
export async function seedCatalogue(services: Services, opts: { portfolioIds?: string[] } = {}) {
  const catalogue = fixtureCatalogue(opts.portfolioIds);
  const result = await services.projects.importCatalogue(catalogue);
  return { ids: FIXTURE_IDS, catalogue, result };
}
