import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectError, leanRailsClient, leanRailsMerchant } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ RATE_LIMIT_MAX: "3", RATE_LIMIT_WINDOW_MS: "60000", AUTH_FAILURE_LIMIT_MAX: "2" });
});
afterAll(() => t.close());

describe(`LeanRails rate limits (${storeKind})`, () => {
  it("X-RateLimit-Limit and -Remaining on every answer; past the limit 429 rate_limit_exceeded with Retry-After", async () => {
    const { lr } = await leanRailsMerchant(t);
    const remaining: string[] = [];
    for (const path of ["/v1/checkout_sessions", "/v1/checkout_sessions/cs_nope", "/v1/nope"]) {
      const res = await lr("GET", path);
      expect(res.headers.get("x-ratelimit-limit")).toBe("3");
      remaining.push(res.headers.get("x-ratelimit-remaining") ?? "");
      expect(res.headers.get("ratelimit-limit")).toBeNull(); // LeanRails documents the X- names
    }
    expect(remaining).toEqual(["2", "1", "0"]);
    const limited = await lr("GET", "/v1/checkout_sessions");
    expectError(limited, 429, { type: "rate_limit_error", code: "rate_limit_exceeded", param: null });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("x-ratelimit-limit")).toBe("3");
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    // Another merchant has its own budget.
    const other = await leanRailsMerchant(t);
    expect((await other.lr("GET", "/v1/checkout_sessions")).status).toBe(200);
  });

  it("failed authentications carry the address's budget; past it, LeanRails' 429", async () => {
    const anonymous = leanRailsClient(t.url, "sk_test_0123456789abcdefghijklmnopqrstuv");
    const first = await anonymous("GET", "/v1/checkout_sessions");
    expect(first.status).toBe(401);
    expect([first.headers.get("x-ratelimit-limit"), first.headers.get("x-ratelimit-remaining")]).toEqual(["2", "1"]);
    const second = await anonymous("GET", "/v1/checkout_sessions");
    expect(second.status).toBe(401);
    expect(second.headers.get("x-ratelimit-remaining")).toBe("0");
    const limited = await anonymous("GET", "/v1/checkout_sessions");
    expectError(limited, 429, { type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect([limited.headers.get("x-ratelimit-limit"), limited.headers.get("x-ratelimit-remaining")]).toEqual([
      "2",
      "0",
    ]);
  });
});
