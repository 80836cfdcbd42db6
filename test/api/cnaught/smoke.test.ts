import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, createMerchant, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe(`checkout session round trip (${storeKind})`, () => {
  it("creates a session over HTTP and reads it back", async () => {
    const m = await createMerchant(t.services);
    const api = apiClient(t.url, m.key);
    const created = await api("POST", "/v1/checkout/sessions", {
      amount_kg: 100,
      success_url: "https://shop.example/ok?s={CHECKOUT_SESSION_ID}",
      cancel_url: "https://shop.example/cancel",
    });
    expect(created.status).toBe(201);
    expect(created.body.price_usd_cents).toBe(200);
    const read = await api("GET", `/v1/checkout/sessions/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });
});
