import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMerchantApi, startTestApp, type TestApp, written } from "../helpers/app.js";
import { launchBrowser, type TestBrowser } from "../helpers/browser.js";
import { storeKind } from "../helpers/database.js";
import { seedCategory, seedOrder, seedProject } from "../helpers/impact.js";
import { freePorts, ROOT } from "../helpers/processes.js";

/**
 * A subaccount's public impact page in a real browser (Debian's headless Chromium) at a phone's
 * size: the total, the equivalents and the chart are shown, match what the API reports, nothing
 * spills past the screen's width, and the page breaks none of its own Content-Security-Policy.
 * Its screenshot is the README's (written to test/e2e/screenshots only with UPDATE_SCREENSHOTS=1).
 */

const SCREENSHOT = path.join(ROOT, "test/e2e/screenshots/impact.png");
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PHONE = { width: 390, height: 844 };

const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#f4efe6"/><path d="M32 12c-11 8-16 17-16 26a16 16 0 0 0 32 0c0-9-5-18-16-26z" fill="#6b4f3a"/><path d="M32 20v32" stroke="#f4efe6" stroke-width="3" stroke-linecap="round"/></svg>`;

let t: TestApp;
let browser: TestBrowser;
let shotDir: string;

beforeAll(async () => {
  // The logo's URL is built from PUBLIC_URL, so it must be the address the app listens on.
  const [port] = await freePorts(1);
  t = await startTestApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
  browser = await launchBrowser();
  shotDir = await mkdtemp(path.join(os.tmpdir(), "kassa-impact-shot-"));
});

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (shotDir) await rm(shotDir, { recursive: true, force: true });
});

/** A coffee roaster's subaccount with a logo and a year of fulfilled orders over three categories. */
async function roaster() {
  const m = await createMerchantApi(t);
  const sub = written(
    await t.services.subaccounts.create(m.account.id, {
      name: "Northwind Coffee Roasters",
      email: null,
      defaultPortfolioId: null,
    }),
  );
  await t.services.subaccounts.uploadLogo(m.account.id, sub.id, Buffer.from(LOGO), "image/svg+xml");
  // A customer for a year, whose orders were fulfilled over the months since.
  const joined = new Date(Date.now() - 365 * 86_400_000);
  await t.db.prisma.subaccount.update({ where: { id: sub.id }, data: { createdAt: joined } });
  const forestry = await seedCategory(t.db, { name: "Forestry & Land Use" });
  const removal = await seedCategory(t.db, { name: "Carbon Removal" });
  const energy = await seedCategory(t.db, { name: "Renewable Energy" });
  const projects = {
    redd: await seedProject(t.db, { name: "Example Ridge REDD+ (fictional)", categoryId: forestry.id }),
    mangroves: await seedProject(t.db, { name: "Example Bay Mangroves (fictional)", categoryId: forestry.id }),
    biochar: await seedProject(t.db, { name: "Example Valley Biochar (fictional)", categoryId: removal.id }),
    wind: await seedProject(t.db, { name: "Example Plains Wind (fictional)", categoryId: energy.id }),
  };
  const orders: Array<[string, Array<[keyof typeof projects, string, number[]]>]> = [
    [
      "18250",
      [
        ["redd", "9000", [2019, 2020]],
        ["biochar", "4250", [2023]],
        ["wind", "5000", [2021]],
      ],
    ],
    [
      "12000",
      [
        ["mangroves", "7500", [2022]],
        ["redd", "2500", [2021]],
        ["wind", "2000", [2022]],
      ],
    ],
    ["6500", [["biochar", "6500", [2023, 2024]]]],
  ];
  for (const [index, [amountKg, allocations]] of orders.entries()) {
    await seedOrder(t.db, {
      accountId: m.account.id,
      subaccountId: sub.id,
      portfolioId: m.portfolio!.id,
      amountKg,
      state: "fulfilled",
      fulfilledAt: new Date(joined.getTime() + (index + 1) * 90 * 86_400_000),
      allocations: allocations.map(([key, kg, vintageYears]) => ({
        projectId: projects[key].id,
        amountKg: kg,
        vintageYears,
      })),
    });
  }
  const page = await t.services.impact.enable({ accountId: m.account.id, subaccountId: sub.id });
  return { ...m, sub, page };
}

