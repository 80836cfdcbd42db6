import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, requestHash } from "../../../src/api/idempotency/hashing.js";
import { type ApiResponse, expectInvalid, expectProblem, expectUnauthorized, sessionParams } from "./support.js";
import { apiClient, createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectIdempotencyProblem, expectReplayOf, NO_RATE_LIMIT, newKey, withKey } from "../idempotency/support.js";

/**
 * Regression tests from the review of idempotency keys, rate limits and webhook delivery: each
 * `describe` is one defect found, proven over real HTTP on a real database.
 */

const apps: TestApp[] = [];
async function app(env: Record<string, string>) {
  const t = await startTestApp(env);
  apps.push(t);
  return t;
}
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

/** `depth` nested JSON arrays, as text: small in bytes, deep enough to overflow a recursive walk. */
const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const DEEP = 20_000;

describe(`per-key rate limit on paths no route matches (${storeKind})`, () => {
  const MAX = 3;
  let t: TestApp;
  beforeAll(async () => {
    t = await app({ RATE_LIMIT_MAX: String(MAX), RATE_LIMIT_WINDOW_MS: "600000" });
  });

  it("an authenticated request to an unknown /v1 path counts against its key: no unlimited requests there", async () => {
    const { api } = await createMerchantApi(t);
    for (let i = 1; i <= MAX; i++) {
      const res = await api("GET", `/v1/no-such-thing/${i}`);
      expectProblem(res, 404, "not-found");
      expect(res.headers.get("ratelimit-limit")).toBe(String(MAX));
      expect(res.headers.get("ratelimit-remaining")).toBe(String(MAX - i));
    }
    const limited = await api("GET", "/v1/no-such-thing/again");
    expectProblem(limited, 429, "rate-limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The key's count is one count: its real routes are refused too.
    expectProblem(await api("GET", "/v1/portfolios"), 429, "rate-limited");
  });

  it("routes, 405s and unknown paths share the one count of a key", async () => {
    const { api } = await createMerchantApi(t);
    expect((await api("GET", "/v1/portfolios")).status).toBe(200);
    expectProblem(await api("DELETE", "/v1/portfolios"), 405, "method-not-allowed");
    expectProblem(await api("GET", "/v1/nowhere"), 404, "not-found");
    expectProblem(await api("GET", "/v1/portfolios"), 429, "rate-limited");
  });

  it("an unknown path without a valid key is still a 401, not a 429 or a 404", async () => {
    expectUnauthorized(await apiClient(t.url)("GET", "/v1/no-such-thing"));
  });
});

describe(`a path parameter over the router's 100 characters (${storeKind})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await app(NO_RATE_LIMIT);
  });

  const expectUriTooLong = (res: ApiResponse) => {
    expectProblem(res, 414, "uri-too-long");
    expect(res.body.title).toBe("URI Too Long");
  };

  it("is a 414 problem in CNaught's format, never a 500", async () => {
    const { api } = await createMerchantApi(t);
    const long = "a".repeat(101);
    for (const path of [
      `/v1/checkout/sessions/${long}`,
      `/v1/orders/${long}`,
      `/v1/portfolios/${long}`,
      `/v1/subaccounts/${long}`,
    ]) {
      expectUriTooLong(await api("GET", path));
    }
    expectUriTooLong(await api("PUT", `/v1/subaccounts/${long}`, { name: "x" }));
    // Refused before routing, so before authentication too: still no 500.
    expectUriTooLong(await apiClient(t.url)("GET", `/v1/checkout/sessions/${long}`));
  });

  it("up to 100 characters the route's own rules answer (an id over 64 characters is invalid)", async () => {
    const { api } = await createMerchantApi(t);
    expectInvalid(await api("GET", `/v1/checkout/sessions/${"a".repeat(100)}`), "id");
  });
});

describe(`Idempotency-Key with a deeply nested body (${storeKind})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await app(NO_RATE_LIMIT);
  });

  const withDeepField = (depth: number, field = "extra") =>
    `${JSON.stringify(sessionParams()).slice(0, -1)},"${field}":${nested(depth)}}`;

  it("an unknown field nested 20 000 levels deep (within the body limit) is hashed, not a 500", async () => {
    const { api, account } = await createMerchantApi(t);
    const body = withDeepField(DEEP);
    expect(Buffer.byteLength(body)).toBeLessThan(64 * 1024);
    // Without a key the schema drops the field and the session is created; with one it must be too.
    expect((await api("POST", "/v1/checkout/sessions", body)).status).toBe(201);

    const key = newKey("deep");
    const first = await api("POST", "/v1/checkout/sessions", body, withKey(key));
    expect(first.status, first.text).toBe(201);
    expectReplayOf(await api("POST", "/v1/checkout/sessions", body, withKey(key)), first);
    // A different depth is a different request.
    expectIdempotencyProblem(
      await api("POST", "/v1/checkout/sessions", withDeepField(DEEP - 1), withKey(key)),
      422,
      "idempotency-changed-payload",
    );
    expect(await t.db.prisma.checkoutSession.count({ where: { accountId: account.id } })).toBe(2);
  });

  it("the same on the other keyed POSTs (subaccounts, quotes)", async () => {
    const { api } = await createMerchantApi(t);
    const sub = await api("POST", "/v1/subaccounts", `{"name":"Deep","x":${nested(DEEP)}}`, withKey(newKey()));
    expect(sub.status, sub.text).toBe(201);
    const quote = await api("POST", "/v1/quotes", `{"amount_kg":10,"x":${nested(DEEP)}}`, withKey(newKey()));
    expect(quote.status, quote.text).toBe(200);
  });

  it("canonicalJson walks any depth and still ignores key order", () => {
    const deep = JSON.parse(nested(200_000));
    expect(() => canonicalJson({ deep })).not.toThrow();
    expect(canonicalJson({ b: [1, { d: 2, c: [null, true] }], a: "x" })).toBe(
      canonicalJson(JSON.parse('{ "a" : "x", "b" : [ 1, { "c" : [ null, true ], "d" : 2 } ] }')),
    );
    expect(canonicalJson({ b: [1, { d: 2, c: [null, true] }], a: "x" })).toBe(
      '{"a":"x","b":[1,{"c":[null,true],"d":2}]}',
    );
    const hash = (body: unknown) => requestHash({ method: "POST", url: "/v1/quotes", scope: "", body });
    expect(hash(JSON.parse(`{"x":${nested(DEEP)},"amount_kg":1}`))).toBe(
      hash(JSON.parse(`{"amount_kg":1,"x":${nested(DEEP)}}`)),
    );
    expect(hash(JSON.parse(`{"x":${nested(DEEP)}}`))).not.toBe(hash(JSON.parse(`{"x":${nested(DEEP + 1)}}`)));
  });
});

