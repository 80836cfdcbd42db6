import "../../../src/api/request-context.js";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { jsonSchemaTransform, jsonSchemaTransformObject, validatorCompiler } from "fastify-type-provider-zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpIdempotency } from "../../../src/api/idempotency/hooks.js";
import { pricesRoutes } from "../../../src/api/leanrails/prices.routes.js";
import { productsRoutes } from "../../../src/api/leanrails/products.routes.js";
import { compiledSerializerCompiler } from "../../../src/api/serialization.js";
import { fieldErrorsFrom } from "../../../src/api/validation.js";
import { createKassaServices } from "../../../src/composition.js";
import { isAppError } from "../../../src/core/errors.js";
import type { Services } from "../../../src/core/services.js";
import { createMerchant, TEST_PUBLIC_URL } from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";

// The catalogue's routes on a small app of their own: Basic auth and a minimal error body stand in
// for the LeanRails surface's plugin (which registers these routes with its own error format).
// The client below is written from leanrails.md alone: Basic auth with the key as user name,
// an Idempotency-Key on every POST, Stripe's object shapes.

const STATUS: Record<string, number> = {
  invalid_parameters: 400,
  invalid_pagination: 400,
  not_found: 404,
  unauthenticated: 401,
  idempotency_key_required: 400,
  idempotency_changed_payload: 422,
  idempotency_concurrent_requests: 409,
};

let app: FastifyInstance;
let services: Services;
let drop: () => Promise<void>;

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  // Each reading of the clock is a second later, so list order is creation order.
  let now = Date.parse("2026-11-30T12:00:00Z");
  services = createKassaServices(database.db, () => new Date((now += 1000)));
  app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(compiledSerializerCompiler);
  // The OpenAPI generation the server uses (src/api/docs.ts), to check the schemas convert.
  await app.register(swagger, {
    openapi: { openapi: "3.1.0", info: { title: "catalogue", version: "1" } },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  const idempotency = createHttpIdempotency(services.idempotency, {
    api: "leanrails",
    maxKeyLength: 255,
    required: true,
    replayClientErrors: true,
  });
  await app.register(
    async (v1) => {
      v1.addHook("onRequest", async (request) => {
        const [scheme, encoded] = (request.headers.authorization ?? "").split(" ");
        const user = scheme === "Basic" && encoded ? Buffer.from(encoded, "base64").toString().split(":")[0] : "";
        const principal = user ? await services.apiKeys.authenticate(user) : null;
        if (!principal) throw Object.assign(new Error("Invalid API key provided."), { statusCode: 401 });
        request.principal = principal;
        request.scope = { accountId: principal.accountId, subaccountId: null };
      });
      v1.setErrorHandler(
        idempotency.errorHandler((error: FastifyError, _request, reply) => {
          if (isAppError(error)) {
            const [param] = Object.keys(error.details.fields ?? {});
            return reply.code(STATUS[error.code] ?? 500).send({
              error: { code: error.code, message: error.message, param: param ?? null, fields: error.details.fields },
            });
          }
          const fields = fieldErrorsFrom(error);
          if (fields) {
            return reply
              .code(400)
              .send({ error: { code: "parameter_invalid", param: Object.keys(fields)[0], fields } });
          }
          return reply.code(error.statusCode ?? 500).send({ error: { code: "other", message: error.message } });
        }),
      );
      idempotency.register(v1);
      const options = { services, publicUrl: TEST_PUBLIC_URL, idempotency };
      await v1.register(productsRoutes, options);
      await v1.register(pricesRoutes, options);
    },
    { prefix: "/v1" },
  );
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await drop();
});

