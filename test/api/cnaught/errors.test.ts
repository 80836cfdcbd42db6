import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, createMerchant, createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { type ApiResponse, expectInvalid, expectProblem, expectUnauthorized, sessionParams } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const merchantApi = (opts: Parameters<typeof createMerchant>[1] = {}) => createMerchantApi(t, opts);

/** A request with full control of headers and raw body. */
async function raw(path: string, init: RequestInit): Promise<ApiResponse> {
  const response = await fetch(t.url + path, init);
  const text = await response.text();
  let body: ApiResponse["body"] = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: response.status, headers: response.headers, body, text };
}

describe(`401 (${storeKind})`, () => {
  it.each([
    ["no Authorization header", undefined],
    ["an empty Authorization header", ""],
    ["the Basic scheme", "Basic c2tfdGVzdF94eHg6"],
    ["Bearer with no token", "Bearer "],
    ["an unknown key", "Bearer sk_test_0123456789abcdefghijklmnopqrstuv"],
    ["a token that is not a secret key", "Bearer not-a-key"],
    ["an absurdly long token", `Bearer sk_test_${"x".repeat(4000)}`],
  ])("%s is 401 with exactly CNaught's body", async (_label, authorization) => {
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    for (const [method, path] of [
      ["GET", "/v1/checkout/sessions/abc"],
      ["GET", "/v1/portfolios"],
      ["GET", "/v1/subaccounts"],
    ]) {
      expectUnauthorized(await raw(path!, { method, headers }));
    }
    expectUnauthorized(
      await raw("/v1/checkout/sessions", {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(sessionParams()),
      }),
    );
  });

  it("a real key under another scheme is 401", async () => {
    const m = await createMerchant(t.services);
    expectUnauthorized(await raw("/v1/portfolios", { headers: { authorization: `Token ${m.key}` } }));
    expectUnauthorized(await raw("/v1/portfolios", { headers: { authorization: m.key } }));
  });

  it("the 401 body is exactly the documented JSON", async () => {
    const res = await raw("/v1/portfolios", {});
    expect(res.status).toBe(401);
    expect(JSON.parse(res.text)).toStrictEqual({
      title: "Authorization has been denied for this request",
      status: 401,
    });
    expect(Object.keys(JSON.parse(res.text))).toEqual(["title", "status"]);
  });

  it("authentication comes before routing: unknown routes and wrong methods are 401 without a key", async () => {
    expectUnauthorized(await apiClient(t.url)("GET", "/v1/no-such-thing"));
    expectUnauthorized(await apiClient(t.url)("DELETE", "/v1/checkout/sessions"));
  });

  it("a revoked key is 401 on the very next request; the account's other keys keep working", async () => {
    const m = await createMerchant(t.services);
    const second = await t.services.apiKeys.create(m.account.id);
    const api = apiClient(t.url, m.key);
    const created = await api("POST", "/v1/checkout/sessions", sessionParams());
    expect(created.status).toBe(201);

    await t.services.apiKeys.revoke(m.keyId);
    expectUnauthorized(await api("GET", `/v1/checkout/sessions/${created.body.id}`));
    expectUnauthorized(await api("POST", "/v1/checkout/sessions", sessionParams()));

    const other = await apiClient(t.url, second.secret)("GET", `/v1/checkout/sessions/${created.body.id}`);
    expect(other.status).toBe(200);
    expect(other.body.id).toBe(created.body.id);
  });

  it("the scheme is case-insensitive", async () => {
    const m = await createMerchant(t.services);
    const res = await raw("/v1/portfolios", { headers: { authorization: `bearer ${m.key}` } });
    expect(res.status).toBe(200);
  });
});

