import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { type ApiResponse, expectProblem, expectUnauthorized } from "../cnaught/support.js";
import { apiClient, createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { freePorts, waitFor } from "../../helpers/processes.js";

/**
 * Per-key rate limiting with the in-memory store (always runs; the Redis store has its own file),
 * and the per-address budget of failed authentications, through real HTTP.
 */

const MAX = 3;

const apps: TestApp[] = [];
const extra: FastifyInstance[] = [];
async function app(env: Record<string, string>) {
  const t = await startTestApp(env);
  apps.push(t);
  return t;
}
afterAll(async () => {
  await Promise.all(extra.map((a) => a.close()));
  await Promise.all(apps.map((a) => a.close()));
});

/** A 429 in CNaught's format, with Retry-After and the RateLimit headers. */
function expectRateLimited(res: ApiResponse, limit: number) {
  expectProblem(res, 429, "rate-limited");
  expect(res.body.title).toBe("Too many requests");
  expect(res.body.detail).toMatch(/retry after \d+ seconds/);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
  expect(res.body.detail).toContain(`${retryAfter} seconds`);
  expect(res.headers.get("ratelimit-limit")).toBe(String(limit));
  expect(res.headers.get("ratelimit-remaining")).toBe("0");
  expect(Number(res.headers.get("ratelimit-reset"))).toBeGreaterThanOrEqual(1);
}

describe(`per API key, in memory (${storeKind})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    // A window far longer than the test, so the count cannot reset midway.
    t = await app({ RATE_LIMIT_MAX: String(MAX), RATE_LIMIT_WINDOW_MS: "600000" });
  });

  it("answers 429 problem+json with Retry-After once a key has made max requests in the window", async () => {
    const { api } = await createMerchantApi(t);
    for (let i = 1; i <= MAX; i++) {
      const ok = await api("GET", "/v1/portfolios");
      expect(ok.status).toBe(200);
      expect(ok.headers.get("ratelimit-limit")).toBe(String(MAX));
      expect(ok.headers.get("ratelimit-remaining")).toBe(String(MAX - i));
    }
    const limited = await api("GET", "/v1/portfolios");
    expectRateLimited(limited, MAX);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(600);
    // Every route of the surface shares the key's count, writes included.
    expectRateLimited(await api("POST", "/v1/checkout/sessions", { amount_kg: 1 }), MAX);
    expectRateLimited(await api("GET", "/v1/subaccounts"), MAX);
  });

  it("counts per key: another key, even of the same account, is unaffected", async () => {
    const m = await createMerchantApi(t);
    for (let i = 0; i < MAX; i++) expect((await m.api("GET", "/v1/portfolios")).status).toBe(200);
    expectRateLimited(await m.api("GET", "/v1/portfolios"), MAX);

    const sameAccount = await t.services.apiKeys.create(m.account.id);
    expect((await apiClient(t.url, sameAccount.secret)("GET", "/v1/portfolios")).status).toBe(200);
    const other = await createMerchantApi(t);
    expect((await other.api("GET", "/v1/portfolios")).status).toBe(200);
  });

  it("checks the key first: a bad key is 401, never 429, and does not use up anyone's count", async () => {
    const m = await createMerchantApi(t);
    for (let i = 0; i < MAX + 2; i++) expectUnauthorized(await apiClient(t.url, `${m.key}x`)("GET", "/v1/portfolios"));
    expect((await m.api("GET", "/v1/portfolios")).status).toBe(200);
  });

  it("without Redis each instance counts alone (what REDIS_URL is for)", async () => {
    const second = await buildApp({ config: t.config, db: t.db, services: t.services });
    extra.push(second);
    const secondUrl = await second.listen({ host: "127.0.0.1", port: 0 });
    const m = await createMerchantApi(t);
    const onSecond = apiClient(secondUrl, m.key);
    for (let i = 0; i < MAX; i++) expect((await m.api("GET", "/v1/portfolios")).status).toBe(200);
    expectRateLimited(await m.api("GET", "/v1/portfolios"), MAX);
    expect((await onSecond("GET", "/v1/portfolios")).status).toBe(200);
  });
});

describe(`the window (${storeKind})`, () => {
  it("resets: a limited key is served again once its window has passed", async () => {
    const t = await app({ RATE_LIMIT_MAX: "2", RATE_LIMIT_WINDOW_MS: "1000" });
    const { api } = await createMerchantApi(t);
    // Fill the window; on a slow machine it may roll over midway, so fill until refused.
    const limited = await waitFor(
      async () => {
        const res = await api("GET", "/v1/portfolios");
        return res.status === 429 ? res : null;
      },
      20_000,
      "the key to be limited",
    );
    expectRateLimited(limited, 2);
    const served = await waitFor(
      async () => {
        const res = await api("GET", "/v1/portfolios");
        return res.status === 200 ? res : null;
      },
      20_000,
      "the window to reset",
    );
    expect(served.headers.get("ratelimit-limit")).toBe("2");
  });

  it("RATE_LIMIT_MAX=0 turns per-key limiting off", async () => {
    const t = await app({ RATE_LIMIT_MAX: "0" });
    const { api } = await createMerchantApi(t);
    for (let i = 0; i < 5; i++) {
      const res = await api("GET", "/v1/portfolios");
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBeNull();
    }
  });
});

describe(`Redis configured but unreachable (${storeKind})`, () => {
  it("the API keeps serving and keeps limiting, in this instance's memory", async () => {
    const [closedPort] = await freePorts(1);
    const t = await app({
      RATE_LIMIT_MAX: String(MAX),
      RATE_LIMIT_WINDOW_MS: "600000",
      REDIS_URL: `redis://127.0.0.1:${closedPort}`,
    });
    const { api } = await createMerchantApi(t);
    for (let i = 0; i < MAX; i++) expect((await api("GET", "/v1/portfolios")).status).toBe(200);
    expectRateLimited(await api("GET", "/v1/portfolios"), MAX);
    expect((await (await createMerchantApi(t)).api("GET", "/v1/portfolios")).status).toBe(200);
  });
});

