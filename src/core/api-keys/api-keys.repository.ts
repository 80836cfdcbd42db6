import type { Db, Sql } from "../../db/database.js";
import type { CachedKey } from "./key-cache.js";

interface KeyRow {
  id: string;
  account_id: string;
  secret_hash: string;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export function createApiKeysRepository(db: Db, sql: Sql) {
  return {
    create: (data: { id: string; accountId: string; mode: string; prefix: string; secretHash: string }, tx: Db = db) =>
      tx.apiKey.create({ data }),
    /** Through the unique index on secret_hash: the presented secret is never compared byte by byte. */
    async findBySecretHash(secretHash: string): Promise<(CachedKey & { revokedAt: Date | null }) | null> {
      const [row] = await sql.query<KeyRow>({
        text: "SELECT id, account_id, secret_hash, revoked_at, last_used_at FROM api_keys WHERE secret_hash = $1",
        values: [secretHash],
      });
      return row
        ? {
            id: row.id,
            accountId: row.account_id,
            secretHash: row.secret_hash,
            revokedAt: row.revoked_at,
            lastUsedAt: row.last_used_at,
          }
        : null;
    },
    findById: (id: string, tx: Db = db) => tx.apiKey.findUnique({ where: { id } }),
    listForAccount: (accountId: string, tx: Db = db) =>
      tx.apiKey.findMany({ where: { accountId }, orderBy: { createdAt: "asc" } }),
    /** Revoking (like any change to a key's hash or row) NOTIFYs every instance by trigger (see key-cache.ts). */
    revoke: (id: string, at: Date, tx: Db = db) =>
      tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } }),
    /**
     * Records a use at `at` unless one at or after `staleBefore` is already recorded. The condition
     * is in the UPDATE itself, so instances racing on one key write it once, and a revoked key is
     * left alone. Returns how many rows changed (0 or 1).
     */
    touchLastUsed: async (id: string, at: Date, staleBefore: Date, tx: Db = db) =>
      (
        await tx.apiKey.updateMany({
          where: { id, revokedAt: null, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: staleBefore } }] },
          data: { lastUsedAt: at },
        })
      ).count,
  };
}

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;
