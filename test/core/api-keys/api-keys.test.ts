import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAdminApp } from "../../../src/app.js";
import { LAST_USED_RESOLUTION_MS } from "../../../src/core/api-keys/api-keys.service.js";
import { type ApiResponse, expectUnauthorized, sessionParams } from "../../api/cnaught/support.js";
import { apiClient, createMerchant, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { waitFor } from "../../helpers/processes.js";

/**
 * API-key hygiene through real HTTP: last use recorded (and throttled), rotation, listing, and
 * one indistinguishable 401 for every refused key.
 */

let t: TestApp;
let admin: FastifyInstance;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildAdminApp({ config: t.config, db: t.db, services: t.services });
});
afterAll(async () => {
  await admin?.close();
  await t?.close();
});

async function operation(name: string, payload: Record<string, unknown>) {
  const res = await admin.inject({ method: "POST", url: `/admin/operations/${name}`, payload });
  return { status: res.statusCode, body: res.json() as any };
}

const lastUsedAt = async (keyId: string) => (await t.services.repos.apiKeys.findById(keyId))?.lastUsedAt ?? null;

describe(`last use (${storeKind})`, () => {
  it("is recorded after a request and not rewritten within the resolution window", async () => {
    const start = new Date("2030-01-01T10:00:00.000Z");
    t.clock.set(start);
    const m = await createMerchant(t.services);
    const api = apiClient(t.url, m.key);
    expect(await lastUsedAt(m.keyId)).toBeNull();

    expect((await api("GET", "/v1/portfolios")).status).toBe(200);
    await t.services.apiKeys.settle(); // the write runs beside the request, not in it
    expect(await lastUsedAt(m.keyId)).toEqual(start);

    // Within the window: no new write, so the first time stays.
    t.clock.set(new Date(start.getTime() + LAST_USED_RESOLUTION_MS - 1000));
    expect((await api("GET", "/v1/portfolios")).status).toBe(200);
    await t.services.apiKeys.settle();
    expect(await lastUsedAt(m.keyId)).toEqual(start);

    // Past it: recorded again.
    const later = new Date(start.getTime() + LAST_USED_RESOLUTION_MS + 1000);
    t.clock.set(later);
    expect((await api("GET", "/v1/portfolios")).status).toBe(200);
    await t.services.apiKeys.settle();
    expect(await lastUsedAt(m.keyId)).toEqual(later);
  });

  it("reaches the store without waiting for settle (the write is only deferred, not dropped)", async () => {
    const m = await createMerchant(t.services);
    expect((await apiClient(t.url, m.key)("GET", "/v1/portfolios")).status).toBe(200);
    expect(await waitFor(() => lastUsedAt(m.keyId), 30_000, "last_used_at to be written")).toBeInstanceOf(Date);
  });

  it("is shown by keys.list with the prefix, creation and revocation times", async () => {
    const m = await createMerchant(t.services);
    const unused = await t.services.apiKeys.create(m.account.id);
    expect((await apiClient(t.url, m.key)("GET", "/v1/portfolios")).status).toBe(200);
    await t.services.apiKeys.settle();
    await t.services.apiKeys.revoke(unused.id);

    const { status, body } = await operation("keys.list", { account: m.account.id });
    expect(status).toBe(200);
    const listed = body.result as Array<Record<string, unknown>>;
    expect(listed.map((k) => k.id)).toEqual([m.keyId, unused.id]);
    const [used, revoked] = listed;
    expect(used).toMatchObject({ prefix: m.key.slice(0, 12), revoked_on: null });
    expect(used!.prefix).toMatch(/^sk_test_[A-Za-z0-9]{4}$/);
    expect(Date.parse(used!.created_on as string)).not.toBeNaN();
    expect(Date.parse(used!.last_used_on as string)).not.toBeNaN();
    expect(revoked).toMatchObject({ last_used_on: null });
    expect(Date.parse(revoked!.revoked_on as string)).not.toBeNaN();
    // Secrets and their hashes are never listed.
    expect(JSON.stringify(body)).not.toContain(m.key);
    expect(Object.keys(used!).sort()).toEqual(
      ["account_id", "created_on", "id", "last_used_on", "mode", "prefix", "revoked_on"].sort(),
    );
  });
});

