import type { Db } from "../../db/database.js";

export interface Subaccount {
  id: string;
  accountId: string;
  name: string;
  email: string | null;
  /** The re-hosted logo (its file name under /logos/), or null. */
  logoId: string | null;
  defaultPortfolioId: string | null;
  createdAt: Date;
}

/** What a create or an update sets (an update keeps the logo). */
export type SubaccountFields = Pick<Subaccount, "name" | "email" | "defaultPortfolioId">;

/** A logo as stored and served. */
export interface LogoFile {
  id: string;
  contentType: string;
  content: Uint8Array;
}

/** Which logo a subaccount shows, and the URL it came from (null for an upload). */
export interface LogoChoice {
  logoId: string | null;
  logoSourceUrl: string | null;
}

const live = (accountId: string) => ({ accountId, deletedAt: null });
const select = {
  id: true,
  accountId: true,
  name: true,
  email: true,
  logoId: true,
  defaultPortfolioId: true,
  createdAt: true,
} as const;

/** Deleted subaccounts are kept (sessions and orders still point at them) but never found. */
export function createSubaccountsRepository(db: Db) {
  return {
    create: (
      data: SubaccountFields & Partial<LogoChoice> & { id: string; accountId: string },
      tx: Db = db,
    ): Promise<Subaccount> => tx.subaccount.create({ data, select }),
    find: (accountId: string, id: string, tx: Db = db): Promise<Subaccount | null> =>
      tx.subaccount.findFirst({ where: { id, ...live(accountId) }, select }),
    list: (accountId: string, tx: Db = db): Promise<Subaccount[]> =>
      tx.subaccount.findMany({ where: live(accountId), select, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
    async update(
      accountId: string,
      id: string,
      data: SubaccountFields | LogoChoice,
      tx: Db = db,
    ): Promise<Subaccount | null> {
      const { count } = await tx.subaccount.updateMany({ where: { id, ...live(accountId) }, data });
      return count ? tx.subaccount.findFirst({ where: { id }, select }) : null;
    },
    /** Reads a live subaccount and locks its row until `tx` ends. */
    async lock(accountId: string, id: string, tx: Db): Promise<Subaccount | null> {
      const rows = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM subaccounts WHERE id = ${id} AND account_id = ${accountId} AND deleted_at IS NULL FOR UPDATE`;
      return rows.length ? tx.subaccount.findFirst({ where: { id }, select }) : null;
    },
    async hasOrders(id: string, tx: Db = db): Promise<boolean> {
      return (await tx.order.findFirst({ where: { subaccountId: id }, select: { id: true } })) !== null;
    },
    async softDelete(accountId: string, id: string, at: Date, tx: Db = db): Promise<boolean> {
      const { count } = await tx.subaccount.updateMany({ where: { id, ...live(accountId) }, data: { deletedAt: at } });
      return count > 0;
    },
    insertLogo: (logo: LogoFile, tx: Db = db) =>
      tx.logo.create({ data: { ...logo, content: Buffer.from(logo.content) }, select: { id: true } }),
    /** Removes a logo no subaccount shows any more (a replaced or removed one). */
    async deleteLogoIfUnused(logoId: string, tx: Db = db): Promise<void> {
      await tx.logo.deleteMany({ where: { id: logoId, subaccounts: { none: {} } } });
    },
    findLogo: (logoId: string, tx: Db = db): Promise<LogoFile | null> =>
      tx.logo.findUnique({ where: { id: logoId }, select: { id: true, contentType: true, content: true } }),
  };
}

export type SubaccountsRepository = ReturnType<typeof createSubaccountsRepository>;
