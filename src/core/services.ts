import { type Database, transactorFor } from "../db/database.js";
import { createAccountsRepository } from "./accounts/accounts.repository.js";
import { createAccountsService } from "./accounts/accounts.service.js";
import { createApiKeysRepository } from "./api-keys/api-keys.repository.js";
import { createApiKeysService } from "./api-keys/api-keys.service.js";
import { createCheckoutSessionsRepository } from "./checkout-sessions/checkout-sessions.repository.js";
import { createCheckoutSessionsService } from "./checkout-sessions/checkout-sessions.service.js";
import { createEventsRepository } from "./events/events.repository.js";
import { createPortfoliosRepository } from "./portfolios/portfolios.repository.js";
import { createPortfoliosService } from "./portfolios/portfolios.service.js";
import { createSubaccountsRepository } from "./subaccounts/subaccounts.repository.js";
import { createSubaccountsService } from "./subaccounts/subaccounts.service.js";
import { type Clock, systemClock } from "./time.js";

/**
 * The composition root of the core: repositories over one database, services over those.
 * The HTTP app, the admin API and the CLI's offline mode all use this one wiring.
 */
export function createServices(db: Database, clock: Clock = systemClock) {
  const transaction = transactorFor(db.prisma);
  const repos = {
    accounts: createAccountsRepository(db.prisma),
    apiKeys: createApiKeysRepository(db.prisma),
    portfolios: createPortfoliosRepository(db.prisma),
    subaccounts: createSubaccountsRepository(db.prisma),
    sessions: createCheckoutSessionsRepository(db.prisma),
    events: createEventsRepository(db.prisma),
  };
  const portfolios = createPortfoliosService({
    portfolios: repos.portfolios,
    accounts: repos.accounts,
    subaccounts: repos.subaccounts,
    transaction,
  });
  return {
    repos,
    transaction,
    clock,
    accounts: createAccountsService({ accounts: repos.accounts, portfolios: repos.portfolios }),
    apiKeys: createApiKeysService({ apiKeys: repos.apiKeys, accounts: repos.accounts, clock }),
    portfolios,
    subaccounts: createSubaccountsService({ subaccounts: repos.subaccounts, portfolios: repos.portfolios, clock }),
    checkoutSessions: createCheckoutSessionsService({
      sessions: repos.sessions,
      events: repos.events,
      portfolios,
      transaction,
      clock,
    }),
  };
}

export type Services = ReturnType<typeof createServices>;
