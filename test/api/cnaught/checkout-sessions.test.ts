import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decimal } from "../../../src/core/money/money.js";
import {
  apiClient,
  createMerchant,
  createMerchantApi,
  startTestApp,
  TEST_PUBLIC_URL,
  type TestApp,
} from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectInvalid, sessionParams, TIMESTAMP } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const SESSION_FIELDS = [
  "id",
  "amount_kg",
  "price_usd_cents",
  "success_url",
  "cancel_url",
  "checkout_url",
  "state",
  "created_on",
  "expires_on",
  "completed_on",
  "portfolio_id",
  "subaccount_id",
  "order_description",
  "order_webhook_url",
].sort();

const merchantApi = (opts: Parameters<typeof createMerchant>[1] = {}) => createMerchantApi(t, opts);

/** An https URL exactly `length` characters long. */
const urlOfLength = (length: number) => {
  const base = "https://hooks.example/";
  return base + "a".repeat(length - base.length);
};

/** The helper's clock falls back to the system clock when unset. */
function useRealTime() {
  (t.clock as { now: Date | null }).now = null;
}

describe(`POST /v1/checkout/sessions (${storeKind})`, () => {
  it("answers 201 with a Location header and every field of the seed's CheckoutSession", async () => {
    const { api, portfolio } = await merchantApi();
    const res = await api(
      "POST",
      "/v1/checkout/sessions",
      sessionParams({
        amount_kg: 100,
        success_url: "https://www.example.com/confirmation?my_query=my_value&session_id={CHECKOUT_SESSION_ID}",
        cancel_url: "https://www.example.com/purchase-credits",
        description: "on behalf of Jane Smith",
        notification_config: { url: "https://www.example.com/callback" },
      }),
    );
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const id: string = res.body.id;
    expect(id).toMatch(/^[A-Za-z0-9]+$/);
    expect(res.headers.get("location")).toBe(`${TEST_PUBLIC_URL}/v1/checkout/sessions/${id}`);
    expect(Object.keys(res.body).sort()).toEqual(SESSION_FIELDS);
    expect(res.body).toEqual({
      id,
      amount_kg: 100,
      price_usd_cents: 200,
      success_url: "https://www.example.com/confirmation?my_query=my_value&session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "https://www.example.com/purchase-credits",
      checkout_url: `${TEST_PUBLIC_URL}/pay/${id}`,
      state: "open",
      created_on: expect.stringMatching(TIMESTAMP),
      expires_on: expect.stringMatching(TIMESTAMP),
      completed_on: null,
      portfolio_id: portfolio!.id,
      subaccount_id: null,
      order_description: "on behalf of Jane Smith",
      order_webhook_url: "https://www.example.com/callback",
    });
    expect(Date.parse(res.body.expires_on) - Date.parse(res.body.created_on)).toBe(24 * 3_600_000);
  });

  it("GET by id returns the same session; the Location header points at it", async () => {
    const { api } = await merchantApi();
    const created = await api("POST", "/v1/checkout/sessions", sessionParams({ description: "d" }));
    expect(created.status).toBe(201);
    const location = new URL(created.headers.get("location")!);
    const read = await api("GET", location.pathname);
    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toMatch(/^application\/json/);
    expect(read.body).toEqual(created.body);
  });

  it("keeps the {CHECKOUT_SESSION_ID} template verbatim", async () => {
    const { api } = await merchantApi();
    const success = "https://shop.example/done?a=1&session_id={CHECKOUT_SESSION_ID}&b={CHECKOUT_SESSION_ID}";
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ success_url: success }));
    expect(res.status).toBe(201);
    expect(res.body.success_url).toBe(success);
    expect(res.body.success_url).not.toContain(res.body.id);
    expect((await api("GET", `/v1/checkout/sessions/${res.body.id}`)).body.success_url).toBe(success);
  });

  it("optional fields may be omitted or null and read back as null", async () => {
    const { api, portfolio } = await merchantApi();
    for (const extra of [{}, { portfolio_id: null, description: null, notification_config: null }]) {
      const res = await api("POST", "/v1/checkout/sessions", sessionParams(extra));
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({
        portfolio_id: portfolio!.id,
        subaccount_id: null,
        order_description: null,
        order_webhook_url: null,
        completed_on: null,
      });
    }
  });

  it("prices from the named portfolio's checkout price (not its API price)", async () => {
    const { api } = await merchantApi({ checkoutPricePerKg: "2" });
    const other = await t.services.portfolios.create({
      name: "Pricier",
      checkoutPricePerKgUsdCents: new Decimal("3.5"),
      apiPricePerKgUsdCents: new Decimal("1"),
    });
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 100, portfolio_id: other.id }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ portfolio_id: other.id, price_usd_cents: 350 });
  });

  it("an unknown portfolio_id is 400 naming portfolio_id", async () => {
    const { api } = await merchantApi();
    expectInvalid(
      await api("POST", "/v1/checkout/sessions", sessionParams({ portfolio_id: "noSuchPf" })),
      "portfolio_id",
    );
  });

  it("without an account default it uses the installation default portfolio (400 while there is none)", async () => {
    // The only test in this file that touches the installation default.
    const { api } = await merchantApi({ withDefaultPortfolio: false });
    expectInvalid(await api("POST", "/v1/checkout/sessions", sessionParams()), "portfolio_id");
    const fallback = await t.services.portfolios.create({
      name: "Installation default",
      checkoutPricePerKgUsdCents: new Decimal("4"),
      apiPricePerKgUsdCents: new Decimal("3"),
      isDefault: true,
    });
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 100 }));
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ portfolio_id: fallback.id, price_usd_cents: 400 });
    // An account with its own default still uses its own.
    const own = await merchantApi({ checkoutPricePerKg: "2" });
    const ownRes = await own.api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 100 }));
    expect(ownRes.body).toMatchObject({ portfolio_id: own.portfolio!.id, price_usd_cents: 200 });
  });

  it.each([
    ["http://localhost/done", "http://localhost/cancel"],
    ["http://localhost:3000/done?s={CHECKOUT_SESSION_ID}", "http://localhost:3000/"],
    ["http://127.0.0.1:8080/done", "http://127.0.0.1:8080/cancel"],
  ])("allows plain http on localhost and 127.0.0.1: %s", async (success_url, cancel_url) => {
    const { api } = await merchantApi();
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ success_url, cancel_url }));
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ success_url, cancel_url });
  });

  it("description up to 512 chars and a notification url up to 2048 chars are accepted", async () => {
    const { api } = await merchantApi();
    const description = "é".repeat(512);
    const url = urlOfLength(2048);
    const res = await api(
      "POST",
      "/v1/checkout/sessions",
      sessionParams({ description, notification_config: { url } }),
    );
    expect(res.status, res.text).toBe(201);
    expect(res.body.order_description).toBe(description);
    expect(res.body.order_webhook_url).toBe(url);
  });

  it("keeps unicode text intact", async () => {
    const { api } = await merchantApi();
    const description = "für Jane Smith 🌍 — 東京";
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ description }));
    expect(res.status).toBe(201);
    expect((await api("GET", `/v1/checkout/sessions/${res.body.id}`)).body.order_description).toBe(description);
  });
});

