import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decimal } from "../../../src/core/money/money.js";
import { apiClient, createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { FIXTURE_IDS, FIXTURE_PROJECTS, seedCatalogue } from "../../helpers/catalogue.js";
import { storeKind } from "../../helpers/database.js";
import {
  expectProblem,
  expectUnauthorized,
  FORESTRY_WIRE,
  MEADOW_WIRE,
  RIDGE_WIRE,
  SOIL_WIRE,
  VALLEY_WIRE,
} from "./support.js";

/**
 * GET /v1/projects/{id} and GET /v1/project-categories/{id} through HTTP, the answers compared
 * with CNaught's shapes written out by hand (support.ts, from cnaught-more.md §5).
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await seedCatalogue(t.services);
});
afterAll(() => t.close());

describe(`GET /v1/projects/{id} (${storeKind})`, () => {
  it("returns a project with every optional field and its credit issuances by vintage", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", `/v1/projects/${FIXTURE_IDS.ridge}`);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      ...RIDGE_WIRE,
      credit_issuances: [
        { vintage_year: 2021, total_amount: 1000 },
        { vintage_year: 2022, total_amount: 2500.5 },
      ],
    });
  });

  it("leaves out the optional fields a project does not have (never null)", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", `/v1/projects/${FIXTURE_IDS.valley}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...VALLEY_WIRE, credit_issuances: [{ vintage_year: 2020, total_amount: 800 }] });
    expect(Object.keys(res.body).sort()).toEqual(["credit_issuances", "id", "name", "type", "un_sdg_goals"]);
  });

  it("is the same for every account (the catalogue is installation-wide); X-Subaccount-Id is not looked at", async () => {
    const one = await createMerchantApi(t);
    const two = await createMerchantApi(t);
    const a = await one.api("GET", `/v1/projects/${FIXTURE_IDS.meadow}`);
    const b = await two.api("GET", `/v1/projects/${FIXTURE_IDS.meadow}`, undefined, { "x-subaccount-id": "noSuchSub" });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body).toEqual({ ...MEADOW_WIRE, credit_issuances: [{ vintage_year: 2023, total_amount: 600 }] });
    expect(b.body).toEqual(a.body);
  });

  it("an unknown id is 404 not-found", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", "/v1/projects/noSuchProject");
    expectProblem(res, 404, "not-found");
    expect(res.body.title).toBe("Could not find project");
  });

  it("needs a valid key", async () => {
    expectUnauthorized(await apiClient(t.url)("GET", `/v1/projects/${FIXTURE_IDS.ridge}`));
    expectUnauthorized(await apiClient(t.url, "sk_nope")("GET", `/v1/projects/${FIXTURE_IDS.ridge}`));
  });
});

describe(`GET /v1/project-categories/{id} (${storeKind})`, () => {
  it("returns a category with its projects in order, each without credit issuances", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", `/v1/project-categories/${FIXTURE_IDS.forestry}`);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual(FORESTRY_WIRE);
  });

  it("leaves out a category's absent description and image", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", `/v1/project-categories/${FIXTURE_IDS.soil}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(SOIL_WIRE);
  });

  it("a category's projects follow the order of the last import", async () => {
    const { api } = await createMerchantApi(t);
    const reversed = [...FIXTURE_PROJECTS].reverse();
    await t.services.projects.importCatalogue({ categories: [], projects: reversed, portfolios: [] });
    const res = await api("GET", `/v1/project-categories/${FIXTURE_IDS.forestry}`);
    expect(res.body.projects.map((p: { id: string }) => p.id)).toEqual([FIXTURE_IDS.valley, FIXTURE_IDS.ridge]);
    await seedCatalogue(t.services); // the fixture's order again
    expect((await api("GET", `/v1/project-categories/${FIXTURE_IDS.forestry}`)).body).toEqual(FORESTRY_WIRE);
  });

  it("an unknown id is 404 not-found", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", "/v1/project-categories/noSuchCategory");
    expectProblem(res, 404, "not-found");
    expect(res.body.title).toBe("Could not find project category");
  });

  it("needs a valid key", async () => {
    expectUnauthorized(await apiClient(t.url)("GET", `/v1/project-categories/${FIXTURE_IDS.forestry}`));
  });
});

describe(`GET /v1/portfolios/{id} with allocations (${storeKind})`, () => {
  it("shows the allocations an import gave the portfolio, and the next import's replacement", async () => {
    const { api, portfolio } = await createMerchantApi(t);
    expect((await api("GET", `/v1/portfolios/${portfolio!.id}`)).body.category_allocations).toEqual([]);
    await seedCatalogue(t.services, { portfolioIds: [portfolio!.id] });
    const res = await api("GET", `/v1/portfolios/${portfolio!.id}`);
    expect(res.status).toBe(200);
    expect(res.body.category_allocations).toEqual([
      { allocated_fraction: 0.6, category: FORESTRY_WIRE },
      { allocated_fraction: 0.4, category: SOIL_WIRE },
    ]);

    await t.services.projects.importCatalogue({
      categories: [],
      projects: [],
      portfolios: [
        {
          id: portfolio!.id,
          summary: "All soil",
          categoryAllocations: [{ categoryId: FIXTURE_IDS.soil, allocatedFraction: new Decimal(1) }],
        },
      ],
    });
    const replaced = await api("GET", `/v1/portfolios/${portfolio!.id}`);
    expect(replaced.body).toMatchObject({
      summary: "All soil",
      category_allocations: [{ allocated_fraction: 1, category: SOIL_WIRE }],
    });
  });
});
