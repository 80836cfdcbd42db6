import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { validatorCompiler } from "fastify-type-provider-zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpIdempotency } from "../../../src/api/idempotency/hooks.js";
import { eventsRoutes } from "../../../src/api/leanrails/events.routes.js";
import { webhookEndpointsRoutes } from "../../../src/api/leanrails/webhook-endpoints.routes.js";
import { compiledSerializerCompiler } from "../../../src/api/serialization.js";
import { createKassaServices } from "../../../src/composition.js";
import { isAppError, unauthenticated } from "../../../src/core/errors.js";
import { Decimal } from "../../../src/core/money/money.js";
import type { Services } from "../../../src/core/services.js";
import type { Database } from "../../../src/db/database.js";
import { createCnaughtSession, createMerchant, written } from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";
import { CARD, TEST_WEBHOOK_SETTINGS } from "../../core/webhooks/support.js";

/**
 * The routes on a stand-in of the LeanRails plugin (which registers them for real): /v1, Basic
 * auth with the secret key as user name, Idempotency-Key required on POSTs, and a plain error
 * body {error: {code, param}} from the core's codes. The client below is written from
 * leanrails.md, not from the server's schemas.
 */
const PUBLIC_URL = "https://pay.kassa.test";
const STATUS: Record<string, number> = {
  not_found: 404,
  invalid_parameters: 400,
  invalid_pagination: 400,
  unauthenticated: 401,
  idempotency_key_required: 400,
  idempotency_changed_payload: 422,
};

let db: Database;
let drop: () => Promise<void>;
let services: Services;
let app: FastifyInstance;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  services = createKassaServices(db, undefined, { webhooks: TEST_WEBHOOK_SETTINGS, publicUrl: PUBLIC_URL });
  app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(compiledSerializerCompiler);
  await app.register(
    async (v1) => {
      const idempotency = createHttpIdempotency(services.idempotency, {
        api: "leanrails",
        maxKeyLength: 255,
        required: true,
        replayClientErrors: true,
      });
      v1.setErrorHandler(
        idempotency.errorHandler((error: FastifyError, _request, reply) => {
          if (isAppError(error)) {
            const param = Object.keys(error.details.fields ?? {})[0] ?? null;
            return reply.code(STATUS[error.code] ?? 400).send({ error: { code: error.code, param } });
          }
          if (error.validation) return reply.code(400).send({ error: { code: "parameter_invalid", param: null } });
          return reply.code(500).send({ error: { code: "api_error" } });
        }),
      );
      v1.addHook("onRequest", async (request) => {
        const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? "");
        const user = basic ? Buffer.from(basic[1]!, "base64").toString().split(":")[0] : undefined;
        const principal = user ? await services.apiKeys.authenticate(user) : null;
        if (!principal) throw unauthenticated();
        request.principal = principal;
        request.scope = { accountId: principal.accountId, subaccountId: null };
      });
      idempotency.register(v1);
      const options = { services, publicUrl: PUBLIC_URL, idempotency };
      await v1.register(webhookEndpointsRoutes, options);
      await v1.register(eventsRoutes, options);
    },
    { prefix: "/v1" },
  );
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await drop();
});

let keyCounter = 0;
/** A LeanRails client from the docs: Basic `key:`, JSON bodies, an Idempotency-Key on every POST. */
const client = (key: string) => async (method: "GET" | "POST", url: string, body?: unknown, key2?: string) => {
  const response = await app.inject({
    method,
    url,
    headers: {
      authorization: `Basic ${Buffer.from(`${key}:`).toString("base64")}`,
      ...(method === "POST" ? { "idempotency-key": key2 ?? `k-${++keyCounter}` } : {}),
    },
    ...(body !== undefined ? { payload: body as object } : {}),
  });
  return { status: response.statusCode, body: response.json() };
};

async function merchant() {
  const m = await createMerchant(services);
  return { ...m, call: client(m.key) };
}