describe(`HTTP-level errors are problem+json (${storeKind})`, () => {
  it("malformed JSON is 400 invalid-parameters with an errors map", async () => {
    const { api } = await merchantApi();
    for (const body of ['{"amount_kg": 100,', "{amount_kg: 100}", "{'a':1}", "[1,2", "nul", "{}}"]) {
      const res = await api("POST", "/v1/checkout/sessions", body);
      expectProblem(res, 400, "invalid-parameters");
      expect(res.body.errors).toEqual({ body: [expect.any(String)] });
    }
  });

  it("an empty JSON body is 400", async () => {
    const { api } = await merchantApi();
    expectProblem(await api("POST", "/v1/checkout/sessions", ""), 400, "invalid-parameters");
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"])(
    "content type %s is 415",
    async (contentType) => {
      const { api } = await merchantApi();
      const res = await api("POST", "/v1/checkout/sessions", JSON.stringify(sessionParams()), {
        "content-type": contentType,
      });
      expectProblem(res, 415, "unsupported-media-type");
    },
  );

  it("a body with no content type is 415", async () => {
    const m = await createMerchant(t.services);
    const res = await raw("/v1/checkout/sessions", {
      method: "POST",
      headers: { authorization: `Bearer ${m.key}` },
      body: new TextEncoder().encode(JSON.stringify(sessionParams())),
    });
    expectProblem(res, 415, "unsupported-media-type");
  });

  it("application/json with a charset parameter is accepted", async () => {
    const { api } = await merchantApi();
    const res = await api("POST", "/v1/checkout/sessions", JSON.stringify(sessionParams()), {
      "content-type": "application/json; charset=utf-8",
    });
    expect(res.status).toBe(201);
  });

  it("a body over the limit (64 KiB by default) is 413", async () => {
    const { api } = await merchantApi();
    expect(t.config.bodyLimitBytes).toBe(64 * 1024);
    const body = JSON.stringify(sessionParams({ description: "x".repeat(100_000) }));
    expect(body.length).toBeGreaterThan(100_000);
    expectProblem(await api("POST", "/v1/checkout/sessions", body), 413, "payload-too-large");
    // The connection and the key still work afterwards.
    expect((await api("POST", "/v1/checkout/sessions", sessionParams())).status).toBe(201);
  });

  it.each(["/v1/nope", "/v1/checkout", "/v1/checkout/sessions/abc/extra", "/v1/", "/v1/orders-typo"])(
    "unknown route %s is a 404 problem",
    async (path) => {
      const { api } = await merchantApi();
      expectProblem(await api("GET", path), 404, "not-found");
    },
  );

  it.each([
    ["DELETE", "/v1/checkout/sessions", ["POST"]],
    ["GET", "/v1/checkout/sessions", ["POST"]],
    ["PUT", "/v1/checkout/sessions/abc", ["GET"]],
    ["POST", "/v1/checkout/sessions/abc", ["GET"]],
    ["POST", "/v1/portfolios", ["GET"]],
    ["DELETE", "/v1/portfolios/abc", ["GET"]],
    ["GET", "/v1/quotes", ["POST"]],
    ["PATCH", "/v1/subaccounts/abc", ["GET", "PUT", "DELETE"]],
    ["DELETE", "/v1/subaccounts", ["GET", "POST"]],
  ])("%s %s is 405 with an Allow header", async (method, path, allowed) => {
    const { api } = await merchantApi();
    const res = await api(method, path);
    expectProblem(res, 405, "method-not-allowed");
    const allow = (res.headers.get("allow") ?? "").split(",").map((m) => m.trim());
    for (const m of allowed) expect(allow).toContain(m);
    expect(allow).not.toContain(method);
  });
});

describe(`validation errors (${storeKind})`, () => {
  it.each([
    ["amount_kg a string", "/v1/checkout/sessions", sessionParams({ amount_kg: "100" }), "amount_kg"],
    ["success_url a number", "/v1/checkout/sessions", sessionParams({ success_url: 5 }), "success_url"],
    [
      "notification_config not an object",
      "/v1/checkout/sessions",
      sessionParams({ notification_config: 5 }),
      "notification_config",
    ],
    [
      "description of 513 chars",
      "/v1/checkout/sessions",
      sessionParams({ description: "d".repeat(513) }),
      "description",
    ],
    [
      "notification url of 2049 chars",
      "/v1/checkout/sessions",
      sessionParams({ notification_config: { url: `https://h.example/${"u".repeat(2049 - 18)}` } }),
      "notification_config.url",
    ],
    ["quote amount_kg a string", "/v1/quotes", { amount_kg: "1" }, "amount_kg"],
    ["quote source unknown", "/v1/quotes", { amount_kg: 1, source: "web" }, "source"],
    ["subaccount name a number", "/v1/subaccounts", { name: 5 }, "name"],
  ])("%s is 400 with errors keyed by the field", async (_label, path, body, field) => {
    const { api } = await merchantApi();
    expectInvalid(await api("POST", path, body), field);
  });

  it("the errors map carries the seed's message shape", async () => {
    const { api } = await merchantApi();
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 0 }));
    expectInvalid(res, "amount_kg");
    expect(res.body.errors.amount_kg).toEqual(["'amount_kg' must be greater than 0"]);
  });

  it("NUL characters are refused as invalid input, wherever they are (PostgreSQL text cannot hold them)", async () => {
    const { api } = await merchantApi();
    expectInvalid(
      await api("POST", "/v1/checkout/sessions", sessionParams({ description: "a\u0000b" })),
      "description",
    );
    expectInvalid(
      await api("POST", "/v1/checkout/sessions", sessionParams({ success_url: "https://shop.example/\u0000" })),
      "success_url",
    );
    expectInvalid(
      await api(
        "POST",
        "/v1/checkout/sessions",
        sessionParams({ notification_config: { url: "https://h.example/\u0000" } }),
      ),
      "notification_config.url",
    );
    expectInvalid(
      await api("POST", "/v1/checkout/sessions", sessionParams({ portfolio_id: "\u0000" })),
      "portfolio_id",
    );
    expectInvalid(await api("POST", "/v1/quotes", { amount_kg: 10, portfolio_id: "p\u0000" }), "portfolio_id");
    expectInvalid(await api("POST", "/v1/subaccounts", { name: "Acme\u0000" }), "name");
    expectInvalid(await api("PUT", "/v1/subaccounts/abc", { name: "Acme", email: "a\u0000@b.example" }), "email");
    for (const path of ["/v1/checkout/sessions/%00", "/v1/portfolios/a%00b", "/v1/subaccounts/%00"]) {
      expectInvalid(await api("GET", path), "id");
    }
    expectInvalid(await api("DELETE", "/v1/subaccounts/%00"), "id");
  });

  it("lone surrogates are refused as invalid input, wherever they are (stored, they would become U+FFFD)", async () => {
    const { api } = await merchantApi();
    for (const text of ["\ud800", "a\udc00b", "\udc00\ud800", "x\ud83d"]) {
      expectInvalid(await api("POST", "/v1/checkout/sessions", sessionParams({ description: text })), "description");
      expectInvalid(
        await api(
          "POST",
          "/v1/checkout/sessions",
          sessionParams({ notification_config: { url: `https://h.example/${text}` } }),
        ),
        "notification_config.url",
      );
      expectInvalid(await api("POST", "/v1/subaccounts", { name: `Acme${text}` }), "name");
      expectInvalid(await api("POST", "/v1/quotes", { amount_kg: 10, portfolio_id: text }), "portfolio_id");
    }
    // Written raw, as a client that does not escape would send it.
    const raw = await api(
      "POST",
      "/v1/checkout/sessions",
      '{"amount_kg":1,"success_url":"https://s.example/","cancel_url":"https://s.example/","description":"\\ud800"}',
    );
    expectInvalid(raw, "description");
    // A well-formed pair is a character like any other, and comes back as sent.
    const emoji = await api("POST", "/v1/checkout/sessions", sessionParams({ description: "Trees \ud83c\udf33" }));
    expect(emoji.status, emoji.text).toBe(201);
    expect(emoji.body.order_description).toBe("Trees \u{1F333}");
    expect((await api("GET", `/v1/checkout/sessions/${emoji.body.id}`)).body.order_description).toBe("Trees \u{1F333}");
  });

  // Keys an object literal already has through Object.prototype: a field map built on `{}` took
  // them for existing entries.
  const PROTOTYPE_KEYS = ["constructor", "toString", "hasOwnProperty", "valueOf", "__defineGetter__", "isPrototypeOf"];

  it.each(PROTOTYPE_KEYS)("a query or body key named %s is answered 400, with or without a NUL", async (key) => {
    const { api } = await merchantApi();
    expectInvalid(await api("GET", `/v1/portfolios?${key}=%00`), key);
    expectInvalid(await api("GET", `/v1/checkout/sessions/abc?${key}=a%00`), key);
    expectInvalid(await api("POST", "/v1/checkout/sessions", sessionParams({ [key]: "\u0000" })), key);
    expectInvalid(await api("POST", "/v1/subaccounts", { name: "Acme", nested: { [key]: "\u0000" } }), `nested.${key}`);
    const unknown = await api("POST", "/v1/subaccounts", { name: "Acme", [key]: 1 });
    expect(unknown.status, unknown.text).toBeLessThan(500);
    if (unknown.status >= 400) expectProblem(unknown, unknown.status, "invalid-parameters");
  });

  it("__proto__ as a query or body key is never a 500 (dropped by the query parser, refused in JSON)", async () => {
    const { api } = await merchantApi();
    for (const res of [
      await api("GET", "/v1/portfolios?__proto__=%00"),
      await api("GET", "/v1/portfolios?__proto__[x]=1"),
      await api("POST", "/v1/checkout/sessions", `{"amount_kg":1,"__proto__":"\\u0000"}`),
      await api("POST", "/v1/subaccounts", `{"name":"Acme","nested":{"__proto__":{"x":"\\u0000"}}}`),
    ]) {
      expect(res.status, res.text).toBeLessThan(500);
      if (res.status >= 400) expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    }
  });
});

