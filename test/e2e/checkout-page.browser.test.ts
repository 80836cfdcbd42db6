import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMerchantApi, startTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, type TestBrowser } from "../helpers/browser.js";
import { storeKind } from "../helpers/database.js";
import { freePorts, ROOT, waitFor } from "../helpers/processes.js";
import { startTestWorkers, stopTestWorkers } from "../helpers/workers.js";

/**
 * The hosted page in a real browser (Debian's headless Chromium through playwright-core): a shop
 * creates a session through the API, the customer opens checkout_url, pays or cancels, and lands
 * back on the shop, here a small HTTP server on 127.0.0.1.
 */

const SCREENSHOT = path.join(ROOT, "test/e2e/screenshots/checkout-page.png");
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let t: TestApp;
let browser: TestBrowser;
let shop: { url: string; server: http.Server };
let api: Awaited<ReturnType<typeof createMerchantApi>>["api"];
let accountId: string;

/** What the shop's webhook endpoint received: raw body and headers, as a receiver must verify them. */
const notifications: Array<{ body: string; headers: Record<string, string> }> = [];

/**
 * The merchant's site: a success page that shows the session id it was sent, a cart page, and a
 * webhook endpoint (POST /webhooks) that keeps what it receives.
 */
async function startShop() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://shop");
    if (req.method === "POST" && url.pathname === "/webhooks") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        notifications.push({ body: Buffer.concat(chunks).toString("utf8"), headers });
        res.writeHead(204).end();
      });
      return;
    }
    const body =
      url.pathname === "/success"
        ? `<h1>Thank you</h1><p id="session">${encodeURIComponent(url.searchParams.get("session_id") ?? "")}</p>`
        : url.pathname === "/cancel"
          ? "<h1>Your cart</h1>"
          : null;
    res.writeHead(body ? 200 : 404, { "content-type": "text/html; charset=utf-8" }).end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  // checkout_url is built from PUBLIC_URL, so it must be the address the app really listens on.
  const [port] = await freePorts(1);
  t = await startTestApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
  shop = await startShop();
  browser = await launchBrowser();
  let account: { id: string };
  ({ api, account } = await createMerchantApi(t));
  accountId = account.id;
  // The background workers, as the server runs them: they deliver the order notifications.
  startTestWorkers(t, { intervalMs: 50 });
});

afterAll(async () => {
  await stopTestWorkers();
  await browser?.close();
  await new Promise((resolve) => shop?.server.close(resolve));
  await t?.close();
});

async function newSession(params: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await api(
    "POST",
    "/v1/checkout/sessions",
    {
      amount_kg: 100,
      success_url: `${shop.url}/success?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${shop.url}/cancel`,
      ...params,
    },
    headers,
  );
  expect(res.status).toBe(201);
  return res.body as { id: string; checkout_url: string };
}

const stateOf = async (id: string) => (await api("GET", `/v1/checkout/sessions/${id}`)).body.state as string;
const ordersOf = (id: string) => t.db.prisma.order.count({ where: { checkoutSessionId: id } });

/** A page that records what the browser refused (Content-Security-Policy violations, script errors). */
async function openCheckout(url: string, viewport?: { width: number; height: number }) {
  const page = await browser.newPage(viewport);
  const complaints: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) complaints.push(message.text());
  });
  page.on("pageerror", (error) => complaints.push(error.message));
  await page.goto(url);
  return { page, complaints };
}

async function fillCard(page: Page, number: string) {
  await page.getByLabel("Card number").fill(number);
  await page.getByLabel("Expiry date").fill("12/34");
  await page.getByLabel("CVC").fill("123");
}

/** Evaluates an expression in the page (a string: this project compiles without the DOM's types). */
const inPage = (page: Page, expression: string) => page.evaluate(expression);

const payButton = (page: Page) => page.getByRole("button", { name: /^Pay \$/ });

