import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FuzzResponse, fuzzSurface, type OpenApiDocument } from "../../helpers/api-fuzz.js";
import { createMerchant, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { basic } from "./support.js";

/**
 * The LeanRails surface (/v1, its own paths) under the seeded property-based fuzz run derived
 * from its served OpenAPI document (test/helpers/api-fuzz.ts): hostile bodies, queries, paths and
 * headers sent with a valid key never get a 5xx, every error is LeanRails' `{"error": {…}}`, and
 * the server stays healthy. Replay a failure with the FUZZ_SEED (and FUZZ_RUNS) its message names.
 */

const TYPES = ["invalid_request_error", "authentication_error", "rate_limit_error", "payment_error", "api_error"];

/** LeanRails' error format (leanrails.md, "Errors"): exactly {error: {type, code, message, param, doc_url}}. */
function isLeanRailsError(response: FuzzResponse): boolean {
  if (!/^application\/json/.test(String(response.headers["content-type"] ?? ""))) return false;
  const body = response.json as { error?: Record<string, unknown> } | undefined;
  if (!body || typeof body !== "object" || Object.keys(body).join() !== "error") return false;
  const error = body.error;
  if (!error || typeof error !== "object") return false;
  if (Object.keys(error).sort().join() !== "code,doc_url,message,param,type") return false;
  return (
    TYPES.includes(String(error.type)) &&
    typeof error.code === "string" &&
    typeof error.message === "string" &&
    error.message.length > 0 &&
    (error.param === null || typeof error.param === "string") &&
    typeof error.doc_url === "string" &&
    error.doc_url.startsWith("https://docs.leanrails.com/")
  );
}

let t: TestApp;
let key: string;
let document: OpenApiDocument;
beforeAll(async () => {
  // No rate limits: the fuzzer sends as fast as the app answers, all with one key.
  t = await startTestApp({ RATE_LIMIT_MAX: "0", AUTH_FAILURE_LIMIT_MAX: "0" });
  key = (await createMerchant(t.services)).key;
  document = (await t.app.inject({ method: "GET", url: "/leanrails/openapi.json" })).json() as OpenApiDocument;
});
afterAll(() => t?.close());

describe(`fuzzing the LeanRails API from its OpenAPI document (${storeKind})`, () => {
  it("answers hostile requests without a 5xx, every error in LeanRails' body, and stays healthy", async () => {
    const report = await fuzzSurface({
      app: t.app,
      document,
      basePath: "/v1",
      authHeaders: { authorization: basic(key) },
      isSurfaceError: isLeanRailsError,
      numRuns: 1500,
    });
    expect(report.requests).toBe(Number(process.env.FUZZ_RUNS ?? 1500));
    const count = (from: number, to: number) =>
      Object.entries(report.statuses)
        .filter(([status]) => Number(status) >= from && Number(status) < to)
        .reduce((n, [, c]) => n + c, 0);
    expect(count(200, 300), JSON.stringify(report.statuses)).toBeGreaterThan(report.requests / 20);
    expect(Object.keys(report.statuses).filter((s) => Number(s) >= 400).length).toBeGreaterThanOrEqual(4);
    const after = await t.app.inject({
      method: "GET",
      url: "/v1/checkout_sessions",
      headers: { authorization: basic(key) },
    });
    expect(after.statusCode).toBe(200);
  });
});
