import { type Database, transactorFor } from "../db/database.js";
import { createAccountsRepository } from "./accounts/accounts.repository.js";
import { createAccountsService } from "./accounts/accounts.service.js";
import { createApiKeysRepository } from "./api-keys/api-keys.repository.js";
import { createApiKeysService } from "./api-keys/api-keys.service.js";
import { createCheckoutSessionsRepository } from "./checkout-sessions/checkout-sessions.repository.js";
import { createCheckoutSessionsService } from "./checkout-sessions/checkout-sessions.service.js";
import { createEventsRepository } from "./events/events.repository.js";
import { createIdempotencyRepository } from "./idempotency/idempotency.repository.js";
import { createIdempotencyService } from "./idempotency/idempotency.service.js";
import { createOrdersRepository } from "./orders/orders.repository.js";
import { createOrdersService } from "./orders/orders.service.js";
import type { OrderNotificationFormats } from "./orders/orders.types.js";
import type { PaymentProvider } from "./payments/payment-provider.js";
import { createPaymentsRepository } from "./payments/payments.repository.js";
import { createPortfoliosRepository } from "./portfolios/portfolios.repository.js";
import { createPortfoliosService } from "./portfolios/portfolios.service.js";
import { createSettingsRepository } from "./settings/settings.repository.js";
import { createSettingsService } from "./settings/settings.service.js";
import { createSubaccountsRepository } from "./subaccounts/subaccounts.repository.js";
import { createSubaccountsService } from "./subaccounts/subaccounts.service.js";
import type { Clock } from "./time.js";
import { createWebhooksRepository } from "./webhooks/webhooks.repository.js";
import { createHttpTransport } from "./webhooks/transport.js";
import { createWebhooksService, type WebhookSettings } from "./webhooks/webhooks.service.js";

/** What the core is given from outside: how each API renders notifications, who moves money. */
export interface CoreAdapters {
  notificationFormats: OrderNotificationFormats;
  paymentProvider: PaymentProvider;
}

/**
 * The configuration the core reads (config.webhooks: receivers' addresses, timeouts, retries,
 * rotation; config.redirectUrls: whether success and cancel URLs may name local hosts).
 */
export interface CoreOptions {
  webhooks: WebhookSettings;
  redirectUrls?: { allowPrivate: boolean };
}

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
    payments: createPaymentsRepository(db.prisma),
    webhooks: createWebhooksRepository(db.prisma),
    settings: createSettingsRepository(db.prisma),
    idempotency: createIdempotencyRepository(db.prisma),
  };
  const portfolios = createPortfoliosService({
    portfolios: repos.portfolios,
    transaction,
    changes: db.changes,
    clock: () => clock(),
  });
  const orders = createOrdersService({
    orders: repos.orders,
    events: repos.events,
    webhooks: repos.webhooks,
    sessionApi: (id, tx) => repos.sessions.apiOf(id, tx),
    notificationFormats: adapters.notificationFormats,
    transaction,
    clock,
  });
  return {
    repos,
    adapters,
    transaction,
    clock,
    accounts: createAccountsService({ accounts: repos.accounts, portfolios: repos.portfolios }),
    apiKeys: createApiKeysService({ apiKeys: repos.apiKeys, accounts: repos.accounts, changes: db.changes, clock }),
    portfolios,
    subaccounts: createSubaccountsService({
      subaccounts: repos.subaccounts,
      portfolios: repos.portfolios,
      transaction,
      clock,
      catalogChanged: portfolios.catalogChanged,
    }),
    checkoutSessions: createCheckoutSessionsService({
      sessions: repos.sessions,
      events: repos.events,
      portfolios,
      orders,
      payments: repos.payments,
      paymentProvider: adapters.paymentProvider,
      allowPrivateNotificationUrls: options.webhooks.allowPrivateUrls,
      allowPrivateRedirectUrls: options.redirectUrls?.allowPrivate,
      transaction,
      clock,
    }),
    orders,
    webhooks: createWebhooksService({
      webhooks: repos.webhooks,
      transaction,
      clock,
      transport: createHttpTransport(options.webhooks),
      settings: options.webhooks,
    }),
    settings: createSettingsService({ settings: repos.settings }),
    idempotency: createIdempotencyService({ keys: repos.idempotency, clock }),
  };
}

export type Services = ReturnType<typeof createServices>;
