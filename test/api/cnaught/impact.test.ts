import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EQUIVALENCE_FACTORS } from "../../../src/core/impact/equivalents.js";
import {
  apiClient,
  createMerchantApi,
  startTestApp,
  TEST_PUBLIC_URL,
  type TestApp,
  written,
} from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { seedCategory, seedOrder, seedProject } from "../../helpers/impact.js";
import { ERROR_BASE, expectInvalid, expectProblem, normalised, TIMESTAMP } from "./support.js";

/**
 * GET /v1/impact/data and GET /v1/impact/hosted-page-config over real HTTP, their answers checked
 * against the shapes of CNaught's SDK models (ImpactData, ImpactEquivalents, ImpactCategoryUsage,
 * ImpactProjectUsage, ImpactHostedPageConfig; cnaught-more.md §6) written out here, not taken
 * from the server's schemas.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

/**
 * `num / den` rounded half up to `places`, in exact integer arithmetic (the test's own, not the
 * server's decimal library): what an equivalent must be, from the published factor's text.
 */
function ratio(num: string, den: string, places = 2): number {
  const parse = (text: string) => {
    const [whole, fraction = ""] = text.split(".");
    return { digits: BigInt(whole! + fraction), scale: fraction.length };
  };
  const n = parse(num);
  const d = parse(den);
  // num/den = (N / 10^a) / (D / 10^b) = N * 10^b / (D * 10^a); times 10^places, then half up.
  const top = n.digits * 10n ** BigInt(d.scale + places);
  const bottom = d.digits * 10n ** BigInt(n.scale);
  const rounded = (2n * top + bottom) / (2n * bottom);
  const text = rounded.toString().padStart(places + 1, "0");
  return Number(`${text.slice(0, -places)}.${text.slice(-places)}`);
}

const equivalentsFor = (totalKg: string) => ({
  cars_off_the_road: ratio(totalKg, EQUIVALENCE_FACTORS.carsOffTheRoad.kgCo2ePerUnit),
  trees_planted: ratio(totalKg, EQUIVALENCE_FACTORS.treesPlanted.kgCo2ePerUnit),
  homes_annual_energy_usage: ratio(totalKg, EQUIVALENCE_FACTORS.homesAnnualEnergyUsage.kgCo2ePerUnit),
  flights_lax_to_nyc: ratio(totalKg, EQUIVALENCE_FACTORS.flightsLaxToNyc.kgCo2ePerUnit),
});

const ACCOUNT_CREATED = new Date("2023-06-01T00:00:00.000Z");
const at = (iso: string) => new Date(iso);

/**
 * Two merchants with history. The first: a subaccount (with a logo), two categories, three
 * projects; fulfilled orders on 10 Jan 2024 (its own, 1,000 kg over two projects), 15 Feb 2024
 * (the subaccount's, 250.5 kg), 1 Mar 2024 00:00 (100 kg, no allocations yet), plus a placed
 * order and a cancelled one that had been fulfilled, which must not count. The second merchant:
 * 5,000 kg fulfilled from the same project, which the first must never see.
 */
async function history() {
  const m = await createMerchantApi(t);
  const other = await createMerchantApi(t);
  await t.db.prisma.account.update({ where: { id: m.account.id }, data: { createdAt: ACCOUNT_CREATED } });
  const sub = written(
    await t.services.subaccounts.create(m.account.id, { name: "Green Shop", email: null, defaultPortfolioId: null }),
  );
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>');
  const withLogo = await t.services.subaccounts.uploadLogo(m.account.id, sub.id, svg, "image/svg+xml");

  const forestry = await seedCategory(t.db, { name: "Forestry", description: "Trees that store carbon" });
  const soil = await seedCategory(t.db, { name: "Soil Carbon", description: null });
  const p1 = await seedProject(t.db, {
    name: "Example Ridge REDD+ (fictional)",
    categoryId: forestry.id,
    type: "Avoided deforestation",
    unSdgGoals: [13, 15],
    details: {
      developer: "Wildlife Works",
      registryName: "Verra",
      registryUrl: "https://registry.verra.org/app/projectDetail/VCS/934",
      locationName: "Democratic Republic of the Congo",
      lifetime: { startYear: 2011, endYear: 2041 },
    },
  });
  const p2 = await seedProject(t.db, { name: "Prairie Soils", categoryId: soil.id, type: "Soil", unSdgGoals: [2, 13] });
  const portfolioId = m.portfolio!.id;
  const accountId = m.account.id;

  await seedOrder(t.db, {
    accountId,
    portfolioId,
    amountKg: "1000",
    state: "fulfilled",
    fulfilledAt: at("2024-01-10T12:00:00.000Z"),
    allocations: [
      { projectId: p1.id, amountKg: "600", vintageYears: [2020, 2019] },
      { projectId: p2.id, amountKg: "400", vintageYears: [2021] },
    ],
  });
  await seedOrder(t.db, {
    accountId,
    subaccountId: sub.id,
    portfolioId,
    amountKg: "250.5",
    state: "fulfilled",
    fulfilledAt: at("2024-02-15T08:30:00.000Z"),
    allocations: [{ projectId: p1.id, amountKg: "250.5", vintageYears: [2020, 2022] }],
  });
  await seedOrder(t.db, {
    accountId,
    portfolioId,
    amountKg: "100",
    state: "fulfilled",
    fulfilledAt: at("2024-03-01T00:00:00.000Z"),
  });
  await seedOrder(t.db, { accountId, subaccountId: sub.id, portfolioId, amountKg: "999", state: "placed" });
  await seedOrder(t.db, {
    accountId,
    portfolioId,
    amountKg: "777",
    state: "cancelled",
    fulfilledAt: at("2024-01-20T00:00:00.000Z"),
    allocations: [{ projectId: p2.id, amountKg: "777", vintageYears: [2015] }],
  });
  await seedOrder(t.db, {
    accountId: other.account.id,
    portfolioId: other.portfolio!.id,
    amountKg: "5000",
    state: "fulfilled",
    fulfilledAt: at("2024-01-15T00:00:00.000Z"),
    allocations: [{ projectId: p1.id, amountKg: "5000", vintageYears: [2018] }],
  });
  return { m, other, sub: withLogo, p1, p2 };
}