describe(`rotation (${storeKind})`, () => {
  it("gives a new key at once, keeps the old one until it is revoked, and says how to finish", async () => {
    const m = await createMerchant(t.services);
    const oldApi = apiClient(t.url, m.key);
    const rotated = await operation("keys.rotate", { id: m.keyId });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.result;
    expect(fresh.secret).toMatch(/^sk_test_[A-Za-z0-9]{32}$/);
    expect(fresh).toMatchObject({ account_id: m.account.id, replaces: m.keyId, revoked_on: null });
    expect(fresh.id).not.toBe(m.keyId);
    expect(fresh.next_step).toContain(`kassa keys revoke ${m.keyId}`);
    const newApi = apiClient(t.url, fresh.secret);

    // Both work, on the same account's objects.
    const created = await newApi("POST", "/v1/checkout/sessions", sessionParams());
    expect(created.status, created.text).toBe(201);
    expect((await oldApi("GET", `/v1/checkout/sessions/${created.body.id}`)).status).toBe(200);

    const revoked = await operation("keys.revoke", { id: m.keyId });
    expect(revoked.status).toBe(200);
    expectUnauthorized(await oldApi("GET", `/v1/checkout/sessions/${created.body.id}`));
    expect((await newApi("GET", `/v1/checkout/sessions/${created.body.id}`)).status).toBe(200);

    // The secret is shown once: the list has the new key, never its secret.
    const listed = await operation("keys.list", { account: m.account.id });
    expect(listed.body.result.map((k: { id: string }) => k.id)).toEqual([m.keyId, fresh.id]);
    expect(JSON.stringify(listed.body)).not.toContain(fresh.secret);
  });

  it("refuses unknown and revoked keys", async () => {
    const unknown = await operation("keys.rotate", { id: "key_doesnotexist0000" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");

    const m = await createMerchant(t.services);
    await t.services.apiKeys.revoke(m.keyId);
    const revoked = await operation("keys.rotate", { id: m.keyId });
    expect(revoked.status).toBe(400);
    expect(revoked.body.error).toMatchObject({ code: "invalid_state" });
    expect(revoked.body.error.message).toContain("revoked");
  });
});

describe(`refused keys all look the same (${storeKind})`, () => {
  it("malformed, unknown and revoked keys get byte-identical 401s", async () => {
    const m = await createMerchant(t.services);
    const revokedKey = m.key;
    await t.services.apiKeys.revoke(m.keyId);
    const live = await createMerchant(t.services);
    const tokens = {
      revoked: revokedKey,
      unknown: `sk_test_${"A".repeat(32)}`,
      "live key with one character changed": `${live.key.slice(0, -1)}${live.key.endsWith("a") ? "b" : "a"}`,
      "too short": live.key.slice(0, -1),
      "too long": `${live.key}0`,
      "wrong prefix": live.key.replace("sk_test_", "sk_live_"),
      "not alphanumeric": `sk_test_${"-".repeat(32)}`,
      "no prefix": "x".repeat(40),
    };
    const answers: Array<[string, ApiResponse]> = [];
    for (const [label, token] of Object.entries(tokens)) {
      answers.push([label, await apiClient(t.url, token)("GET", "/v1/portfolios")]);
    }
    for (const [label, res] of answers) {
      expectUnauthorized(res);
      expect({ label, text: res.text, type: res.headers.get("content-type") }).toEqual({
        label,
        text: answers[0]![1].text,
        type: answers[0]![1].headers.get("content-type"),
      });
    }
    // The live key itself still works: the refusals above were about the tokens, nothing else.
    expect((await apiClient(t.url, live.key)("GET", "/v1/portfolios")).status).toBe(200);
  });
});
