import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EQUIVALENCE_FACTORS } from "../../../src/core/impact/equivalents.js";
import { createMerchant, startTestApp, TEST_PUBLIC_URL, type TestApp, written } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { seedCategory, seedOrder, seedProject } from "../../helpers/impact.js";

/** The public impact page, /impact/<slug>, over real HTTP. */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t?.close());

const open = async (path: string, init: RequestInit = {}) => {
  const res = await fetch(t.url + path, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
};

/** The text a reader sees in an HTML fragment: tags dropped, entities of the page's escape decoded. */
const text = (htmlText: string) =>
  htmlText
    .replace(/<[^>]*>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, "`")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");

let counter = 0;
const slug = (base: string) => `${base}-${++counter}-${storeKind}`;

/** An account with 1,350.5 kg retired over two categories, and its page enabled at `slugText`. */
async function accountWithPage(options: { name?: string; slugText?: string; equivalents?: string[] } = {}) {
  const m = await createMerchant(t.services);
  if (options.name) await t.db.prisma.account.update({ where: { id: m.account.id }, data: { name: options.name } });
  const forestry = await seedCategory(t.db, { name: "Forestry" });
  const soil = await seedCategory(t.db, { name: "Soil Carbon" });
  const p1 = await seedProject(t.db, { name: "Example Ridge REDD+ (fictional)", categoryId: forestry.id });
  const p2 = await seedProject(t.db, { name: "Prairie Soils", categoryId: soil.id });
  await seedOrder(t.db, {
    accountId: m.account.id,
    portfolioId: m.portfolio!.id,
    amountKg: "1350.5",
    state: "fulfilled",
    fulfilledAt: new Date("2024-01-10T12:00:00Z"),
    allocations: [
      { projectId: p1.id, amountKg: "950.5", vintageYears: [2019, 2020] },
      { projectId: p2.id, amountKg: "400", vintageYears: [2021] },
    ],
  });
  const page = await t.services.impact.enable(
    { accountId: m.account.id, subaccountId: null },
    {
      slug: options.slugText ?? slug("acme"),
      equivalents: options.equivalents,
    },
  );
  return { ...m, page };
}

describe(`GET /impact/<slug> (${storeKind})`, () => {
  it("shows the name, the total, the chosen equivalents and a chart by category, as HTML under strict headers", async () => {
    const { account, page } = await accountWithPage({ equivalents: ["treesPlanted", "carsOffTheRoad"] });
    const res = await open(`/impact/${page.slug}`);
    expect(res.status, res.body).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.body).toMatch(/^<!doctype html>/);
    expect(res.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(res.body).not.toMatch(/<script/i);

    const seen = text(res.body);
    expect(seen).toContain(`Climate impact ${account.name}`);
    expect(seen).toContain("1.35 t CO₂e"); // 1,350.5 kg, in tonnes to 2 decimals
    expect(res.body).toContain('data-kg="1350.5"');
    // Only the chosen equivalents, in the chosen order, each with the API's number.
    expect([...res.body.matchAll(/data-equivalent="(\w+)"/g)].map((m) => m[1])).toEqual([
      "treesPlanted",
      "carsOffTheRoad",
    ]);
    const trees = (1350.5 / 60).toFixed(2); // 22.51: the table's 60 kg per seedling
    expect(EQUIVALENCE_FACTORS.treesPlanted.kgCo2ePerUnit).toBe("60");
    expect(seen).toContain(`${trees} tree seedlings grown for 10 years`);
    expect(seen).not.toContain("homes' energy use");
    // The chart: categories most kg first, shares of the total, their projects and vintages.
    expect(seen).toMatch(
      /Forestry 950\.5 kg CO₂e · 70%.*Example Ridge REDD\+ \(fictional\) Vintages 2019, 2020 950\.5 kg CO₂e/,
    );
    expect(seen).toMatch(/Soil Carbon 400 kg CO₂e · 30%.*Prairie Soils Vintages 2021 400 kg CO₂e/);
    expect(res.body).toMatch(/<rect class="fill" width="70" height="14" rx="7"\/>/);
    expect(res.body).toMatch(/<rect class="fill" width="30" height="14" rx="7"\/>/);
    // Since the account's creation, a day in UTC.
    const created = account.createdAt;
    const month = created.toLocaleString("en-GB", { month: "short", timeZone: "UTC" });
    expect(seen).toContain(`since ${created.getUTCDate()} ${month} ${created.getUTCFullYear()}`);

    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain(`img-src 'self' ${TEST_PUBLIC_URL} data:`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("script-src");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("cache-control")).toBe("public, max-age=60");
    expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000"); // PUBLIC_URL is https

    // Its one stylesheet, content-hashed and cached for good.
    const href = /<link rel="stylesheet" href="([^"]+)">/.exec(res.body)![1]!;
    expect(href).toMatch(/^\/impact\/assets\/impact\.[0-9a-f]{12}\.css$/);
    const css = await open(href);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(css.body).toContain(".equivalents");
    expect((await open("/impact/assets/other.css")).status).toBe(404);
  });

  it("escapes every name it shows", async () => {
    const evil = `<script>alert("x")</script> & 'Co'`;
    const m = await createMerchant(t.services);
    await t.db.prisma.account.update({ where: { id: m.account.id }, data: { name: evil } });
    const category = await seedCategory(t.db, { name: '<img src=x onerror="alert(1)">' });
    const project = await seedProject(t.db, { name: "</li><b>bold</b>", categoryId: category.id });
    await seedOrder(t.db, {
      accountId: m.account.id,
      portfolioId: m.portfolio!.id,
      amountKg: "10",
      state: "fulfilled",
      fulfilledAt: new Date(),
      allocations: [{ projectId: project.id, amountKg: "10", vintageYears: [2020] }],
    });
    const page = await t.services.impact.enable({ accountId: m.account.id, subaccountId: null });
    const res = await open(`/impact/${page.slug}`);
    expect(res.status).toBe(200);
    expect(res.body).not.toContain("<script>");
    expect(res.body).not.toContain("<img src=x");
    expect(res.body).not.toContain("<b>bold</b>");
    expect(res.body).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;");
    expect(res.body).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(text(res.body)).toContain(`Climate impact ${evil}`);
    // A slug made from such a name is plain.
    expect(page.slug).toMatch(/^[a-z0-9-]+$/);
  });

  it("a subaccount's page shows its name, its logo and only its orders", async () => {
    const m = await createMerchant(t.services);
    const sub = written(
      await t.services.subaccounts.create(m.account.id, { name: "Green Shop", email: null, defaultPortfolioId: null }),
    );
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>');
    const withLogo = await t.services.subaccounts.uploadLogo(m.account.id, sub.id, svg, "image/svg+xml");
    const order = { accountId: m.account.id, portfolioId: m.portfolio!.id, state: "fulfilled" as const };
    await seedOrder(t.db, { ...order, subaccountId: sub.id, amountKg: "42", fulfilledAt: new Date() });
    await seedOrder(t.db, { ...order, amountKg: "9000", fulfilledAt: new Date() });
    const page = await t.services.impact.enable({ accountId: m.account.id, subaccountId: sub.id });
    const res = await open(`/impact/${page.slug}`);
    expect(res.status).toBe(200);
    const seen = text(res.body);
    expect(seen).toContain("Climate impact Green Shop");
    expect(seen).toContain("42 kg CO₂e");
    expect(seen).toContain("42 kg CO₂e not yet allocated to projects.");
    expect(seen).not.toContain("9,000");
    expect(res.body).toContain(`<img class="logo" src="${TEST_PUBLIC_URL}/logos/${withLogo.logoId}"`);
  });

  it("an account with nothing retired says so", async () => {
    const m = await createMerchant(t.services);
    const page = await t.services.impact.enable({ accountId: m.account.id, subaccountId: null });
    const seen = text((await open(`/impact/${page.slug}`)).body);
    expect(seen).toContain("0 kg CO₂e");
    expect(seen).toContain("No carbon credits have been retired yet.");
  });

  it("is a 404 page when unknown, never enabled, turned off, or its subaccount deleted", async () => {
    const { account, page } = await accountWithPage();
    const sub = written(
      await t.services.subaccounts.create(account.id, { name: "Leaving", email: null, defaultPortfolioId: null }),
    );
    const subPage = await t.services.impact.enable({ accountId: account.id, subaccountId: sub.id });
    expect((await open(`/impact/${subPage.slug}`)).status).toBe(200);
    await t.services.subaccounts.remove(account.id, sub.id);

    await t.services.impact.disable({ accountId: account.id, subaccountId: null });
    for (const path of [
      `/impact/${page.slug}`,
      `/impact/${subPage.slug}`,
      "/impact/no-such-page",
      "/impact/UPPER-case",
      "/impact/%3Cscript%3E",
      "/impact/",
      "/impact/a/b",
    ]) {
      const res = await open(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type"), path).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control"), path).toBe("no-store");
      expect(res.headers.get("content-security-policy"), path).toContain("default-src 'none'");
      expect(text(res.body), path).toContain("Impact page not found");
      expect(res.body, path).not.toContain("<script>");
    }

    // Enabled again: the same address, with what it showed before.
    const again = await t.services.impact.enable({ accountId: account.id, subaccountId: null });
    expect(again.slug).toBe(page.slug);
    expect((await open(`/impact/${page.slug}`)).status).toBe(200);
  });

  it("serves a page's report from memory for the 60 s it lets caches keep it; a page turned off is gone at once", async () => {
    t.clock.set(new Date());
    try {
      const { account, portfolio, page } = await accountWithPage();
      const total = async () => /data-kg="([\d.]+)"/.exec((await open(`/impact/${page.slug}`)).body)?.[1];
      expect(await total()).toBe("1350.5");
      await seedOrder(t.db, {
        accountId: account.id,
        portfolioId: portfolio!.id,
        amountKg: "100",
        state: "fulfilled",
        fulfilledAt: new Date(),
      });
      t.clock.advanceHours(59 / 3600);
      expect(await total()).toBe("1350.5"); // the report read 59 s ago
      t.clock.advanceHours(1 / 3600);
      expect(await total()).toBe("1450.5"); // 60 s on: read again

      await t.services.impact.disable({ accountId: account.id, subaccountId: null });
      expect((await open(`/impact/${page.slug}`)).status).toBe(404);
      await t.services.impact.enable({ accountId: account.id, subaccountId: null });
      expect(await total()).toBe("1450.5");
    } finally {
      t.clock.now = null as unknown as Date; // back to the real time
    }
  });

  it("answers other methods with 405 and a malformed path with 400, as HTML", async () => {
    const { page } = await accountWithPage();
    const post = await open(`/impact/${page.slug}`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect(post.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const head = await fetch(`${t.url}/impact/${page.slug}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    const bad = await open("/impact/%FF");
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(bad.headers.get("x-frame-options")).toBe("DENY");
  });
});

describe(`the impact page's per-address limit (${storeKind})`, () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({ RATE_LIMIT_MAX: "2", RATE_LIMIT_WINDOW_MS: "60000" });
  });
  afterAll(() => limited?.close());

  it("counts each request against its client address, past the limit a 429 page with Retry-After", async () => {
    const m = await createMerchant(limited.services);
    const page = await limited.services.impact.enable({ accountId: m.account.id, subaccountId: null });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await fetch(`${limited.url}/impact/${page.slug}`);
      statuses.push(last.status);
      await last.text();
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last!.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
