import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAdminApp } from "../../src/app.js";
import { parseCommand } from "../../src/cli/main.js";
import { apiClient, createMerchant, startTestApp, type TestApp } from "../helpers/app.js";
import { storeKind } from "../helpers/database.js";
import { cleanEnv, cleanUp, launch, ROOT, tempDir, within } from "../helpers/processes.js";

/**
 * The operator's side of key hygiene: the real `kassa` CLI (a child process) listing, rotating
 * and revoking keys through the admin API of an app on this file's database.
 */

let t: TestApp;
let admin: FastifyInstance;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildAdminApp({ config: t.config, db: t.db, services: t.services });
  const adminUrl = new URL(await admin.listen({ host: "127.0.0.1", port: 0 }));
  // DATA_DIR: should the admin API not answer, the CLI's in-process fallback opens a scratch store.
  env = cleanEnv({ ADMIN_HOST: "127.0.0.1", ADMIN_PORT: adminUrl.port, DATA_DIR: await tempDir("kassa-keys-cli-") });
});
afterAll(async () => {
  await admin?.close();
  await t?.close();
  await cleanUp();
});

async function kassa(...args: string[]) {
  const proc = launch(process.execPath, [path.join(ROOT, "bin/kassa.js"), ...args], env);
  const { code } = await within(proc.exited, 60_000, `kassa ${args.join(" ")}`);
  expect(code, proc.stderr).toBe(0);
  return JSON.parse(proc.stdout);
}

describe(`kassa keys (${storeKind})`, () => {
  it("parses `keys rotate KEY_ID`", () => {
    const parsed = parseCommand(["keys", "rotate", "key_abc"]);
    expect(parsed.command.operation).toBe("keys.rotate");
    expect(parsed.args).toEqual({ id: "key_abc" });
  });

  it("rotate prints the new secret once and the revoke hint; list shows last use; revoke ends the old key", async () => {
    const m = await createMerchant(t.services);
    expect((await apiClient(t.url, m.key)("GET", "/v1/portfolios")).status).toBe(200);
    await t.services.apiKeys.settle();

    const rotated = await kassa("keys", "rotate", m.keyId);
    expect(rotated.secret).toMatch(/^sk_test_[A-Za-z0-9]{32}$/);
    expect(rotated.replaces).toBe(m.keyId);
    expect(rotated.next_step).toContain(`kassa keys revoke ${m.keyId}`);

    const listed = await kassa("keys", "list", "--account", m.account.id);
    expect(listed.map((k: { id: string }) => k.id)).toEqual([m.keyId, rotated.id]);
    expect(listed[0]).toMatchObject({ prefix: m.key.slice(0, 12), revoked_on: null });
    expect(listed[0].last_used_on).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(listed[1]).toMatchObject({ last_used_on: null, revoked_on: null });
    expect(JSON.stringify(listed)).not.toContain(rotated.secret);

    const revoked = await kassa("keys", "revoke", m.keyId);
    expect(revoked.revoked_on).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect((await apiClient(t.url, m.key)("GET", "/v1/portfolios")).status).toBe(401);
    expect((await apiClient(t.url, rotated.secret)("GET", "/v1/portfolios")).status).toBe(200);
  });
});
