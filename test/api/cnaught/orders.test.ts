import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TEST_CARDS } from "../../../src/core/payments/test-provider.js";
import { formatTimestamp } from "../../../src/core/time.js";
import {
  apiClient,
  createMerchantApi,
  payForOrder,
  startTestApp,
  TEST_PUBLIC_URL,
  type TestApp,
} from "../../helpers/app.js";
import { FIXTURE_IDS, seedCatalogue } from "../../helpers/catalogue.js";
import { storeKind } from "../../helpers/database.js";
import {
  type ApiResponse,
  expectProblem,
  expectUnauthorized,
  normalised,
  sessionParams,
  TIMESTAMP,
  unknownId,
} from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());
beforeEach(() => {
  // The helper's clock falls back to the system clock when unset.
  (t.clock as { now: Date | null }).now = null;
});

/** Every field of CNaught's Order (../shared/design/apis.md). */
const ORDER_FIELDS = [
  "id",
  "order_number",
  "amount_kg",
  "created_on",
  "metadata",
  "description",
  "price_usd_cents",
  "state",
  "callback_url",
  "certificate_public_url",
  "certificate_download_public_url",
  "subaccount_id",
  "project_allocations",
  "checkout_session_id",
].sort();

const GOOD_CARD = { number: TEST_CARDS.success, expMonth: 12, expYear: 2034, cvc: "123" };

type Api = ReturnType<typeof apiClient>;

/**
 * An order the way merchants get one: a session created over the API (under a subaccount when
 * `subaccountId` is given), then paid with the good test card.
 */
async function paidOrder(api: Api, params: Record<string, unknown> = {}, subaccountId?: string) {
  const headers: Record<string, string> = subaccountId ? { "x-subaccount-id": subaccountId } : {};
  const created = await api("POST", "/v1/checkout/sessions", sessionParams(params), headers);
  expect(created.status, created.text).toBe(201);
  const order = await payForOrder(t.services, created.body.id, GOOD_CARD);
  return { session: created.body, orderId: order.id };
}

/** `count` orders placed one minute apart from `start` (oldest first). */
async function ordersOverTime(api: Api, count: number, start: Date, subaccountId?: string) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    t.clock.set(new Date(start.getTime() + i * 60_000));
    ids.push((await paidOrder(api, { amount_kg: 100 + i }, subaccountId)).orderId);
  }
  return ids;
}

const ids = (res: ApiResponse): string[] => res.body.data.map((o: { id: string }) => o.id);

