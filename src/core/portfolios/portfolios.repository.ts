import type { Db, Sql } from "../../db/database.js";
import { Decimal } from "../money/money.js";

export interface Portfolio {
  id: string;
  name: string;
  summary: string | null;
  description: string | null;
  primaryImageUrl: string | null;
  checkoutPricePerKgUsdCents: Decimal;
  apiPricePerKgUsdCents: Decimal;
  isDefault: boolean;
  createdAt: Date;
}

type Row = NonNullable<Awaited<ReturnType<Db["portfolio"]["findUnique"]>>>;

const toPortfolio = (row: Row): Portfolio => ({
  ...row,
  checkoutPricePerKgUsdCents: new Decimal(row.checkoutPricePerKgUsdCents.toString()),
  apiPricePerKgUsdCents: new Decimal(row.apiPricePerKgUsdCents.toString()),
});

/** A portfolio row as the driver returns it (see Sql). */
interface PortfolioRow {
  id: string;
  name: string;
  summary: string | null;
  description: string | null;
  primary_image_url: string | null;
  checkout_price_per_kg_usd_cents: string;
  api_price_per_kg_usd_cents: string;
  is_default: boolean;
  created_at: Date;
}

const fromRow = (row: PortfolioRow): Portfolio => ({
  id: row.id,
  name: row.name,
  summary: row.summary,
  description: row.description,
  primaryImageUrl: row.primary_image_url,
  checkoutPricePerKgUsdCents: new Decimal(row.checkout_price_per_kg_usd_cents),
  apiPricePerKgUsdCents: new Decimal(row.api_price_per_kg_usd_cents),
  isDefault: row.is_default,
  createdAt: row.created_at,
});

const COLUMNS = (alias: string) =>
  ["id", "name", "summary", "description", "primary_image_url", "checkout_price_per_kg_usd_cents"]
    .concat(["api_price_per_kg_usd_cents", "is_default", "created_at"])
    .map((c) => `${alias}.${c}`)
    .join(", ");

/**
 * The default portfolio for a purchase by the account (and subaccount, or NULL), in one
 * statement: the first that exists of the subaccount's default, the account's default and the
 * installation's (oldest) default.
 */
const DEFAULT_FOR_SCOPE = `
  SELECT ${COLUMNS("p")} FROM (
    SELECT 1 AS rank, default_portfolio_id AS id FROM subaccounts
      WHERE id = $2 AND account_id = $1 AND deleted_at IS NULL
    UNION ALL SELECT 2, default_portfolio_id FROM accounts WHERE id = $1
    UNION ALL (SELECT 3, id FROM portfolios WHERE is_default ORDER BY created_at LIMIT 1)
  ) candidate
  JOIN portfolios p ON p.id = candidate.id
  ORDER BY candidate.rank
  LIMIT 1`;

export function createPortfoliosRepository(db: Db, sql: Sql) {
  return {
    async create(data: Omit<Portfolio, "createdAt">, tx: Db = db) {
      const row = await tx.portfolio.create({
        data: {
          ...data,
          checkoutPricePerKgUsdCents: data.checkoutPricePerKgUsdCents.toFixed(),
          apiPricePerKgUsdCents: data.apiPricePerKgUsdCents.toFixed(),
        },
      });
      return toPortfolio(row);
    },
    async findById(id: string, tx?: Db) {
      if (tx) {
        const row = await tx.portfolio.findUnique({ where: { id } });
        return row ? toPortfolio(row) : null;
      }
      const [row] = await sql.query<PortfolioRow>({
        text: `SELECT ${COLUMNS("p")} FROM portfolios p WHERE p.id = $1`,
        values: [id],
      });
      return row ? fromRow(row) : null;
    },
    /** See DEFAULT_FOR_SCOPE: the portfolio a purchase without a portfolio_id is priced from, or null. */
    async findDefaultFor(accountId: string, subaccountId: string | null): Promise<Portfolio | null> {
      const [row] = await sql.query<PortfolioRow>({ text: DEFAULT_FOR_SCOPE, values: [accountId, subaccountId] });
      return row ? fromRow(row) : null;
    },
    async findByIds(ids: string[], tx: Db = db): Promise<Portfolio[]> {
      if (ids.length === 0) return [];
      return (await tx.portfolio.findMany({ where: { id: { in: ids } } })).map(toPortfolio);
    },
    /** Sets a portfolio's descriptive fields (the catalogue's part of it); prices stay. */
    async describe(
      id: string,
      fields: Partial<Pick<Portfolio, "summary" | "description" | "primaryImageUrl">>,
      tx: Db = db,
    ) {
      await tx.portfolio.update({ where: { id }, data: fields });
    },
    async list(tx: Db = db) {
      return (await tx.portfolio.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] })).map(toPortfolio);
    },
    /** Makes `id` the one default portfolio (call inside a transaction). */
    async makeDefault(id: string, tx: Db = db) {
      await tx.portfolio.updateMany({ where: { isDefault: true, NOT: { id } }, data: { isDefault: false } });
      await tx.portfolio.update({ where: { id }, data: { isDefault: true } });
    },
  };
}

export type PortfoliosRepository = ReturnType<typeof createPortfoliosRepository>;
