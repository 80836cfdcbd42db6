import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runOperation } from "../../../src/admin/admin.operations.js";
import { parseCommand } from "../../../src/cli/main.js";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectProblem, expectUnauthorized } from "../cnaught/support.js";
import { basic, expectError, leanRailsClient, leanRailsMerchant, sessionParams } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe(`authentication (${storeKind})`, () => {
  it.each<[string, Record<string, string>]>([
    ["no Authorization header", {}],
    ["an unknown key", { authorization: basic("sk_test_0123456789abcdefghijklmnopqrstuv") }],
    ["an empty user name", { authorization: basic("") }],
    ["Basic with garbage", { authorization: "Basic !!!" }],
    [
      "a real-looking Bearer token on a LeanRails path",
      { authorization: "Bearer sk_test_0123456789abcdefghijklmnopqrstuv" },
    ],
  ])("%s is 401 authentication_failed with the documented message", async (_label, headers) => {
    for (const [method, path] of [
      ["GET", "/v1/checkout_sessions"],
      ["GET", "/v1/checkout_sessions/cs_1"],
      ["POST", "/v1/checkout_sessions"],
      ["GET", "/v1/checkout_sessions/cs_1/nothing/here"],
    ] as const) {
      const res = await leanRailsClient(t.url, null)(method, path, {
        headers,
        body: method === "POST" ? {} : undefined,
      });
      expectError(res, 401, { type: "authentication_error", code: "authentication_failed", param: null });
      expect(res.body.error.message).toBe("Invalid API key provided.");
      expect(res.headers.get("www-authenticate")).toBe('Basic realm="LeanRails"');
    }
  });

  it("a real key with Bearer on a LeanRails path is refused: LeanRails is Basic only", async () => {
    const { key } = await leanRailsMerchant(t);
    const res = await leanRailsClient(t.url, null)("GET", "/v1/checkout_sessions", {
      headers: { authorization: `Bearer ${key}` },
    });
    expectError(res, 401, { type: "authentication_error", code: "authentication_failed" });
  });

  it("a key with a password is still the key (the password is ignored); the scheme is case-insensitive", async () => {
    const { key } = await leanRailsMerchant(t);
    const withPassword = `Basic ${Buffer.from(`${key}:whatever`).toString("base64")}`;
    const res = await leanRailsClient(t.url, null)("GET", "/v1/checkout_sessions", {
      headers: { authorization: withPassword },
    });
    expect(res.status).toBe(200);
    const lower = await leanRailsClient(t.url, null)("GET", "/v1/checkout_sessions", {
      headers: { authorization: basic(key).replace("Basic", "basic") },
    });
    expect(lower.status).toBe(200);
  });

  it("a revoked key is 401 at once", async () => {
    const { lr, keyId } = await leanRailsMerchant(t);
    expect((await lr("GET", "/v1/checkout_sessions")).status).toBe(200);
    await t.services.apiKeys.revoke(keyId);
    expectError(await lr("GET", "/v1/checkout_sessions"), 401, {
      type: "authentication_error",
      code: "authentication_failed",
    });
  });
});

