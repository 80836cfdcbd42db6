import { type ChangeFeed, type Db, isUniqueViolation, type Transactor } from "../../db/database.js";
import { conflict, notFound, invalidParameter, invalidParameters, type FieldErrors } from "../errors.js";
import { newId } from "../ids.js";
import type { Decimal } from "../money/money.js";
import { amountKgProblem, priceInCents } from "./pricing.js";
import { createNotifiedCache } from "../notified-cache.js";
import type { Scope } from "../scope.js";
import type { Portfolio, PortfoliosRepository } from "./portfolios.repository.js";

export type PriceSource = "checkout" | "api";

export interface NewPortfolio {
  id?: string;
  name: string;
  summary?: string | null;
  description?: string | null;
  primaryImageUrl?: string | null;
  checkoutPricePerKgUsdCents: Decimal;
  apiPricePerKgUsdCents: Decimal;
  isDefault?: boolean;
}

/** $10,000 per kg. */
const MAX_PRICE_PER_KG_USD_CENTS = 1_000_000;

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const unitPrice = (portfolio: Portfolio, source: PriceSource) =>
  source === "checkout" ? portfolio.checkoutPricePerKgUsdCents : portfolio.apiPricePerKgUsdCents;

/** The NOTIFY channel of every change to portfolios, accounts and subaccounts (a trigger's; see the migration). */
export const CATALOG_CHANGES_CHANNEL = "kassa_catalog";

export function createPortfoliosService(deps: {
  portfolios: PortfoliosRepository;
  transaction: Transactor;
  /** Changes made by any instance, so the portfolio a purchase is priced from can be remembered. */
  changes?: ChangeFeed;
  clock?: () => Date;
}) {
  const { portfolios, transaction } = deps;
  const clock = deps.clock ?? (() => new Date());
  /**
   * Which portfolio prices a purchase, by what was asked: a portfolio id, or a scope's default.
   * Forgotten whole on any change to portfolios, accounts or subaccounts (a trigger NOTIFYs).
   */
  const resolved = createNotifiedCache<Portfolio>({
    changes: deps.changes,
    channel: CATALOG_CHANGES_CHANNEL,
    now: () => clock().getTime(),
    ttlMs: 60_000,
    maxEntries: 10_000,
    forgetAllOnChange: true,
  });

  /**
   * The portfolio a purchase in `scope` is priced from: the one asked for, else the first
   * default found along subaccount -> account -> the installation's default.
   */
  async function resolveFor(scope: Scope, requestedId: string | null | undefined): Promise<Portfolio> {
    if (requestedId) {
      const portfolio = await resolved.remember(`id:${requestedId}`, () => portfolios.findById(requestedId));
      if (!portfolio) throw invalidParameter("portfolioId", `Portfolio '${requestedId}' does not exist`);
      return portfolio;
    }
    const portfolio = await resolved.remember(`scope:${scope.accountId}:${scope.subaccountId ?? ""}`, () =>
      portfolios.findDefaultFor(scope.accountId, scope.subaccountId),
    );
    if (!portfolio) throw invalidParameter("portfolioId", "No portfolio given and no default portfolio is configured");
    return portfolio;
  }

  return {
    list: () => portfolios.list(),
    async get(id: string): Promise<Portfolio> {
      const portfolio = await portfolios.findById(id);
      if (!portfolio) throw notFound("portfolio", id);
      return portfolio;
    },
    resolveFor,

    /**
     * Forgets every remembered portfolio choice at once: for writes this instance just committed
     * to portfolios, accounts or subaccounts (their NOTIFY reaches this instance a moment later).
     */
    catalogChanged: () => resolved.forgetAll(),

    /** Prices an amount without creating anything (POST /quotes). */
    async quote(scope: Scope, input: { amountKg: Decimal; portfolioId?: string | null; source: PriceSource }) {
      const problem = amountKgProblem(input.amountKg);
      if (problem) throw invalidParameter("amountKg", problem);
      const portfolio = await resolveFor(scope, input.portfolioId);
      return { portfolio, priceUsdCents: priceInCents(input.amountKg, unitPrice(portfolio, input.source)) };
    },

    /** Creates a portfolio (and makes it the default if asked), in `tx` when given. */
    async create(input: NewPortfolio, tx?: Db): Promise<Portfolio> {
      const fields: FieldErrors = {};
      if (!input.name.trim()) fields.name = ["must not be empty"];
      if (input.id !== undefined && !ID_PATTERN.test(input.id))
        fields.id = ["must be 1-64 letters, digits, '_' or '-'"];
      for (const [key, price] of [
        ["checkout_price_per_kg_usd_cents", input.checkoutPricePerKgUsdCents],
        ["api_price_per_kg_usd_cents", input.apiPricePerKgUsdCents],
      ] as const) {
        if (!price.isFinite() || price.lte(0)) fields[key] = ["must be a number greater than 0"];
        // Keeps every total (at most 1e9 kg) an exact JavaScript integer of cents.
        else if (price.gt(MAX_PRICE_PER_KG_USD_CENTS)) fields[key] = [`must be at most ${MAX_PRICE_PER_KG_USD_CENTS}`];
        else if (price.decimalPlaces() > 6) fields[key] = ["must have at most 6 decimal places"];
      }
      if (Object.keys(fields).length) throw invalidParameters(fields);
      const id = input.id ?? newId.portfolio();
      const write = async (tx: Db) => {
        const created = await portfolios.create(
          {
            id,
            name: input.name.trim(),
            summary: input.summary ?? null,
            description: input.description ?? null,
            primaryImageUrl: input.primaryImageUrl ?? null,
            checkoutPricePerKgUsdCents: input.checkoutPricePerKgUsdCents,
            apiPricePerKgUsdCents: input.apiPricePerKgUsdCents,
            isDefault: false,
          },
          tx,
        );
        if (!input.isDefault) return created;
        await portfolios.makeDefault(id, tx);
        return { ...created, isDefault: true };
      };
      try {
        if (tx) return await write(tx); // the caller's transaction: the NOTIFY tells this instance too
        const created = await transaction(write);
        resolved.forgetAll(); // at once here, not a moment later when the NOTIFY comes back
        return created;
      } catch (error) {
        // The primary key decides, so concurrent creates of one id get the same answer as sequential ones.
        if (isUniqueViolation(error)) throw conflict(`Portfolio '${id}' already exists`);
        throw error;
      }
    },
  };
}

export type PortfoliosService = ReturnType<typeof createPortfoliosService>;
