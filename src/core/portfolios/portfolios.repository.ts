import type { Db } from "../../db/database.js";
import { Decimal } from "../money.js";

export interface CategoryAllocation {
  allocated_fraction: number;
  category: Record<string, unknown>;
}

export interface Portfolio {
  id: string;
  name: string;
  summary: string | null;
  description: string | null;
  primaryImageUrl: string | null;
  checkoutPricePerKgUsdCents: Decimal;
  apiPricePerKgUsdCents: Decimal;
  categoryAllocations: CategoryAllocation[];
  isDefault: boolean;
  createdAt: Date;
}

type Row = NonNullable<Awaited<ReturnType<Db["portfolio"]["findUnique"]>>>;

const toPortfolio = (row: Row): Portfolio => ({
  ...row,
  checkoutPricePerKgUsdCents: new Decimal(row.checkoutPricePerKgUsdCents.toString()),
  apiPricePerKgUsdCents: new Decimal(row.apiPricePerKgUsdCents.toString()),
  categoryAllocations: row.categoryAllocations as unknown as CategoryAllocation[],
});

export function createPortfoliosRepository(db: Db) {
  return {
    async create(
      data: Omit<Portfolio, "createdAt" | "categoryAllocations"> & { categoryAllocations?: CategoryAllocation[] },
      tx: Db = db,
    ) {
      const row = await tx.portfolio.create({
        data: {
          ...data,
          checkoutPricePerKgUsdCents: data.checkoutPricePerKgUsdCents.toFixed(),
          apiPricePerKgUsdCents: data.apiPricePerKgUsdCents.toFixed(),
          categoryAllocations: (data.categoryAllocations ?? []) as object[],
        },
      });
      return toPortfolio(row);
    },
    async findById(id: string, tx: Db = db) {
      const row = await tx.portfolio.findUnique({ where: { id } });
      return row ? toPortfolio(row) : null;
    },
    async findDefault(tx: Db = db) {
      const row = await tx.portfolio.findFirst({ where: { isDefault: true }, orderBy: { createdAt: "asc" } });
      return row ? toPortfolio(row) : null;
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