let h: Awaited<ReturnType<typeof history>>;
beforeAll(async () => {
  h = await history();
});

/** Project P1 as CNaught's Project model spells it (no credit_issuances when embedded). */
const p1Wire = () => ({
  id: h.p1.id,
  name: "Example Ridge REDD+ (fictional)",
  type: "Avoided deforestation",
  developer: "Wildlife Works",
  registry_name: "Verra",
  registry_url: "https://registry.verra.org/app/projectDetail/VCS/934",
  location_name: "Democratic Republic of the Congo",
  un_sdg_goals: [13, 15],
  lifetime: { start_year: 2011, end_year: 2041 },
});
const p2Wire = () => ({ id: h.p2.id, name: "Prairie Soils", type: "Soil", un_sdg_goals: [2, 13] });

describe(`GET /v1/impact/data (${storeKind})`, () => {
  it("totals the whole account's fulfilled orders (its subaccounts' included) by category and project", async () => {
    const res = await h.m.api("GET", "/v1/impact/data");
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toStrictEqual({
      name: h.m.account.name,
      logo_url: null,
      // 1,000 + 250.5 + 100: the placed order, the cancelled one and the other merchant's are out.
      total_offset_kgs: 1350.5,
      equivalents: equivalentsFor("1350.5"),
      since_date: "2023-06-01T00:00:00.000000Z",
      to_date: null,
      categories: [
        {
          category: { name: "Forestry", description: "Trees that store carbon" },
          offset_kgs: 850.5,
          projects: [{ project: p1Wire(), offset_kgs: 850.5, vintages: "2019, 2020, 2022" }],
        },
        {
          // SDK 3.1's ImpactCategory is { name: string; description: string }: never left out.
          category: { name: "Soil Carbon", description: "" },
          offset_kgs: 400,
          projects: [{ project: p2Wire(), offset_kgs: 400, vintages: "2021" }],
        },
      ],
    });
  });

  it("documents the category as the SDK types it: name and description, both required strings", async () => {
    const document = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      components: { schemas: Record<string, { properties: Record<string, { type: string }>; required: string[] }> };
    };
    const category = document.components.schemas.ImpactCategory!;
    expect(Object.keys(category.properties).sort()).toEqual(["description", "name"]);
    expect([...category.required].sort()).toEqual(["description", "name"]);
    expect(category.properties.description?.type).toBe("string");
  });

  it("with X-Subaccount-Id: only that subaccount's orders, its name, logo and creation", async () => {
    const res = await h.m.api("GET", "/v1/impact/data", undefined, { "x-subaccount-id": h.sub.id });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toStrictEqual({
      name: "Green Shop",
      logo_url: `${TEST_PUBLIC_URL}/logos/${h.sub.logoId}`,
      total_offset_kgs: 250.5,
      equivalents: equivalentsFor("250.5"),
      since_date: expect.stringMatching(TIMESTAMP),
      to_date: null,
      categories: [
        {
          category: { name: "Forestry", description: "Trees that store carbon" },
          offset_kgs: 250.5,
          projects: [{ project: p1Wire(), offset_kgs: 250.5, vintages: "2020, 2022" }],
        },
      ],
    });
    expect(Date.parse(res.body.since_date)).toBe(h.sub.createdAt.getTime());
  });

  it("from/to bound the fulfilment time: from inclusive, to exclusive, echoed as since_date and to_date", async () => {
    // What the SDK sends: Date.toISOString(), unencoded.
    const feb = await h.m.api("GET", "/v1/impact/data?from=2024-02-01T00:00:00.000Z&to=2024-03-01T00:00:00.000Z");
    expect(feb.status, feb.text).toBe(200);
    expect(feb.body).toMatchObject({
      total_offset_kgs: 250.5, // the 1 March order is at `to`, so out
      equivalents: equivalentsFor("250.5"),
      since_date: "2024-02-01T00:00:00.000000Z",
      to_date: "2024-03-01T00:00:00.000000Z",
    });
    expect(feb.body.categories.map((c: { category: { name: string } }) => c.category.name)).toEqual(["Forestry"]);

    // A date alone is midnight UTC; the 1 March order is at `from`, so in. It has no projects yet.
    const march = await h.m.api("GET", "/v1/impact/data?from=2024-03-01");
    expect(march.body).toMatchObject({
      total_offset_kgs: 100,
      since_date: "2024-03-01T00:00:00.000000Z",
      to_date: null,
      categories: [],
    });

    // An offset, sent encoded or (as a bare + becomes in a query string) as a space: 1 Jan 01:00+01:00 is midnight UTC.
    for (const from of ["2024-01-10T13:00:00%2B01:00", "2024-01-10T13:00:00+01:00"]) {
      const res = await h.m.api("GET", `/v1/impact/data?from=${from}&to=2024-01-31`);
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ total_offset_kgs: 1000, since_date: "2024-01-10T12:00:00.000000Z" });
    }

    // Six fractional digits, as Kassa's own timestamps: since_date can be sent back as from.
    const echoed = await h.m.api("GET", "/v1/impact/data?from=2024-02-15T08:30:00.000000Z");
    expect(echoed.body).toMatchObject({ total_offset_kgs: 350.5, since_date: "2024-02-15T08:30:00.000000Z" });

    // The widest window there is: years 1 to 9999.
    const widest = await h.m.api("GET", "/v1/impact/data?from=0001-01-01&to=9999-12-31T23:59:59.999Z");
    expect(widest.body).toMatchObject({
      total_offset_kgs: 1350.5,
      since_date: "0001-01-01T00:00:00.000000Z",
      to_date: "9999-12-31T23:59:59.999000Z",
    });

    const empty = await h.m.api("GET", "/v1/impact/data?from=2025-01-01T00:00:00.000Z");
    expect(empty.body).toMatchObject({
      total_offset_kgs: 0,
      equivalents: { cars_off_the_road: 0, trees_planted: 0, homes_annual_energy_usage: 0, flights_lax_to_nyc: 0 },
      categories: [],
    });
  });

  it("a window and a subaccount together", async () => {
    const res = await h.m.api("GET", "/v1/impact/data?to=2024-02-01T00:00:00.000Z", undefined, {
      "x-subaccount-id": h.sub.id,
    });
    expect(res.body).toMatchObject({ total_offset_kgs: 0, categories: [], to_date: "2024-02-01T00:00:00.000000Z" });
  });

  it("never shows another account's orders; another account's subaccount is invalid-subaccount, as on every route", async () => {
    const res = await h.other.api("GET", "/v1/impact/data");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: h.other.account.name, total_offset_kgs: 5000 });
    expect(res.body.categories).toEqual([
      {
        category: { name: "Forestry", description: "Trees that store carbon" },
        offset_kgs: 5000,
        projects: [{ project: p1Wire(), offset_kgs: 5000, vintages: "2018" }],
      },
    ]);

    const header = { "x-subaccount-id": h.sub.id };
    const impact = await h.other.api("GET", "/v1/impact/data", undefined, header);
    const config = await h.other.api("GET", "/v1/impact/hosted-page-config", undefined, header);
    const orders = await h.other.api("GET", "/v1/orders", undefined, header);
    expectProblem(impact, 400, "invalid-subaccount");
    expect(JSON.stringify(impact.body)).not.toContain("Green Shop");
    expect(normalised(impact)).toEqual(normalised(orders));
    expect(normalised(config)).toEqual(normalised(orders));
  });

  it("a deleted subaccount is invalid-subaccount", async () => {
    const gone = written(
      await t.services.subaccounts.create(h.m.account.id, { name: "Gone", email: null, defaultPortfolioId: null }),
    );
    await h.m.api("DELETE", `/v1/subaccounts/${gone.id}`);
    expectProblem(
      await h.m.api("GET", "/v1/impact/data", undefined, { "x-subaccount-id": gone.id }),
      400,
      "invalid-subaccount",
    );
  });

  it("refuses a from or to that is not an ISO 8601 date, or a to before from, as invalid-parameters", async () => {
    const cases: Array<[string, string[]]> = [
      ["from=yesterday", ["from"]],
      ["from=2024-02-30", ["from"]],
      ["from=2024-01-01T00:00:00", ["from"]], // a time needs Z or an offset
      ["from=2024-01-01T24:00:00Z", ["from"]],
      ["to=2024-13-01T00:00:00.000Z", ["to"]],
      ["to=1700000000", ["to"]],
      ["from=x&to=y", ["from", "to"]],
      ["from=2024-03-01&to=2024-02-01", ["to"]],
      ["from=2024-01-01&from=2024-02-01", ["from"]],
      ["from=0001-01-01T00:00:00%2B01:00", ["from"]], // year 0 in UTC
      ["to=9999-12-31T23:59:59-01:00", ["to"]], // year 10000 in UTC
    ];
    for (const [query, fields] of cases) {
      const res = await h.m.api("GET", `/v1/impact/data?${query}`);
      expectInvalid(res, ...fields);
      for (const field of fields) expect(res.body.errors[field].join(" "), query).toContain(`'${field}'`);
    }
    // Whatever the header, the query is checked.
    expectInvalid(
      await h.m.api("GET", "/v1/impact/data?from=soon", undefined, { "x-subaccount-id": h.sub.id }),
      "from",
    );
  });

  it("requires the API key", async () => {
    const res = await apiClient(t.url)("GET", "/v1/impact/data");
    expect(res.status).toBe(401);
    expect(res.body).toStrictEqual({ title: "Authorization has been denied for this request", status: 401 });
  });
});