describe(`a blank Idempotency-Key header (${storeKind})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await app(NO_RATE_LIMIT);
  });

  it("is refused as an invalid parameter rather than silently running the POST without protection", async () => {
    const { api, account } = await createMerchantApi(t);
    for (const blank of ["", "   ", "\t \t"]) {
      for (let retry = 0; retry < 2; retry++) {
        const res = await api("POST", "/v1/checkout/sessions", sessionParams(), { "idempotency-key": blank });
        expectInvalid(res, "idempotency-key");
      }
    }
    expectInvalid(await api("POST", "/v1/subaccounts", { name: "S" }, { "idempotency-key": "" }), "idempotency-key");
    expectInvalid(await api("POST", "/v1/quotes", { amount_kg: 1 }, { "idempotency-key": " " }), "idempotency-key");
    expect(await t.db.prisma.checkoutSession.count({ where: { accountId: account.id } })).toBe(0);
    expect(await t.db.prisma.idempotencyKey.count({ where: { accountId: account.id } })).toBe(0);
  });

  it("a key with spaces inside is a key like any other; no header at all still acts without one", async () => {
    const { api } = await createMerchantApi(t);
    const key = `a key ${newKey()}`;
    const first = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expect(first.status).toBe(201);
    expectReplayOf(await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key)), first);
    expect((await api("POST", "/v1/checkout/sessions", sessionParams())).status).toBe(201);
  });
});
