import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decimal } from "../../../src/core/money/money.js";
import { type createMerchant, createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { seedCatalogue } from "../../helpers/catalogue.js";
import { expectInvalid, expectProblem, FORESTRY_WIRE, SOIL_WIRE, sessionParams } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const merchantApi = (opts: Parameters<typeof createMerchant>[1] = {}) => createMerchantApi(t, opts);

let described = 0;
/** A portfolio with every descriptive field and the catalogue fixture's two category allocations. */
async function describedPortfolio() {
  described += 1;
  const portfolio = await t.services.repos.portfolios.create({
    id: `descr${described}`,
    name: "Forest & Soil",
    summary: "Nature-based removals",
    description: "A blend of reforestation and soil carbon projects.",
    primaryImageUrl: "https://cdn.example/forest.jpg",
    checkoutPricePerKgUsdCents: new Decimal("2.25"),
    apiPricePerKgUsdCents: new Decimal("1.875"),
    isDefault: false,
  });
  await seedCatalogue(t.services, { portfolioIds: [portfolio.id] });
  return portfolio;
}

describe(`GET /v1/portfolios (${storeKind})`, () => {
  it("returns {data} with the summary fields only", async () => {
    const { api } = await merchantApi();
    const p = await describedPortfolio();
    const res = await api("GET", "/v1/portfolios");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(res.body)).toEqual(["data"]);
    expect(Array.isArray(res.body.data)).toBe(true);
    for (const item of res.body.data) {
      expect(Object.keys(item).sort()).toEqual(["description", "id", "name", "primary_image_url", "summary"]);
    }
    expect(res.body.data).toContainEqual({
      id: p.id,
      name: "Forest & Soil",
      summary: "Nature-based removals",
      description: "A blend of reforestation and soil carbon projects.",
      primary_image_url: "https://cdn.example/forest.jpg",
    });
  });

  it("lists a merchant's own default portfolio, with nulls for absent descriptive fields", async () => {
    const { api, portfolio } = await merchantApi();
    const res = await api("GET", "/v1/portfolios");
    expect(res.body.data).toContainEqual({
      id: portfolio!.id,
      name: portfolio!.name,
      summary: null,
      description: null,
      primary_image_url: null,
    });
  });
});

describe(`GET /v1/portfolios/{id} (${storeKind})`, () => {
  it("adds pricing and category allocations, each category in full with its projects", async () => {
    const { api } = await merchantApi();
    const p = await describedPortfolio();
    const res = await api("GET", `/v1/portfolios/${p.id}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      id: p.id,
      name: "Forest & Soil",
      summary: "Nature-based removals",
      description: "A blend of reforestation and soil carbon projects.",
      primary_image_url: "https://cdn.example/forest.jpg",
      checkout_price_per_kg_usd_cents: 2.25,
      api_price_per_kg_usd_cents: 1.875,
      category_allocations: [
        { allocated_fraction: 0.6, category: FORESTRY_WIRE },
        { allocated_fraction: 0.4, category: SOIL_WIRE },
      ],
    });
  });

  it("a plain portfolio has its prices as numbers and no allocations", async () => {
    const { api, portfolio } = await merchantApi({ checkoutPricePerKg: "2", apiPricePerKg: "1.5" });
    const res = await api("GET", `/v1/portfolios/${portfolio!.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: portfolio!.id,
      checkout_price_per_kg_usd_cents: 2,
      api_price_per_kg_usd_cents: 1.5,
      category_allocations: [],
    });
  });

  it("an unknown id is 404 not-found", async () => {
    const { api } = await merchantApi();
    const res = await api("GET", "/v1/portfolios/noSuch99");
    expectProblem(res, 404, "not-found");
    expect(res.body.title).toBe("Could not find portfolio");
  });
});

