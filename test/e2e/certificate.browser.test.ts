import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAdminApp } from "../../src/app.js";
import { createMerchantApi, startTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, type TestBrowser } from "../helpers/browser.js";
import { seedCredits } from "../helpers/credits.js";
import { storeKind } from "../helpers/database.js";
import { freePorts, ROOT } from "../helpers/processes.js";

/**
 * A fulfilled order's certificate in a real browser (Debian's headless Chromium): a merchant
 * places an order through the API, the operator fulfils it through the admin API (what `kassa
 * orders fulfill` calls), and anyone opens certificate_public_url. The screenshot goes to
 * test/e2e/screenshots/certificate.png (shown in the README) only with UPDATE_SCREENSHOTS=1.
 */

const SCREENSHOT = path.join(ROOT, "test/e2e/screenshots/certificate.png");
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let t: TestApp;
let admin: FastifyInstance;
let adminUrl: string;
let browser: TestBrowser;
let scratch: string;

beforeAll(async () => {
  // certificate_public_url is built from PUBLIC_URL, so it must be the address the app listens on.
  const [port] = await freePorts(1);
  t = await startTestApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
  admin = await buildAdminApp({ config: t.config, db: t.db, services: t.services });
  adminUrl = await admin.listen({ host: "127.0.0.1", port: 0 });
  browser = await launchBrowser();
  scratch = await mkdtemp(path.join(os.tmpdir(), "kassa-certificate-"));
});

