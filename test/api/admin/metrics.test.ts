import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAdminApp, buildApp } from "../../../src/app.js";
import { type Config, loadConfig } from "../../../src/config.js";
import { createKassaServices } from "../../../src/composition.js";
import { TEST_CARDS } from "../../../src/core/payments/test-provider.js";
import type { Services } from "../../../src/core/services.js";
import type { Database } from "../../../src/db/database.js";
import { createPrometheusMetrics, type PrometheusMetrics } from "../../../src/metrics/prometheus.js";
import { createMerchantApi, TEST_PUBLIC_URL } from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";
import { GOOD_CARD, pay } from "../hosted-page/support.js";
import { basic } from "../leanrails/support.js";
import { movableClock, type Receiver, startReceiver } from "../../core/webhooks/support.js";

// ---------------------------------------------------------------------------------------------
// A tiny reader of Prometheus' text format: one sample per line, `name{label="value",...} value`.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[name!] = value!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    const raw = match[3]!;
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there are none). */
function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const samplesOf = (samples: Sample[], name: string) => samples.filter((s) => s.name === name);

// ---------------------------------------------------------------------------------------------

let db: Database;
let drop: () => Promise<void>;
let config: Config;
let metrics: PrometheusMetrics;
let services: Services;
let app: FastifyInstance;
let admin: FastifyInstance;
let url: string;
const clock = movableClock();
const receivers: Receiver[] = [];

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  config = loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    PUBLIC_URL: TEST_PUBLIC_URL,
    LOG_LEVEL: "silent",
    AUTH_FAILURE_LIMIT_MAX: "2",
  });
  metrics = createPrometheusMetrics({ db });
  services = createKassaServices(db, clock.fn, config, metrics);
  app = await buildApp({ config, db, services, metrics });
  url = await app.listen({ host: "127.0.0.1", port: 0 });
  admin = await buildAdminApp({ config, db, services, metrics });
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await admin.close();
  await app.close();
  await drop();
});

async function scrape(): Promise<Sample[]> {
  const response = await admin.inject({ method: "GET", url: "/metrics" });
  expect(response.statusCode).toBe(200);
  expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(response.body);
}

async function receiver(status: number) {
  const r = await startReceiver({ status });
  receivers.push(r);
  return r;
}

const SESSION = { amount_kg: 100, success_url: "https://shop.example/ok", cancel_url: "https://shop.example/cart" };

