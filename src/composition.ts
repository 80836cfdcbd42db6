import { apiLifecycles, NOTIFICATION_FORMATS, WEBHOOK_SIGNERS } from "./api/notification-formats.js";
import { createTestPaymentProvider } from "./core/payments/test-provider.js";
import { type Config, loadConfig } from "./config.js";
import { createServices } from "./core/services.js";
import type { LogoFetchOptions } from "./core/subaccounts/logo-fetcher.js";
import { type Clock, systemClock } from "./core/time.js";
import type { Database } from "./db/database.js";
import { type Metrics, noMetrics } from "./metrics/metrics.js";

/**
 * The core wired with what it is given from outside: each API's notification format, lifecycle
 * and webhook signature scheme, and the payment provider (test mode: the built-in test provider).
 * The server, the CLI and the tests all build their services here. Without `config`, the
 * configuration's defaults outside production apply (receivers on private addresses allowed): the
 * server and CLI pass theirs. `publicUrl` (what the APIs' events link to) defaults likewise.
 * Without `metrics` (src/metrics), nothing is counted.
 */
export function createKassaServices(
  db: Database,
  clock: Clock = systemClock,
  config: Pick<Config, "webhooks"> &
    Partial<Pick<Config, "redirectUrls" | "publicUrl">> & {
      logos?: LogoFetchOptions;
    } = loadConfig({}),
  metrics: Metrics = noMetrics,
) {
  const publicUrl = config.publicUrl ?? loadConfig({}).publicUrl;
  return createServices(
    db,
    clock,
    {
      lifecycles: (core) => apiLifecycles(core, { publicUrl }),
      notificationFormats: NOTIFICATION_FORMATS,
      paymentProvider: createTestPaymentProvider(),
      metrics,
      webhookSigners: WEBHOOK_SIGNERS,
    },
    { webhooks: config.webhooks, redirectUrls: config.redirectUrls, logos: config.logos ?? loadConfig({}).logos },
  );
}
