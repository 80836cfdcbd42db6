import { type Database, transactorFor } from "../db/database.js";
import type { Metrics } from "../metrics/metrics.js";
import { createAccountsRepository } from "./accounts/accounts.repository.js";
import { createAccountsService } from "./accounts/accounts.service.js";
import { createApiKeysRepository } from "./api-keys/api-keys.repository.js";
import { createApiKeysService } from "./api-keys/api-keys.service.js";
import { createCatalogRepository } from "./catalog/catalog.repository.js";
import { createCatalogService } from "./catalog/catalog.service.js";
import { createCheckoutSessionsRepository } from "./checkout-sessions/checkout-sessions.repository.js";
import { createCheckoutSessionsService } from "./checkout-sessions/checkout-sessions.service.js";
import type { SessionLifecycles } from "./checkout-sessions/lifecycle.js";
import { createEventsRepository, type EventsRepository } from "./events/events.repository.js";
import { createEventsService } from "./events/events.service.js";
import { createImpactRepository } from "./impact/impact.repository.js";
import { createImpactService } from "./impact/impact.service.js";
import { createIdempotencyRepository } from "./idempotency/idempotency.repository.js";
import { createIdempotencyService } from "./idempotency/idempotency.service.js";
import { createFulfilmentRepository } from "./orders/fulfilment.repository.js";
import { createOrdersRepository } from "./orders/orders.repository.js";
import { createOrdersService, type OrdersService } from "./orders/orders.service.js";
import type { CertificateUrls, OrderNotificationFormats } from "./orders/orders.types.js";
import type { PaymentProvider } from "./payments/payment-provider.js";
import { createPaymentsRepository } from "./payments/payments.repository.js";
import { createPortfoliosRepository } from "./portfolios/portfolios.repository.js";
import { createPortfoliosService } from "./portfolios/portfolios.service.js";
import { createProjectsRepository } from "./projects/projects.repository.js";
import { createProjectsService } from "./projects/projects.service.js";
import { createSettingsRepository } from "./settings/settings.repository.js";
import { createSettingsService } from "./settings/settings.service.js";
import { createSubaccountsRepository } from "./subaccounts/subaccounts.repository.js";
import { createLogoFetcher, type LogoFetchOptions } from "./subaccounts/logo-fetcher.js";
import { createSubaccountsService } from "./subaccounts/subaccounts.service.js";
import type { Clock } from "./time.js";
import { httpUrlProblem, privateHostProblem, redirectUrlProblem } from "./urls.js";
import { createWebhookEndpointsRepository } from "./webhook-endpoints/webhook-endpoints.repository.js";
import {
  createWebhookEndpointsService,
  type WebhookEndpointsService,
} from "./webhook-endpoints/webhook-endpoints.service.js";
import type { ResponseJudges, RetrySchedules, WebhookSigners } from "./webhooks/signing.js";
import { createWebhooksRepository, type WebhooksRepository } from "./webhooks/webhooks.repository.js";
import { createHttpTransport } from "./webhooks/transport.js";
import { createWebhooksService, type WebhookSettings } from "./webhooks/webhooks.service.js";

/** What the core hands an API's lifecycle: the pieces a completion or expiry may act through. */
export interface LifecycleCore {
  orders: OrdersService;
  events: EventsRepository;
  webhooks: WebhooksRepository;
  webhookEndpoints: Pick<WebhookEndpointsService, "enqueueEvent">;
  clock: Clock;
}

/**
 * What the core is given from outside: what each API does when its sessions complete or expire,
 * how each API renders order notifications, who moves money, what counts.
 */
export interface CoreAdapters {
  lifecycles: (core: LifecycleCore) => SessionLifecycles;
  notificationFormats: OrderNotificationFormats;
  /** Where a fulfilled order's certificate page and PDF are published (the certificates surface's URLs). */
  certificateUrls: CertificateUrls;
  paymentProvider: PaymentProvider;
  /** Told of each committed change worth counting (src/metrics); none by default. */
  metrics?: Metrics;
  /** The APIs' own webhook signature schemes, by the name their outbox rows give. */
  webhookSigners: WebhookSigners;
  /** How those schemes' receivers answer (delivered, retry, refused for good), where a 2xx is not the whole answer. */
  webhookJudges?: ResponseJudges;
  /** Those schemes' own retry timetables, where their APIs document one. */
  webhookSchedules?: RetrySchedules;
}

/**
 * The configuration the core reads (config.webhooks: receivers' addresses, timeouts, retries,
 * rotation; config.redirectUrls: whether success and cancel URLs may name local hosts).
 */
export interface CoreOptions {
  webhooks: WebhookSettings;
  redirectUrls?: { allowPrivate: boolean };
  /** Downloading subaccount logos: addresses allowed, timeout, size limit (defaults: none private, 10 s, 1 MiB). */
  logos?: LogoFetchOptions;
}

const DEFAULT_LOGOS: LogoFetchOptions = { allowPrivateUrls: false, timeoutMs: 10_000, maxBytes: 1024 * 1024 };

/**
 * The composition root of the core: repositories over one database, services over those.
 * Callers outside tests use `createKassaServices` (src/composition.ts), which supplies the adapters.
 */