describe(`checkout session validation (${storeKind})`, () => {
  it.each([
    ["amount_kg 0", { amount_kg: 0 }, "amount_kg"],
    ["amount_kg negative", { amount_kg: -5 }, "amount_kg"],
    ["amount_kg negative fraction", { amount_kg: -0.5 }, "amount_kg"],
    ["amount_kg as a string", { amount_kg: "100" }, "amount_kg"],
    ["amount_kg null", { amount_kg: null }, "amount_kg"],
    ["amount_kg with 7 decimals", { amount_kg: 100.1234567 }, "amount_kg"],
    ["amount_kg 1e308", { amount_kg: 1e308 }, "amount_kg"],
    ["success_url http", { success_url: "http://example.com" }, "success_url"],
    ["success_url relative", { success_url: "/success" }, "success_url"],
    ["success_url without scheme", { success_url: "www.example.com/x" }, "success_url"],
    ["success_url empty", { success_url: "" }, "success_url"],
    ["success_url a number", { success_url: 42 }, "success_url"],
    ["success_url javascript:", { success_url: "javascript:alert(1)" }, "success_url"],
    ["cancel_url http", { cancel_url: "http://example.com/cancel" }, "cancel_url"],
    ["cancel_url relative", { cancel_url: "/cancel" }, "cancel_url"],
    ["cancel_url without scheme", { cancel_url: "www.example.com/x" }, "cancel_url"],
    ["success_url with a ';' in its host", { success_url: "https://a;frame-ancestors/x" }, "success_url"],
    ["cancel_url with a ',' in its host", { cancel_url: "https://a,b.shop.example/" }, "cancel_url"],
    ["http on a host merely starting with localhost", { cancel_url: "http://localhost.evil.example/" }, "cancel_url"],
    ["description of 513 chars", { description: "x".repeat(513) }, "description"],
    ["description a number", { description: 7 }, "description"],
    ["notification_config a string", { notification_config: "https://hooks.example" }, "notification_config"],
    ["notification_config an array", { notification_config: ["https://hooks.example"] }, "notification_config"],
    ["notification_config without url", { notification_config: {} }, "notification_config.url"],
    ["notification url of 2049 chars", { notification_config: { url: urlOfLength(2049) } }, "notification_config.url"],
    ["notification url empty", { notification_config: { url: "" } }, "notification_config.url"],
    [
      "notification url not http(s)",
      { notification_config: { url: "ftp://hooks.example/x" } },
      "notification_config.url",
    ],
    ["portfolio_id a number", { portfolio_id: 12 }, "portfolio_id"],
  ])("%s is 400 naming the field", async (_label, overrides, field) => {
    const m = await createMerchant(t.services);
    const res = await apiClient(t.url, m.key)("POST", "/v1/checkout/sessions", sessionParams(overrides));
    expectInvalid(res, field);
  });

  it("missing required fields are each named", async () => {
    const m = await createMerchant(t.services);
    const res = await apiClient(t.url, m.key)("POST", "/v1/checkout/sessions", {});
    expectInvalid(res, "amount_kg", "success_url", "cancel_url");
  });

  it("several bad fields are reported together", async () => {
    const m = await createMerchant(t.services);
    const res = await apiClient(t.url, m.key)(
      "POST",
      "/v1/checkout/sessions",
      sessionParams({ amount_kg: 0, success_url: "/ok", cancel_url: "http://example.com" }),
    );
    expectInvalid(res, "amount_kg", "success_url", "cancel_url");
  });

  it("an invalid request creates nothing", async () => {
    const m = await createMerchant(t.services);
    const before = await t.db.prisma.checkoutSession.count({ where: { accountId: m.account.id } });
    await apiClient(t.url, m.key)("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 24 }));
    await apiClient(t.url, m.key)("POST", "/v1/checkout/sessions", sessionParams({ success_url: "/x" }));
    expect(await t.db.prisma.checkoutSession.count({ where: { accountId: m.account.id } })).toBe(before);
  });
});

describe(`checkout session money (${storeKind})`, () => {
  it.each([
    // [checkout price per kg, amount_kg, expected cents]
    ["2", 100, 200],
    ["2", 33.333, 67], // 66.666 rounds up
    ["2", 100.123456, 201], // 200.246912 rounds up
    ["100", 1.1, 110], // binary floating point would give 110.00000000000001 -> 111
    ["100", 35.7, 3570], // ... 3570.0000000000005 -> 3571
    ["0.7", 100, 70], // ... 70.00000000000001 -> 71
    ["0.1", 700, 70],
    ["3", 16.67, 51], // 50.01 rounds up
    ["2", 25, 50], // exactly the minimum
  ])("at %s c/kg, %s kg costs %s cents, exactly", async (price, amount_kg, cents) => {
    const { api } = await merchantApi({ checkoutPricePerKg: price });
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg }));
    expect(res.status, res.text).toBe(201);
    expect(res.body.price_usd_cents).toBe(cents);
    expect(res.body.amount_kg).toBe(amount_kg);
    const read = await api("GET", `/v1/checkout/sessions/${res.body.id}`);
    expect(read.body).toMatchObject({ price_usd_cents: cents, amount_kg });
  });

  it.each([
    ["2", 24], // 48 cents
    ["2", 24.5], // 49 cents
    ["2", 0.000001], // rounds up to 1 cent
    ["0.3", 163], // 48.9 rounds up to 49
  ])("a total under 50 cents (%s c/kg x %s kg) is 400 naming amount_kg", async (price, amount_kg) => {
    const { api } = await merchantApi({ checkoutPricePerKg: price });
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg }));
    expectInvalid(res, "amount_kg");
    expect(res.body.errors.amount_kg.join(" ")).toMatch(/50/);
  });

  it("rounding up decides the minimum: 49.5 cents is charged as 50 and accepted", async () => {
    const { api } = await merchantApi({ checkoutPricePerKg: "0.5" });
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 99 }));
    expect(res.status).toBe(201);
    expect(res.body.price_usd_cents).toBe(50);
  });

  it("the largest amount is accepted when its total fits; a total beyond what can be stored is 400, not 500", async () => {
    const { api } = await merchantApi({ checkoutPricePerKg: "2" });
    const max = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 1_000_000_000 }));
    expect(max.status, max.text).toBe(201);
    expect(max.body.price_usd_cents).toBe(2_000_000_000);
    expectInvalid(await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 1_000_000_001 })), "amount_kg");

    const pricey = await merchantApi({ checkoutPricePerKg: "3" });
    const over = await pricey.api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 1_000_000_000 }));
    expectInvalid(over, "amount_kg");
  });
});

