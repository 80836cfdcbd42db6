import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../../src/api/openapi-document.js";
import { apiClient, createMerchantApi, startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { type ApiResponse, expectInvalid, expectProblem, sessionParams } from "./support.js";
import {
  expectIdempotencyProblem,
  expectOneOriginal,
  expectReplayOf,
  isReplay,
  NO_RATE_LIMIT,
  newKey,
  withKey,
} from "../idempotency/support.js";

/** Idempotency-Key on the CNaught API, over real HTTP on a real database. */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(NO_RATE_LIMIT);
});
afterAll(() => t.close());

const merchantApi = () => createMerchantApi(t);

const sessionCount = (accountId: string) => t.db.prisma.checkoutSession.count({ where: { accountId } });
const keyRows = (accountId: string, key: string) => t.db.prisma.idempotencyKey.findMany({ where: { accountId, key } });

describe(`replaying a POST (${storeKind})`, () => {
  it("a retry of POST /v1/checkout/sessions returns the first response (status, body, Location) marked as a replay", async () => {
    const { api, account } = await merchantApi();
    const key = newKey();
    const first = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expect(first.status, first.text).toBe(201);
    expect(first.headers.get("location")).toBe(`${TEST_PUBLIC_URL}/v1/checkout/sessions/${first.body.id}`);

    const again = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expectReplayOf(again, first);
    // Each answer keeps its own request id.
    expect(again.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));
    expect(await sessionCount(account.id)).toBe(1);

    const [row] = await keyRows(account.id, key);
    expect(row).toMatchObject({ state: "complete", responseStatus: 201, scope: "", api: "cnaught" });
  });

  it("the same request with its keys in another order and other whitespace is the same request", async () => {
    const { api, account } = await merchantApi();
    const key = newKey();
    const first = await api("POST", "/v1/checkout/sessions", sessionParams({ description: "x" }), withKey(key));
    expect(first.status).toBe(201);
    const reordered = `{ "description": "x",\n "cancel_url": "https://shop.example/cancel", "amount_kg": 100,
      "success_url": "https://shop.example/ok?session_id={CHECKOUT_SESSION_ID}" }`;
    expectReplayOf(await api("POST", "/v1/checkout/sessions", reordered, withKey(key)), first);
    expect(await sessionCount(account.id)).toBe(1);
  });

  it("without a key every POST acts", async () => {
    const { api, account } = await merchantApi();
    const a = await api("POST", "/v1/checkout/sessions", sessionParams());
    const b = await api("POST", "/v1/checkout/sessions", sessionParams());
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect(isReplay(a) || isReplay(b)).toBe(false);
    expect(await sessionCount(account.id)).toBe(2);
    expect(await t.db.prisma.idempotencyKey.count({ where: { accountId: account.id } })).toBe(0);
  });

  it("POST /v1/subaccounts replays: one subaccount, the same answer", async () => {
    const { api } = await merchantApi();
    const key = newKey();
    const first = await api("POST", "/v1/subaccounts", { name: "Acme" }, withKey(key));
    expect(first.status, first.text).toBe(201);
    expectReplayOf(await api("POST", "/v1/subaccounts", { name: "Acme" }, withKey(key)), first);
    const list = await api("GET", "/v1/subaccounts");
    expect(list.body.data.map((s: { id: string }) => s.id)).toEqual([first.body.id]);
  });

  it("POST /v1/quotes (which writes nothing) replays its answer too", async () => {
    const { api, account } = await merchantApi();
    const key = newKey();
    const first = await api("POST", "/v1/quotes", { amount_kg: 100 }, withKey(key));
    expect(first.status, first.text).toBe(200);
    expect(first.body).toEqual({ amount_kg: 100, price_usd_cents: 150 });
    expectReplayOf(await api("POST", "/v1/quotes", { amount_kg: 100 }, withKey(key)), first);
    const [row] = await keyRows(account.id, key);
    expect(row).toMatchObject({ state: "complete", responseStatus: 200, responseBody: first.text });
  });

  it("a GET ignores the header", async () => {
    const { api } = await merchantApi();
    const key = newKey();
    const created = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    const read = await api("GET", `/v1/checkout/sessions/${created.body.id}`, undefined, withKey(key));
    expect(read.status).toBe(200);
    expect(isReplay(read)).toBe(false);
  });
});

