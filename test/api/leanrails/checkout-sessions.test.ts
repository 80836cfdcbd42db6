import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectError, leanRailsMerchant, SESSION_FIELDS, sessionParams, twoEuroItems } from "./support.js";

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

  it("takes the options the seed lists: expires_at, customer_creation, billing_address_collection, currency, http localhost", async () => {
    const { lr } = await leanRailsMerchant(t);
    const expiresAt = nowSeconds() + 3600;
    const res = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({
        expires_at: expiresAt,
        customer_creation: "always",
        billing_address_collection: "required",
        currency: "EUR",
        ui_mode: "hosted",
        success_url: "http://localhost:8080/ok",
        cancel_url: undefined,
      }),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      expires_at: expiresAt,
      customer_creation: "always",
      billing_address_collection: "required",
      success_url: "http://localhost:8080/ok",
      cancel_url: null,
      metadata: {},
    });
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ["no success_url", { success_url: undefined }, "parameter_missing", "success_url"],
    [
      "an http success_url off localhost",
      { success_url: "http://shop.example/ok" },
      "parameter_invalid",
      "success_url",
    ],
    ["a relative cancel_url", { cancel_url: "/cart" }, "parameter_invalid", "cancel_url"],
    ["mode subscription", { mode: "subscription" }, "parameter_invalid", "mode"],
    ["mode unknown", { mode: "rent" }, "parameter_invalid", "mode"],
    ["no mode", { mode: undefined }, "parameter_missing", "mode"],
    ["ui_mode embedded", { ui_mode: "embedded" }, "parameter_invalid", "ui_mode"],
    ["ui_mode custom", { ui_mode: "custom" }, "parameter_invalid", "ui_mode"],
    ["no line items", { line_items: [] }, "parameter_invalid", "line_items"],
    [
      "a unit_amount of 0",
      { line_items: [{ quantity: 1, price_data: { currency: "eur", product: "X", unit_amount: 0 } }] },
      "parameter_invalid",
      "line_items[0][price_data][unit_amount]",
    ],
    [
      "a fractional unit_amount",
      { line_items: [{ quantity: 1, price_data: { currency: "eur", product: "X", unit_amount: 1.5 } }] },
      "parameter_invalid",
      "line_items[0][price_data][unit_amount]",
    ],
    [
      "a quantity of 0",
      { line_items: [{ quantity: 0, price_data: { currency: "eur", product: "X", unit_amount: 100 } }] },
      "parameter_invalid",
      "line_items[0][quantity]",
    ],
    [
      "two currencies",
      {
        line_items: [
          ...twoEuroItems(),
          { quantity: 1, price_data: { currency: "usd", product: "Cap", unit_amount: 100 } },
        ],
      },
      "parameter_invalid",
      "line_items[2][price_data][currency]",
    ],
    [
      "an unknown currency",
      { line_items: [{ quantity: 1, price_data: { currency: "xyz", product: "X", unit_amount: 100 } }] },
      "parameter_invalid",
      "line_items[0][price_data][currency]",
    ],
    ["a currency other than the items'", { currency: "usd" }, "parameter_invalid", "currency"],
    [
      "both price and price_data",
      {
        line_items: [
          { quantity: 1, price: "price_1", price_data: { currency: "eur", product: "X", unit_amount: 100 } },
        ],
      },
      "parameter_invalid",
      "line_items[0]",
    ],
    [
      "neither price nor price_data",
      { line_items: [{ quantity: 1 }] },
      "parameter_missing",
      "line_items[0][price_data]",
    ],
    [
      "a recurring price",
      {
        line_items: [
          {
            quantity: 1,
            price_data: { currency: "eur", product: "X", unit_amount: 100, recurring: { interval: "month" } },
          },
        ],
      },
      "parameter_invalid",
      "line_items[0][price_data][recurring]",
    ],
    ["a customer that is not cus_", { customer: "c_1" }, "parameter_invalid", "customer"],
    ["a bad customer_email", { customer_email: "not-an-email" }, "parameter_invalid", "customer_email"],
    [
      "a client_reference_id over 200",
      { client_reference_id: "x".repeat(201) },
      "parameter_invalid",
      "client_reference_id",
    ],
    ["expires_at in 10 minutes", { expires_at: nowSeconds() + 600 }, "parameter_invalid", "expires_at"],
    ["expires_at in 25 hours", { expires_at: nowSeconds() + 25 * 3600 }, "parameter_invalid", "expires_at"],
    [
      "51 metadata keys",
      { metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) },
      "parameter_invalid",
      "metadata",
    ],
    ["a metadata key of 41 characters", { metadata: { ["k".repeat(41)]: "v" } }, "parameter_invalid", "metadata"],
    [
      "a metadata value of 501 characters",
      { metadata: { note: "v".repeat(501) } },
      "parameter_invalid",
      "metadata[note]",
    ],
    ["a metadata value that is a number", { metadata: { n: 1 } }, "parameter_invalid", "metadata[n]"],
    ["an unknown parameter", { colour: "red" }, "parameter_invalid", "colour"],
    [
      "manual capture",
      { payment_intent_data: { capture_method: "manual" } },
      "parameter_invalid",
      "payment_intent_data[capture_method]",
    ],
    ["a NUL in a string", { client_reference_id: "a\u0000b" }, "parameter_invalid", "client_reference_id"],
    ["a lone surrogate", { client_reference_id: "a\ud800b" }, "parameter_invalid", "client_reference_id"],
  ])("%s is 400 naming the param", async (_label, overrides, code, param) => {
    const { lr } = await leanRailsMerchant(t);
    const res = await lr("POST", "/v1/checkout_sessions", { body: sessionParams(overrides) });
    expectError(res, 400, { code, param });
    // Nothing was created.
    const list = await lr("GET", "/v1/checkout_sessions");
    expect(list.body.data).toEqual([]);
  });

  it("line items from the catalogue: a price id, and price_data naming a prod_ id, show the product's name", async () => {
    const { lr } = await leanRailsMerchant(t);
    const shirt = await lr("POST", "/v1/products", {
      body: { name: "T-shirt", default_price_data: { currency: "eur", unit_amount: 2000 } },
    });
    expect(shirt.status, shirt.text).toBe(200);
    const mug = await lr("POST", "/v1/products", { body: { name: "Mug" } });
    const created = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({
        line_items: [
          { quantity: 2, price: shirt.body.default_price },
          { quantity: 1, price_data: { currency: "eur", product: mug.body.id, unit_amount: 850 } },
        ],
      }),
    });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toMatchObject({ currency: "eur", amount_total: 4850 });
    const items = await lr("GET", `/v1/checkout_sessions/${created.body.id}/line_items`);
    expect(items.body.data).toMatchObject([
      {
        description: "T-shirt",
        quantity: 2,
        amount_total: 4000,
        price: { id: shirt.body.default_price, product: shirt.body.id, unit_amount: 2000 },
      },
      { description: "Mug", quantity: 1, amount_total: 850, price: { id: null, product: mug.body.id } },
    ]);
    // Another merchant's price is unknown here; an inactive price is refused.
    const other = await leanRailsMerchant(t);
    const theirs = await other.lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({ line_items: [{ quantity: 1, price: shirt.body.default_price }] }),
    });
    expectError(theirs, 400, { code: "resource_missing", param: "line_items[0][price]" });
    expect((await lr("POST", `/v1/prices/${shirt.body.default_price}`, { body: { active: false } })).status).toBe(200);
    const inactive = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({ line_items: [{ quantity: 1, price: shirt.body.default_price }] }),
    });
    expectError(inactive, 400, { code: "parameter_invalid", param: "line_items[0][price]" });
  });

  it("a price id or a prod_ id that does not exist is 400 resource_missing naming it", async () => {
    const { lr } = await leanRailsMerchant(t);
    const byPrice = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({ line_items: [{ quantity: 1, price: "price_nope" }] }),
    });
    expectError(byPrice, 400, { code: "resource_missing", param: "line_items[0][price]" });
    const byProduct = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({
        line_items: [{ quantity: 1, price_data: { currency: "eur", product: "prod_nope", unit_amount: 100 } }],
      }),
    });
    expectError(byProduct, 400, { code: "resource_missing", param: "line_items[0][price_data][product]" });
  });
});