describe(`checkout session time (${storeKind})`, () => {
  it("timestamps are UTC with six fractional digits; expires_on is created_on + 24h", async () => {
    const { api } = await merchantApi();
    try {
      t.clock.set(new Date("2022-07-31T18:00:00.000Z"));
      const res = await api("POST", "/v1/checkout/sessions", sessionParams());
      expect(res.status).toBe(201);
      expect(res.body.created_on).toBe("2022-07-31T18:00:00.000000Z");
      expect(res.body.expires_on).toBe("2022-08-01T18:00:00.000000Z");
      expect(res.body.completed_on).toBeNull();

      t.clock.set(new Date("2023-01-02T03:04:05.678Z"));
      const other = await api("POST", "/v1/checkout/sessions", sessionParams());
      expect(other.body.created_on).toBe("2023-01-02T03:04:05.678000Z");
      expect(other.body.expires_on).toBe("2023-01-03T03:04:05.678000Z");
      const read = await api("GET", `/v1/checkout/sessions/${other.body.id}`);
      expect(read.body.created_on).toBe("2023-01-02T03:04:05.678000Z");
    } finally {
      useRealTime();
    }
  });

  it("a session past its expiry reads as expired; before it, open", async () => {
    const { api } = await merchantApi();
    let id = "";
    try {
      t.clock.set(new Date());
      const res = await api("POST", "/v1/checkout/sessions", sessionParams());
      expect(res.status).toBe(201);
      id = res.body.id;
      const get = () => api("GET", `/v1/checkout/sessions/${id}`);

      t.clock.advanceHours(23.9);
      expect((await get()).body.state).toBe("open");

      t.clock.advanceHours(1.1); // 25 h after creation
      const expired = await get();
      expect(expired.status).toBe(200);
      expect(expired.body.state).toBe("expired");
      // Nothing else about it changes.
      expect({ ...expired.body, state: "open" }).toEqual(res.body);
    } finally {
      useRealTime();
    }
    // The clock is real again: the session, created moments ago, is open.
    expect((await api("GET", `/v1/checkout/sessions/${id}`)).body.state).toBe("open");
  });

  it("expiry is exactly 24 hours: at created_on + 24h the session is expired", async () => {
    const { api } = await merchantApi();
    try {
      t.clock.set(new Date("2024-02-28T12:00:00.000Z"));
      const res = await api("POST", "/v1/checkout/sessions", sessionParams());
      expect(res.body.expires_on).toBe("2024-02-29T12:00:00.000000Z");
      t.clock.set(new Date("2024-02-29T11:59:59.999Z"));
      expect((await api("GET", `/v1/checkout/sessions/${res.body.id}`)).body.state).toBe("open");
      t.clock.set(new Date("2024-02-29T12:00:00.000Z"));
      expect((await api("GET", `/v1/checkout/sessions/${res.body.id}`)).body.state).toBe("expired");
    } finally {
      useRealTime();
    }
  });
});