describe(`refusing a key (${storeKind})`, () => {
  it("the same key with a different body is 422 idempotency-changed-payload, and nothing is created", async () => {
    const { api, account } = await merchantApi();
    const key = newKey();
    expect((await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key))).status).toBe(201);
    const changed = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 101 }), withKey(key));
    expectIdempotencyProblem(changed, 422, "idempotency-changed-payload");
    expect(changed.body.detail).toMatch(/different request/);
    expect(await sessionCount(account.id)).toBe(1);
  });

  it("the same key on another endpoint is a different request (422)", async () => {
    const { api } = await merchantApi();
    const key = newKey();
    expect((await api("POST", "/v1/quotes", { amount_kg: 100 }, withKey(key))).status).toBe(200);
    const other = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expectIdempotencyProblem(other, 422, "idempotency-changed-payload");
  });

  it("a key of 513 characters is 400 idempotency-key-too-long; 512 is accepted", async () => {
    const { api, account } = await merchantApi();
    const tooLong = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey("k".repeat(513)));
    expectIdempotencyProblem(tooLong, 400, "idempotency-key-too-long");
    expect(tooLong.body.detail).toContain("512");
    expect(await sessionCount(account.id)).toBe(0);

    const longest = "k".repeat(512);
    const first = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(longest));
    expect(first.status, first.text).toBe(201);
    expectReplayOf(await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(longest)), first);
  });

  it("the key is checked before the body: a too-long key on an invalid body is still idempotency-key-too-long", async () => {
    const { api } = await merchantApi();
    const res = await api("POST", "/v1/quotes", { amount_kg: "many" }, withKey("k".repeat(600)));
    expectIdempotencyProblem(res, 400, "idempotency-key-too-long");
  });
});

describe(`a failed request does not use up its key (${storeKind})`, () => {
  it("the core's validation fails (amount_kg 0): nothing stored; the fixed request with the same key creates the session", async () => {
    const { api, account } = await merchantApi();
    const key = newKey();
    const bad = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 0 }), withKey(key));
    expectInvalid(bad, "amount_kg");
    // Released before the answer went out: a retry right now finds the key free.
    expect(await keyRows(account.id, key)).toEqual([]);

    const fixed = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expect(fixed.status, fixed.text).toBe(201);
    expect(isReplay(fixed)).toBe(false);
    expectReplayOf(await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key)), fixed);
    expect(await sessionCount(account.id)).toBe(1);
  });

  it("schema validation fails (no cancel_url): the fixed request with the same key is 201", async () => {
    const { api, account } = await merchantApi();
    const key = newKey();
    const { cancel_url: _, ...incomplete } = sessionParams();
    expectInvalid(await api("POST", "/v1/checkout/sessions", incomplete, withKey(key)), "cancel_url");
    const fixed = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expect(fixed.status, fixed.text).toBe(201);
    expect(isReplay(fixed)).toBe(false);
    expect(await sessionCount(account.id)).toBe(1);
  });

  it("an unknown portfolio (404 from the core) and an unknown subaccount header do not store the key", async () => {
    const { api, account } = await merchantApi();
    const key = newKey();
    const unknownPortfolio = await api(
      "POST",
      "/v1/checkout/sessions",
      sessionParams({ portfolio_id: "nOtThErE" }),
      withKey(key),
    );
    expect(unknownPortfolio.status).toBeGreaterThanOrEqual(400);
    expect(unknownPortfolio.status).toBeLessThan(500);
    const unknownSubaccount = await api(
      "POST",
      "/v1/checkout/sessions",
      sessionParams(),
      withKey(key, { "x-subaccount-id": "nOsUcHsUb0" }),
    );
    expectProblem(unknownSubaccount, 400, "invalid-subaccount");
    expect(await keyRows(account.id, key)).toEqual([]);
    expect((await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key))).status).toBe(201);
  });

  it("a subaccount create with an invalid body, then fixed, with one key", async () => {
    const { api } = await merchantApi();
    const key = newKey();
    expectInvalid(await api("POST", "/v1/subaccounts", { name: "" }, withKey(key)), "name");
    const fixed = await api("POST", "/v1/subaccounts", { name: "Fixed" }, withKey(key));
    expect(fixed.status, fixed.text).toBe(201);
    expect(isReplay(fixed)).toBe(false);
  });
});