let keys = 0;
/** A LeanRails client for one secret key. */
function client(key: string) {
  const authorization = `Basic ${Buffer.from(`${key}:`).toString("base64")}`;
  return async (method: "GET" | "POST", url: string, body?: unknown, idempotencyKey = `key-${++keys}`) => {
    const response = await app.inject({
      method,
      url,
      headers: { authorization, ...(method === "POST" ? { "idempotency-key": idempotencyKey } : {}) },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: response.statusCode, body: response.json(), headers: response.headers };
  };
}

async function newMerchant() {
  const { key, account } = await createMerchant(services, { withDefaultPortfolio: false });
  return { api: client(key), accountId: account.id };
}

// The fields leanrails.md lists for each object.
const PRODUCT_FIELDS = [
  "id",
  "object",
  "active",
  "name",
  "description",
  "images",
  "marketing_features",
  "metadata",
  "livemode",
  "created",
  "updated",
  "url",
  "default_price",
  "shippable",
  "statement_descriptor",
  "unit_label",
  "tax_code",
  "package_dimensions",
];
const PRICE_FIELDS = [
  "id",
  "object",
  "active",
  "product",
  "currency",
  "type",
  "billing_scheme",
  "tax_behavior",
  "unit_amount",
  "unit_amount_decimal",
  "recurring",
  "tiers_mode",
  "lookup_key",
  "nickname",
  "metadata",
  "livemode",
  "created",
];

describe(`catalogue over HTTP (${storeKind})`, () => {
  it("creates a product with a default price and answers both in Stripe's shapes", async () => {
    const { api } = await newMerchant();
    const created = await api("POST", "/v1/products", {
      name: "T-shirt",
      description: "Organic cotton",
      images: ["https://shop.example/t.png"],
      metadata: { sku: "TS-1" },
      unit_label: "shirt",
      url: "https://shop.example/t-shirt",
      marketing_features: [{ name: "Organic" }],
      package_dimensions: { height: 1, length: 10, weight: 5.5, width: 8 },
      default_price_data: { currency: "EUR", unit_amount: 2000, tax_behavior: "inclusive" },
    });
    expect(created.status).toBe(200);
    const product = created.body;
    expect(Object.keys(product).sort()).toEqual([...PRODUCT_FIELDS].sort());
    expect(product).toMatchObject({
      id: expect.stringMatching(/^prod_/),
      object: "product",
      active: true,
      name: "T-shirt",
      description: "Organic cotton",
      images: ["https://shop.example/t.png"],
      metadata: { sku: "TS-1" },
      livemode: false,
      unit_label: "shirt",
      url: "https://shop.example/t-shirt",
      marketing_features: [{ name: "Organic" }],
      package_dimensions: { height: 1, length: 10, weight: 5.5, width: 8 },
      default_price: expect.stringMatching(/^price_/),
    });
    // Unix seconds from the app's clock (which starts at 2026-11-30T12:00:00Z).
    expect(Number.isInteger(product.created)).toBe(true);
    expect(product.created).toBeGreaterThan(Date.parse("2026-11-30T12:00:00Z") / 1000);
    expect(product.created).toBeLessThan(Date.parse("2026-11-30T13:00:00Z") / 1000);
    expect(product.updated).toBe(product.created);

    const price = await api("GET", `/v1/prices/${product.default_price}`);
    expect(price.status).toBe(200);
    expect(Object.keys(price.body).sort()).toEqual([...PRICE_FIELDS].sort());
    expect(price.body).toMatchObject({
      object: "price",
      product: product.id,
      currency: "eur",
      unit_amount: 2000,
      unit_amount_decimal: "2000",
      type: "one_time",
      billing_scheme: "per_unit",
      tax_behavior: "inclusive",
      recurring: null,
      livemode: false,
    });
    expect((await api("GET", `/v1/products/${product.id}`)).body).toEqual(product);
  });

  it("creates prices of a product or with a new one, lists them with filters and cursors", async () => {
    const { api } = await newMerchant();
    const product = (await api("POST", "/v1/products", { name: "Mug" })).body;
    expect(product.default_price).toBeNull();
    const prices = [];
    for (const [currency, unit_amount] of [
      ["eur", 1250],
      ["jpy", 500],
      ["usd", 1500],
    ] as const) {
      const created = await api("POST", "/v1/prices", { product: product.id, currency, unit_amount });
      expect(created.status).toBe(200);
      prices.push(created.body);
    }
    const inline = await api("POST", "/v1/prices", {
      product_data: { name: "Sticker" },
      currency: "eur",
      unit_amount_decimal: "99",
    });
    expect(inline.status).toBe(200);
    expect(inline.body).toMatchObject({ unit_amount: 99, unit_amount_decimal: "99" });
    expect((await api("GET", `/v1/products/${inline.body.product}`)).body.name).toBe("Sticker");
    await api("POST", `/v1/prices/${prices[0].id}`, { active: false });

    const all = await api("GET", "/v1/prices");
    expect(all.body).toMatchObject({ object: "list", has_more: false, url: "/v1/prices", next_cursor: null });
    expect(all.body.data.map((p: { id: string }) => p.id)).toEqual([
      inline.body.id,
      ...prices.map((p) => p.id).reverse(),
    ]);
    const mugs = await api("GET", `/v1/prices?product=${product.id}&active=true&type=one_time`);
    expect(mugs.body.data.map((p: { currency: string }) => p.currency)).toEqual(["usd", "jpy"]);

    const first = await api("GET", "/v1/prices?limit=3");
    expect(first.body).toMatchObject({ has_more: true, next_cursor: first.body.data[2].id });
    const rest = await api("GET", `/v1/prices?limit=3&starting_after=${first.body.next_cursor}`);
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(rest.body.data.map((p: { id: string }) => p.id)).toEqual([prices[0].id]);

    const products = await api("GET", "/v1/products?limit=1");
    expect(products.body).toMatchObject({ object: "list", url: "/v1/products", has_more: true });
    expect(products.body.data[0].name).toBe("Sticker");
  });

  it("updates products and prices: metadata merged, default price, tax behaviour set once", async () => {
    const { api } = await newMerchant();
    const product = (
      await api("POST", "/v1/products", {
        name: "Cap",
        metadata: { a: "1", b: "2" },
        marketing_features: [{ name: "Warm" }],
        package_dimensions: { height: 2, length: 2, weight: 2, width: 2 },
      })
    ).body;
    const price = (await api("POST", "/v1/prices", { product: product.id, currency: "eur", unit_amount: 900 })).body;
    const updated = await api("POST", `/v1/products/${product.id}`, {
      name: "Cap v2",
      metadata: { a: "", c: "3" },
      default_price: price.id,
      description: "Wool",
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      name: "Cap v2",
      metadata: { b: "2", c: "3" },
      default_price: price.id,
      description: "Wool",
    });
    const unset = await api("POST", `/v1/products/${product.id}`, {
      description: "",
      default_price: "",
      marketing_features: "",
      package_dimensions: "",
    });
    expect(unset.body).toMatchObject({
      description: null,
      default_price: null,
      marketing_features: [],
      package_dimensions: null,
      metadata: { b: "2", c: "3" },
    });
    const badDimensions = await api("POST", `/v1/products/${product.id}`, {
      package_dimensions: { height: 0, length: 1, weight: 1, width: 1 },
      url: "ftp://shop.example/cap",
    });
    expect(badDimensions.status).toBe(400);
    expect(Object.keys(badDimensions.body.error.fields).sort()).toEqual(["packageDimensions.height", "url"]);

    const priceUpdate = await api("POST", `/v1/prices/${price.id}`, {
      nickname: "Standard",
      lookup_key: "cap_standard",
      tax_behavior: "exclusive",
      metadata: { tier: "basic" },
      active: false,
    });
    expect(priceUpdate.body).toMatchObject({
      nickname: "Standard",
      lookup_key: "cap_standard",
      tax_behavior: "exclusive",
      metadata: { tier: "basic" },
      active: false,
    });
    const change = await api("POST", `/v1/prices/${price.id}`, { tax_behavior: "inclusive" });
    expect(change.status).toBe(400);
    expect(change.body.error.param).toBe("taxBehavior");
  });

  it("refuses what it cannot do: recurring prices, unknown parameters, bad currencies, two amounts", async () => {
    const { api } = await newMerchant();
    const product = (await api("POST", "/v1/products", { name: "Plan" })).body;
    const recurring = await api("POST", "/v1/prices", {
      product: product.id,
      currency: "eur",
      unit_amount: 1000,
      recurring: { interval: "month" },
    });
    expect(recurring.status).toBe(400);
    expect(recurring.body.error.param).toBe("recurring");
    expect(recurring.body.error.fields.recurring[0]).toMatch(/recurring prices are not supported/);
    const unknown = await api("POST", "/v1/prices", { product: product.id, currency: "eur", unit_amount: 1, foo: 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe("foo");
    const currency = await api("POST", "/v1/prices", { product: product.id, currency: "xyz", unit_amount: 1 });
    expect(currency.status).toBe(400);
    expect(currency.body.error.param).toBe("currency");
    const both = await api("POST", "/v1/prices", {
      product: product.id,
      currency: "eur",
      unit_amount: 1,
      unit_amount_decimal: "1",
    });
    expect(both.status).toBe(400);
    expect(both.body.error.param).toBe("unit_amount");
    const fractional = await api("POST", "/v1/prices", {
      product: product.id,
      currency: "eur",
      unit_amount_decimal: "1.5",
    });
    expect(fractional.status).toBe(400);
    expect(fractional.body.error.param).toBe("unitAmount");
    const noProduct = await api("POST", "/v1/prices", { product: "prod_nope", currency: "eur", unit_amount: 1 });
    expect(noProduct.status).toBe(400);
    expect(noProduct.body.error.param).toBe("product");
    expect((await api("GET", "/v1/prices")).body.data).toEqual([]);
  });

  it("keeps each account's catalogue to itself: another's ids are not found", async () => {
    const mine = await newMerchant();
    const theirs = await newMerchant();
    const product = (
      await theirs.api("POST", "/v1/products", {
        name: "Theirs",
        default_price_data: { currency: "eur", unit_amount: 1 },
      })
    ).body;
    for (const url of [`/v1/products/${product.id}`, `/v1/prices/${product.default_price}`]) {
      const read = await mine.api("GET", url);
      expect(read.status).toBe(404);
      expect(read.body.error.code).toBe("not_found");
      expect((await mine.api("POST", url, { active: false })).status).toBe(404);
    }
    expect((await mine.api("GET", "/v1/products")).body.data).toEqual([]);
    expect((await theirs.api("GET", `/v1/prices/${product.default_price}`)).body.active).toBe(true);
  });

  it("replays a create sent again with its Idempotency-Key, creating one price", async () => {
    const { api } = await newMerchant();
    const body = { product_data: { name: "Once" }, currency: "eur", unit_amount: 700 };
    const first = await api("POST", "/v1/prices", body, "same-key");
    const again = await api("POST", "/v1/prices", body, "same-key");
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers["x-idempotent-replay"]).toBe("true");
    expect((await api("GET", "/v1/prices")).body.data).toHaveLength(1);
    expect((await api("POST", "/v1/prices", { ...body, unit_amount: 701 }, "same-key")).status).toBe(422);
  });

  it("documents every route in OpenAPI with the LeanRails component names", () => {
    const doc = app.swagger() as { paths: Record<string, Record<string, unknown>>; components: { schemas: object } };
    expect(Object.fromEntries(Object.entries(doc.paths).map(([p, ops]) => [p, Object.keys(ops).sort()]))).toEqual({
      "/v1/products": ["get", "post"],
      "/v1/products/{id}": ["get", "post"],
      "/v1/prices": ["get", "post"],
      "/v1/prices/{id}": ["get", "post"],
    });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["LeanRailsProduct", "LeanRailsPrice", "LeanRailsProductList", "LeanRailsPriceList"]),
    );
  });
});