describe(`GET /v1/impact/hosted-page-config (${storeKind})`, () => {
  it("is off, with no URL, until an operator enables the page; then on, with its URL and equivalents", async () => {
    const { api, account } = await createMerchantApi(t);
    const before = await api("GET", "/v1/impact/hosted-page-config");
    expect(before.status, before.text).toBe(200);
    expect(before.body).toStrictEqual({ enabled: false, url: "", enabled_equivalents: [] });

    await t.services.impact.enable(
      { accountId: account.id, subaccountId: null },
      { slug: `impact-${account.id.slice(5).toLowerCase()}`, equivalents: ["treesPlanted", "carsOffTheRoad"] },
    );
    const on = await api("GET", "/v1/impact/hosted-page-config");
    expect(on.body).toStrictEqual({
      enabled: true,
      url: `${TEST_PUBLIC_URL}/impact/impact-${account.id.slice(5).toLowerCase()}`,
      enabled_equivalents: ["trees_planted", "cars_off_the_road"],
    });

    await t.services.impact.disable({ accountId: account.id, subaccountId: null });
    const off = await api("GET", "/v1/impact/hosted-page-config");
    expect(off.body).toStrictEqual({ ...on.body, enabled: false });
  });

  it("with X-Subaccount-Id: the subaccount's own page, apart from the account's", async () => {
    const { api, account } = await createMerchantApi(t);
    const sub = written(
      await t.services.subaccounts.create(account.id, { name: "Café Ünïcorn", email: null, defaultPortfolioId: null }),
    );
    await t.services.impact.enable({ accountId: account.id, subaccountId: null });
    const subBefore = await api("GET", "/v1/impact/hosted-page-config", undefined, { "x-subaccount-id": sub.id });
    expect(subBefore.body).toStrictEqual({ enabled: false, url: "", enabled_equivalents: [] });

    await t.services.impact.enable({ accountId: account.id, subaccountId: sub.id });
    const subOn = await api("GET", "/v1/impact/hosted-page-config", undefined, { "x-subaccount-id": sub.id });
    expect(subOn.body).toStrictEqual({
      enabled: true,
      // A slug made from the name (a suffix only if another page had it already).
      url: expect.stringMatching(new RegExp(`^${TEST_PUBLIC_URL}/impact/cafe-unicorn(-[a-z0-9]{6})?$`)),
      enabled_equivalents: ["cars_off_the_road", "trees_planted", "homes_annual_energy_usage", "flights_lax_to_nyc"],
    });
    const accountOn = await api("GET", "/v1/impact/hosted-page-config");
    expect(accountOn.body.enabled).toBe(true);
    expect(accountOn.body.url).not.toBe(subOn.body.url);
  });

  it("answers problem types under CNaught's base", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", "/v1/impact/hosted-page-config", undefined, { "x-subaccount-id": "nope" });
    expect(res.body.type).toBe(`${ERROR_BASE}invalid-subaccount`);
  });
});