describe(`keys are scoped to the account and the subaccount (${storeKind})`, () => {
  it("one key in two accounts creates two sessions", async () => {
    const a = await merchantApi();
    const b = await merchantApi();
    const key = newKey("shared");
    const fromA = await a.api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    const fromB = await b.api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expect([fromA.status, fromB.status]).toEqual([201, 201]);
    expect(isReplay(fromB)).toBe(false);
    expect(fromA.body.id).not.toBe(fromB.body.id);
    expect(await sessionCount(a.account.id)).toBe(1);
    expect(await sessionCount(b.account.id)).toBe(1);
  });

  it("one key for the account and for each of two subaccounts: three sessions, each replayed in its own scope", async () => {
    const { api, account } = await merchantApi();
    const sub1 = (await api("POST", "/v1/subaccounts", { name: "One" })).body.id as string;
    const sub2 = (await api("POST", "/v1/subaccounts", { name: "Two" })).body.id as string;
    const key = newKey("scoped");
    const scopes: Array<Record<string, string>> = [{}, { "x-subaccount-id": sub1 }, { "x-subaccount-id": sub2 }];
    const firsts: ApiResponse[] = [];
    for (const scope of scopes) {
      const res = await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key, scope));
      expect(res.status, res.text).toBe(201);
      expect(isReplay(res)).toBe(false);
      firsts.push(res);
    }
    expect(firsts.map((r) => r.body.subaccount_id)).toEqual([null, sub1, sub2]);
    expect(new Set(firsts.map((r) => r.body.id)).size).toBe(3);
    for (const [i, scope] of scopes.entries()) {
      expectReplayOf(await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key, scope)), firsts[i]!);
    }
    expect(await sessionCount(account.id)).toBe(3);
    const rows = await t.db.prisma.idempotencyKey.findMany({ where: { accountId: account.id, key } });
    expect(rows.map((r) => r.scope).sort()).toEqual(["", sub1, sub2].sort());
  });
});

describe(`concurrent requests with one key (${storeKind})`, () => {
  it("20 at once: exactly one session; every answer is the first response replayed or 409", async () => {
    const { api, account } = await merchantApi();
    const key = newKey("burst");
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key))),
    );
    const original = expectOneOriginal(responses);
    expect(await sessionCount(account.id)).toBe(1);
    expect((await t.db.prisma.checkoutSession.findFirst({ where: { accountId: account.id } }))?.id).toBe(
      original.body.id,
    );
    // Settled: the next retry replays.
    expectReplayOf(await api("POST", "/v1/checkout/sessions", sessionParams(), withKey(key)), original);
  });

  it("20 subaccount creates at once: exactly one subaccount", async () => {
    const { api, account } = await merchantApi();
    const key = newKey("burst-sub");
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api("POST", "/v1/subaccounts", { name: "Burst" }, withKey(key))),
    );
    expectOneOriginal(responses);
    expect(await t.db.prisma.subaccount.count({ where: { accountId: account.id } })).toBe(1);
  });

  it("20 at once, each with its own key: 20 sessions (keys do not serialise unrelated requests)", async () => {
    const { api, account } = await merchantApi();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api("POST", "/v1/checkout/sessions", sessionParams(), withKey(newKey()))),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(await sessionCount(account.id)).toBe(20);
  });
});

describe("the contract", () => {
  it("every CNaught POST documents the Idempotency-Key header (at most 512 characters, optional)", async () => {
    interface Parameter {
      in: string;
      name: string;
      required?: boolean;
      schema: Record<string, unknown>;
    }
    type Paths = Record<string, { post?: { parameters?: Parameter[] } }>;
    const doc = (await buildOpenApiDocument()) as { paths: Paths };
    const posts = Object.entries(doc.paths)
      .filter(([path, item]) => path.startsWith("/v1/") && item.post)
      .map(([path, item]) => ({ path, op: item.post! }));
    expect(posts.map((p) => p.path)).toEqual(
      expect.arrayContaining(["/v1/checkout/sessions", "/v1/quotes", "/v1/subaccounts"]),
    );
    for (const { path, op } of posts) {
      const header = (op.parameters ?? []).find((p) => p.in === "header" && p.name === "idempotency-key");
      expect(header, `${path} documents Idempotency-Key`).toBeDefined();
      expect(header!.required ?? false).toBe(false);
      expect(header!.schema).toMatchObject({ type: "string", maxLength: 512 });
    }
  });

  it("an unauthenticated request with a key is 401 and leaves no trace", async () => {
    const key = newKey();
    const res = await apiClient(t.url, "sk_test_nope")("POST", "/v1/checkout/sessions", sessionParams(), withKey(key));
    expect(res.status).toBe(401);
    expect(await t.db.prisma.idempotencyKey.count({ where: { key } })).toBe(0);
  });
});
