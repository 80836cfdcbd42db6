import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FuzzResponse, fuzzSurface, type OpenApiDocument } from "../../helpers/api-fuzz.js";
import { createMerchant, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";

/**
 * The CNaught surface (/v1) under a seeded property-based fuzz run derived from the served OpenAPI
 * document (test/helpers/api-fuzz.ts): hostile bodies, queries, paths and headers sent with a
 * valid key never get a 5xx, every error is CNaught's problem+json, and the server stays healthy.
 * Replay a failure with the FUZZ_SEED (and FUZZ_RUNS) its message names.
 */

const ERROR_TYPE_BASE = "https://api.cnaught.com/v1/errors/";

/** CNaught's error format: problem+json, `type` under its errors base, a title, the HTTP status. */
function isCnaughtError(response: FuzzResponse): boolean {
  if (!/^application\/problem\+json/.test(String(response.headers["content-type"] ?? ""))) return false;
  const body = response.json as { type?: unknown; title?: unknown; status?: unknown } | undefined;
  if (!body || typeof body !== "object" || Array.isArray(body)) return false;
  if (body.status !== response.status || typeof body.title !== "string" || !body.title) return false;
  // The 401 is CNaught's bare {title, status}; every other error names its type.
  if (response.status === 401) return Object.keys(body).sort().join() === "status,title";
  return typeof body.type === "string" && body.type.startsWith(ERROR_TYPE_BASE);
}

let t: TestApp;
let key: string;
let document: OpenApiDocument;
beforeAll(async () => {
  // No rate limits: the fuzzer sends as fast as the app answers, all with one key.
  t = await startTestApp({ RATE_LIMIT_MAX: "0", AUTH_FAILURE_LIMIT_MAX: "0" });
  key = (await createMerchant(t.services)).key;
  document = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json() as OpenApiDocument;
});
afterAll(() => t?.close());

describe(`fuzzing the CNaught API from its OpenAPI document (${storeKind})`, () => {
  it("answers hostile requests without a 5xx, every error in CNaught's problem format, and stays healthy", async () => {
    const report = await fuzzSurface({
      app: t.app,
      document,
      basePath: "/v1",
      authHeaders: { authorization: `Bearer ${key}` },
      isSurfaceError: isCnaughtError,
      numRuns: 2000,
    });
    expect(report.requests).toBe(Number(process.env.FUZZ_RUNS ?? 2000));
    // The run reached past validation too: successes, and more than one kind of refusal.
    const count = (from: number, to: number) =>
      Object.entries(report.statuses)
        .filter(([status]) => Number(status) >= from && Number(status) < to)
        .reduce((n, [, c]) => n + c, 0);
    expect(count(200, 300), JSON.stringify(report.statuses)).toBeGreaterThan(report.requests / 20);
    expect(Object.keys(report.statuses).filter((s) => Number(s) >= 400).length).toBeGreaterThanOrEqual(4);
    // And the key still works.
    const after = await t.app.inject({
      method: "GET",
      url: "/v1/portfolios",
      headers: { authorization: `Bearer ${key}` },
    });
    expect(after.statusCode).toBe(200);
  });
});