describe(`POST /v1/quotes (${storeKind})`, () => {
  it("quotes the API price by default and the checkout price for source checkout", async () => {
    const { api } = await merchantApi({ checkoutPricePerKg: "2", apiPricePerKg: "1.5" });
    const byDefault = await api("POST", "/v1/quotes", { amount_kg: 100 });
    expect(byDefault.status, byDefault.text).toBe(200);
    expect(byDefault.headers.get("content-type")).toMatch(/^application\/json/);
    expect(byDefault.body).toEqual({ amount_kg: 100, price_usd_cents: 150 });
    expect((await api("POST", "/v1/quotes", { amount_kg: 100, source: "api" })).body).toEqual({
      amount_kg: 100,
      price_usd_cents: 150,
    });
    expect((await api("POST", "/v1/quotes", { amount_kg: 100, source: "checkout" })).body).toEqual({
      amount_kg: 100,
      price_usd_cents: 200,
    });
    expect((await api("POST", "/v1/quotes", { amount_kg: 100, source: null })).body.price_usd_cents).toBe(150);
  });

  it("a checkout quote matches the session actually created", async () => {
    const { api } = await merchantApi({ checkoutPricePerKg: "2.37" });
    const quote = await api("POST", "/v1/quotes", { amount_kg: 42.42, source: "checkout" });
    const session = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 42.42 }));
    expect(session.status).toBe(201);
    expect(quote.body.price_usd_cents).toBe(session.body.price_usd_cents);
    expect(quote.body.price_usd_cents).toBe(101); // 100.5354 rounds up
  });

  it("quotes from a named portfolio", async () => {
    const { api } = await merchantApi();
    const p = await describedPortfolio();
    expect((await api("POST", "/v1/quotes", { amount_kg: 100, portfolio_id: p.id })).body).toEqual({
      amount_kg: 100,
      price_usd_cents: 188, // 187.5 rounds up
    });
    expect((await api("POST", "/v1/quotes", { amount_kg: 100, portfolio_id: p.id, source: "checkout" })).body).toEqual({
      amount_kg: 100,
      price_usd_cents: 225,
    });
  });

  it.each([
    // [source, checkout price, api price, amount, expected]
    ["checkout", "2", "1.5", 33.333, 67], // 66.666 rounds up
    ["api", "2", "1.5", 33.333, 50], // 49.9995 rounds up
    ["checkout", "100", "1", 1.1, 110], // not 111 (binary floating point: 110.00000000000001)
    ["api", "1", "0.7", 100, 70], // not 71
    ["api", "1", "3", 0.1, 1], // 0.3 rounds up to one cent
    ["api", "1", "0.1", 0.3, 1], // 0.03
    ["api", "1", "1", 0.000001, 1],
    ["checkout", "2", "1", 1_000_000_000, 2_000_000_000],
  ])("source %s at %s/%s c/kg: %s kg costs %s cents", async (source, checkout, apiPrice, amount_kg, cents) => {
    const { api } = await merchantApi({ checkoutPricePerKg: checkout, apiPricePerKg: apiPrice });
    const res = await api("POST", "/v1/quotes", { amount_kg, source });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ amount_kg, price_usd_cents: cents });
  });

  it.each([
    ["amount_kg 0", { amount_kg: 0 }, "amount_kg"],
    ["amount_kg negative", { amount_kg: -1 }, "amount_kg"],
    ["amount_kg missing", {}, "amount_kg"],
    ["amount_kg a string", { amount_kg: "100" }, "amount_kg"],
    ["amount_kg with 7 decimals", { amount_kg: 1.0000001 }, "amount_kg"],
    ["amount_kg too large", { amount_kg: 1e12 }, "amount_kg"],
    ["an unknown source", { amount_kg: 1, source: "web" }, "source"],
    ["an unknown portfolio", { amount_kg: 1, portfolio_id: "noSuch99" }, "portfolio_id"],
    ["portfolio_id a number", { amount_kg: 1, portfolio_id: 5 }, "portfolio_id"],
  ])("%s is 400 naming the field", async (_label, body, field) => {
    const { api } = await merchantApi();
    expectInvalid(await api("POST", "/v1/quotes", body), field);
  });
});
