import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createHttpIdempotency } from "../../../src/api/idempotency/hooks.js";
import { invalidParameter, isAppError } from "../../../src/core/errors.js";
import type { Subaccount } from "../../../src/core/subaccounts/subaccounts.repository.js";
import { apiClient, createMerchant, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectReplayOf, isReplay, NO_RATE_LIMIT, newKey, withKey } from "./support.js";

/**
 * The mechanism is not CNaught's: another surface brings its own policy (LeanRails: key
 * required, at most 255 characters, errors replayed too) and its own error format, and keeps
 * its own key space. A minimal surface built only from the shared pieces shows it.
 */

let t: TestApp;
let surface: FastifyInstance;
let url: string;
let accountId: string;

const STATUS: Record<string, number> = {
  idempotency_key_required: 400,
  idempotency_key_too_long: 400,
  invalid_parameters: 400,
  idempotency_changed_payload: 422,
  idempotency_concurrent_requests: 409,
};

beforeAll(async () => {
  t = await startTestApp(NO_RATE_LIMIT);
  const merchant = await createMerchant(t.services);
  accountId = merchant.account.id;

  const idempotency = createHttpIdempotency(t.services.idempotency, {
    api: "strict",
    maxKeyLength: 255,
    required: true,
    replayClientErrors: true,
  });
  surface = Fastify();
  surface.setValidatorCompiler(validatorCompiler);
  surface.setSerializerCompiler(serializerCompiler);
  // Its own error format: {"error": {"code": ...}}.
  surface.setErrorHandler(
    idempotency.errorHandler((error: FastifyError, _request, reply) => {
      const code = isAppError(error) ? error.code : error.validation ? "invalid_parameters" : "api_error";
      return reply.code(STATUS[code] ?? 500).send({ error: { code } });
    }),
  );
  surface.addHook("onRequest", async (request) => {
    request.principal = { accountId, keyId: "test" };
    request.scope = { accountId, subaccountId: null };
  });
  idempotency.register(surface);
  const created = (s: Subaccount) => ({
    status: 201,
    headers: { location: `/things/${s.id}` },
    body: { id: s.id, name: s.name },
  });
  const route = (path: string, claimKeyWithWrite: boolean) =>
    surface.post(
      path,
      {
        config: { claimKeyWithWrite },
        schema: {
          headers: idempotency.header,
          body: z.object({ name: z.string().min(1), refuse: z.boolean().optional() }),
          response: { 201: z.object({ id: z.string(), name: z.string() }) },
        },
      },
      async (request, reply) => {
        const body = request.body as { name: string; refuse?: boolean };
        if (body.refuse) throw invalidParameter("name", "refused on request");
        const written = await t.services.subaccounts.create(
          accountId,
          { name: body.name, email: null, logoUrl: null, defaultPortfolioId: null },
          idempotency.within(request, reply, created),
        );
        return idempotency.send(request, reply, written, created);
      },
    );
  route("/things", false);
  // The key recorded by the write itself, here in its transaction (WithinWrite.inTransaction).
  route("/things-with-write", true);
  url = await surface.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await surface?.close();
  await t.close();
});

const post = (body: unknown, headers: Record<string, string> = {}, path = "/things") =>
  apiClient(url)("POST", path, body, headers);

describe(`a surface with its own policy and error format (${storeKind})`, () => {
  it("a missing key is idempotency_key_required, in the surface's format", async () => {
    const res = await post({ name: "a" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: "idempotency_key_required" } });
  });

  it("its own length limit: 256 characters refused, 255 accepted and replayed", async () => {
    const tooLong = await post({ name: "a" }, withKey("x".repeat(256)));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toEqual({ error: { code: "idempotency_key_too_long" } });

    const key = "y".repeat(255);
    const first = await post({ name: "a" }, withKey(key));
    expect(first.status, first.text).toBe(201);
    expectReplayOf(await post({ name: "a" }, withKey(key)), first);
  });

  it("a 4xx from the handler is stored and replayed (errors included), unlike on CNaught", async () => {
    const key = newKey("refused");
    const refused = await post({ name: "a", refuse: true }, withKey(key));
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ error: { code: "invalid_parameters" } });
    expectReplayOf(await post({ name: "a", refuse: true }, withKey(key)), refused);
    const changed = await post({ name: "a" }, withKey(key));
    expect(changed.status).toBe(422);
    expect(changed.body).toEqual({ error: { code: "idempotency_changed_payload" } });
  });

  it("has its own key space: the same key on the CNaught API of the same account is another key", async () => {
    const merchantKey = (await t.services.apiKeys.create(accountId)).secret;
    const key = newKey("spaces");
    const here = await post({ name: "Same" }, withKey(key));
    expect(here.status).toBe(201);
    const cnaught = await apiClient(t.url, merchantKey)("POST", "/v1/subaccounts", { name: "Same" }, withKey(key));
    expect(cnaught.status, cnaught.text).toBe(201);
    expect(isReplay(cnaught)).toBe(false);
    expect(cnaught.body.id).not.toBe(here.body.id);
    const rows = await t.db.prisma.idempotencyKey.findMany({ where: { accountId, key } });
    expect(rows.map((r) => r.api).sort()).toEqual(["cnaught", "strict"]);
  });

  describe("with the key recorded by the write itself, in its transaction", () => {
    const postWithWrite = (body: unknown, headers: Record<string, string>) => post(body, headers, "/things-with-write");
    const named = (name: string) => t.db.prisma.subaccount.count({ where: { accountId, name } });

    it("runs once for concurrent identical requests: the others wait, then replay", async () => {
      const key = newKey("with-write");
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => postWithWrite({ name: "Once" }, withKey(key))),
      );
      const originals = responses.filter((r) => r.status === 201 && !isReplay(r));
      expect(originals, JSON.stringify(responses.map((r) => [r.status, r.text]))).toHaveLength(1);
      for (const res of responses) if (res !== originals[0]) expectReplayOf(res, originals[0]!);
      expect(await named("Once")).toBe(1);
      const [row] = await t.db.prisma.idempotencyKey.findMany({ where: { accountId, key } });
      expect(row).toMatchObject({ state: "complete", responseStatus: 201, api: "strict" });
    });

    it("stores and replays the policy's client errors, and refuses another request with the key", async () => {
      const key = newKey("with-write-refused");
      const refused = await postWithWrite({ name: "b", refuse: true }, withKey(key));
      expect(refused.body).toEqual({ error: { code: "invalid_parameters" } });
      expectReplayOf(await postWithWrite({ name: "b", refuse: true }, withKey(key)), refused);
      const changed = await postWithWrite({ name: "b" }, withKey(key));
      expect(changed.status).toBe(422);
      expect(changed.body).toEqual({ error: { code: "idempotency_changed_payload" } });
      expect(await named("b")).toBe(0);
    });
  });
});
