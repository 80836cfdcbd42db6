import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectError, leanRailsMerchant, sessionParams } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const sessionCount = async (lr: Awaited<ReturnType<typeof leanRailsMerchant>>["lr"]) =>
  (await lr("GET", "/v1/checkout_sessions?limit=100")).body.data.length;

describe(`Idempotency-Key on LeanRails POSTs (${storeKind})`, () => {
  it("is required on every POST: without one, 400 parameter_missing naming Idempotency-Key, nothing done", async () => {
    const { lr } = await leanRailsMerchant(t);
    const create = await lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: null });
    expectError(create, 400, { code: "parameter_missing", param: "Idempotency-Key" });
    const created = await lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    const expire = await lr("POST", `/v1/checkout_sessions/${created.body.id}/expire`, { idempotencyKey: null });
    expectError(expire, 400, { code: "parameter_missing", param: "Idempotency-Key" });
    expect((await lr("GET", `/v1/checkout_sessions/${created.body.id}`)).body.status).toBe("open");
    expect(await sessionCount(lr)).toBe(1);
  });

  it("a key over 255 characters, or a blank one, is 400 parameter_invalid naming it", async () => {
    const { lr } = await leanRailsMerchant(t);
    expect(
      (await lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: "k".repeat(255) })).status,
    ).toBe(200);
    const long = await lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: "k".repeat(256) });
    expectError(long, 400, { code: "parameter_invalid", param: "Idempotency-Key" });
    const blank = await lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: " " });
    expectError(blank, 400, { code: "parameter_invalid", param: "Idempotency-Key" });
    expect(await sessionCount(lr)).toBe(1);
  });

  it("a retry with the same key and body replays the first answer byte for byte and creates nothing", async () => {
    const { lr } = await leanRailsMerchant(t);
    const key = randomUUID();
    const first = await lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: key });
    expect(first.status).toBe(200);
    const again = await lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: key });
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("x-idempotent-replay")).toBe("true");
    expect(again.headers.get("x-api-version")).toBe("2026-03-09");
    expect(await sessionCount(lr)).toBe(1);
  });

  it("a 4xx the request came to is replayed too, and the key cannot then be used for a fixed request", async () => {
    const { lr } = await leanRailsMerchant(t);
    const key = randomUUID();
    const bad = sessionParams({ ui_mode: "embedded" });
    const first = await lr("POST", "/v1/checkout_sessions", { body: bad, idempotencyKey: key });
    expectError(first, 400, { code: "parameter_invalid", param: "ui_mode" });
    const again = await lr("POST", "/v1/checkout_sessions", { body: bad, idempotencyKey: key });
    expect(again.status).toBe(400);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("x-idempotent-replay")).toBe("true");
    const fixed = await lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: key });
    expectError(fixed, 422, { code: "idempotency_key_reuse", param: "Idempotency-Key" });
    expect(await sessionCount(lr)).toBe(0);
  });

  it("an expire replays its answer, and a replayed 400 stays a 400", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    const path = `/v1/checkout_sessions/${created.body.id}/expire`;
    const key = randomUUID();
    const first = await lr("POST", path, { idempotencyKey: key });
    expect(first.status).toBe(200);
    const again = await lr("POST", path, { idempotencyKey: key });
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("x-idempotent-replay")).toBe("true");
    const otherKey = randomUUID();
    const notOpen = await lr("POST", path, { idempotencyKey: otherKey });
    expectError(notOpen, 400, { code: "invalid_state" });
    const notOpenAgain = await lr("POST", path, { idempotencyKey: otherKey });
    expect(notOpenAgain.text).toBe(notOpen.text);
    expect(notOpenAgain.headers.get("x-idempotent-replay")).toBe("true");
  });

  it("the same key with other parameters is 422 idempotency_key_reuse", async () => {
    const { lr } = await leanRailsMerchant(t);
    const key = randomUUID();
    expect((await lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: key })).status).toBe(
      200,
    );
    const other = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({ client_reference_id: "different" }),
      idempotencyKey: key,
    });
    expectError(other, 422, { code: "idempotency_key_reuse" });
    expect(await sessionCount(lr)).toBe(1);
  });

  it("keys are the merchant's own: another merchant's same key creates its own session", async () => {
    const a = await leanRailsMerchant(t);
    const b = await leanRailsMerchant(t);
    const key = randomUUID();
    const first = await a.lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: key });
    const second = await b.lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: key });
    expect(second.status).toBe(200);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it("concurrent duplicates create one session; every answer is it, or a 409 to retry", async () => {
    const { lr } = await leanRailsMerchant(t);
    const key = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        lr("POST", "/v1/checkout_sessions", { body: sessionParams(), idempotencyKey: key }),
      ),
    );
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(new Set(ok.map((a) => a.body.id)).size).toBe(1);
    for (const answer of answers.filter((a) => a.status !== 200)) {
      expectError(answer, 409, { code: "idempotency_key_in_use" });
    }
    expect(await sessionCount(lr)).toBe(1);
  });
});