describe(`what a session keeps, and its expiry (${storeKind})`, () => {
  it("keeps LeanRails' own options and the API version it was created at for its events", async () => {
    const { lr, account } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({ customer_creation: "always", payment_intent_data: { statement_descriptor: "SHOP" } }),
      headers: { "x-api-version": "2026-03-09" },
    });
    const session = await t.services.checkoutSessions.get(
      { accountId: account.id, subaccountId: null },
      created.body.id,
    );
    expect(session.api).toBe("leanrails");
    expect(session.apiData).toMatchObject({
      api_version: "2026-03-09",
      customer_creation: "always",
      payment_intent_data: { statement_descriptor: "SHOP" },
      tax_behaviors: ["inclusive", "unspecified"],
    });
  });

  it("the sweeper expires a session past expires_at: it reads expired", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({ expires_at: nowSeconds() + 31 * 60 }),
    });
    expect(created.status, created.text).toBe(200);
    t.clock.set(new Date((created.body.expires_at + 1) * 1000));
    try {
      expect((await lr("GET", `/v1/checkout_sessions/${created.body.id}`)).body.status).toBe("expired");
      expect(await t.services.checkoutSessions.expireDue()).toBeGreaterThanOrEqual(1);
      const read = await lr("GET", `/v1/checkout_sessions/${created.body.id}`);
      expect(read.body).toMatchObject({
        status: "expired",
        payment_status: "unpaid",
        url: `${TEST_PUBLIC_URL}/pay/${created.body.id}`,
      });
      expectError(await lr("POST", `/v1/checkout_sessions/${created.body.id}/expire`), 400, { code: "invalid_state" });
    } finally {
      t.clock.set(null as unknown as Date);
    }
  });
});