describe(`redirect URLs in production (${storeKind})`, () => {
  const LOCAL = [
    "http://localhost/done",
    "http://127.0.0.1:8080/done",
    "http://[::1]/done",
    "https://localhost/done",
    "https://shop.localhost/done",
    "https://127.0.0.1/done",
    "https://10.0.0.8/done",
    "https://[::ffff:127.0.0.1]/done",
  ];
  const apps: TestApp[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });
  const production = async (env: Record<string, string> = {}) => {
    const app = await startTestApp({ NODE_ENV: "production", ...env });
    apps.push(app);
    return (await createMerchantApi(app)).api;
  };

  it("refuses success and cancel URLs on the customer's own machine or network", async () => {
    const api = await production();
    for (const url of LOCAL) {
      expectInvalid(await api("POST", "/v1/checkout/sessions", sessionParams({ success_url: url })), "success_url");
      expectInvalid(await api("POST", "/v1/checkout/sessions", sessionParams({ cancel_url: url })), "cancel_url");
    }
    const ok = await api("POST", "/v1/checkout/sessions", sessionParams());
    expect(ok.status, ok.text).toBe(201);
  });

  it("allows them with REDIRECT_ALLOW_PRIVATE_URLS=true", async () => {
    const api = await production({ REDIRECT_ALLOW_PRIVATE_URLS: "true" });
    for (const url of ["http://localhost/done", "http://127.0.0.1:8080/done", "https://10.0.0.8/done"]) {
      const res = await api("POST", "/v1/checkout/sessions", sessionParams({ success_url: url, cancel_url: url }));
      expect(res.status, res.text).toBe(201);
    }
    // Plain http elsewhere is still refused.
    expectInvalid(
      await api("POST", "/v1/checkout/sessions", sessionParams({ success_url: "http://shop.example/" })),
      "success_url",
    );
  });
});
