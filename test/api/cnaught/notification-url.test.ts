import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { loadConfig } from "../../../src/config.js";
import type { Services } from "../../../src/core/services.js";
import { apiClient, createMerchant } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { webhookTestbed } from "../../core/webhooks/support.js";

/**
 * The API refuses, at session creation, a notification URL naming localhost or a private IP
 * literal unless WEBHOOK_ALLOW_PRIVATE_URLS allows it (names are checked again when delivering).
 */

let bed: Awaited<ReturnType<typeof webhookTestbed>>;
const apps: FastifyInstance[] = [];
let strictUrl: string;
let lenientUrl: string;

async function serve(services: Services, allow: string) {
  const config = loadConfig({
    NODE_ENV: "production",
    PORT: "0",
    LOG_LEVEL: "silent",
    WEBHOOK_ALLOW_PRIVATE_URLS: allow,
  });
  const app = await buildApp({ config, db: bed.db, services });
  apps.push(app);
  return app.listen({ host: "127.0.0.1", port: 0 });
}

beforeAll(async () => {
  bed = await webhookTestbed();
  strictUrl = await serve(bed.servicesWith({ allowPrivateUrls: false }), "false");
  lenientUrl = await serve(bed.servicesWith({ allowPrivateUrls: true }), "true");
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await bed.close();
});

const session = (url: string) => ({
  amount_kg: 100,
  success_url: "https://shop.example/ok",
  cancel_url: "https://shop.example/cancel",
  notification_config: { url },
});

describe(`notification URLs at session creation (${storeKind})`, () => {
  it.each([
    ["http://127.0.0.1:9000/hooks", "must not point at a loopback address (127.0.0.1)"],
    ["http://localhost:9000/hooks", "must not point at localhost"],
    ["http://[::1]/hooks", "must not point at a loopback address (::1)"],
    ["https://10.1.2.3/hooks", "must not point at a private address (10.1.2.3)"],
    ["https://169.254.169.254/latest", "must not point at a link-local address (169.254.169.254)"],
  ])("not allowed: %s is a 400 naming notification_config.url", async (url, reason) => {
    const m = await createMerchant(bed.services);
    const res = await apiClient(strictUrl, m.key)("POST", "/v1/checkout/sessions", session(url));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      type: "https://api.cnaught.com/v1/errors/invalid-parameters",
      status: 400,
      errors: { "notification_config.url": [`'notification_config.url' ${reason}`] },
    });
  });

  it("not allowed: a public URL is accepted", async () => {
    const m = await createMerchant(bed.services);
    const res = await apiClient(strictUrl, m.key)(
      "POST",
      "/v1/checkout/sessions",
      session("https://hooks.shop.example/kassa"),
    );
    expect(res.status).toBe(201);
  });

  it("allowed: loopback and private URLs are accepted", async () => {
    const m = await createMerchant(bed.services);
    for (const url of ["http://127.0.0.1:9000/hooks", "http://localhost:9000/hooks", "https://10.1.2.3/hooks"]) {
      const res = await apiClient(lenientUrl, m.key)("POST", "/v1/checkout/sessions", session(url));
      expect(res.status, url).toBe(201);
    }
  });
});
