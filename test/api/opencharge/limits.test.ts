import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { anOrder, createBody, OPENCHARGE_ENV, registerParticipants, STRANGER_KEY, signedFetch } from "./support.js";

/** The Opencharge surface under the app's limits: per caller OCID, and per address on failed authentication. */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    ...OPENCHARGE_ENV,
    RATE_LIMIT_MAX: "3",
    RATE_LIMIT_WINDOW_MS: "60000",
    AUTH_FAILURE_LIMIT_MAX: "2",
    AUTH_FAILURE_WINDOW_MS: "60000",
  });
  await registerParticipants(t);
});
afterAll(() => t?.close());

const create = (opts: Parameters<typeof signedFetch>[3] = {}) =>
  signedFetch(t.url, "/opencharge/checkout/create", createBody(anOrder(new Date())), opts);

describe("limits on the Opencharge surface", () => {
  it("a caller past RATE_LIMIT_MAX gets 429 RATE_LIMITED with Retry-After, in Opencharge's format", async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await create());
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers[3]!.body.error.code).toBe("RATE_LIMITED");
    expect(Number(answers[3]!.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("an address that fails authentication AUTH_FAILURE_LIMIT_MAX times is refused before any check", async () => {
    const bad = { key: STRANGER_KEY, ocid: "500" };
    expect((await create(bad)).body.error.code).toBe("INVALID_SIGNATURE");
    expect((await create(bad)).body.error.code).toBe("INVALID_SIGNATURE");
    const blocked = await create(bad);
    expect([blocked.status, blocked.body.error.code]).toEqual([429, "RATE_LIMITED"]);
  });
});
