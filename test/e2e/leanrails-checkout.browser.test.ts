import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leanRailsMerchant, type LeanRailsClient } from "../api/leanrails/support.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, type TestBrowser } from "../helpers/browser.js";
import { storeKind } from "../helpers/database.js";
import { freePorts, waitFor } from "../helpers/processes.js";
import { startTestWorkers, stopTestWorkers } from "../helpers/workers.js";

/**
 * A LeanRails shop in a real browser (Debian's headless Chromium): the shop creates a session
 * with the LeanRails client written from its docs, the customer opens `url`, sees each line item
 * and the total in the session's currency, pays, and lands back on the shop; the API then reads
 * the session complete and paid, and the shop's webhook endpoint receives the signed
 * checkout.session.completed event, verified as leanrails.md says a receiver verifies it.
 */

let t: TestApp;
let browser: TestBrowser;
let shop: { url: string; server: http.Server };
let lr: LeanRailsClient;
let endpointSecret: string;

/** What the shop's webhook endpoint received: the raw body and the headers. */
const received: Array<{ body: string; headers: Record<string, string> }> = [];

/**
 * leanrails.md's receiver: `X-Signature: t=<unix seconds>,v1=<hex>`, hex = HMAC-SHA256 keyed with
 * the whole `whsec_…` string over `"v1=" + t + "." + raw_body`; |now - t| at most 300 s.
 */
