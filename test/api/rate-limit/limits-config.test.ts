import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";

/** The limit settings as the environment gives them (the rest of config is in test/config.test.ts). */
describe("limit settings", () => {
  it("defaults", () => {
    expect(loadConfig({}).limits).toEqual({
      rateLimit: { max: 100, windowMs: 1000 },
      redisUrl: null,
      maxHeaderBytes: 16 * 1024,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 72_000,
      headersTimeoutMs: 10_000,
      authFailures: { max: 100, windowMs: 60_000 },
      pay: { max: 20, windowMs: 600_000 },
    });
  });

  it("the header time never exceeds the request time (Node refuses that), unless requests are unbounded", () => {
    expect(loadConfig({ REQUEST_TIMEOUT_MS: "500" }).limits.headersTimeoutMs).toBe(500);
    expect(loadConfig({ REQUEST_TIMEOUT_MS: "0", HEADERS_TIMEOUT_MS: "20000" }).limits.headersTimeoutMs).toBe(20_000);
  });

  it.each([
    ["HEADERS_TIMEOUT_MS", "10"],
    ["AUTH_FAILURE_LIMIT_MAX", "-1"],
    ["AUTH_FAILURE_WINDOW_MS", "abc"],
  ])("a bad %s stops the start naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it("0 turns the failed-authentication budget off", () => {
    expect(loadConfig({ AUTH_FAILURE_LIMIT_MAX: "0" }).limits.authFailures.max).toBe(0);
  });
});
