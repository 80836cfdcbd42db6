import type { Db } from "../../db/database.js";

export interface Subaccount {
  id: string;
  accountId: string;
  name: string;
  email: string | null;
  logoUrl: string | null;
  defaultPortfolioId: string | null;
  createdAt: Date;
}

export type SubaccountFields = Pick<Subaccount, "name" | "email" | "logoUrl" | "defaultPortfolioId">;

const live = (accountId: string) => ({ accountId, deletedAt: null });
const select = {
  id: true,
  accountId: true,
  name: true,
  email: true,
  logoUrl: true,
  defaultPortfolioId: true,
  createdAt: true,
} as const;

/** Deleted subaccounts are kept (sessions and orders still point at them) but never found. */
export function createSubaccountsRepository(db: Db) {
  return {
    create: (data: SubaccountFields & { id: string; accountId: string }, tx: Db = db): Promise<Subaccount> =>
      tx.subaccount.create({ data, select }),
    find: (accountId: string, id: string, tx: Db = db): Promise<Subaccount | null> =>
      tx.subaccount.findFirst({ where: { id, ...live(accountId) }, select }),
    list: (accountId: string, tx: Db = db): Promise<Subaccount[]> =>
      tx.subaccount.findMany({ where: live(accountId), select, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
    async update(accountId: string, id: string, data: SubaccountFields, tx: Db = db): Promise<Subaccount | null> {
      const { count } = await tx.subaccount.updateMany({ where: { id, ...live(accountId) }, data });
      return count ? tx.subaccount.findFirst({ where: { id }, select }) : null;
    },
    async softDelete(accountId: string, id: string, at: Date, tx: Db = db): Promise<boolean> {
      const { count } = await tx.subaccount.updateMany({ where: { id, ...live(accountId) }, data: { deletedAt: at } });
      return count > 0;
    },
  };
}

export type SubaccountsRepository = ReturnType<typeof createSubaccountsRepository>;
