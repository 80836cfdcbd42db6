import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_BODY_LIMIT } from "../../../src/api/admin/admin.plugin.js";
import { buildAdminApp } from "../../../src/app.js";
import { loadConfig } from "../../../src/config.js";
import { startTestApp, type TestApp } from "../../helpers/app.js";

const TOKEN = "admin-token-0123456789abcdef";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const adminApp = (env: Record<string, string>) =>
  buildAdminApp({ config: loadConfig({ LOG_LEVEL: "silent", ...env }), db: t.db, services: t.services });

/** An answer in the admin API's one error format, `{ error: { code, message } }`, as JSON. */
function expectAdminError(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  const body = res.json();
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ code, message: expect.any(String) });
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error as { code: string; message: string; fields?: Record<string, string[]> };
}

describe("admin API", () => {
  it("runs an operation and reports bad arguments and unknown operations", async () => {
    const admin = await adminApp({});
    const created = await admin.inject({
      method: "POST",
      url: "/admin/operations/accounts.create",
      payload: { name: "Ops" },
    });
    expect(created.statusCode).toBe(200);
    expect(created.json().result).toMatchObject({ name: "Ops", id: expect.stringMatching(/^acct_/) });
    const invalid = await admin.inject({ method: "POST", url: "/admin/operations/keys.create", payload: {} });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.fields).toHaveProperty("account");
    const missing = await admin.inject({
      method: "POST",
      url: "/admin/operations/keys.create",
      payload: { account: "acct_nope" },
    });
    expect(missing.statusCode).toBe(404);
    const unknown = await admin.inject({ method: "POST", url: "/admin/operations/toString", payload: {} });
    expect(unknown.statusCode).toBe(404);
    await admin.close();
  });

  it("catalog.import takes the file as JSON too, beyond the public body limit; catalog.export gives it back", async () => {
    const admin = await adminApp({});
    const categories = Array.from({ length: 12 }, (_, i) => ({
      id: `adminCat${i}`,
      name: `Admin category ${i} (fictional)`,
      description: "x".repeat(9000),
    }));
    const body = JSON.stringify({ args: null, catalogue: { categories } });
    expect(body.length).toBeGreaterThan(t.config.bodyLimitBytes);
    const res = await admin.inject({
      method: "POST",
      url: "/admin/operations/catalog.import",
      payload: { catalogue: { categories } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().result.imported.categories).toEqual({ total: 12, changed: 12 });
    const exported = await admin.inject({ method: "POST", url: "/admin/operations/catalog.export", payload: {} });
    expect(exported.json().result.categories).toContainEqual({ ...categories[3], primary_image_url: null });
    const missing = await admin.inject({ method: "POST", url: "/admin/operations/catalog.import", payload: {} });
    expectAdminError(missing, 400, "invalid_parameters");
    await admin.close();
  });

  it("refuses a default portfolio that does not exist, an empty id too, as 400", async () => {
    const admin = await adminApp({});
    for (const id of ["", "nope1234"]) {
      const res = await admin.inject({
        method: "POST",
        url: "/admin/operations/accounts.create",
        payload: { name: "Ops", default_portfolio_id: id },
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error).toMatchObject({
        code: "invalid_parameters",
        fields: { default_portfolio_id: [expect.any(String)] },
      });
    }
    await admin.close();
  });

  it("answers 409 for a portfolio id that exists, also when two creates race", async () => {
    const admin = await adminApp({});
    const create = () =>
      admin.inject({
        method: "POST",
        url: "/admin/operations/portfolios.create",
        payload: { id: "twice", name: "Twice", checkout_price_per_kg_usd_cents: "2", api_price_per_kg_usd_cents: "1" },
      });
    const statuses = (await Promise.all([create(), create()])).map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 409]);
    const again = await create();
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("conflict");
    await admin.close();
  });

  it("refuses foreign Host headers, browser Origins and non-JSON posts", async () => {
    const admin = await adminApp({});
    const post = (headers: Record<string, string>, payload: string | object = {}) =>
      admin.inject({ method: "POST", url: "/admin/operations/accounts.list", payload, headers });
    expect((await post({ host: "attacker.example:3001" })).statusCode).toBe(403);
    expect((await post({ host: "127.0.0.1:3001", origin: "https://attacker.example" })).statusCode).toBe(403);
    expect((await post({ host: "127.0.0.1:3001", "content-type": "text/plain" }, "{}")).statusCode).toBe(403);
    expect((await post({ host: "127.0.0.1:3001" })).statusCode).toBe(200);
    expect((await post({ host: "[::1]:3001" })).statusCode).toBe(200);
    await admin.close();
  });

  it("requires ADMIN_TOKEN, when set, on every call", async () => {
    const admin = await adminApp({ ADMIN_TOKEN: TOKEN });
    const call = (authorization?: string) =>
      admin.inject({
        method: "POST",
        url: "/admin/operations/accounts.list",
        payload: {},
        headers: authorization ? { authorization } : {},
      });
    expect((await call()).statusCode).toBe(401);
    expect((await call(`Bearer ${TOKEN}x`)).statusCode).toBe(401);
    expect((await call("Bearer wrong")).statusCode).toBe(401);
    const ok = await call(`Bearer ${TOKEN}`);
    expect(ok.statusCode).toBe(200);
    expect(Array.isArray(ok.json().result)).toBe(true);
    await admin.close();
  });

  it("refuses NUL and lone surrogates in any argument as invalid parameters, writing nothing", async () => {
    const admin = await adminApp({});
    const call = (operation: string, payload: object) =>
      admin.inject({ method: "POST", url: `/admin/operations/${operation}`, payload });
    const cases: Array<[string, object, string]> = [
      ["accounts.create", { name: "Unstorable\u0000" }, "name"],
      ["accounts.create", { name: "Unstorable\ud800" }, "name"],
      ["accounts.create", { name: "Unstorable", default_portfolio_id: "\u0000" }, "default_portfolio_id"],
      ["keys.create", { account: "acct_\u0000" }, "account"],
      ["keys.revoke", { id: "\u0000" }, "id"],
      [
        "portfolios.create",
        { id: "p\u0000", name: "P", checkout_price_per_kg_usd_cents: "2", api_price_per_kg_usd_cents: "1" },
        "id",
      ],
      ["orders.fulfill", { id: "\u0000" }, "id"],
      ["orders.cancel", { id: "x\udc00" }, "id"],
      ["orders.list", { account: "\u0000" }, "account"],
      ["webhooks.secret", { account: "\u0000" }, "account"],
      ["webhooks.deliveries", { order: "\u0000" }, "order"],
    ];
    for (const [operation, payload, field] of cases) {
      const error = expectAdminError(await call(operation, payload), 400, "invalid_parameters");
      expect(Object.keys(error.fields ?? {}), operation).toEqual([field]);
    }
    const names = (await call("accounts.list", {})).json().result.map((a: { name: string }) => a.name);
    expect(names.filter((n: string) => n.startsWith("Unstorable"))).toEqual([]);
    await admin.close();
  });

  it("answers every error in its one format: bad JSON, wrong method, unknown path, 415, 413, a bad URL", async () => {
    const admin = await adminApp({ BODY_LIMIT_BYTES: "1024" });
    const json = { "content-type": "application/json" };
    expectAdminError(
      await admin.inject({ method: "POST", url: "/admin/operations/accounts.list", payload: "{", headers: json }),
      400,
      "invalid_json",
    );
    const wrongMethod = await admin.inject({ method: "GET", url: "/admin/operations/accounts.list" });
    expectAdminError(wrongMethod, 405, "method_not_allowed");
    expect(wrongMethod.headers.allow).toBe("POST");
    expectAdminError(await admin.inject({ method: "GET", url: "/admin/nope" }), 404, "not_found");
    expectAdminError(await admin.inject({ method: "POST", url: "/admin", payload: {} }), 404, "not_found");
    expectAdminError(
      await admin.inject({
        method: "POST",
        url: "/admin/operations/accounts.list",
        payload: "{}",
        headers: { "content-type": "application/jsonx" },
      }),
      415,
      "unsupported_media_type",
    );
    expectAdminError(
      await admin.inject({
        method: "POST",
        url: "/admin/operations/accounts.create",
        // Operations take up to ADMIN_BODY_LIMIT whatever BODY_LIMIT_BYTES is (a catalogue file travels whole).
        payload: { name: "x".repeat(ADMIN_BODY_LIMIT) },
      }),
      413,
      "payload_too_large",
    );
    expectAdminError(
      await admin.inject({ method: "POST", url: "/admin/operations/%FF", payload: {} }),
      400,
      "invalid_request",
    );
    expectAdminError(
      await admin.inject({ method: "POST", url: "/admin/operations/accounts.list", payload: "[1]", headers: json }),
      400,
      "invalid_parameters",
    );
    await admin.close();
  });
});
