import path from "node:path";
import type { FastifyInstance } from "fastify";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAdminApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { storeKind } from "../helpers/database.js";
import { cleanEnv, cleanUp, launch, ROOT, tempDir, within } from "../helpers/processes.js";
import {
  placeOrder,
  type Receiver,
  startReceiver,
  TEST_WEBHOOK_SETTINGS,
  webhookTestbed,
} from "../core/webhooks/support.js";

/**
 * `kassa webhooks secret` and `kassa webhooks deliveries`, run as the real CLI process against a
 * running admin API (the one a server serves) on this file's database.
 */

let bed: Awaited<ReturnType<typeof webhookTestbed>>;
let admin: FastifyInstance;
let env: NodeJS.ProcessEnv;
let receiver: Receiver;

beforeAll(async () => {
  bed = await webhookTestbed();
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "silent" });
  admin = await buildAdminApp({ config, db: bed.db, services: bed.services });
  await admin.listen({ host: "127.0.0.1", port: 0 });
  const { port } = admin.server.address() as { port: number };
  // DATA_DIR: an empty store, so a CLI that missed the admin API would find nothing there.
  env = cleanEnv({ ADMIN_PORT: String(port), DATA_DIR: await tempDir("kassa-cli-") });
  receiver = await startReceiver({ status: 500 });
});
afterAll(async () => {
  await receiver.close();
  await admin.close();
  await bed.close();
  await cleanUp();
});

async function kassa(...args: string[]) {
  const proc = launch(process.execPath, [path.join(ROOT, "bin/kassa.js"), ...args], env);
  const { code } = await within(proc.exited, 60_000, `kassa ${args.join(" ")}`);
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON output, asserted field by field
  let json: any = null;
  try {
    json = JSON.parse(code === 0 ? proc.stdout : proc.stderr);
  } catch {
    json = null;
  }
  return { code, json, stdout: proc.stdout, stderr: proc.stderr };
}

describe(`kassa webhooks (${storeKind})`, () => {
  it("secret shows the account's signing secret; --rotate replaces it and keeps the old one signing", async () => {
    const { merchant } = await placeOrder(bed.services, null);
    const shown = await kassa("webhooks", "secret", "--account", merchant.account.id);
    expect(shown.code).toBe(0);
    expect(shown.json).toEqual({
      account_id: merchant.account.id,
      secret: expect.stringMatching(/^whsec_/),
      previous_secret: null,
      previous_secret_expires_on: null,
    });
    expect((await kassa("webhooks", "secret", "--account", merchant.account.id)).json.secret).toBe(shown.json.secret);

    const rotated = await kassa("webhooks", "secret", "--account", merchant.account.id, "--rotate");
    expect(rotated.code).toBe(0);
    expect(rotated.json.secret).toMatch(/^whsec_/);
    expect(rotated.json.secret).not.toBe(shown.json.secret);
    expect(rotated.json.previous_secret).toBe(shown.json.secret);
    expect(Date.parse(rotated.json.previous_secret_expires_on)).toBeGreaterThan(Date.now());
    // What the CLI shows is what signs.
    expect((await bed.services.webhooks.secret(merchant.account.id)).secret).toBe(rotated.json.secret);
  });

  it("secret for an unknown account fails with not_found", async () => {
    const result = await kassa("webhooks", "secret", "--account", "acct_missing");
    expect(result.code).toBe(1);
    expect(result.json).toMatchObject({ error: { code: "not_found" } });
  });

  it("deliveries --order shows the order's notifications with every attempt", async () => {
    const { order, merchant } = await placeOrder(bed.services, receiver.url);
    await bed.services.webhooks.deliverDue();
    receiver.state.status = 200;
    bed.clock.advanceMs(TEST_WEBHOOK_SETTINGS.retryMaxMs);
    try {
      await bed.services.webhooks.deliverDue();
    } finally {
      bed.clock.real();
    }
    const delivered = receiver.requests.at(-1)!;
    const { secret } = await bed.services.webhooks.secret(merchant.account.id);
    expect(() => new Webhook(secret).verify(delivered.body, delivered.headers as Record<string, string>)).not.toThrow();

    const result = await kassa("webhooks", "deliveries", "--order", order.id);
    expect(result.code).toBe(0);
    expect(result.json).toHaveLength(1);
    const [delivery] = result.json;
    expect(delivery).toMatchObject({
      id: delivered.headers["webhook-id"],
      account_id: merchant.account.id,
      event: "order.placed",
      subject: `order ${order.id}`,
      url: receiver.url,
      status: "succeeded",
      attempt_count: 2,
      next_attempt_on: null,
    });
    expect(delivery.attempts).toEqual([
      {
        attempt: 1,
        started_on: expect.any(String),
        status_code: 500,
        duration_ms: expect.any(Number),
        outcome: "failed",
        error: "receiver answered 500",
        next_attempt_on: expect.any(String),
      },
      {
        attempt: 2,
        started_on: expect.any(String),
        status_code: 200,
        duration_ms: expect.any(Number),
        outcome: "succeeded",
        error: null,
        next_attempt_on: null,
      },
    ]);

    // --account lists the account's deliveries; another account's are not among them.
    const other = await placeOrder(bed.services, receiver.url);
    const mine = await kassa("webhooks", "deliveries", "--account", merchant.account.id);
    expect(mine.json.map((d: { id: string }) => d.id)).toEqual([delivery.id]);
    const theirs = await kassa("webhooks", "deliveries", "--order", other.order.id);
    expect(theirs.json).toHaveLength(1);
    expect(theirs.json[0]).toMatchObject({ status: "pending", attempt_count: 0, attempts: [] });
    expect(theirs.json[0].next_attempt_on).toEqual(expect.any(String));
  });

  it("bad arguments are a usage error", async () => {
    expect((await kassa("webhooks", "secret")).code).toBe(2);
    expect((await kassa("webhooks", "deliveries", "--limit", "0")).code).toBe(1);
  });
});