describe(`GET /metrics on the admin listener (${storeKind})`, () => {
  it("counts sessions, payments, replays, 429s, deliveries and expiries by exactly what happened", async () => {
    const before = await scrape();
    const delta = (now: Sample[], name: string, labels: Record<string, string> = {}) =>
      sampleValue(now, name, labels) - sampleValue(before, name, labels);
    const cnaught = { api: "cnaught" };

    // A: created with an Idempotency-Key, then replayed; paid; its notification's receiver fails.
    const failingThenOk = await receiver(500);
    const merchant = await createMerchantApi({ services, url });
    const bodyA = { ...SESSION, notification_config: { url: failingThenOk.url } };
    const created = await merchant.api("POST", "/v1/checkout/sessions", bodyA, { "idempotency-key": "metrics-a" });
    expect(created.status).toBe(201);
    const replayed = await merchant.api("POST", "/v1/checkout/sessions", bodyA, { "idempotency-key": "metrics-a" });
    expect(replayed.status).toBe(201);
    expect(replayed.headers.get("x-idempotent-replay")).toBe("true");
    expect((await pay(url, created.body.id)).status).toBe(303);

    // B: declined once, left open (it expires below).
    const b = await merchant.api("POST", "/v1/checkout/sessions", SESSION);
    expect(b.status).toBe(201);
    const declined = await pay(url, b.body.id, { ...GOOD_CARD, card_number: TEST_CARDS.declined });
    expect(declined.status).toBe(402);

    // C: paid; its receiver never answers 2xx, so its delivery is given up after 24 hours.
    const failing = await receiver(500);
    const c = await merchant.api("POST", "/v1/checkout/sessions", {
      ...SESSION,
      notification_config: { url: failing.url },
    });
    expect((await pay(url, c.body.id)).status).toBe(303);

    // Unknown paths (one label for all of them) and failed authentication until the 429.
    expect((await fetch(`${url}/no/such/${created.body.id}`)).status).toBe(404);
    expect((await merchant.api("GET", `/v1/checkout/sessions/${created.body.id}/nope`)).status).toBe(404);
    const badKey = () => fetch(`${url}/v1/portfolios`, { headers: { authorization: "Bearer sk_nope" } });
    expect([(await badKey()).status, (await badKey()).status, (await badKey()).status]).toEqual([401, 401, 429]);

    const paid = await scrape();
    expect(delta(paid, "kassa_checkout_sessions_created_total", cnaught)).toBe(3);
    expect(delta(paid, "kassa_idempotent_replays_total", cnaught)).toBe(1);
    expect(delta(paid, "kassa_checkout_sessions_completed_total", cnaught)).toBe(2);
    expect(delta(paid, "kassa_payments_declined_total", { ...cnaught, code: "card_declined" })).toBe(1);
    expect(delta(paid, "kassa_payments_declined_total")).toBe(1);
    expect(delta(paid, "kassa_rate_limited_total", { surface: "cnaught" })).toBe(1);
    expect(delta(paid, "kassa_checkout_sessions_expired_total")).toBe(0);
    expect(sampleValue(paid, "kassa_webhook_deliveries_pending")).toBe(2);
    expect(sampleValue(paid, "kassa_webhook_oldest_pending_age_seconds")).toBeGreaterThan(0);

    // Requests by route pattern, method and status; the histogram has the same labels.
    const create = { method: "POST", route: "/v1/checkout/sessions", status_code: "201" };
    expect(delta(paid, "kassa_http_requests_total", create)).toBe(4);
    expect(delta(paid, "kassa_http_request_duration_seconds_count", create)).toBe(4);
    expect(delta(paid, "kassa_http_request_duration_seconds_bucket", { ...create, le: "+Inf" })).toBe(4);
    expect(delta(paid, "kassa_http_request_duration_seconds_sum", create)).toBeGreaterThan(0);
    expect(delta(paid, "kassa_http_requests_total", { method: "POST", route: "/pay/:id", status_code: "303" })).toBe(2);
    expect(delta(paid, "kassa_http_requests_total", { method: "POST", route: "/pay/:id", status_code: "402" })).toBe(1);
    expect(delta(paid, "kassa_http_requests_total", { method: "GET", route: "/pay/:id", status_code: "200" })).toBe(3);
    expect(delta(paid, "kassa_http_requests_total", { route: "unmatched", status_code: "404" })).toBe(2);
    expect(delta(paid, "kassa_http_requests_total", { route: "/v1/portfolios", status_code: "429" })).toBe(1);
    // No raw URL reaches a label: label values stay bounded.
    const ids = [created.body.id, b.body.id, c.body.id];
    for (const sample of paid)
      for (const value of Object.values(sample.labels)) {
        for (const id of ids) expect(value).not.toContain(id);
      }

    // The first attempts fail: both deliveries stay pending.
    const first = await services.webhooks.deliverDue();
    expect(first).toMatchObject({ claimed: 2, failed: 2 });
    const retried = await scrape();
    expect(delta(retried, "kassa_webhook_delivery_attempts_total", { outcome: "failed" })).toBe(2);
    expect(delta(retried, "kassa_webhook_delivery_attempts_total", { outcome: "succeeded" })).toBe(0);
    expect(sampleValue(retried, "kassa_webhook_deliveries_pending")).toBe(2);

    // A day later: A's receiver answers, C's is given up, B expires.
    failingThenOk.state.status = 200;
    clock.advanceHours(25);
    try {
      expect(await services.webhooks.deliverDue()).toMatchObject({ claimed: 2, succeeded: 1, gaveUp: 1 });
      expect(await services.checkoutSessions.expireDue()).toBe(1);
    } finally {
      clock.real();
    }
    const after = await scrape();
    expect(delta(after, "kassa_webhook_delivery_attempts_total", { outcome: "succeeded" })).toBe(1);
    expect(delta(after, "kassa_webhook_delivery_attempts_total", { outcome: "failed" })).toBe(2);
    expect(delta(after, "kassa_webhook_delivery_attempts_total", { outcome: "gave_up" })).toBe(1);
    expect(delta(after, "kassa_webhook_delivery_attempts_total", { outcome: "lost" })).toBe(0);
    expect(delta(after, "kassa_checkout_sessions_expired_total", cnaught)).toBe(1);
    expect(sampleValue(after, "kassa_webhook_deliveries_pending")).toBe(0);
    expect(sampleValue(after, "kassa_webhook_oldest_pending_age_seconds")).toBe(0);
    // Counters already counted stay as they were.
    expect(delta(after, "kassa_checkout_sessions_created_total", cnaught)).toBe(3);
    expect(delta(after, "kassa_checkout_sessions_completed_total", cnaught)).toBe(2);
  });

  it("labels a LeanRails replay on the path both APIs share as LeanRails'", async () => {
    const before = await scrape();
    const delta = (now: Sample[], name: string, labels: Record<string, string>) =>
      sampleValue(now, name, labels) - sampleValue(before, name, labels);
    const merchant = await createMerchantApi({ services, url });
    const body = JSON.stringify({
      mode: "payment",
      line_items: [{ quantity: 1, price_data: { currency: "eur", product: "Mug", unit_amount: 850 } }],
      success_url: "https://shop.example/thanks",
    });
    const headers = {
      authorization: basic(merchant.key),
      "content-type": "application/json",
      "idempotency-key": "metrics-leanrails",
    };
    const created = await fetch(`${url}/v1/checkout/sessions`, { method: "POST", headers, body });
    expect(created.status, await created.text()).toBe(200);
    const replayed = await fetch(`${url}/v1/checkout/sessions`, { method: "POST", headers, body });
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get("x-idempotent-replay")).toBe("true");
    const after = await scrape();
    expect(delta(after, "kassa_idempotent_replays_total", { api: "leanrails" })).toBe(1);
    expect(delta(after, "kassa_idempotent_replays_total", { api: "cnaught" })).toBe(0);
  });

  it("reports the pool on PostgreSQL and no pool on the embedded store; process metrics on both", async () => {
    const samples = await scrape();
    const pool = samples.filter((s) => s.name.startsWith("kassa_db_pool_"));
    if (storeKind === "postgres") {
      expect(sampleValue(samples, "kassa_db_pool_max_connections")).toBe(5); // createTestDatabase's pool
      expect(sampleValue(samples, "kassa_db_pool_connections")).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, "kassa_db_pool_idle_connections")).toBeLessThanOrEqual(
        sampleValue(samples, "kassa_db_pool_connections"),
      );
      expect(samplesOf(samples, "kassa_db_pool_waiting_requests")).toHaveLength(1);
    } else {
      expect(pool).toEqual([]);
    }
    expect(sampleValue(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(samplesOf(samples, "nodejs_eventloop_lag_seconds")).toHaveLength(1);
  });

  it("is served by the admin listener only, behind its guards", async () => {
    expect((await app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(404);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);

    expect((await admin.inject({ method: "GET", url: "/metrics", headers: { host: "example.com" } })).statusCode).toBe(
      403,
    );
    const token = "metrics-token-0123456789";
    const guarded = await buildAdminApp({
      config: loadConfig({ LOG_LEVEL: "silent", ADMIN_TOKEN: token }),
      db,
      services,
      metrics,
    });
    try {
      expect((await guarded.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
      const allowed = await guarded.inject({
        method: "GET",
        url: "/metrics",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(allowed.statusCode).toBe(200);
      expect(sampleValue(parseExposition(allowed.body), "kassa_webhook_deliveries_pending")).toBe(0);
    } finally {
      await guarded.close();
    }
  });

  it("still answers when the store cannot be read: the backlog gauges are NaN and the error is logged", async () => {
    const other = await createTestDatabase();
    const unreadable = createPrometheusMetrics({ db: other.db });
    await other.drop(); // closed (and on PostgreSQL dropped): every read fails
    const { body, errors } = await unreadable.scrape();
    const samples = parseExposition(body);
    expect(sampleValue(samples, "kassa_webhook_deliveries_pending")).toBeNaN();
    expect(sampleValue(samples, "kassa_webhook_oldest_pending_age_seconds")).toBeNaN();
    expect(errors).toHaveLength(1);
    expect(samplesOf(samples, "process_resident_memory_bytes")).toHaveLength(1);
  });

  it("keeps each instance's counts apart (one registry per metrics object)", async () => {
    const [one, two] = [createPrometheusMetrics({ db }), createPrometheusMetrics({ db })];
    one.sessionCreated("cnaught");
    const read = async (m: PrometheusMetrics) => parseExposition((await m.scrape()).body);
    expect(sampleValue(await read(one), "kassa_checkout_sessions_created_total", { api: "cnaught" })).toBe(1);
    expect(sampleValue(await read(two), "kassa_checkout_sessions_created_total", { api: "cnaught" })).toBe(0);
  });
});