describe(`the impact page on a phone (${storeKind})`, () => {
  it("shows the total, the equivalents and the chart within the screen's width, and takes the README's screenshot", async () => {
    const { api, sub, page: impactPage } = await roaster();
    const config = await api("GET", "/v1/impact/hosted-page-config", undefined, { "x-subaccount-id": sub.id });
    expect(config.body.enabled).toBe(true);
    const data = await api("GET", "/v1/impact/data", undefined, { "x-subaccount-id": sub.id });
    expect(data.body.total_offset_kgs).toBe(36750);

    const page = await browser.newPage(PHONE);
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    const response = await page.goto(config.body.url);
    expect(response?.status()).toBe(200);
    expect(new URL(config.body.url).pathname).toBe(`/impact/${impactPage.slug}`);

    await expect.poll(() => page.locator("h1").textContent()).toContain("Northwind Coffee Roasters");
    const total = page.locator(".total .amount");
    expect(await total.isVisible()).toBe(true);
    expect(await total.textContent()).toBe("36.75"); // tonnes
    expect(await page.locator(".total .unit").textContent()).toBe("t CO₂e");

    // Each equivalent the API reports, as the page shows it.
    const shown = page.locator(".equivalents li");
    expect(await shown.count()).toBe(4);
    const counts = await page.locator(".equivalents .count").allTextContents();
    const fromApi = [
      data.body.equivalents.cars_off_the_road,
      data.body.equivalents.trees_planted,
      data.body.equivalents.homes_annual_energy_usage,
      data.body.equivalents.flights_lax_to_nyc,
    ].map((n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2 }));
    expect(counts).toEqual(fromApi);
    for (let i = 0; i < 4; i++) expect(await shown.nth(i).isVisible()).toBe(true);

    // The chart: one visible bar per category, widths in the API's proportions.
    const bars = page.locator("svg.bar");
    expect(await bars.count()).toBe(3);
    const names = await page.locator(".bar-label .name").allTextContents();
    expect(names).toEqual(data.body.categories.map((c: { category: { name: string } }) => c.category.name));
    const widths: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(await bars.nth(i).isVisible()).toBe(true);
      const fill = await bars.nth(i).locator("rect.fill").boundingBox();
      widths.push(fill!.width);
    }
    const track = (await bars.nth(0).boundingBox())!.width;
    for (const [i, c] of data.body.categories.entries()) {
      expect(widths[i]! / track).toBeCloseTo(c.offset_kgs / data.body.total_offset_kgs, 1);
    }

    // The logo loaded (its origin is allowed by the page's policy).
    expect(await page.evaluate(`document.querySelector("img.logo").naturalWidth`)).toBeGreaterThan(0);

    // Nothing wider than the phone: no horizontal scrolling, no element past the right edge.
    const overflow = (await page.evaluate(`(() => {
      const width = document.documentElement.clientWidth;
      const past = [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > width + 0.5)
        .map((e) => e.tagName.toLowerCase() + (e.className ? "." + String(e.className) : ""));
      return { width, scrollWidth: document.documentElement.scrollWidth, past };
    })()`)) as { width: number; scrollWidth: number; past: string[] };
    expect(overflow.width).toBe(PHONE.width);
    expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.width);
    expect(overflow.past).toEqual([]);

    expect(problems, "console errors (a CSP violation shows here)").toEqual([]);

    const shot = await page.screenshot({ fullPage: true });
    expect(shot.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(shot.readUInt32BE(16)).toBe(PHONE.width); // IHDR width, at device scale 1
    // Into the repository only when asked, so a test run leaves a clean clone clean.
    const target = process.env.UPDATE_SCREENSHOTS === "1" ? SCREENSHOT : path.join(shotDir, "impact.png");
    await writeFile(target, shot);
    const written = await readFile(target);
    expect(written.length).toBeGreaterThan(1000);
    expect(written.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(written.subarray(12, 16).toString("latin1")).toBe("IHDR");
    await page.close();
  });
});
