import type { Db } from "../../db/database.js";

export function createAccountsRepository(db: Db) {
  return {
    create: (data: { id: string; name: string; defaultPortfolioId?: string | null }, tx: Db = db) =>
      tx.account.create({ data }),
    findById: (id: string, tx: Db = db) => tx.account.findUnique({ where: { id } }),
    list: (tx: Db = db) => tx.account.findMany({ orderBy: { createdAt: "asc" } }),
    count: (tx: Db = db) => tx.account.count(),
    setDefaultPortfolio: (id: string, portfolioId: string | null, tx: Db = db) =>
      tx.account.update({ where: { id }, data: { defaultPortfolioId: portfolioId } }),
  };
}

export type AccountsRepository = ReturnType<typeof createAccountsRepository>;
