import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectError, leanRailsMerchant, SESSION_FIELDS, sessionParams } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe(`POST /v1/checkout_sessions (${storeKind})`, () => {
  it("creates a session with two EUR items and answers 200 with the seed's whole object", async () => {
    const { lr } = await leanRailsMerchant(t);
    const before = nowSeconds();
    const res = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({
        customer: "cus_123",
        customer_email: "ada@example.com",
        client_reference_id: "order-42",
        metadata: { order: "42" },
        payment_intent_data: { description: "Order 42", metadata: { a: "b" } },
      }),
    });
    expect(res.status, res.text).toBe(200);
    const s = res.body;
    expect(Object.keys(s).sort()).toEqual(SESSION_FIELDS);
    expect(s.id).toMatch(/^cs_/);
    expect(s).toMatchObject({
      object: "checkout.session",
      mode: "payment",
      status: "open",
      payment_status: "unpaid",
      ui_mode: "hosted",
      customer_creation: "if_required",
      billing_address_collection: "auto",
      metadata: { order: "42" },
      livemode: false,
      url: `${TEST_PUBLIC_URL}/pay/${s.id}`,
      client_secret: null,
      success_url: "https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "https://shop.example/cart",
      customer: "cus_123",
      customer_email: "ada@example.com",
      customer_details: null,
      payment_intent: null,
      currency: "eur",
      amount_subtotal: 4850,
      amount_total: 4850,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      client_reference_id: "order-42",
    });
    expect(s.created).toBeGreaterThanOrEqual(before);
    expect(s.created).toBeLessThanOrEqual(nowSeconds());
    expect(s.expires_at - s.created).toBe(24 * 3600);
    expect(res.headers.get("x-api-version")).toBe("2026-03-09");
  });

  it("creates a JPY session in whole yen", async () => {
    const { lr } = await leanRailsMerchant(t);
    const res = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({
        line_items: [{ quantity: 3, price_data: { currency: "JPY", product: "Onigiri", unit_amount: 500 } }],
      }),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ currency: "jpy", amount_subtotal: 1500, amount_total: 1500 });
  });

  it("GET returns the same session", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    const got = await lr("GET", `/v1/checkout_sessions/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
  });

  it("an unknown id is 404 resource_missing", async () => {
    const { lr } = await leanRailsMerchant(t);
    const res = await lr("GET", "/v1/checkout_sessions/cs_nope");
    expectError(res, 404, { code: "resource_missing", param: "id" });
  });

  it("a bad key is 401 authentication_failed", async () => {
    const res = await fetch(`${t.url}/v1/checkout_sessions`, {
      headers: { authorization: `Basic ${Buffer.from("sk_test_nope:").toString("base64")}` },
    });
    const body = (await res.json()) as { error: unknown };
    expect(res.status).toBe(401);
    expect(body.error).toMatchObject({
      type: "authentication_error",
      code: "authentication_failed",
      message: "Invalid API key provided.",
    });
  });
});
