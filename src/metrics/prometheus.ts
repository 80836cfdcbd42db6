import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { type Clock, systemClock } from "../core/time.js";
import { createWebhooksRepository } from "../core/webhooks/webhooks.repository.js";
import type { Database } from "../db/database.js";
import type { DeliveryAttemptOutcome, Metrics } from "./metrics.js";

/**
 * Kassa's metrics in Prometheus' text format, through prom-client: one Registry per instance
 * (never prom-client's global one, so tests and several instances in one process keep apart),
 * with Node's process metrics beside Kassa's own. The admin listener serves `scrape()` as
 * GET /metrics (src/api/admin/metrics.routes.ts).
 */
export interface PrometheusMetrics extends Metrics {
  readonly registry: Registry;
  /**
   * The exposition text. Gauges read from the store are read now; when that read fails they are
   * NaN (unknown) and the error is returned, so the process metrics are still served.
   */
  scrape(): Promise<{ contentType: string; body: string; errors: unknown[] }>;
}

export interface PrometheusMetricsOptions {
  /** Read at scrape time: the webhook backlog (one query) and, on PostgreSQL, the pool's counts. */
  db: Pick<Database, "prisma" | "pool">;
  /** The age of the oldest pending delivery is measured against this clock. */
  clock?: Clock;
}

const DELIVERY_OUTCOMES: DeliveryAttemptOutcome[] = ["succeeded", "failed", "gave_up", "lost"];

export function createPrometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  const { db, clock = systemClock } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({
    name: "kassa_http_requests_total",
    help: "HTTP requests answered by the public listener, by method, route pattern and status code",
    labelNames: ["method", "route", "status_code"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "kassa_http_request_duration_seconds",
    help: "Time from receiving an HTTP request on the public listener to answering it",
    labelNames: ["method", "route", "status_code"] as const,
    registers,
  });
  const sessionsCreated = new Counter({
    name: "kassa_checkout_sessions_created_total",
    help: "Checkout sessions created, by the API they were created through",
    labelNames: ["api"] as const,
    registers,
  });
  const sessionsCompleted = new Counter({
    name: "kassa_checkout_sessions_completed_total",
    help: "Checkout sessions paid and completed",
    labelNames: ["api"] as const,
    registers,
  });
  const sessionsExpired = new Counter({
    name: "kassa_checkout_sessions_expired_total",
    help: "Checkout sessions recorded as expired by the expiry job",
    labelNames: ["api"] as const,
    registers,
  });
  const declines = new Counter({
    name: "kassa_payments_declined_total",
    help: "Card payments declined on the hosted page, by API and decline code",
    labelNames: ["api", "code"] as const,
    registers,
  });
  const attempts = new Counter({
    name: "kassa_webhook_delivery_attempts_total",
    help: "Webhook delivery attempts by outcome (failed: retried later; gave_up: no retry; lost: lease taken over)",
    labelNames: ["outcome"] as const,
    registers,
  });
  for (const outcome of DELIVERY_OUTCOMES) attempts.inc({ outcome }, 0);
  const replays = new Counter({
    name: "kassa_idempotent_replays_total",
    help: "Requests answered with the stored response of an earlier request with the same Idempotency-Key",
    labelNames: ["api"] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: "kassa_rate_limited_total",
    help: "Requests refused with 429 by a rate limit, by API surface",
    labelNames: ["surface"] as const,
    registers,
  });

  // Both backlog gauges come from one query per scrape: prom-client collects all metrics at once,
  // so the two collect() calls share the read in flight.
  const webhooks = createWebhooksRepository(db.prisma);
  let backlogRead: ReturnType<typeof webhooks.backlog> | null = null;
  let errors: unknown[] = [];
  const backlog = () => {
    backlogRead ??= webhooks.backlog().finally(() => {
      backlogRead = null;
    });
    return backlogRead;
  };
  const backlogGauge = (name: string, help: string, read: (b: Awaited<ReturnType<typeof backlog>>) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        try {
          this.set(read(await backlog()));
        } catch (error) {
          if (!errors.includes(error)) errors.push(error);
          this.set(Number.NaN);
        }
      },
    });
  backlogGauge(
    "kassa_webhook_deliveries_pending",
    "Webhook deliveries not yet delivered nor given up (read at scrape time)",
    (b) => b.pending,
  );
  backlogGauge(
    "kassa_webhook_oldest_pending_age_seconds",
    "Age of the oldest webhook delivery not yet delivered nor given up; 0 when there is none",
    (b) => (b.oldestCreatedAt ? Math.max(0, (clock().getTime() - b.oldestCreatedAt.getTime()) / 1000) : 0),
  );

  // The embedded store has no pool (one in-process connection): these exist on PostgreSQL only.
  const pool = db.pool;
  if (pool) {
    const poolGauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    poolGauge("kassa_db_pool_connections", "Connections the PostgreSQL pool holds open", () => pool.totalCount);
    poolGauge("kassa_db_pool_idle_connections", "Open pool connections not in use", () => pool.idleCount);
    poolGauge("kassa_db_pool_waiting_requests", "Queries waiting for a pool connection", () => pool.waitingCount);
    poolGauge("kassa_db_pool_max_connections", "The pool's size (DATABASE_POOL_SIZE)", () => pool.options.max ?? 10);
  }

  /**
   * Each (method, route, status) series' counter and histogram, found once: prom-client otherwise
   * hashes the label object on every request. Bounded: routes are patterns, methods a fixed set.
   */
  const httpSeries = new Map<
    string,
    { count: ReturnType<typeof requests.labels>; time: ReturnType<typeof duration.labels> }
  >();

  return {
    registry,
    async scrape() {
      errors = [];
      const body = await registry.metrics();
      return { contentType: registry.contentType, body, errors };
    },
    sessionCreated: (api) => sessionsCreated.inc({ api }),
    sessionCompleted: (api) => sessionsCompleted.inc({ api }),
    sessionsExpired: (api, count) => sessionsExpired.inc({ api }, count),
    paymentDeclined: (api, code) => declines.inc({ api, code }),
    deliveryAttempt: (outcome) => attempts.inc({ outcome }),
    idempotentReplay: (api) => replays.inc({ api }),
    rateLimited: (surface) => rateLimited.inc({ surface }),
    httpRequest({ method, route, statusCode, seconds }) {
      const key = `${method} ${statusCode} ${route}`;
      let series = httpSeries.get(key);
      if (!series) {
        const labels = [method, route, String(statusCode)] as const;
        series = { count: requests.labels(...labels), time: duration.labels(...labels) };
        httpSeries.set(key, series);
      }
      series.count.inc();
      series.time.observe(seconds);
    },
  };
}
