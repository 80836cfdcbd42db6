import { describe, expect, it } from "vitest";
import { filePath, parseCatalogueFile } from "../../../src/admin/catalogue-file.js";
import { isAppError } from "../../../src/core/errors.js";
import { Decimal } from "../../../src/core/money/money.js";
import { catalogueProblems } from "../../../src/core/projects/catalogue-rules.js";
import type { Catalogue, CatalogueProject } from "../../../src/core/projects/projects.types.js";
import { fixtureCatalogue } from "../../helpers/catalogue.js";

/** The checks a catalogue passes before any store is asked (pure), and the file's own shape. */

const project = (overrides: Partial<CatalogueProject> = {}): CatalogueProject => ({
  id: "p1",
  categoryId: "c1",
  name: "Example (fictional)",
  type: "Reforestation",
  unSdgGoals: [13],
  details: {},
  creditIssuances: [{ vintageYear: 2023, totalAmount: new Decimal(10), serialPrefix: null }],
  ...overrides,
});

const catalogue = (c: Partial<Catalogue>): Catalogue => ({
  categories: [{ id: "c1", name: "Category", description: null, primaryImageUrl: null }],
  projects: [],
  portfolios: [],
  ...c,
});

const problemPaths = (c: Catalogue) => Object.keys(catalogueProblems(c).fields).sort();

describe("catalogueProblems", () => {
  it("finds none in the test fixture", () => {
    expect(catalogueProblems(fixtureCatalogue(["somePortfolio"])).any).toBe(false);
  });

  it("names each bad value by its core path", () => {
    const bad = project({
      id: "has space",
      name: "  ",
      unSdgGoals: [0, 18],
      details: {
        registryUrl: "javascript:alert(1)",
        primaryImageUrl: "http://images.example/plain-http.jpg",
        locationLatitude: 91,
        locationLongitude: -181,
        lifetime: { startYear: 2050, endYear: 2020 },
        notableBuyers: [{ name: "", logoUrl: "https://images.example/l.png" }],
        newsArticles: [
          { title: "t", url: "https://news.example", author: "a", publishedOn: "", take: "x".repeat(10_001) },
        ],
      },
      creditIssuances: [
        { vintageYear: 1800, totalAmount: new Decimal("1e9"), serialPrefix: null },
        { vintageYear: 2023, totalAmount: new Decimal("0.0000001"), serialPrefix: "" },
        { vintageYear: 2023, totalAmount: new Decimal(0), serialPrefix: null },
      ],
    });
    expect(problemPaths(catalogue({ projects: [bad] }))).toEqual(
      [
        "projects.0.id",
        "projects.0.name",
        "projects.0.unSdgGoals",
        "projects.0.details.registryUrl",
        "projects.0.details.primaryImageUrl",
        "projects.0.details.locationLatitude",
        "projects.0.details.locationLongitude",
        "projects.0.details.lifetime.endYear",
        "projects.0.details.notableBuyers.0.name",
        "projects.0.details.newsArticles.0.publishedOn",
        "projects.0.details.newsArticles.0.take",
        "projects.0.creditIssuances.0.vintageYear",
        "projects.0.creditIssuances.0.totalAmount",
        "projects.0.creditIssuances.1.totalAmount",
        "projects.0.creditIssuances.1.serialPrefix",
        "projects.0.creditIssuances.2.vintageYear",
        "projects.0.creditIssuances.2.totalAmount",
      ].sort(),
    );
  });

  it("refuses repeated ids, goals and allocation categories", () => {
    const c = catalogue({
      categories: [
        { id: "c1", name: "A", description: null, primaryImageUrl: null },
        { id: "c1", name: "B", description: null, primaryImageUrl: null },
      ],
      projects: [project(), project({ unSdgGoals: [13, 13] })],
      portfolios: [
        {
          id: "pf",
          categoryAllocations: [
            { categoryId: "c1", allocatedFraction: new Decimal("0.5") },
            { categoryId: "c1", allocatedFraction: new Decimal("0.5") },
          ],
        },
        { id: "pf" },
      ],
    });
    const fields = catalogueProblems(c).fields;
    expect(Object.keys(fields).sort()).toEqual(
      [
        "categories.1.id",
        "projects.1.id",
        "projects.1.unSdgGoals",
        "portfolios.0.categoryAllocations.1.categoryId",
        "portfolios.1.id",
      ].sort(),
    );
    expect(fields["projects.1.id"]).toEqual(["repeats projects.0.id ('p1')"]);
  });

  it("allocations: each fraction in (0, 1] with at most 8 decimals, summing to exactly 1; none is fine", () => {
    const allocate = (...fractions: string[]) =>
      catalogueProblems(
        catalogue({
          categories: fractions.map((_, i) => ({ id: `c${i}`, name: "C", description: null, primaryImageUrl: null })),
          portfolios: [
            {
              id: "pf",
              categoryAllocations: fractions.map((f, i) => ({
                categoryId: `c${i}`,
                allocatedFraction: new Decimal(f),
              })),
            },
          ],
        }),
      ).fields;
    expect(allocate()).toEqual({});
    expect(allocate("1")).toEqual({});
    expect(allocate("0.33333333", "0.33333333", "0.33333334")).toEqual({});
    expect(allocate("0.33333333", "0.33333333", "0.33333333")).toEqual({
      "portfolios.0.categoryAllocations": ["fractions must sum to exactly 1 (these sum to 0.99999999)"],
    });
    expect(Object.keys(allocate("0.5", "0.500000001"))).toEqual([
      "portfolios.0.categoryAllocations.1.allocatedFraction",
    ]);
    expect(Object.keys(allocate("1.5", "-0.5"))).toEqual([
      "portfolios.0.categoryAllocations.0.allocatedFraction",
      "portfolios.0.categoryAllocations.1.allocatedFraction",
    ]);
    expect(Object.keys(allocate("0", "1"))).toEqual(["portfolios.0.categoryAllocations.0.allocatedFraction"]);
  });
});