describe(`GET /v1/orders/{id} (${storeKind})`, () => {
  it("answers a paid session's order with every field of CNaught's Order", async () => {
    const { api, portfolio } = await createMerchantApi(t);
    const placedAt = new Date("2030-06-15T09:30:00.123Z");
    t.clock.set(placedAt);
    const { session, orderId } = await paidOrder(api, {
      amount_kg: 250.5,
      description: "on behalf of Jane Smith",
      notification_config: { url: "https://www.example.com/callback" },
    });

    const res = await api("GET", `/v1/orders/${orderId}`);
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(ORDER_FIELDS);
    expect(res.body).toEqual({
      id: orderId,
      order_number: expect.stringMatching(/^[1-9]\d*$/),
      amount_kg: 250.5,
      created_on: "2030-06-15T09:30:00.123000Z",
      metadata: null,
      description: "on behalf of Jane Smith",
      price_usd_cents: 501, // 250.5 kg x 2 cents
      state: "placed",
      callback_url: "https://www.example.com/callback",
      certificate_public_url: null,
      certificate_download_public_url: null,
      subaccount_id: null,
      project_allocations: [],
      checkout_session_id: session.id,
    });
    expect(res.body.id).toMatch(/^[A-Za-z0-9]+$/);
    expect(res.body.created_on).toMatch(TIMESTAMP);
    expect(portfolio).not.toBeNull();

    // The session that produced it reads as complete, completed when the order was placed.
    const read = await api("GET", `/v1/checkout/sessions/${session.id}`);
    expect(read.body).toMatchObject({ state: "complete", completed_on: formatTimestamp(placedAt) });
  });

  it("a session without description or notification gives an order with those null", async () => {
    const { api } = await createMerchantApi(t);
    const { orderId } = await paidOrder(api);
    const res = await api("GET", `/v1/orders/${orderId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ description: null, callback_url: null, metadata: null, amount_kg: 100 });
  });

  it("shows what the operator did: fulfilled with its certificate URLs and allocations, or cancelled", async () => {
    const { api, portfolio } = await createMerchantApi(t);
    await seedCatalogue(t.services, { portfolioIds: [portfolio!.id] });
    const fulfilled = (await paidOrder(api)).orderId;
    const cancelled = (await paidOrder(api)).orderId;
    await t.services.orders.fulfill(fulfilled);
    await t.services.orders.cancel(cancelled);

    const a = await api("GET", `/v1/orders/${fulfilled}`);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      id: fulfilled,
      state: "fulfilled",
      certificate_public_url: `${TEST_PUBLIC_URL}/certificates/${fulfilled}`,
      certificate_download_public_url: `${TEST_PUBLIC_URL}/certificates/${fulfilled}.pdf`,
      // 60 % forestry (its oldest vintage is the valley's 2020), 40 % soil.
      project_allocations: [
        { project: { id: FIXTURE_IDS.valley }, amount_kg: 60 },
        { project: { id: FIXTURE_IDS.meadow }, amount_kg: 40 },
      ],
    });
    const b = await api("GET", `/v1/orders/${cancelled}`);
    expect(b.body).toMatchObject({
      id: cancelled,
      state: "cancelled",
      certificate_public_url: null,
      project_allocations: [],
    });
    // The list shows the same.
    const list = await api("GET", "/v1/orders");
    expect(list.body.data.map((o: { state: string }) => o.state).sort()).toEqual(["cancelled", "fulfilled"]);
  });

  it("an unknown id is 404 not-found; no key is CNaught's 401", async () => {
    const { api } = await createMerchantApi(t);
    expectProblem(await api("GET", `/v1/orders/${unknownId()}`), 404, "not-found");
    expectUnauthorized(await apiClient(t.url)("GET", `/v1/orders/${unknownId()}`));
    expectUnauthorized(await apiClient(t.url)("GET", "/v1/orders"));
    expectUnauthorized(await apiClient(t.url, "sk_test_not_a_key")("GET", "/v1/orders"));
  });
});

describe(`GET /v1/orders (${storeKind})`, () => {
  it("answers {data: [...]}, newest first, each order in the same shape as GET by id", async () => {
    const { api } = await createMerchantApi(t);
    const placed = await ordersOverTime(api, 3, new Date("2030-07-01T00:00:00Z"));

    const res = await api("GET", "/v1/orders");
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body)).toEqual(["data"]);
    expect(ids(res)).toEqual([...placed].reverse());
    for (const order of res.body.data) {
      expect((await api("GET", `/v1/orders/${order.id}`)).body).toEqual(order);
    }
    expect(res.body.data.map((o: { amount_kg: number }) => o.amount_kg)).toEqual([102, 101, 100]);
  });

  it("an account without orders gets an empty list", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", "/v1/orders");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: [] });
  });

  it("pages with limit and starting_after (older) or ending_before (newer), both newest first", async () => {
    const { api } = await createMerchantApi(t);
    const newestFirst = (await ordersOverTime(api, 7, new Date("2030-08-01T00:00:00Z"))).reverse();

    const first = await api("GET", "/v1/orders?limit=3");
    expect(ids(first)).toEqual(newestFirst.slice(0, 3));
    const second = await api("GET", `/v1/orders?limit=3&starting_after=${ids(first).at(-1)}`);
    expect(ids(second)).toEqual(newestFirst.slice(3, 6));
    const third = await api("GET", `/v1/orders?limit=3&starting_after=${ids(second).at(-1)}`);
    expect(ids(third)).toEqual(newestFirst.slice(6));
    const beyond = await api("GET", `/v1/orders?limit=3&starting_after=${ids(third).at(-1)}`);
    expect(beyond.body).toEqual({ data: [] });

    // Back again: the page just newer than the cursor, still newest first.
    const back = await api("GET", `/v1/orders?limit=3&ending_before=${ids(third)[0]}`);
    expect(ids(back)).toEqual(newestFirst.slice(3, 6));
    const backAgain = await api("GET", `/v1/orders?limit=3&ending_before=${ids(back)[0]}`);
    expect(ids(backAgain)).toEqual(newestFirst.slice(0, 3));
    const partial = await api("GET", `/v1/orders?limit=3&ending_before=${newestFirst[1]}`);
    expect(ids(partial)).toEqual(newestFirst.slice(0, 1));
    const top = await api("GET", `/v1/orders?ending_before=${newestFirst[0]}`);
    expect(top.body).toEqual({ data: [] });
  });

  it("limit defaults to 20 and takes 1 to 100", async () => {
    const { api } = await createMerchantApi(t);
    const newestFirst = (await ordersOverTime(api, 21, new Date("2030-09-01T00:00:00Z"))).reverse();

    expect(ids(await api("GET", "/v1/orders"))).toEqual(newestFirst.slice(0, 20));
    expect(ids(await api("GET", "/v1/orders?limit=1"))).toEqual(newestFirst.slice(0, 1));
    expect(ids(await api("GET", "/v1/orders?limit=21"))).toEqual(newestFirst);
    expect(ids(await api("GET", "/v1/orders?limit=100"))).toEqual(newestFirst);
  });

  it.each([
    ["0", "limit=0"],
    ["101", "limit=101"],
    ["negative", "limit=-1"],
    ["non-numeric", "limit=abc"],
    ["fractional", "limit=1.5"],
    ["empty", "limit="],
    ["repeated", "limit=1&limit=2"],
    ["empty starting_after", "starting_after="],
    ["empty ending_before", "ending_before="],
    ["over-long cursor", `starting_after=${"a".repeat(65)}`],
  ])("a bad query (%s) is 400 invalid-pagination, not invalid-parameters", async (_why, query) => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", `/v1/orders?${query}`);
    expectProblem(res, 400, "invalid-pagination");
    expect(res.body.title).toBe("Invalid pagination parameters");
    expect(res.body.errors).toBeUndefined();
    expect(res.body.detail).toMatch(/'(limit|starting_after|ending_before)'/);
  });

  it("both cursors at once, and a cursor that is no order of the caller's, are 400 invalid-pagination", async () => {
    const { api } = await createMerchantApi(t);
    const other = await createMerchantApi(t);
    const [older, newer] = await ordersOverTime(api, 2, new Date("2030-10-01T00:00:00Z"));
    const foreign = (await paidOrder(other.api)).orderId;

    const both = await api("GET", `/v1/orders?starting_after=${older}&ending_before=${newer}`);
    expectProblem(both, 400, "invalid-pagination");
    expect(both.body.detail).toMatch(/starting_after.*ending_before/);

    for (const cursor of ["starting_after", "ending_before"]) {
      const unknown = await api("GET", `/v1/orders?${cursor}=${unknownId()}`);
      expectProblem(unknown, 400, "invalid-pagination");
      expect(unknown.body.detail).toContain(cursor);
      // Another account's order is not a cursor here, and says no more than an unknown id does.
      const theirs = await api("GET", `/v1/orders?${cursor}=${foreign}`);
      expect(normalised(theirs, foreign)).toEqual(normalised(unknown, unknownId()));
    }
  });

  it("a NUL character in a cursor is a 400, never a 500", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("GET", "/v1/orders?starting_after=ab%00cd");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });
});

describe(`orders and tenancy (${storeKind})`, () => {
  it("another account's order is 404, exactly like an unknown id, and never listed", async () => {
    const owner = await createMerchantApi(t);
    const stranger = await createMerchantApi(t);
    const { orderId } = await paidOrder(owner.api);
    const missing = unknownId(orderId.length);

    const foreign = await stranger.api("GET", `/v1/orders/${orderId}`);
    const absent = await stranger.api("GET", `/v1/orders/${missing}`);
    expectProblem(foreign, 404, "not-found");
    expect(normalised(foreign, orderId)).toEqual(normalised(absent, missing));
    expect((await stranger.api("GET", "/v1/orders")).body).toEqual({ data: [] });
    expect(ids(await owner.api("GET", "/v1/orders"))).toEqual([orderId]);
  });

  it("X-Subaccount-Id scopes reads and lists to that subaccount; without it the account sees all", async () => {
    const { api } = await createMerchantApi(t);
    const s1 = (await api("POST", "/v1/subaccounts", { name: "One" })).body;
    const s2 = (await api("POST", "/v1/subaccounts", { name: "Two" })).body;
    const start = new Date("2030-11-01T00:00:00Z");
    const [own] = await ordersOverTime(api, 1, start);
    const [one] = await ordersOverTime(api, 1, new Date(start.getTime() + 3_600_000), s1.id);
    const [two] = await ordersOverTime(api, 1, new Date(start.getTime() + 7_200_000), s2.id);
    const under = (sub: { id: string }) => ({ "x-subaccount-id": sub.id });

    const mine = await api("GET", `/v1/orders/${one}`, undefined, under(s1));
    expect(mine.status).toBe(200);
    expect(mine.body.subaccount_id).toBe(s1.id);

    // Another subaccount's order, and an account-level one, are 404 under s1, like a missing id.
    const missing = unknownId(one!.length);
    const absent = await api("GET", `/v1/orders/${missing}`, undefined, under(s1));
    for (const id of [two!, own!]) {
      const res = await api("GET", `/v1/orders/${id}`, undefined, under(s1));
      expectProblem(res, 404, "not-found");
      expect(normalised(res, id)).toEqual(normalised(absent, missing));
    }

    expect(ids(await api("GET", "/v1/orders", undefined, under(s1)))).toEqual([one]);
    expect(ids(await api("GET", "/v1/orders", undefined, under(s2)))).toEqual([two]);
    expect(ids(await api("GET", "/v1/orders"))).toEqual([two, one, own]);
    expect((await api("GET", `/v1/orders/${two}`)).body.subaccount_id).toBe(s2.id);

    // Cursors are checked within the scope too.
    expectProblem(
      await api("GET", `/v1/orders?starting_after=${two}`, undefined, under(s1)),
      400,
      "invalid-pagination",
    );
  });

  it("an unknown or foreign X-Subaccount-Id is 400 invalid-subaccount", async () => {
    const { api } = await createMerchantApi(t);
    const other = await createMerchantApi(t);
    const foreignSub = (await other.api("POST", "/v1/subaccounts", { name: "Theirs" })).body;
    const { orderId } = await paidOrder(api);
    for (const header of [unknownId(), foreignSub.id]) {
      expectProblem(
        await api("GET", `/v1/orders/${orderId}`, undefined, { "x-subaccount-id": header }),
        400,
        "invalid-subaccount",
      );
      expectProblem(
        await api("GET", "/v1/orders", undefined, { "x-subaccount-id": header }),
        400,
        "invalid-subaccount",
      );
    }
  });
});

interface Parameter {
  in: string;
  name: string;
  schema: Record<string, unknown>;
}

interface OpenApiDocument {
  paths: Record<
    string,
    {
      get: {
        operationId: string;
        tags: string[];
        parameters: Parameter[];
        responses: Record<string, { content: Record<string, { schema: unknown }> }>;
      };
    }
  >;
  components: { schemas: Record<string, { properties: Record<string, unknown> }> };
}

describe("OpenAPI for orders", () => {
  it("documents GetOrderById and ListOrders under Orders, with the Order schema and the list's query", async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as OpenApiDocument;
    const get = doc.paths["/v1/orders/{id}"]!.get;
    const list = doc.paths["/v1/orders"]!.get;
    expect(get).toMatchObject({ operationId: "GetOrderById", tags: ["Orders"] });
    expect(list).toMatchObject({ operationId: "ListOrders", tags: ["Orders"] });
    expect(get.responses["200"]!.content["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/Order" });
    expect(Object.keys(get.responses).sort()).toEqual(["200", "400", "401", "404", "429"]);
    expect(Object.keys(list.responses).sort()).toEqual(["200", "400", "401", "429"]);
    expect(Object.keys(doc.components.schemas.Order!.properties).sort()).toEqual(ORDER_FIELDS);
    const query = Object.fromEntries(list.parameters.filter((p) => p.in === "query").map((p) => [p.name, p.schema]));
    expect(query.limit).toMatchObject({ type: "integer", minimum: 1, maximum: 100, default: 20 });
    expect(Object.keys(query).sort()).toEqual(["ending_before", "limit", "starting_after"]);
    expect(list.parameters.some((p) => p.in === "header" && p.name === "x-subaccount-id")).toBe(true);
  });
});
