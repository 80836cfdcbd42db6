import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  anOrder,
  createBody,
  OPENCHARGE_ENV,
  type ReceivedProof,
  registerParticipants,
  signedFetch,
  verifyReceivedProof,
} from "../api/opencharge/support.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { launchBrowser, type TestBrowser } from "../helpers/browser.js";
import { freePorts, waitFor } from "../helpers/processes.js";
import { startTestWorkers, stopTestWorkers } from "../helpers/workers.js";

/**
 * Opencharge end to end in Chromium: the test plays the merchant gateway (OCID 600) and its
 * merchant (500). It signs an order and a create request with its own (OpenSSL) signer, sends the
 * customer to checkout_url, pays, lands on urls.success, and receives the transfer proof on its
 * loopback /transfer/webhook, verified with its own code and the key Kassa publishes.
 */

let t: TestApp;
let browser: TestBrowser;
let gateway: { url: string; server: http.Server };
let kassaPublicKey: string;
const proofs: ReceivedProof[] = [];

async function startGateway() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://gateway");
    if (req.method === "POST" && url.pathname === "/gw/transfer/webhook") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        proofs.push({ path: req.url ?? "", headers: req.headers, body });
        const txid = (JSON.parse(body) as { proof: { txid: string } }).proof.txid;
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "accepted", txid }));
      });
      return;
    }
    const page =
      url.pathname === "/success" ? "<h1>Order paid</h1>" : url.pathname === "/cancel" ? "<h1>Your cart</h1>" : null;
    res.writeHead(page ? 200 : 404, { "content-type": "text/html; charset=utf-8" }).end(page ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

beforeAll(async () => {
  const [port] = await freePorts(1);
  t = await startTestApp({ ...OPENCHARGE_ENV, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` });
  gateway = await startGateway();
  await registerParticipants(t, `${gateway.url}/gw`);
  browser = await launchBrowser();
  startTestWorkers(t, { intervalMs: 50 });
  kassaPublicKey = (
    (await (await fetch(`${t.url}/opencharge/metadata.json`)).json()) as { config: { publicKey: string } }
  ).config.publicKey;
});

afterAll(async () => {
  await stopTestWorkers();
  await browser?.close();
  await new Promise((resolve) => gateway?.server.close(resolve));
  await t?.close();
});

async function checkout(order: Record<string, unknown>) {
  const res = await signedFetch(
    t.url,
    "/opencharge/checkout/create",
    createBody(order, { urls: { success: `${gateway.url}/success`, cancel: `${gateway.url}/cancel` } }),
  );
  expect(res.status, res.text).toBe(200);
  return res.body as { checkout_url: string; session_id: string };
}

describe("Opencharge in Chromium: the gateway's customer pays on Kassa's page", () => {
  it("signed create, the page shows the merchant, items, memo and amount, pay, redirect, proof verified", async () => {
    const order = anOrder(new Date(), {
      amount: "42.50",
      items: [
        { id: "mug", name: "Coffee mug", quantity: 2, price: "12.25" },
        { id: "beans", name: "Beans 1 kg", quantity: 1, price: "18.00" },
      ],
      memo: "Order #A-1042 from Merchant Store",
    });
    const { checkout_url, session_id } = await checkout(order);

    const page = await browser.newPage();
    await page.goto(checkout_url);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toContain("Merchant Store");
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).toContain("Coffee mug");
    expect(text).toContain("$24.50");
    expect(text).toContain("Beans 1 kg");
    expect(text).toContain("Order #A-1042 from Merchant Store");
    expect(await page.getByRole("button", { name: "Pay $42.50" }).count()).toBe(1);

    await page.getByLabel("Card number").fill("4242 4242 4242 4242");
    await page.getByLabel("Expiry date").fill("12/34");
    await page.getByLabel("CVC").fill("123");
    await Promise.all([page.waitForURL(`${gateway.url}/success`), page.getByRole("button", { name: /^Pay/ }).click()]);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Order paid");
    await page.close();

    const received = await waitFor(() => proofs[0], 20_000, "the transfer proof");
    const { requestOk, proofOk, proof } = verifyReceivedProof(received, kassaPublicKey);
    expect(requestOk).toBe(true);
    expect(proofOk).toBe(true);
    expect(proof).toMatchObject({
      issuer: 900,
      to: { ocid: 600, reference: order.id },
      from: { ocid: 900, reference: session_id },
      amount: "42.50",
      currency: "USD",
      memo: "Order #A-1042 from Merchant Store",
    });
  });

  it("an asset amount is shown exactly as the order states it, and cancel returns to urls.cancel", async () => {
    const { checkout_url } = await checkout(
      anOrder(new Date(), { amount: "0.000000000000000001", currency: "ETH", items: undefined, memo: "Tip" }),
    );
    const page = await browser.newPage();
    await page.goto(checkout_url);
    expect(await page.getByRole("button", { name: "Pay 0.000000000000000001 ETH" }).count()).toBe(1);
    await Promise.all([page.waitForURL(`${gateway.url}/cancel`), page.getByRole("link", { name: /Cancel/ }).click()]);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Your cart");
    await page.close();
  });
});