describe(`errors in LeanRails' shape on every path it owns (${storeKind})`, () => {
  it("unknown paths under its prefixes and, with Basic, anywhere under /v1 are 404 resource_missing", async () => {
    const { lr } = await leanRailsMerchant(t);
    for (const path of ["/v1/checkout_sessions/cs_1/nope", "/v1/no-such-thing", "/v1/checkout/sessions/cs_1/nope"]) {
      const res = await lr("GET", path);
      expectError(res, 404, { code: "resource_missing", param: null });
      expect(res.body.error.message).toBe(`Unrecognized request URL (GET: ${path}).`);
    }
  });

  it("a wrong method on a LeanRails path is 405 with Allow", async () => {
    const { lr } = await leanRailsMerchant(t);
    for (const [method, path, allow] of [
      ["DELETE", "/v1/checkout_sessions", /GET.*POST|POST.*GET/],
      ["PUT", "/v1/checkout_sessions/cs_1", /GET/],
      ["GET", "/v1/checkout_sessions/cs_1/expire", /POST/],
      ["DELETE", "/v1/checkout/sessions", /GET.*POST|POST.*GET/],
    ] as const) {
      const res = await lr(method, path);
      expectError(res, 405, { code: "method_not_allowed", param: null });
      expect(res.headers.get("allow")).toMatch(allow);
    }
  });

  it("malformed JSON, an empty JSON body, and a body that is not JSON are 400 / 415", async () => {
    const { lr } = await leanRailsMerchant(t);
    const headers = { "content-type": "application/json" };
    expectError(await lr("POST", "/v1/checkout_sessions", { body: "{nope", headers }), 400, {
      code: "parameter_invalid",
      param: null,
    });
    expectError(await lr("POST", "/v1/checkout_sessions", { body: "", headers }), 400, { code: "parameter_invalid" });
    const form = await lr("POST", "/v1/checkout_sessions", {
      body: "mode=payment",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expectError(form, 415, { code: "unsupported_media_type" });
    const text = await lr("POST", "/v1/checkout_sessions", { body: "hi", headers: { "content-type": "text/plain" } });
    expectError(text, 415, { code: "unsupported_media_type" });
  });

  it("an unknown parameter named like an Object member is named as sent", async () => {
    const { lr } = await leanRailsMerchant(t);
    for (const name of ["constructor", "toString", "hasOwnProperty"]) {
      const query = await lr("GET", `/v1/checkout_sessions?${name}=1`);
      expectError(query, 400, { code: "parameter_invalid", param: name });
      expect(query.body.error.message).toBe(`Received unknown parameter: ${name}.`);
      const body = await lr("POST", "/v1/checkout_sessions", { body: { ...sessionParams(), [name]: 1 } });
      expectError(body, 400, { code: "parameter_invalid", param: name });
    }
  });

  it("a body over the limit is 413", async () => {
    const { lr } = await leanRailsMerchant(t);
    const res = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({ metadata: { big: "x".repeat(70 * 1024) } }),
    });
    expectError(res, 413, { code: "request_too_large" });
  });

  it("a malformed URL (an error before routing) on a LeanRails path, or with Basic, is LeanRails' 400", async () => {
    const { lr } = await leanRailsMerchant(t);
    for (const path of ["/v1/checkout_sessions/%FF", "/v1/checkout/sessions/%FF"]) {
      const res = await lr("GET", path, { headers: { "x-request-id": "trace-lr-1" } });
      expectError(res, 400, { code: "parameter_invalid" });
      expect(res.headers.get("x-request-id")).toBe("trace-lr-1");
    }
    // Without Basic, the shared path's malformed URL stays CNaught's.
    const cnaught = await fetch(`${t.url}/v1/checkout/sessions/%FF`);
    expect(cnaught.status).toBe(400);
    expect(cnaught.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });
});

describe(`the dialect on /v1/checkout/sessions (${storeKind})`, () => {
  it("Basic is LeanRails (create, get, list, expire, line_items); Bearer is CNaught", async () => {
    const { lr, key } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout/sessions", { body: sessionParams() });
    expect(created.status, created.text).toBe(200);
    expect(created.body).toMatchObject({ object: "checkout.session", currency: "eur", amount_total: 4850 });
    const id = created.body.id;
    expect((await lr("GET", `/v1/checkout/sessions/${id}`)).body).toEqual(created.body);
    expect((await lr("GET", `/v1/checkout_sessions/${id}`)).body).toEqual(created.body);
    const list = await lr("GET", "/v1/checkout/sessions");
    expect(list.body).toMatchObject({ object: "list", url: "/v1/checkout/sessions" });
    expect(list.body.data.map((s: { id: string }) => s.id)).toEqual([id]);
    const items = await lr("GET", `/v1/checkout/sessions/${id}/line_items`);
    expect(items.body.data).toHaveLength(2);
    expect((await lr("POST", `/v1/checkout/sessions/${id}/expire`)).body.status).toBe("expired");

    // The same key with Bearer speaks CNaught on the same path.
    const bearer = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const cnaught = await fetch(`${t.url}/v1/checkout/sessions`, {
      method: "POST",
      headers: bearer,
      body: JSON.stringify({ amount_kg: 100, success_url: "https://a.example/ok", cancel_url: "https://a.example/no" }),
    });
    expect(cnaught.status).toBe(201);
    const body = (await cnaught.json()) as { amount_kg: number; checkout_url: string };
    expect(body.amount_kg).toBe(100);
    // A LeanRails session read with Bearer is a CNaught 404 problem, not a LeanRails body.
    const crossed = await fetch(`${t.url}/v1/checkout/sessions/does-not-exist`, { headers: bearer });
    expect(crossed.status).toBe(404);
    expect(crossed.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("HEAD follows the same dialect as GET", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout/sessions", { body: sessionParams() });
    const head = await lr("HEAD", `/v1/checkout/sessions/${created.body.id}`);
    expect(head.status).toBe(200);
    expect(head.headers.get("x-api-version")).toBe("2026-03-09");
    const missing = await lr("HEAD", "/v1/checkout/sessions/cs_nope");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/json/);
    const bearer = await fetch(`${t.url}/v1/checkout/sessions/cs_nope`, { method: "HEAD" });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("without Basic, CNaught's answers on the shared path are unchanged", async () => {
    const anonymous = async (method: string, path: string) => {
      const response = await fetch(t.url + path, { method });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
    };
    expectUnauthorized(await anonymous("GET", "/v1/checkout/sessions/abc"));
    expectUnauthorized(await anonymous("DELETE", "/v1/checkout/sessions"));
    expectUnauthorized(await anonymous("GET", "/v1/no-such-thing"));
    const { key } = await leanRailsMerchant(t);
    const res = await fetch(`${t.url}/v1/no-such-thing`, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    expectProblem({ status: res.status, headers: res.headers, body: JSON.parse(text), text }, 404, "not-found");
  });
});

describe(`X-API-Version (${storeKind})`, () => {
  it("is echoed on every response: the default without the header, the one asked for with it", async () => {
    const { lr } = await leanRailsMerchant(t);
    const plain = await lr("GET", "/v1/checkout_sessions");
    expect(plain.headers.get("x-api-version")).toBe("2026-03-09");
    const asked = await lr("GET", "/v1/checkout_sessions", { headers: { "x-api-version": "2026-03-09" } });
    expect(asked.status).toBe(200);
    expect(asked.headers.get("x-api-version")).toBe("2026-03-09");
    // Errors too, and before authentication.
    const notFound = await lr("GET", "/v1/checkout_sessions/cs_nope");
    expect(notFound.headers.get("x-api-version")).toBe("2026-03-09");
    const unauthenticated = await leanRailsClient(t.url, null)("GET", "/v1/checkout_sessions");
    expect(unauthenticated.headers.get("x-api-version")).toBe("2026-03-09");
  });

  it.each(["2020-01-01", "latest", "2026-3-9", ""])(
    "an unknown version %j is 400 parameter_invalid naming the header",
    async (version) => {
      const { lr } = await leanRailsMerchant(t);
      const res = await lr("GET", "/v1/checkout_sessions", { headers: { "x-api-version": version } });
      expectError(res, 400, { code: "parameter_invalid", param: "X-API-Version" });
      expect(res.headers.get("x-api-version")).toBe("2026-03-09");
      const post = await lr("POST", "/v1/checkout_sessions", {
        body: sessionParams(),
        headers: { "x-api-version": version },
      });
      expectError(post, 400, { code: "parameter_invalid", param: "X-API-Version" });
      expect((await lr("GET", "/v1/checkout_sessions")).body.data).toEqual([]);
    },
  );
});

describe(`the account's default API version (${storeKind})`, () => {
  const cli = (argv: string) => {
    const { command, args } = parseCommand(argv.split(" "));
    return runOperation({ services: t.services, db: t.db }, command.operation, args) as Promise<
      Record<string, unknown>
    >;
  };

  it("`kassa accounts api-version` sets, shows and clears it; bad input changes nothing", async () => {
    const accountId = (await leanRailsMerchant(t)).account.id;
    expect(await cli(`accounts api-version --account ${accountId} --api leanrails`)).toEqual({
      account_id: accountId,
      api: "leanrails",
      version: null,
      known_versions: ["2026-03-09"],
    });
    expect(await cli(`accounts api-version --account ${accountId} --api leanrails --set 2026-03-09`)).toMatchObject({
      version: "2026-03-09",
    });
    expect(await cli(`accounts api-version --account ${accountId} --api leanrails`)).toMatchObject({
      version: "2026-03-09",
    });
    await expect(
      cli(`accounts api-version --account ${accountId} --api leanrails --set 2020-01-01`),
    ).rejects.toMatchObject({
      code: "invalid_parameters",
    });
    await expect(
      cli(`accounts api-version --account ${accountId} --api cnaught --set 2026-03-09`),
    ).rejects.toMatchObject({
      code: "invalid_parameters",
    });
    await expect(cli("accounts api-version --account acct_nope --api leanrails")).rejects.toMatchObject({
      code: "not_found",
    });
    expect(await cli(`accounts api-version --account ${accountId} --api leanrails`)).toMatchObject({
      version: "2026-03-09",
    });
    expect(await cli(`accounts api-version --account ${accountId} --api leanrails --clear`)).toMatchObject({
      version: null,
    });
  });

  it("a request without X-API-Version is served at its account's default; one with the header never looks", async () => {
    const { lr, account } = await leanRailsMerchant(t);
    const accountId = account.id;
    await cli(`accounts api-version --account ${accountId} --api leanrails --set 2026-03-09`);
    const lookup = vi.spyOn(t.services.accounts, "defaultApiVersion");
    try {
      const plain = await lr("GET", "/v1/checkout_sessions");
      expect(plain.status).toBe(200);
      expect(plain.headers.get("x-api-version")).toBe("2026-03-09");
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(lookup).toHaveBeenCalledWith(accountId, "leanrails");
      await expect(lookup.mock.results[0]?.value).resolves.toBe("2026-03-09");

      const asked = await lr("GET", "/v1/checkout_sessions", { headers: { "x-api-version": "2026-03-09" } });
      expect(asked.status).toBe(200);
      expect(lookup).toHaveBeenCalledTimes(1);
    } finally {
      lookup.mockRestore();
    }
  });
});

describe(`the catalogue on the LeanRails surface (${storeKind})`, () => {
  it("its routes answer with Basic and their errors come in LeanRails' body", async () => {
    const { lr } = await leanRailsMerchant(t);
    const product = await lr("POST", "/v1/products", { body: { name: "Poster" } });
    expect(product.status, product.text).toBe(200);
    expect(product.body).toMatchObject({ object: "product", name: "Poster", livemode: false });
    expectError(await lr("POST", "/v1/products", { body: {} }), 400, { code: "parameter_missing", param: "name" });
    expectError(await lr("GET", "/v1/prices/price_nope"), 404, { code: "resource_missing", param: "id" });
    expectError(await lr("POST", "/v1/prices", { body: { product: product.body.id }, idempotencyKey: null }), 400, {
      code: "parameter_missing",
      param: "Idempotency-Key",
    });
    const unauthenticated = await leanRailsClient(t.url, null)("GET", "/v1/products");
    expectError(unauthenticated, 401, { type: "authentication_error", code: "authentication_failed" });
  });
});
