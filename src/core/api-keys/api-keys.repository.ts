import type { Db } from "../../db/database.js";

export function createApiKeysRepository(db: Db) {
  return {
    create: (data: { id: string; accountId: string; mode: string; prefix: string; secretHash: string }, tx: Db = db) =>
      tx.apiKey.create({ data }),
    /** Through the unique index on secret_hash: the presented secret is never compared byte by byte. */
    findBySecretHash: (secretHash: string, tx: Db = db) => tx.apiKey.findUnique({ where: { secretHash } }),
    findById: (id: string, tx: Db = db) => tx.apiKey.findUnique({ where: { id } }),
    listForAccount: (accountId: string, tx: Db = db) =>
      tx.apiKey.findMany({ where: { accountId }, orderBy: { createdAt: "asc" } }),
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
