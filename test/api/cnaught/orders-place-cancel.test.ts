import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decimal } from "../../../src/core/money/money.js";
import { createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { plentyOfCredits, retiredKg, seedCredits } from "../../helpers/credits.js";
import { storeKind } from "../../helpers/database.js";
import { type ApiResponse, expectInvalid, expectProblem, TIMESTAMP, unknownId } from "./support.js";

/**
 * POST /v1/orders, POST /v1/orders/{id}/cancel and the deprecated POST /v1/orders/ride, through
 * a client written from ../shared/design/cnaught-more.md §0 and §1 (as CNaught's SDK sends them),
 * not from the server's schemas.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

interface CallOptions {
  subaccountId?: string;
  idempotencyKey?: string;
}

/** CNaught's client as cnaught-more.md describes it: Bearer, JSON only with a body, the two optional headers. */
function cnaughtClient(key: string) {
  async function request(method: string, path: string, body: unknown, opts: CallOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${key}`,
      "user-agent": "CNaught-NodeSDK/3.1.0",
    };
    if (body !== null) headers["content-type"] = "application/json";
    if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
    if (opts.subaccountId) headers["x-subaccount-id"] = opts.subaccountId;
    const response = await fetch(`${t.url}/v1${path}`, {
      method,
      headers,
      body: body === null ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null, text };
  }
  return {
    placeOrder: (options: Record<string, unknown>, opts?: CallOptions) => request("POST", "/orders", options, opts),
    placeRideOrder: (options: Record<string, unknown>, opts?: CallOptions) =>
      request("POST", "/orders/ride", options, opts),
    cancelOrder: (id: string, opts?: CallOptions) => request("POST", `/orders/${id}/cancel`, null, opts),
    getOrder: (id: string, opts?: CallOptions) => request("GET", `/orders/${id}`, null, opts),
    getRideQuote: (options: Record<string, unknown>) => request("POST", "/quotes/ride", options),
    createSubaccount: (options: Record<string, unknown>) => request("POST", "/subaccounts", options),
  };
}

const CALLBACK = "https://merchant.example/cnaught/callback";

/** A merchant whose default portfolio's API price is `apiPricePerKg` cents per kg. */
async function merchant(apiPricePerKg = "1.5") {
  const m = await createMerchantApi(t, { apiPricePerKg });
  return { ...m, client: cnaughtClient(m.key) };
}

/** The notifications written for an order, oldest first, as their receivers will get them. */
async function notifications(orderId: string) {
  const rows = await t.db.prisma.webhookDelivery.findMany({
    where: { subjectType: "order", subjectId: orderId },
    orderBy: { createdAt: "asc" },
  });
  const events = await t.db.prisma.event.findMany({
    where: { subjectType: "order", subjectId: orderId },
    orderBy: { createdAt: "asc" },
  });
  const typeOf = new Map(events.map((e) => [e.id, e.type]));
  return rows.map((r) => ({ url: r.url, type: typeOf.get(r.eventId ?? ""), body: JSON.parse(r.payload) }));
}

describe(`POST /v1/orders (${storeKind})`, () => {
  it("places an order by amount at the portfolio's API price: 201 with the Order, its notification written", async () => {
    const { client, portfolio } = await merchant("1.5");
    const res = await client.placeOrder({
      amount_kg: 101,
      metadata: "internal_order_id=12345",
      description: "on behalf of Jane Smith",
      notification_config: { url: CALLBACK },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const order = res.body;
    expect(order).toEqual({
      id: expect.any(String),
      order_number: expect.any(String),
      created_on: expect.stringMatching(TIMESTAMP),
      metadata: "internal_order_id=12345",
      description: "on behalf of Jane Smith",
      amount_kg: 101,
      state: "placed",
      price_usd_cents: 152, // 101 kg x 1.5 = 151.5, rounded up
      callback_url: CALLBACK,
      certificate_public_url: null,
      certificate_download_public_url: null,
      subaccount_id: null,
      project_allocations: [],
      checkout_session_id: null,
    });
    expect(res.headers.get("location")).toBe(`${t.config.publicUrl}/v1/orders/${order.id}`);
    expect((await client.getOrder(order.id)).body).toEqual(order);
    const row = await t.db.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
    expect(row.portfolioId).toBe(portfolio!.id);

    expect(await notifications(order.id)).toEqual([{ url: CALLBACK, type: "order.placed", body: { order } }]);
  });

  it("accepts a fractional amount (as checkout sessions and quotes do), priced up to a whole cent", async () => {
    const { client } = await merchant("1.6");
    const res = await client.placeOrder({ amount_kg: 10.5 });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ amount_kg: 10.5, price_usd_cents: 17, callback_url: null }); // 16.8 -> 17
  });

  it("by total_price_usd_cents: the whole kg the budget buys (rounded down), never priced above the budget", async () => {
    const { client } = await merchant("1.6");
    // 1000 / 1.6 = 625 kg exactly; 999 / 1.6 = 624.375 -> 624 kg, 998.4 -> 999 cents.
    for (const [budget, kg, price] of [
      [1000, 625, 1000],
      [999, 624, 999],
      [2, 1, 2],
    ] as const) {
      const res = await client.placeOrder({ total_price_usd_cents: budget });
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ amount_kg: kg, price_usd_cents: price });
      expect(res.body.price_usd_cents).toBeLessThanOrEqual(budget);
    }
    const tooLittle = await client.placeOrder({ total_price_usd_cents: 1 });
    expectInvalid(tooLittle, "total_price_usd_cents");
    expect(tooLittle.body.errors.total_price_usd_cents[0]).toMatch(/^'total_price_usd_cents' buys no whole kilogram/);
  });

  it("prices from the portfolio named, else the subaccount's default", async () => {
    const { client } = await merchant("1.5");
    const other = await t.services.portfolios.create({
      name: "Other",
      checkoutPricePerKgUsdCents: new Decimal("9"),
      apiPricePerKgUsdCents: new Decimal("3"),
    });
    const named = await client.placeOrder({ amount_kg: 10, portfolio_id: other.id });
    expect(named.body).toMatchObject({ price_usd_cents: 30 });
    const sub = (await client.createSubaccount({ name: "Ops", default_portfolio_id: other.id })).body;
    const scoped = await client.placeOrder({ amount_kg: 10 }, { subaccountId: sub.id });
    expect(scoped.status, scoped.text).toBe(201);
    expect(scoped.body).toMatchObject({ price_usd_cents: 30, subaccount_id: sub.id });
    expectInvalid(await client.placeOrder({ amount_kg: 10, portfolio_id: "NoSuchPortfolio" }), "portfolio_id");
  });

  it("refuses bad bodies with invalid-parameters naming the fields, and writes nothing", async () => {
    const { client, account } = await merchant();
    const cases: [Record<string, unknown>, string[]][] = [
      [{}, ["amount_kg", "total_price_usd_cents"]],
      [{ amount_kg: 10, total_price_usd_cents: 100 }, ["amount_kg", "total_price_usd_cents"]],
      [{ amount_kg: null, total_price_usd_cents: null }, ["amount_kg", "total_price_usd_cents"]],
      [{ amount_kg: 0 }, ["amount_kg"]],
      [{ amount_kg: -5 }, ["amount_kg"]],
      [{ amount_kg: 1.0000001 }, ["amount_kg"]],
      [{ amount_kg: "10" }, ["amount_kg"]],
      [{ total_price_usd_cents: 10.5 }, ["total_price_usd_cents"]],
      [{ total_price_usd_cents: 0 }, ["total_price_usd_cents"]],
      [{ total_price_usd_cents: 3_000_000_000 }, ["total_price_usd_cents"]],
      [{ amount_kg: 10, metadata: "m".repeat(513) }, ["metadata"]],
      [{ amount_kg: 10, description: "d".repeat(513) }, ["description"]],
      [{ amount_kg: 10, notification_config: { url: "ftp://merchant.example/x" } }, ["notification_config.url"]],
      [{ amount_kg: 10, notification_config: {} }, ["notification_config.url"]],
    ];
    for (const [body, fields] of cases) {
      expectInvalid(await client.placeOrder(body), ...fields);
    }
    // 1e9 kg (the most) x 1.5 = 1.5e9 cents is placed; at 3 cents/kg it would pass the 32-bit cap of cents.
    const pricey = await t.services.portfolios.create({
      name: "Pricey",
      checkoutPricePerKgUsdCents: new Decimal("3"),
      apiPricePerKgUsdCents: new Decimal("3"),
    });
    expectInvalid(await client.placeOrder({ amount_kg: 1_000_000_000, portfolio_id: pricey.id }), "amount_kg");
    expectInvalid(await client.placeOrder({ amount_kg: 2_000_000_000 }), "amount_kg");
    expect(await t.db.prisma.order.count({ where: { accountId: account.id } })).toBe(0);
    expect((await client.placeOrder({ amount_kg: 1_000_000_000 })).status).toBe(201);
  });

  it("X-Subaccount-Id: an unknown or another account's subaccount is invalid-subaccount", async () => {
    const { client } = await merchant();
    const stranger = await merchant();
    const theirs = (await stranger.client.createSubaccount({ name: "Theirs" })).body;
    expectProblem(await client.placeOrder({ amount_kg: 1 }, { subaccountId: theirs.id }), 400, "invalid-subaccount");
    expectProblem(await client.placeOrder({ amount_kg: 1 }, { subaccountId: unknownId(8) }), 400, "invalid-subaccount");
  });

  it("Idempotency-Key: a retry replays the first answer (one order); another body with the key is 422", async () => {
    const { client, account } = await merchant();
    const body = { amount_kg: 42, notification_config: { url: CALLBACK } };
    const first = await client.placeOrder(body, { idempotencyKey: "place-1" });
    expect(first.status, first.text).toBe(201);
    expect(first.headers.get("x-idempotent-replay")).toBeNull();
    const again = await client.placeOrder(body, { idempotencyKey: "place-1" });
    expect(again.status).toBe(201);
    expect(again.headers.get("x-idempotent-replay")).toBe("true");
    expect(again.text).toBe(first.text);
    expectProblem(
      await client.placeOrder({ ...body, amount_kg: 43 }, { idempotencyKey: "place-1" }),
      422,
      "idempotency-changed-payload",
    );
    expect(await t.db.prisma.order.count({ where: { accountId: account.id } })).toBe(1);
    expect(await notifications(first.body.id)).toHaveLength(1);
    // The key is the subaccount's own: the same key under a subaccount is another request.
    const sub = (await client.createSubaccount({ name: "Ops" })).body;
    const scoped = await client.placeOrder(body, { idempotencyKey: "place-1", subaccountId: sub.id });
    expect(scoped.status, scoped.text).toBe(201);
    expect(scoped.body.id).not.toBe(first.body.id);
    expectProblem(await client.placeOrder(body, { idempotencyKey: "k".repeat(513) }), 400, "idempotency-key-too-long");
  });
});

describe(`POST /v1/orders, one key at once (${storeKind})`, () => {
  it("10 placements with one key at once: one order; each answer is its 201 (replayed) or 409", async () => {
    const { client, account } = await merchant();
    const body = { amount_kg: 7, notification_config: { url: CALLBACK } };
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => client.placeOrder(body, { idempotencyKey: "burst-1" })),
    );
    const orders = await t.db.prisma.order.findMany({ where: { accountId: account.id } });
    expect(orders).toHaveLength(1);
    const created = answers.filter((a) => a.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const a of created) expect(a.body.id).toBe(orders[0]!.id);
    for (const a of answers.filter((x) => x.status !== 201)) expectProblem(a, 409, "idempotency-concurrent-requests");
    expect(await notifications(orders[0]!.id)).toHaveLength(1);
  });
});

describe(`POST /v1/orders/{id}/cancel (${storeKind})`, () => {
  it("cancels a placed order (no body, no Content-Type): 200, certificate URLs null, notification written", async () => {
    const { client } = await merchant();
    const placed = (await client.placeOrder({ amount_kg: 5, notification_config: { url: CALLBACK } })).body;
    const res = await client.cancelOrder(placed.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      ...placed,
      state: "cancelled",
      certificate_public_url: null,
      certificate_download_public_url: null,
    });
    expect((await client.getOrder(placed.id)).body).toEqual(res.body);
    const sent = await notifications(placed.id);
    expect(sent.map((n) => n.type)).toEqual(["order.placed", "order.cancelled"]);
    expect(sent[1]).toEqual({ url: CALLBACK, type: "order.cancelled", body: { order: res.body } });
  });

  it("cancels a fulfilled order, dropping its certificate (the pages answer 404) and keeping what it retired; a cancelled order is 403 forbidden, unchanged", async () => {
    const { client, portfolio } = await merchant();
    const [category] = await seedCredits(t.services, portfolio!.id, plentyOfCredits());
    const projectId = category!.projects[0]!.id;
    const placed = (await client.placeOrder({ amount_kg: 5, notification_config: { url: CALLBACK } })).body;
    const fulfilled = await t.services.orders.fulfill(placed.id);
    expect(fulfilled.certificatePublicUrl).toBe(`${t.config.publicUrl}/certificates/${placed.id}`);
    const page = await fetch(`${t.url}/certificates/${placed.id}`);
    expect(page.status).toBe(200);
    await page.arrayBuffer();

    const res = await client.cancelOrder(placed.id);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      state: "cancelled",
      certificate_public_url: null,
      certificate_download_public_url: null,
      // The credits stay retired (a registry does not un-retire them), so the order still lists them.
      project_allocations: [
        {
          project: { id: projectId },
          amount_kg: 5,
          retirements: [{ serial_number_range: `SN-${projectId}-2020-1-5000000` }],
        },
      ],
    });
    expect(await retiredKg(t.db, projectId, 2020)).toBe("5");
    for (const path of [`/certificates/${placed.id}`, `/certificates/${placed.id}.pdf`]) {
      const gone = await fetch(t.url + path);
      expect(gone.status).toBe(404);
      expect(gone.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(await gone.text()).toContain("Certificate not found");
    }
    const sent = await notifications(placed.id);
    expect(sent.map((n) => n.type)).toEqual(["order.placed", "order.fulfilled", "order.cancelled"]);
    expect(sent[2]!.body).toEqual({ order: res.body });

    const again = await client.cancelOrder(placed.id);
    expectProblem(again, 403, "forbidden");
    expect((await client.getOrder(placed.id)).body).toEqual(res.body);
    expect(await notifications(placed.id)).toHaveLength(3);
  });

  it("accepts an Idempotency-Key: the retry replays the 200 instead of answering 403", async () => {
    const { client } = await merchant();
    const placed = (await client.placeOrder({ amount_kg: 5 })).body;
    const first = await client.cancelOrder(placed.id, { idempotencyKey: "cancel-1" });
    expect(first.status, first.text).toBe(200);
    const retry = await client.cancelOrder(placed.id, { idempotencyKey: "cancel-1" });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-idempotent-replay")).toBe("true");
    expect(retry.text).toBe(first.text);
    expectProblem(await client.cancelOrder(placed.id, { idempotencyKey: "cancel-2" }), 403, "forbidden");
  });

  it("is scoped: another account's order, an unknown id, another subaccount's order are 404, and stay placed", async () => {
    const { client } = await merchant();
    const stranger = await merchant();
    const sub = (await client.createSubaccount({ name: "A" })).body;
    const sibling = (await client.createSubaccount({ name: "B" })).body;
    const theirs = (await stranger.client.placeOrder({ amount_kg: 5 })).body;
    const subsOrder = (await client.placeOrder({ amount_kg: 5 }, { subaccountId: sub.id })).body;

    const foreign = await client.cancelOrder(theirs.id);
    const absent = await client.cancelOrder(unknownId());
    expectProblem(foreign, 404, "not-found");
    expectProblem(absent, 404, "not-found");
    expect(foreign.body.title).toBe(absent.body.title);
    expectProblem(await client.cancelOrder(subsOrder.id, { subaccountId: sibling.id }), 404, "not-found");
    expect((await stranger.client.getOrder(theirs.id)).body.state).toBe("placed");
    expect((await client.getOrder(subsOrder.id)).body.state).toBe("placed");

    // Its own subaccount, and the account itself (every subaccount's orders), may cancel it.
    const own = await client.cancelOrder(subsOrder.id, { subaccountId: sub.id });
    expect(own.status, own.text).toBe(200);
    const acc = (await client.placeOrder({ amount_kg: 5 }, { subaccountId: sub.id })).body;
    expect((await client.cancelOrder(acc.id)).status).toBe(200);
  });
});

describe(`POST /v1/orders/ride, deprecated (${storeKind})`, () => {
  it("places an order for the ride's emissions: the ride quote's amount, at the API price", async () => {
    const { client } = await merchant("1.5");
    const quote = await client.getRideQuote({ distance_km: 100 });
    expect(quote.status, quote.text).toBe(200);
    // 100 km = 62.137... miles x 0.400 kg = 24.85 -> 25 kg.
    expect(quote.body).toEqual({ amount_kg: 25, price_usd_cents: 38 });
    const res = await client.placeRideOrder(
      { distance_km: 100, metadata: "Customer metadata", notification_config: { url: CALLBACK } },
      { idempotencyKey: "ride-1" },
    );
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      amount_kg: 25,
      price_usd_cents: 38,
      metadata: "Customer metadata",
      state: "placed",
    });
    expect(await notifications(res.body.id)).toHaveLength(1);
    const replay = await client.placeRideOrder(
      { distance_km: 100, metadata: "Customer metadata", notification_config: { url: CALLBACK } },
      { idempotencyKey: "ride-1" },
    );
    expect(replay.headers.get("x-idempotent-replay")).toBe("true");
    expectInvalid(await client.placeRideOrder({ distance_km: 0 }), "distance_km");
    expectInvalid(await client.placeRideOrder({}), "distance_km");
  });
});
