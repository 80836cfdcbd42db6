import type { Db } from "../../db/database.js";

export function createAccountsRepository(db: Db) {
  return {
    create: (data: { id: string; name: string; defaultPortfolioId?: string | null }, tx: Db = db) =>
      tx.account.create({ data }),
    findById: (id: string, tx: Db = db) => tx.account.findUnique({ where: { id } }),
    list: (tx: Db = db) => tx.account.findMany({ orderBy: { createdAt: "asc" } }),
    count: (tx: Db = db) => tx.account.count(),
    /** The account's default API version per API ({} when it has none), or null for no such account. */
    async findApiVersions(id: string, tx: Db = db): Promise<Record<string, string> | null> {
      const row = await tx.account.findUnique({ where: { id }, select: { apiVersions: true } });
      return row ? (row.apiVersions as Record<string, string>) : null;
    },
    /** Sets (null: removes) one API's default in one statement; null when there is no such account. */
    async setApiVersion(id: string, api: string, version: string | null, tx: Db = db) {
      const rows = await tx.$queryRaw<{ api_versions: Record<string, string> }[]>`
        UPDATE accounts SET api_versions = CASE WHEN ${version}::text IS NULL THEN api_versions - ${api}::text
          ELSE api_versions || jsonb_build_object(${api}::text, ${version}::text) END
        WHERE id = ${id} RETURNING api_versions`;
      return rows[0]?.api_versions ?? null;
    },
    setDefaultPortfolio: (id: string, portfolioId: string | null, tx: Db = db) =>
      tx.account.update({ where: { id }, data: { defaultPortfolioId: portfolioId } }),
  };
}

export type AccountsRepository = ReturnType<typeof createAccountsRepository>;
