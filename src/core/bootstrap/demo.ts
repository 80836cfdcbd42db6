import { Decimal } from "../money/money.js";
import type { Services } from "../services.js";

export interface DemoSeed {
  accountId: string;
  portfolioId: string;
  apiKey: string;
}

/** The demo portfolio's prices: 2 cents per kg at checkout (100 kg = $2.00), 1.8 through the API. */
export const DEMO_PORTFOLIO = {
  id: "demo",
  name: "Demo Climate Portfolio",
  summary: "A sample portfolio for trying Kassa",
  checkoutPricePerKgUsdCents: new Decimal(2),
  apiPricePerKgUsdCents: new Decimal("1.8"),
};

/**
 * On an empty store, creates a demo account, one secret key and a default portfolio so a new
 * user can try the API at once. Returns the key (to print once), or null when the store already
 * has accounts. The caller holds the migration lock, so concurrent instances seed at most once.
 */
export async function seedDemoIfEmpty(services: Services): Promise<DemoSeed | null> {
  if ((await services.repos.accounts.count()) > 0) return null;
  // One transaction: a crash midway must not leave an account without the key that was never shown.
  return services.transaction(async (tx) => {
    const portfolio =
      (await services.repos.portfolios.findById(DEMO_PORTFOLIO.id, tx)) ??
      (await services.portfolios.create({ ...DEMO_PORTFOLIO, isDefault: true }, tx));
    const account = await services.accounts.create({ name: "Demo account", defaultPortfolioId: portfolio.id }, tx);
    const key = await services.apiKeys.create(account.id, tx);
    return { accountId: account.id, portfolioId: portfolio.id, apiKey: key.secret };
  });
}