describe(`X-Request-Id (${storeKind})`, () => {
  it("every response carries one, and problem bodies quote it", async () => {
    const { api } = await merchantApi();
    const created = await api("POST", "/v1/checkout/sessions", sessionParams());
    const responses: ApiResponse[] = [
      created,
      await api("GET", `/v1/checkout/sessions/${created.body.id}`),
      await api("GET", "/v1/portfolios"),
      await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 0 })),
      await api("GET", "/v1/checkout/sessions/nope"),
      await api("GET", "/v1/nope"),
      await api("DELETE", "/v1/checkout/sessions"),
      await api("POST", "/v1/checkout/sessions", "x", { "content-type": "text/plain" }),
      await api("POST", "/v1/checkout/sessions", "{"),
      await apiClient(t.url)("GET", "/v1/portfolios"),
      await api("GET", "/healthz"),
    ];
    const ids = new Set<string>();
    for (const res of responses) {
      const id = res.headers.get("x-request-id");
      expect(id, `${res.status} ${res.text}`).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      ids.add(id!);
      if (res.status >= 400 && res.status !== 401) expect(res.body.request_id).toBe(id);
    }
    // Generated ids are unique per request.
    expect(ids.size).toBe(responses.length);
  });

  it("a sane incoming X-Request-Id is echoed back, on success and on error", async () => {
    const { api } = await merchantApi();
    for (const incoming of ["abc-123", "trace.2024:01_AB", "a".repeat(128)]) {
      const ok = await api("GET", "/v1/portfolios", undefined, { "x-request-id": incoming });
      expect(ok.headers.get("x-request-id")).toBe(incoming);
      const bad = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: -1 }), {
        "x-request-id": incoming,
      });
      expect(bad.headers.get("x-request-id")).toBe(incoming);
      expect(bad.body.request_id).toBe(incoming);
    }
    const unauthorized = await apiClient(t.url)("GET", "/v1/portfolios", undefined, { "x-request-id": "unauth-1" });
    expect(unauthorized.headers.get("x-request-id")).toBe("unauth-1");
  });

  it("an insane incoming X-Request-Id is replaced by a generated one", async () => {
    const { api } = await merchantApi();
    for (const incoming of ["has space", "<script>", "a".repeat(129), "semi;colon"]) {
      const res = await api("GET", "/v1/portfolios", undefined, { "x-request-id": incoming });
      const id = res.headers.get("x-request-id");
      expect(id).toBeTruthy();
      expect(id).not.toBe(incoming);
      expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    }
  });
});