describe(`failed authentications per client address (${storeKind})`, () => {
  const FAILURES = 4;
  let t: TestApp;
  beforeAll(async () => {
    t = await app({
      AUTH_FAILURE_LIMIT_MAX: String(FAILURES),
      AUTH_FAILURE_WINDOW_MS: "600000",
      RATE_LIMIT_MAX: "0",
      TRUST_PROXY: "127.0.0.1", // so each test can be its own client address
    });
  });
  const from = (address: string, key?: string) => {
    const api = apiClient(t.url, key);
    return (method: string, path: string) => api(method, path, undefined, { "x-forwarded-for": address });
  };

  it("after max failures an address gets 429 before its keys are looked at, valid ones included", async () => {
    const { key } = await createMerchantApi(t);
    const address = "198.51.100.7";
    for (let i = 0; i < FAILURES; i++) {
      expectUnauthorized(await from(address, `sk_test_${String(i).padStart(32, "0")}`)("GET", "/v1/portfolios"));
    }
    const refused = await from(address, "sk_test_whatever")("GET", "/v1/portfolios");
    expectProblem(refused, 429, "rate-limited");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expectProblem(await from(address)("GET", "/v1/portfolios"), 429, "rate-limited");
    expectProblem(await from(address, key)("GET", "/v1/portfolios"), 429, "rate-limited");

    // Other addresses are unaffected.
    expect((await from("198.51.100.8", key)("GET", "/v1/portfolios")).status).toBe(200);
    expectUnauthorized(await from("198.51.100.9")("GET", "/v1/portfolios"));
  });

  it("successful requests do not count", async () => {
    const { key } = await createMerchantApi(t);
    const address = "198.51.100.20";
    for (let i = 0; i < FAILURES * 2; i++) expect((await from(address, key)("GET", "/v1/portfolios")).status).toBe(200);
    expectUnauthorized(await from(address)("GET", "/v1/portfolios"));
    expect((await from(address, key)("GET", "/v1/portfolios")).status).toBe(200);
  });

  it("behind one proxy (TRUST_PROXY=127.0.0.1) counts the address the proxy appended, whatever the client wrote", async () => {
    const proxied = await app({
      AUTH_FAILURE_LIMIT_MAX: "2",
      AUTH_FAILURE_WINDOW_MS: "600000",
      TRUST_PROXY: "127.0.0.1",
    });
    const attempt = (i: number) =>
      apiClient(proxied.url)("GET", "/v1/portfolios", undefined, { "x-forwarded-for": `6.6.6.${i}, 203.0.113.9` });
    expectUnauthorized(await attempt(1));
    expectUnauthorized(await attempt(2));
    expectProblem(await attempt(3), 429, "rate-limited");
    // The proxy's other clients are unaffected.
    const other = await apiClient(proxied.url)("GET", "/v1/portfolios", undefined, {
      "x-forwarded-for": "6.6.6.3, 203.0.113.10",
    });
    expectUnauthorized(other);
  });

  it("is counted per address as the server sees it: X-Forwarded-For counts only with TRUST_PROXY", async () => {
    const direct = await app({ AUTH_FAILURE_LIMIT_MAX: "2", AUTH_FAILURE_WINDOW_MS: "600000" });
    const spoof = (address: string) =>
      apiClient(direct.url)("GET", "/v1/portfolios", undefined, { "x-forwarded-for": address });
    expectUnauthorized(await spoof("203.0.113.1"));
    expectUnauthorized(await spoof("203.0.113.2"));
    // A made-up forwarding header does not buy a fresh budget.
    expectProblem(await spoof("203.0.113.3"), 429, "rate-limited");
  });
});