describe(`LeanRails webhook endpoint and event routes (${storeKind})`, () => {
  it("POST /v1/webhook_endpoints answers 200 with we_ and the whole secret; GET masks it", async () => {
    const { call, account } = await merchant();
    const created = await call("POST", "/v1/webhook_endpoints", {
      url: "https://hooks.example/leanrails",
      enabled_events: ["checkout.session.completed"],
      description: "shop",
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^we_/),
      object: "webhook_endpoint",
      url: "https://hooks.example/leanrails",
      enabled_events: ["checkout.session.completed"],
      status: "enabled",
      created: expect.any(Number),
      livemode: false,
      merchant_id: account.id,
      secret: expect.stringMatching(/^whsec_[0-9A-Za-z]{32}$/),
      description: "shop",
    });
    const read = await call("GET", `/v1/webhook_endpoints/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ ...created.body, secret: `whsec_…${created.body.secret.slice(-4)}` });

    const list = await call("GET", "/v1/webhook_endpoints");
    expect(list.body).toMatchObject({
      object: "list",
      has_more: false,
      url: "/v1/webhook_endpoints",
      next_cursor: null,
    });
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([created.body.id]);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
  });

  it("POST /v1/webhook_endpoints/:id updates; bad input is a 400 naming the field; unknown ids 404", async () => {
    const { call } = await merchant();
    const { body: e } = await call("POST", "/v1/webhook_endpoints", {
      url: "https://a.example/",
      enabled_events: ["*"],
    });
    const updated = await call("POST", `/v1/webhook_endpoints/${e.id}`, {
      status: "disabled",
      enabled_events: ["checkout.session.expired"],
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id: e.id,
      status: "disabled",
      enabled_events: ["checkout.session.expired"],
      url: "https://a.example/",
    });
    expect(
      (await call("POST", "/v1/webhook_endpoints", { url: "https://a.example/", enabled_events: [] })).status,
    ).toBe(400);
    expect(
      (await call("POST", "/v1/webhook_endpoints", { url: "https://a.example/", enabled_events: ["charge.succeeded"] }))
        .status,
    ).toBe(400);
    expect(await call("POST", "/v1/webhook_endpoints", { url: "mailto:x@example.com", enabled_events: ["*"] })).toEqual(
      {
        status: 400,
        body: { error: { code: "invalid_parameters", param: "url" } },
      },
    );
    expect((await call("GET", "/v1/webhook_endpoints/we_missing")).status).toBe(404);
    expect((await call("POST", "/v1/webhook_endpoints/we_missing", { status: "enabled" })).status).toBe(404);
    const stranger = await merchant();
    expect((await stranger.call("GET", `/v1/webhook_endpoints/${e.id}`)).status).toBe(404);
  });

  it("replays a create sent again with its Idempotency-Key: one endpoint, the same secret", async () => {
    const { call } = await merchant();
    const body = { url: "https://a.example/once", enabled_events: ["*"] };
    const first = await call("POST", "/v1/webhook_endpoints", body, "same-key");
    const again = await call("POST", "/v1/webhook_endpoints", body, "same-key");
    expect(again).toEqual(first);
    expect((await call("GET", "/v1/webhook_endpoints")).body.data).toHaveLength(1);
  });

  it("GET /v1/events lists the account's LeanRails session events newest first, in pages; GET /v1/events/:id reads one", async () => {
    const m = await merchant();
    const scope = { accountId: m.account.id, subaccountId: null };
    const sessionIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const session = written(
        await services.checkoutSessions.create(scope, {
          api: "leanrails",
          currency: "jpy",
          lineItems: [
            {
              description: "Tea",
              quantity: new Decimal(1),
              unitLabel: null,
              unitAmount: new Decimal(500),
              amount: new Decimal(500),
              productRef: null,
              priceRef: null,
            },
          ],
          successUrl: "https://shop.example/ok",
          idPrefixes: { session: "cs_", lineItem: "csli_" },
        }),
      );
      sessionIds.push(session.id);
      if (i === 1) await services.checkoutSessions.pay(session.id, CARD);
      else await services.checkoutSessions.expire(scope, session.id);
    }
    // Another API's session of the same account publishes nothing here.
    const cnaught = await createCnaughtSession(services, scope);
    await services.checkoutSessions.expire(scope, cnaught.id);
    const all = await m.call("GET", "/v1/events?limit=10");
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ object: "list", has_more: false, url: "/v1/events", next_cursor: null });
    expect(
      all.body.data.map((e: { type: string; data: { object: { id: string } } }) => [e.type, e.data.object.id]),
    ).toEqual([
      ["checkout.session.expired", sessionIds[2]],
      ["checkout.session.completed", sessionIds[1]],
      ["checkout.session.expired", sessionIds[0]],
    ]);
    expect(all.body.data[1]).toMatchObject({
      object: "event",
      livemode: false,
      api_version: "2026-03-09",
      data: { object: { currency: "jpy", amount_total: 500, status: "complete", payment_status: "paid" } },
    });

    const page1 = await m.call("GET", "/v1/events?limit=2");
    expect(page1.body.has_more).toBe(true);
    expect(page1.body.next_cursor).toBe(all.body.data[1].id);
    const page2 = await m.call("GET", `/v1/events?limit=2&starting_after=${page1.body.next_cursor}`);
    expect(page2.body.data.map((e: { id: string }) => e.id)).toEqual([all.body.data[2].id]);
    expect(page2.body.has_more).toBe(false);
    const back = await m.call("GET", `/v1/events?limit=2&ending_before=${all.body.data[2].id}`);
    expect(back.body.data.map((e: { id: string }) => e.id)).toEqual(page1.body.data.map((e: { id: string }) => e.id));

    const one = await m.call("GET", `/v1/events/${all.body.data[0].id}`);
    expect(one).toEqual({ status: 200, body: all.body.data[0] });
    expect((await m.call("GET", "/v1/events?limit=0")).status).toBe(400);
    expect((await m.call("GET", "/v1/events?limit=101")).status).toBe(400);
    expect((await m.call("GET", "/v1/events/evt_missing")).status).toBe(404);
    // Another account's events, and events that are not LeanRails' (created events, other APIs), are not there.
    const stranger = await merchant();
    expect((await stranger.call("GET", `/v1/events/${all.body.data[0].id}`)).status).toBe(404);
    expect((await stranger.call("GET", "/v1/events")).body.data).toEqual([]);
  });

  it("refuses a request without a valid key", async () => {
    const response = await app.inject({ method: "GET", url: "/v1/events" });
    expect(response.statusCode).toBe(401);
    expect((await client("sk_test_nope")("GET", "/v1/webhook_endpoints")).status).toBe(401);
  });
});