function verifySignature(header: string, body: string, secret: string): boolean {
  const parts = Object.fromEntries(header.split(",").map((kv) => kv.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300 || !parts.v1) return false;
  const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(`v1=${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function startShop() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://shop");
    if (req.method === "POST" && url.pathname === "/webhooks") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        received.push({ body: Buffer.concat(chunks).toString("utf8"), headers });
        res.writeHead(204).end();
      });
      return;
    }
    const body =
      url.pathname === "/thanks"
        ? `<h1>Thank you</h1><p id="session">${encodeURIComponent(url.searchParams.get("session_id") ?? "")}</p>`
        : null;
    res.writeHead(body ? 200 : 404, { "content-type": "text/html; charset=utf-8" }).end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  // `url` is built from PUBLIC_URL, so it must be the address the app really listens on.
  const [port] = await freePorts(1);
  t = await startTestApp({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
  shop = await startShop();
  browser = await launchBrowser();
  ({ lr } = await leanRailsMerchant(t));
  const endpoint = await lr("POST", "/v1/webhook_endpoints", {
    body: { url: `${shop.url}/webhooks`, enabled_events: ["checkout.session.completed"] },
  });
  expect(endpoint.status, endpoint.text).toBe(200);
  endpointSecret = endpoint.body.secret;
  // The background workers, as the server runs them: they deliver the events.
  startTestWorkers(t, { intervalMs: 50 });
});

afterAll(async () => {
  await stopTestWorkers();
  await browser?.close();
  await new Promise((resolve) => shop?.server.close(resolve));
  await t?.close();
});

async function createSession(params: Record<string, unknown>) {
  const res = await lr("POST", "/v1/checkout_sessions", {
    body: {
      mode: "payment",
      success_url: `${shop.url}/thanks?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${shop.url}/cart`,
      ...params,
    },
  });
  expect(res.status, res.text).toBe(200);
  return res.body as { id: string; url: string };
}

async function openCheckout(url: string) {
  const page = await browser.newPage();
  const complaints: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) complaints.push(message.text());
  });
  page.on("pageerror", (error) => complaints.push(error.message));
  await page.goto(url);
  return { page, complaints };
}

async function fillCard(page: Page) {
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry date").fill("12/34");
  await page.getByLabel("CVC").fill("123");
  await page.getByLabel("Name on card").fill("Ada Lovelace");
}

describe(`a LeanRails session paid in Chromium (${storeKind})`, () => {
  it("two EUR items: the page lists both and €48.50, asks for the prefilled email and the address; paid, the API reads complete", async () => {
    const session = await createSession({
      line_items: [
        { quantity: 2, price_data: { currency: "eur", product: "T-shirt", unit_amount: 2000 } },
        { quantity: 1, price_data: { currency: "eur", product: "Mug", unit_amount: 850 } },
      ],
      customer_email: "ada@example.com",
      billing_address_collection: "required",
    });
    const { page, complaints } = await openCheckout(session.url);
    const text = (await page.locator("body").textContent()) ?? "";
    expect(text).toContain("T-shirt");
    expect(text).toContain("Mug");
    expect(text).toContain("€40.00");
    expect(text).toContain("€8.50");
    expect(await page.getByRole("button", { name: "Pay €48.50" }).count()).toBe(1);
    expect(await page.getByLabel("Email").inputValue()).toBe("ada@example.com");

    await fillCard(page);
    await page.getByLabel("Address line 1").fill("12 Analytical Row");
    await page.getByLabel("City").fill("London");
    await page.getByLabel("Postal code").fill("N1 9GU");
    await page.getByLabel("Country code").fill("GB");
    await Promise.all([page.waitForURL(`${shop.url}/thanks?**`), page.getByRole("button", { name: /^Pay / }).click()]);
    expect(await page.locator("#session").textContent()).toBe(session.id);
    expect(complaints).toEqual([]);

    const read = await lr("GET", `/v1/checkout_sessions/${session.id}`);
    expect(read.body).toMatchObject({
      status: "complete",
      payment_status: "paid",
      amount_total: 4850,
      customer_details: { email: "ada@example.com", name: "Ada Lovelace", address: { city: "London", country: "GB" } },
    });
    expect(read.body.payment_intent).toMatch(/^pi_/);
    await page.close();

    // The shop's endpoint receives the signed checkout.session.completed event.
    const delivery = await waitFor(
      () =>
        received.find((r) => {
          const event = JSON.parse(r.body) as { type: string; data: { object: { id: string } } };
          return event.type === "checkout.session.completed" && event.data.object.id === session.id;
        }),
      20_000,
      "the checkout.session.completed event",
    );
    expect(verifySignature(delivery.headers["x-signature"] ?? "", delivery.body, endpointSecret)).toBe(true);
    expect(verifySignature(delivery.headers["x-signature"] ?? "", `${delivery.body} `, endpointSecret)).toBe(false);
    expect(verifySignature(delivery.headers["x-signature"] ?? "", delivery.body, "whsec_other")).toBe(false);
    const event = JSON.parse(delivery.body);
    expect(event).toMatchObject({ object: "event", livemode: false, api_version: "2026-03-09" });
    expect(event.id).toMatch(/^evt_/);
    // The event's session is the session as the API reads it.
    expect(event.data.object).toEqual(read.body);
  });

  it("a JPY session shows ¥500 (no minor unit) and pays 500 yen", async () => {
    const session = await createSession({
      line_items: [{ quantity: 2, price_data: { currency: "jpy", product: "Onigiri", unit_amount: 250 } }],
    });
    const { page, complaints } = await openCheckout(session.url);
    expect(await page.getByRole("button", { name: "Pay ¥500" }).count()).toBe(1);
    expect((await page.locator("body").textContent()) ?? "").not.toContain("¥5.00");
    await fillCard(page);
    await page.getByLabel("Email").fill("kenji@example.jp");
    await Promise.all([page.waitForURL(`${shop.url}/thanks?**`), page.getByRole("button", { name: /^Pay / }).click()]);
    expect(complaints).toEqual([]);
    const read = await lr("GET", `/v1/checkout_sessions/${session.id}`);
    expect(read.body).toMatchObject({ status: "complete", payment_status: "paid", currency: "jpy", amount_total: 500 });
    const payments = await t.db.prisma.payment.findMany({ where: { checkoutSessionId: session.id } });
    expect(payments.map((p) => [p.status, p.amount.toString(), p.currency])).toEqual([["succeeded", "500", "JPY"]]);
    await page.close();
  });
});
