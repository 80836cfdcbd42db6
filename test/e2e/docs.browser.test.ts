import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, type TestBrowser } from "../helpers/browser.js";

/**
 * The interactive docs (Swagger UI at /docs) in a real browser under their Content-Security-Policy:
 * the page must still render every operation, with nothing refused by the policy.
 */

let t: TestApp;
let browser: TestBrowser;
beforeAll(async () => {
  t = await startTestApp({ PUBLIC_URL: "http://127.0.0.1:0" });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe("Swagger UI under its CSP", () => {
  it("renders the operations, loading nothing the policy refuses", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" || /Content Security Policy|Refused to/i.test(message.text())) {
        problems.push(message.text());
      }
    });
    page.on("pageerror", (error) => problems.push(String(error)));
    // Page code as text: the test's TypeScript has no DOM types.
    await page.addInitScript(`
      document.addEventListener("securitypolicyviolation", (event) => {
        console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI);
      });
    `);
    const response = await page.goto(`${t.url}/docs`, { waitUntil: "load" });
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    await page.waitForSelector(".opblock", { timeout: 30_000 });
    expect(await page.locator(".opblock").count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator(".info .title").textContent()).toContain("Kassa");
    // Styles applied: Swagger UI's stylesheet gives operation blocks a border.
    const border = await page.evaluate(`getComputedStyle(document.querySelector(".opblock")).borderStyle`);
    expect(border).toBe("solid");
    expect(problems).toEqual([]);
  });
});