describe(`GET /v1/checkout_sessions/{id} (${storeKind})`, () => {
  it("returns the session as created", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    const got = await lr("GET", `/v1/checkout_sessions/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);
  });

  it("an unknown id, and another merchant's session, are 404 resource_missing", async () => {
    const { lr } = await leanRailsMerchant(t);
    expectError(await lr("GET", "/v1/checkout_sessions/cs_nope"), 404, { code: "resource_missing", param: "id" });
    const other = await leanRailsMerchant(t);
    const theirs = await other.lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    const res = await lr("GET", `/v1/checkout_sessions/${theirs.body.id}`);
    expectError(res, 404, { code: "resource_missing", param: "id" });
    expect(res.body.error.message).toBe(`No such checkout_session: '${theirs.body.id}'`);
  });
});

describe(`GET /v1/checkout_sessions (${storeKind})`, () => {
  it("lists newest first, 10 by default, and pages with starting_after / ending_before", async () => {
    const { lr } = await leanRailsMerchant(t);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await lr("POST", "/v1/checkout_sessions", { body: sessionParams({ client_reference_id: `r${i}` }) });
      ids.push(res.body.id);
    }
    const newestFirst = [...ids].reverse();

    const first = await lr("GET", "/v1/checkout_sessions");
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(["data", "has_more", "next_cursor", "object", "url"]);
    expect(first.body).toMatchObject({ object: "list", has_more: true, url: "/v1/checkout_sessions" });
    expect(first.body.data.map((s: { id: string }) => s.id)).toEqual(newestFirst.slice(0, 10));
    expect(first.body.next_cursor).toBe(newestFirst[9]);
    expect(first.body.data[0].object).toBe("checkout.session");

    const second = await lr("GET", `/v1/checkout_sessions?limit=10&starting_after=${first.body.next_cursor}`);
    expect(second.body.data.map((s: { id: string }) => s.id)).toEqual(newestFirst.slice(10));
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });

    const small = await lr("GET", "/v1/checkout_sessions?limit=3");
    expect(small.body.data).toHaveLength(3);
    expect(small.body.next_cursor).toBe(newestFirst[2]);

    const before = await lr("GET", `/v1/checkout_sessions?limit=2&ending_before=${newestFirst[5]}`);
    expect(before.body.data.map((s: { id: string }) => s.id)).toEqual(newestFirst.slice(3, 5));
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=abc", "limit"],
    ["starting_after=cs_nope", "starting_after"],
    ["ending_before=cs_nope", "ending_before"],
    ["starting_after=cs_a&ending_before=cs_b", "ending_before"],
  ])("%s is 400 parameter_invalid naming %s", async (query, param) => {
    const { lr } = await leanRailsMerchant(t);
    expectError(await lr("GET", `/v1/checkout_sessions?${query}`), 400, { code: "parameter_invalid", param });
  });

  it("lists only the merchant's LeanRails sessions", async () => {
    const { lr, key } = await leanRailsMerchant(t);
    const mine = await lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    // A CNaught session of the same account is not a LeanRails session.
    const cnaught = await fetch(`${t.url}/v1/checkout/sessions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ amount_kg: 100, success_url: "https://a.example/ok", cancel_url: "https://a.example/no" }),
    });
    expect(cnaught.status).toBe(201);
    const other = await leanRailsMerchant(t);
    await other.lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    const list = await lr("GET", "/v1/checkout_sessions");
    expect(list.body.data.map((s: { id: string }) => s.id)).toEqual([mine.body.id]);
  });
});