describe(`no input makes it answer 500 (${storeKind})`, () => {
  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
  const deepObject = (n: number) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`;
  const GARBAGE: Array<[string, string]> = [
    ["an array", "[]"],
    ["an array of the params", JSON.stringify([sessionParams()])],
    ["null", "null"],
    ["true", "true"],
    ["a number", "42"],
    ["a string", '"hello"'],
    ["an empty object", "{}"],
    ["deeply nested arrays", deep(30_000)],
    ["deeply nested objects", deepObject(10_000)],
    [
      "deeply nested notification_config",
      JSON.stringify(sessionParams()).replace(/}$/, `,"notification_config":${deepObject(5_000)}}`),
    ],
    ["amount_kg 1e308", JSON.stringify(sessionParams({ amount_kg: 1e308 }))],
    [
      "amount_kg 1e400 (overflows to Infinity)",
      JSON.stringify(sessionParams()).replace('"amount_kg":100', '"amount_kg":1e400'),
    ],
    ["amount_kg -1e400", JSON.stringify(sessionParams()).replace('"amount_kg":100', '"amount_kg":-1e400')],
    ["amount_kg 5e-324", JSON.stringify(sessionParams({ amount_kg: 5e-324 }))],
    ["amount_kg 1e-7", JSON.stringify(sessionParams({ amount_kg: 1e-7 }))],
    ["amount_kg -0", JSON.stringify(sessionParams()).replace('"amount_kg":100', '"amount_kg":-0')],
    ["amount_kg 2^53+1", JSON.stringify(sessionParams()).replace('"amount_kg":100', '"amount_kg":9007199254740993')],
    [
      "amount_kg 123456789.123456789",
      JSON.stringify(sessionParams()).replace('"amount_kg":100', '"amount_kg":123456789.123456789'),
    ],
    ["amount_kg 999999999.999999", JSON.stringify(sessionParams({ amount_kg: 999999999.999999 }))],
    ["amount_kg 'NaN'", JSON.stringify(sessionParams({ amount_kg: "NaN" }))],
    ["amount_kg 'Infinity'", JSON.stringify(sessionParams({ amount_kg: "Infinity" }))],
    ["amount_kg an object", JSON.stringify(sessionParams({ amount_kg: { value: 1 } }))],
    ["amount_kg an array", JSON.stringify(sessionParams({ amount_kg: [100] }))],
    ["amount_kg true", JSON.stringify(sessionParams({ amount_kg: true }))],
    [
      "unicode everywhere",
      JSON.stringify(
        sessionParams({
          description: "😀 ünï 東京 \u202e rtl \ufeff",
          success_url: "https://bücher.example/ä?x={CHECKOUT_SESSION_ID}",
        }),
      ),
    ],
    [
      "lone surrogates",
      '{"amount_kg":100,"success_url":"https://a.example/\\ud800","cancel_url":"https://a.example/\\udfff","description":"\\ud83d"}',
    ],
    ["NUL characters", JSON.stringify(sessionParams({ description: "\u0000", portfolio_id: "\u0000" }))],
    [
      "control characters in urls",
      JSON.stringify(
        sessionParams({ success_url: "https://a.example/\r\nSet-Cookie: x=1", cancel_url: "https://a.example/\t" }),
      ),
    ],
    ["an overlong portfolio_id", JSON.stringify(sessionParams({ portfolio_id: "p".repeat(10_000) }))],
    ["an overlong url", JSON.stringify(sessionParams({ success_url: `https://a.example/${"x".repeat(50_000)}` }))],
    [
      "__proto__ pollution",
      `{"__proto__":{"admin":true},"amount_kg":100,"success_url":"https://a.example","cancel_url":"https://a.example"}`,
    ],
    [
      "constructor.prototype pollution",
      `{"constructor":{"prototype":{"admin":true}},"amount_kg":100,"success_url":"https://a.example","cancel_url":"https://a.example"}`,
    ],
    [
      "duplicate keys",
      '{"amount_kg":100,"amount_kg":-1,"success_url":"https://a.example","cancel_url":"https://a.example"}',
    ],
    ["many unknown keys", JSON.stringify(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i])))],
    ["a BOM before the JSON", `\ufeff${JSON.stringify(sessionParams())}`],
    ["trailing garbage", `${JSON.stringify(sessionParams())}garbage`],
    ["whitespace only", "   \n\t  "],
    ["latin-1 text", "\u00ff\u00fe"],
  ];

  const TARGETS: Array<[string, string]> = [
    ["POST", "/v1/checkout/sessions"],
    ["POST", "/v1/quotes"],
    ["POST", "/v1/subaccounts"],
    ["PUT", "/v1/subaccounts/abc"],
  ];

  it.each(GARBAGE)("%s: always 4xx or 2xx, never 5xx", async (_label, body) => {
    const { api } = await merchantApi();
    for (const [method, path] of TARGETS) {
      const res = await api(method, path, body);
      expect(res.status, `${method} ${path} -> ${res.status} ${res.text.slice(0, 300)}`).toBeLessThan(500);
      if (res.status >= 400) {
        expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        expect(res.body.status).toBe(res.status);
      } else {
        expect([200, 201]).toContain(res.status);
      }
    }
  });

  it("raw invalid UTF-8 bytes in a body are 4xx", async () => {
    const m = await createMerchant(t.services);
    const res = await raw("/v1/checkout/sessions", {
      method: "POST",
      headers: { authorization: `Bearer ${m.key}`, "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0x61, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it.each([
    "/v1/checkout/sessions/%00",
    "/v1/checkout/sessions/%FF",
    "/v1/checkout/sessions/%",
    "/v1/checkout/sessions/..%2F..%2Fportfolios",
    `/v1/checkout/sessions/${"a".repeat(65)}`,
    `/v1/checkout/sessions/${encodeURIComponent("ö☃😀")}`,
    "/v1/checkout/sessions/'%20OR%201=1--",
    "/v1/portfolios/%E2%80%AE",
    "/v1/subaccounts/%00",
    "/v1/checkout/sessions/abc?x=%00&y[]=1",
  ])("garbage path %s is 4xx", async (path) => {
    const { api } = await merchantApi();
    const res = await api("GET", path);
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text).toBeLessThan(500);
  });

  it.each(["", " ", "a".repeat(65), "\u00e9", "../x", "' OR 1=1 --"])(
    "garbage X-Subaccount-Id %j is 400",
    async (header) => {
      const { api } = await merchantApi();
      for (const [method, path, body] of [
        ["POST", "/v1/checkout/sessions", sessionParams()],
        ["POST", "/v1/quotes", { amount_kg: 1 }],
      ] as const) {
        const res = await api(method, path, body, { "x-subaccount-id": header });
        expect(res.status, res.text).toBe(400);
        expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      }
    },
  );
});

describe(`errors raised before routing (${storeKind})`, () => {
  it("a malformed URL under /v1 is CNaught's invalid-parameters with the request id echoed", async () => {
    const { api } = await merchantApi();
    const res = await api("GET", "/v1/checkout/sessions/%FF", undefined, { "x-request-id": "trace-bad-url-1" });
    expectProblem(res, 400, "invalid-parameters");
    expect(res.headers.get("x-request-id")).toBe("trace-bad-url-1");
    expect(Object.keys(res.body.errors)).toEqual(["path"]);
  });
});