describe("the catalogue file", () => {
  it("names a core path by its path in the file", () => {
    expect(filePath("projects.3.details.newsArticles.0.take")).toBe("projects.3.news_articles.0.cnaught_take");
    expect(filePath("projects.3.details.lifetime.endYear")).toBe("projects.3.lifetime.end_year");
    expect(filePath("projects.0.creditIssuances.1.totalAmount")).toBe("projects.0.credit_issuances.1.total_amount");
    expect(filePath("portfolios.2.categoryAllocations")).toBe("portfolios.2.category_allocations");
  });

  it("refuses unknown keys, wrong types and text no column can store, by path", () => {
    const fields = (input: unknown) => {
      try {
        parseCatalogueFile(input);
      } catch (error) {
        if (isAppError(error)) return error.details.fields;
      }
      throw new Error("expected the file to be refused");
    };
    expect(fields({ categorys: [] })).toEqual({ categorys: ["is not a known field"] });
    expect(Object.keys(fields({ projects: [{ id: 1 }] }) ?? {}).sort()).toEqual([
      "projects.0.category_id",
      "projects.0.id",
      "projects.0.name",
      "projects.0.type",
      "projects.0.un_sdg_goals",
    ]);
    expect(Object.keys(fields('{"categories":[{"id":"c","name":"a\\u0000b"}]}') ?? {})).toEqual(["categories.0.name"]);
    expect(Object.keys(fields("[]") ?? {})).toEqual(["catalogue"]);
  });

  it("reads an empty object as an empty catalogue, and a fraction or tonnage exactly", () => {
    expect(parseCatalogueFile("{}")).toEqual({ categories: [], projects: [], portfolios: [] });
    const parsed = parseCatalogueFile({
      portfolios: [{ id: "pf", category_allocations: [{ category_id: "c", allocated_fraction: 0.1 }] }],
      projects: [
        {
          id: "p",
          category_id: null,
          name: "n",
          type: "t",
          un_sdg_goals: [],
          credit_issuances: [{ vintage_year: 2020, total_amount: 999999999.999999 }],
        },
      ],
    });
    expect(parsed.portfolios[0]!.categoryAllocations![0]!.allocatedFraction.toFixed()).toBe("0.1");
    expect(parsed.projects[0]!.creditIssuances[0]!.totalAmount.toFixed()).toBe("999999999.999999");
    expect(parsed.projects[0]!.details).toEqual({});
  });
});