describe(`the hosted checkout page in Chromium (${storeKind})`, () => {
  it("pays with 4242 and lands on the shop's success page carrying the session id; the API shows complete", async () => {
    const { page, complaints } = await openCheckout(
      (
        await newSession({
          description: "Offset for order #1042",
          notification_config: { url: `${shop.url}/webhooks` },
        })
      ).checkout_url,
    );
    const id = page.url().split("/pay/")[1]!;
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain("Pay");
    expect(await page.getByText("Offset for order #1042").count()).toBe(1);
    // The stylesheet loaded under the CSP (the pay button is styled).
    expect(await inPage(page, "getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor")).toBe(
      "rgb(43, 93, 58)",
    );

    await fillCard(page, "4242 4242 4242 4242");
    await Promise.all([page.waitForURL(`${shop.url}/success?**`), payButton(page).click()]);
    expect(new URL(page.url()).searchParams.get("session_id")).toBe(id);
    expect(await page.locator("#session").textContent()).toBe(id);
    expect(await stateOf(id)).toBe("complete");
    expect(await ordersOf(id)).toBe(1);
    // Chromium applies form-action to the 303 after the POST: it must not have blocked it.
    expect(complaints).toEqual([]);

    // The order's notification arrives at the shop's webhook endpoint, signed with the account's
    // secret: Standard Webhooks' own library verifies it.
    const received = await waitFor(
      () =>
        notifications.find(
          (n) => (JSON.parse(n.body) as { order: { checkout_session_id: string } }).order.checkout_session_id === id,
        ),
      20_000,
      "the order notification",
    );
    const { secret } = await t.services.webhooks.secret(accountId);
    const verified = new Webhook(secret).verify(received.body, received.headers) as { order: Record<string, unknown> };
    expect(verified.order).toMatchObject({
      state: "placed",
      checkout_session_id: id,
      amount_kg: 100,
      price_usd_cents: 200,
    });
    expect(received.headers["webhook-id"]).toMatch(/^msg_/);
    // A signature made with another secret does not verify.
    const forged = new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`);
    expect(() => forged.verify(received.body, received.headers)).toThrow();
  });

  it("takes a screenshot of the filled page at desktop width (for the README)", async () => {
    const sub = await api("POST", "/v1/subaccounts", { name: "Green Leaf Coffee" });
    expect(sub.status).toBe(201);
    const session = await newSession(
      { amount_kg: 250, description: "Carbon removal for your order #1042" },
      { "x-subaccount-id": sub.body.id },
    );
    const { page } = await openCheckout(session.checkout_url, { width: 1280, height: 900 });
    await fillCard(page, "4242 4242 4242 4242");
    await page.getByLabel("Name on card").fill("Ada Lovelace");
    const shot = await page.screenshot({ fullPage: true });
    expect(shot.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(shot.readUInt32BE(16)).toBe(1280); // IHDR width
    // Written only when missing or asked for, so a test run leaves a clean clone clean.
    if (!existsSync(SCREENSHOT) || process.env.UPDATE_SCREENSHOTS === "1") await writeFile(SCREENSHOT, shot);
    const committed = await readFile(SCREENSHOT);
    expect(committed.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(committed.subarray(12, 16).toString("latin1")).toBe("IHDR");
    expect(committed.readUInt32BE(16)).toBeGreaterThan(0);
    await page.close();
  });

  it("shows a decline next to the form and keeps the session open", async () => {
    const session = await newSession();
    const { page } = await openCheckout(session.checkout_url);
    await fillCard(page, "4000 0000 0000 0002");
    await payButton(page).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("Your card was declined.");
    expect(page.url()).toBe(session.checkout_url);
    expect(await page.getByLabel("Card number").inputValue()).toBe("4000 0000 0000 0002");
    expect(await page.getByLabel("CVC").inputValue()).toBe("");
    expect(await stateOf(session.id)).toBe("open");
    expect(await ordersOf(session.id)).toBe(0);
    await page.close();
  });

  it("Cancel returns to cancel_url and the session stays open", async () => {
    const session = await newSession();
    const { page } = await openCheckout(session.checkout_url);
    await Promise.all([page.waitForURL(`${shop.url}/cancel`), page.getByRole("link", { name: /^Cancel/ }).click()]);
    expect(await page.getByRole("heading").textContent()).toBe("Your cart");
    expect(await stateOf(session.id)).toBe("open");
    await page.close();
  });

  it("a double click on Pay places one order", async () => {
    const session = await newSession();
    const { page } = await openCheckout(session.checkout_url);
    let posts = 0;
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().includes("/pay/")) posts += 1;
    });
    await fillCard(page, "4242 4242 4242 4242");
    await payButton(page).dblclick();
    // The second submit aborts the first navigation (so waitForURL would see ERR_ABORTED): poll instead.
    await expect.poll(() => page.url(), { timeout: 30_000 }).toMatch(`${shop.url}/success?session_id=${session.id}`);
    expect(posts).toBeGreaterThanOrEqual(1);
    expect(await stateOf(session.id)).toBe("complete");
    expect(await ordersOf(session.id)).toBe(1);
    const payments = await t.services.repos.payments.listForSession(session.id);
    expect(payments.map((p) => p.status)).toEqual(["succeeded"]);
    await page.close();
  });

  it("can be completed with the keyboard alone (Tab, typing, Enter), with a visible focus ring", async () => {
    const session = await newSession();
    const { page } = await openCheckout(session.checkout_url);
    const focused = () => inPage(page, "document.activeElement?.id ?? ''");
    for (let i = 0; i < 10 && (await focused()) !== "card_number"; i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe("card_number");
    const ring = await inPage(
      page,
      "[getComputedStyle(document.activeElement).outlineStyle, getComputedStyle(document.activeElement).outlineWidth].join(' ')",
    );
    expect(ring).toBe("solid 3px");
    await page.keyboard.type("4242 4242 4242 4242");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("expiry");
    await page.keyboard.type("12/34");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("cvc");
    await page.keyboard.type("123");
    await Promise.all([page.waitForURL(`${shop.url}/success?**`), page.keyboard.press("Enter")]);
    expect(await stateOf(session.id)).toBe("complete");
    await page.close();
  });

  it("fits a 375px-wide phone screen without horizontal scrolling, also with field errors", async () => {
    const session = await newSession({ description: "A rather long description ".repeat(8) });
    const { page, complaints } = await openCheckout(session.checkout_url, { width: 375, height: 812 });
    const overflow = () => inPage(page, "document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(await overflow()).toBe(0);
    await payButton(page).click();
    await expect.poll(() => page.locator("#card_number-error").count()).toBe(1);
    expect(await overflow()).toBe(0);
    // The error is tied to its field for screen readers.
    expect(await page.getByLabel("Card number").getAttribute("aria-describedby")).toBe("card_number-error");
    expect(complaints).toEqual([]);
    await page.close();
  });

  it("an expired session's page says so and has no form", async () => {
    const session = await newSession();
    const expiresOn = (await api("GET", `/v1/checkout/sessions/${session.id}`)).body.expires_on as string;
    t.clock.set(new Date(new Date(expiresOn).getTime() + 60_000));
    try {
      const { page } = await openCheckout(session.checkout_url);
      expect(await page.getByRole("alert").textContent()).toContain("This checkout has expired.");
      expect(await page.locator("form").count()).toBe(0);
      await page.close();
    } finally {
      (t.clock as { now: Date | null }).now = null;
    }
  });
});
