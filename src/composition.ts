import { apiLifecycles, NOTIFICATION_FORMATS, WEBHOOK_SCHEDULES, WEBHOOK_SIGNERS } from "./api/notification-formats.js";
import { createOpencharge, OPENCHARGE_API, type OpenchargeRuntime } from "./api/opencharge/opencharge.js";
import { openchargeJudge, openchargeSigner } from "./api/opencharge/webhook-signing.js";
import { createTestPaymentProvider } from "./core/payments/test-provider.js";
import { type Config, loadConfig } from "./config.js";
import { createServices, type Services } from "./core/services.js";
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
 * Without `metrics` (src/metrics), nothing is counted. The Opencharge adapter's runtime (its
 * identity and tables) is built here too, shared by its lifecycle, its outbox signer and judge,
 * its surface and its operator commands (`openchargeOf(services)`).
 */
export function createKassaServices(
  db: Database,
  clock: Clock = systemClock,
  config: Pick<Config, "webhooks"> &
    Partial<Pick<Config, "redirectUrls" | "publicUrl" | "opencharge">> & {
      logos?: LogoFetchOptions;
    } = loadConfig({}),
  metrics: Metrics = noMetrics,
) {
  const publicUrl = config.publicUrl ?? loadConfig({}).publicUrl;
  const opencharge = createOpencharge(db, config.opencharge ?? loadConfig({}).opencharge);
  const services = createServices(
    db,
    clock,
    {
      lifecycles: (core) => apiLifecycles(core, { publicUrl, opencharge }),
      notificationFormats: NOTIFICATION_FORMATS,
      paymentProvider: createTestPaymentProvider(),
      metrics,
      webhookSigners: { ...WEBHOOK_SIGNERS, [OPENCHARGE_API]: openchargeSigner(opencharge) },
      webhookJudges: { [OPENCHARGE_API]: openchargeJudge },
      webhookSchedules: WEBHOOK_SCHEDULES,
    },
    { webhooks: config.webhooks, redirectUrls: config.redirectUrls, logos: config.logos ?? loadConfig({}).logos },
  );
  return Object.assign(services, { opencharge });
}

/** The core's services and what the composition adds for the API adapters. */
export type KassaServices = ReturnType<typeof createKassaServices>;

/** The Opencharge runtime of services built by createKassaServices; none for services built otherwise. */
export const openchargeOf = (services: Services): OpenchargeRuntime | undefined =>
  (services as Partial<KassaServices>).opencharge;