afterAll(async () => {
  await browser?.close();
  await admin?.close();
  await t?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** An operator command through the admin API, as the CLI sends it beside a running server. */
async function operate(name: string, args: Record<string, unknown>) {
  const response = await fetch(`${adminUrl}/admin/operations/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(args),
  });
  return { status: response.status, body: (await response.json()) as { result?: any; error?: any } };
}

/** A merchant's order for a subaccount, fulfilled by the operator from a two-category portfolio. */
async function fulfilledOrder() {
  const m = await createMerchantApi(t);
  await seedCredits(t.services, m.portfolio!.id, [
    {
      name: "Carbon removal",
      fraction: "0.6",
      projects: [
        {
          name: "Example Bay Kelp Restoration (fictional)",
          type: "Blue carbon",
          details: {
            locationName: "Example Bay, Nowhere",
            registryName: "Example Registry",
            registryUrl: "https://registry.example/projects/EXR-4821",
          },
          issuances: [{ vintage: 2022, tonnes: "500", serialPrefix: "EXR-4821-2022" }],
        },
      ],
    },
    {
      name: "Forest protection",
      fraction: "0.4",
      projects: [
        {
          name: "Example Marsh Peat Forest (fictional)",
          type: "Peatland protection",
          details: {
            locationName: "Example Marsh, Nowhere",
            registryName: "Example Registry",
            registryUrl: "https://registry.example/projects/EXR-0674",
          },
          issuances: [
            { vintage: 2019, tonnes: "0.3", serialPrefix: "EXR-0674-2019" },
            { vintage: 2020, tonnes: "500", serialPrefix: "EXR-0674-2020" },
          ],
        },
      ],
    },
  ]);
  const sub = await m.api("POST", "/v1/subaccounts", { name: "Green Leaf Coffee" });
  expect(sub.status).toBe(201);
  const placed = await m.api(
    "POST",
    "/v1/orders",
    { amount_kg: 1250.5, description: "Carbon removal for your order #1042" },
    { "x-subaccount-id": sub.body.id },
  );
  expect(placed.status, placed.text).toBe(201);
  const fulfilled = await operate("orders.fulfill", { id: placed.body.id });
  expect(fulfilled.status, JSON.stringify(fulfilled.body)).toBe(200);
  return fulfilled.body.result as {
    id: string;
    order_number: string;
    certificate_public_url: string;
    certificate_download_public_url: string;
  };
}

/** A page that records what the browser refused (Content-Security-Policy violations, script errors). */
async function open(url: string, viewport: { width: number; height: number }) {
  const page = await browser.newPage(viewport);
  const complaints: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) complaints.push(message.text());
  });
  page.on("pageerror", (error) => complaints.push(error.message));
  const response = await page.goto(url);
  return { page, response, complaints };
}

/** Evaluates an expression in the page (a string: this project compiles without the DOM's types). */
const inPage = (page: Page, expression: string) => page.evaluate(expression);

describe(`a certificate in Chromium (${storeKind})`, () => {
  it("shows the buyer, the kg and the projects, styled, readable on a phone; a screenshot for the README", async () => {
    const order = await fulfilledOrder();
    const { page, response, complaints } = await open(order.certificate_public_url, { width: 1000, height: 900 });
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe("Certificate: 1,250.5 kg CO₂e retired for Green Leaf Coffee");

    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Green Leaf Coffee");
    expect(await page.getByText("1,250.5 kg", { exact: true }).isVisible()).toBe(true);
    expect(await page.getByText("Carbon removal for your order #1042").isVisible()).toBe(true);
    expect(await page.getByRole("heading", { level: 3 }).allTextContents()).toEqual([
      "Example Bay Kelp Restoration (fictional)",
      "Example Marsh Peat Forest (fictional)",
    ]);
    // 60 % of 1,250.5 kg from the kelp; 40 % from the forest, its older vintage (300 kg) first.
    for (const text of ["750.3 kg CO₂e", "500.2 kg CO₂e", "2019, 2020", "EXR-0674-2019-1-300000000"]) {
      expect(await page.getByText(text).first().isVisible(), text).toBe(true);
    }
    const registry = page.getByRole("link", { name: "Example Bay Kelp Restoration (fictional)" });
    expect(await registry.getAttribute("href")).toBe("https://registry.example/projects/EXR-4821");
    // The inline stylesheet ran (its hash is what the policy allows), and nothing was refused.
    expect(await inPage(page, "getComputedStyle(document.querySelector('.certificate')).borderTopWidth")).toBe("6px");
    expect(complaints).toEqual([]);

    // The PDF link answers the PDF.
    const href = await page.getByRole("link", { name: "Download PDF" }).getAttribute("href");
    expect(new URL(href!, order.certificate_public_url).href).toBe(order.certificate_download_public_url);
    const pdf = await page.request.get(order.certificate_download_public_url);
    expect(pdf.status()).toBe(200);
    expect(pdf.headers()["content-type"]).toBe("application/pdf");
    expect((await pdf.body()).subarray(0, 5).toString("latin1")).toBe("%PDF-");

    const shot = await page.screenshot({ fullPage: true });
    const target = process.env.UPDATE_SCREENSHOTS === "1" ? SCREENSHOT : path.join(scratch, "certificate.png");
    await writeFile(target, shot);
    const written = await readFile(target);
    expect(written.length).toBeGreaterThan(1000);
    expect(written.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(written.subarray(12, 16).toString("latin1")).toBe("IHDR");
    expect(written.readUInt32BE(16)).toBe(1000); // IHDR width
    await page.close();

    // On a phone: nothing wider than the screen.
    const phone = await open(order.certificate_public_url, { width: 360, height: 740 });
    expect(await inPage(phone.page, "document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);
    expect(await phone.page.getByRole("heading", { level: 1 }).isVisible()).toBe(true);
    await phone.page.close();
  });

  it("after the order is cancelled, the same address shows 'not found'", async () => {
    const order = await fulfilledOrder();
    const cancelled = await operate("orders.cancel", { id: order.id });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.result).toMatchObject({ state: "cancelled", certificate_public_url: null });
    const { page, response, complaints } = await open(order.certificate_public_url, { width: 1000, height: 700 });
    expect(response?.status()).toBe(404);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Certificate not found");
    expect(complaints).toEqual([]);
    await page.close();
  });
});