export function createServices(db: Database, clock: Clock, adapters: CoreAdapters, options: CoreOptions) {
  const transaction = transactorFor(db.prisma);
  const repos = {
    accounts: createAccountsRepository(db.prisma),
    apiKeys: createApiKeysRepository(db.prisma, db.sql),
    portfolios: createPortfoliosRepository(db.prisma, db.sql),
    subaccounts: createSubaccountsRepository(db.prisma),
    sessions: createCheckoutSessionsRepository(db.prisma, db.sql),
    events: createEventsRepository(db.prisma),
    orders: createOrdersRepository(db.prisma),
    fulfilment: createFulfilmentRepository(db.prisma),
    payments: createPaymentsRepository(db.prisma),
    webhooks: createWebhooksRepository(db.prisma),
    webhookEndpoints: createWebhookEndpointsRepository(db.prisma),
    settings: createSettingsRepository(db.prisma),
    idempotency: createIdempotencyRepository(db.prisma),
    catalog: createCatalogRepository(db.prisma),
    projects: createProjectsRepository(db.prisma),
    impact: createImpactRepository(db.prisma, db.sql),
  };
  const portfolios = createPortfoliosService({
    portfolios: repos.portfolios,
    transaction,
    changes: db.changes,
    clock: () => clock(),
  });
  /** Why a server-to-server callback URL is refused (not http(s), or private unless allowed), or null. */
  const receiverUrlProblem = (url: string) =>
    httpUrlProblem(url) ?? (options.webhooks.allowPrivateUrls ? null : privateHostProblem(url));
  const orders = createOrdersService({
    orders: repos.orders,
    fulfilment: repos.fulfilment,
    certificateUrls: adapters.certificateUrls,
    events: repos.events,
    webhooks: repos.webhooks,
    sessionApi: (id, tx) => repos.sessions.apiOf(id, tx),
    notificationFormats: adapters.notificationFormats,
    portfolios,
    receiverUrlProblem,
    transaction,
    clock,
  });
  const webhookEndpoints = createWebhookEndpointsService({
    endpoints: repos.webhookEndpoints,
    deliveries: repos.webhooks,
    receiverUrlProblem,
    transaction,
    clock,
  });
  return {
    repos,
    adapters,
    /** Why a customer-facing redirect URL is refused (local hosts only where the configuration allows them), or null. */
    redirectUrlProblem: (url: string) =>
      redirectUrlProblem(url, { allowLocal: options.redirectUrls?.allowPrivate ?? true }),
    receiverUrlProblem,
    transaction,
    clock,
    accounts: createAccountsService({
      accounts: repos.accounts,
      portfolios: repos.portfolios,
      changes: db.changes,
      now: () => clock().getTime(),
    }),
    apiKeys: createApiKeysService({ apiKeys: repos.apiKeys, accounts: repos.accounts, changes: db.changes, clock }),
    portfolios,
    /** The carbon catalogue (installation-wide): projects, categories, portfolios' allocations; import and export. */
    projects: createProjectsService({
      projects: repos.projects,
      portfolios: repos.portfolios,
      transaction,
      catalogChanged: portfolios.catalogChanged,
    }),
    subaccounts: createSubaccountsService({
      subaccounts: repos.subaccounts,
      portfolios: repos.portfolios,
      transaction,
      clock,
      catalogChanged: portfolios.catalogChanged,
      logos: {
        fetch: createLogoFetcher(options.logos ?? DEFAULT_LOGOS),
        maxBytes: (options.logos ?? DEFAULT_LOGOS).maxBytes,
      },
    }),
    checkoutSessions: createCheckoutSessionsService({
      sessions: repos.sessions,
      events: repos.events,
      payments: repos.payments,
      paymentProvider: adapters.paymentProvider,
      lifecycles: adapters.lifecycles({
        orders,
        events: repos.events,
        webhooks: repos.webhooks,
        webhookEndpoints,
        clock,
      }),
      allowPrivateRedirectUrls: options.redirectUrls?.allowPrivate,
      transaction,
      clock,
      metrics: adapters.metrics,
    }),
    orders,
    events: createEventsService({ events: repos.events }),
    webhooks: createWebhooksService({
      webhooks: repos.webhooks,
      transaction,
      clock,
      transport: createHttpTransport(options.webhooks),
      settings: options.webhooks,
      metrics: adapters.metrics,
      signers: adapters.webhookSigners,
      judges: adapters.webhookJudges,
      schedules: adapters.webhookSchedules,
    }),
    webhookEndpoints,
    settings: createSettingsService({ settings: repos.settings }),
    idempotency: createIdempotencyService({ keys: repos.idempotency, clock }),
    /** Products and prices; `lineItemsFor` turns prices into a session's line items. */
    catalog: createCatalogService({ catalog: repos.catalog, transaction, clock }),
    /** Impact reports (fulfilled orders by category and project, with equivalents) and the public impact pages' settings. */
    impact: createImpactService({ impact: repos.impact, transaction, clock }),
  };
}

export type Services = ReturnType<typeof createServices>;