describe(`POST /v1/checkout_sessions/{id}/expire (${storeKind})`, () => {
  it("expires an open session and returns it; expiring it again is 400", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    const expired = await lr("POST", `/v1/checkout_sessions/${created.body.id}/expire`);
    expect(expired.status, expired.text).toBe(200);
    expect(expired.body).toMatchObject({
      id: created.body.id,
      status: "expired",
      payment_status: "unpaid",
      url: created.body.url,
    });
    const got = await lr("GET", `/v1/checkout_sessions/${created.body.id}`);
    expect(got.body.status).toBe("expired");
    const again = await lr("POST", `/v1/checkout_sessions/${created.body.id}/expire`);
    expectError(again, 400, { code: "invalid_state" });
    expect(again.body.error.message).toContain("expired");
  });

  it("an unknown id is 404", async () => {
    const { lr } = await leanRailsMerchant(t);
    expectError(await lr("POST", "/v1/checkout_sessions/cs_nope/expire"), 404, { code: "resource_missing" });
  });
});

describe(`GET /v1/checkout_sessions/{id}/line_items (${storeKind})`, () => {
  it("lists csli_ items with their price, amounts and description, paginated", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    const path = `/v1/checkout_sessions/${created.body.id}/line_items`;
    const res = await lr("GET", path);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ object: "list", has_more: false, url: path, next_cursor: null });
    expect(res.body.data).toHaveLength(2);
    const [shirt, mug] = res.body.data;
    expect(shirt.id).toMatch(/^csli_/);
    expect(shirt).toMatchObject({
      object: "item",
      quantity: 2,
      amount_subtotal: 4000,
      amount_total: 4000,
      currency: "eur",
      description: "T-shirt",
      price: { object: "price", currency: "eur", unit_amount: 2000, tax_behavior: "inclusive", type: "one_time" },
    });
    expect(mug).toMatchObject({
      quantity: 1,
      amount_total: 850,
      description: "Mug",
      price: { tax_behavior: "unspecified" },
    });

    const page1 = await lr("GET", `${path}?limit=1`);
    expect(page1.body).toMatchObject({ has_more: true, next_cursor: shirt.id });
    expect(page1.body.data.map((i: { id: string }) => i.id)).toEqual([shirt.id]);
    const page2 = await lr("GET", `${path}?limit=1&starting_after=${shirt.id}`);
    expect(page2.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(page2.body.data.map((i: { id: string }) => i.id)).toEqual([mug.id]);
    const back = await lr("GET", `${path}?ending_before=${mug.id}`);
    expect(back.body.data.map((i: { id: string }) => i.id)).toEqual([shirt.id]);
    expectError(await lr("GET", `${path}?starting_after=csli_nope`), 400, {
      code: "parameter_invalid",
      param: "starting_after",
    });
  });

  it("an unknown session is 404", async () => {
    const { lr } = await leanRailsMerchant(t);
    expectError(await lr("GET", "/v1/checkout_sessions/cs_nope/line_items"), 404, { code: "resource_missing" });
  });
});

describe(`redirect URLs in production (${storeKind})`, () => {
  it("refuses success and cancel URLs on the customer's own machine, naming the param", async () => {
    const production = await startTestApp({ NODE_ENV: "production" });
    try {
      const { lr } = await leanRailsMerchant(production);
      for (const param of ["success_url", "cancel_url"]) {
        for (const url of ["http://localhost/done", "https://10.0.0.8/done"]) {
          const res = await lr("POST", "/v1/checkout_sessions", { body: sessionParams({ [param]: url }) });
          expectError(res, 400, { code: "parameter_invalid", param });
        }
      }
      expect((await lr("POST", "/v1/checkout_sessions", { body: sessionParams() })).status).toBe(200);
    } finally {
      await production.close();
    }
  });
});
