import type { Db } from "../../db/database.js";

export function createApiKeysRepository(db: Db) {
  return {
    create: (data: { id: string; accountId: string; mode: string; prefix: string; secretHash: string }, tx: Db = db) =>
      tx.apiKey.create({ data }),
    findBySecretHash: (secretHash: string, tx: Db = db) => tx.apiKey.findUnique({ where: { secretHash } }),
    findById: (id: string, tx: Db = db) => tx.apiKey.findUnique({ where: { id } }),
    listForAccount: (accountId: string, tx: Db = db) =>
      tx.apiKey.findMany({ where: { accountId }, orderBy: { createdAt: "asc" } }),
    revoke: (id: string, at: Date, tx: Db = db) =>
      tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: at } }),
  };
}

export type ApiKeysRepository = ReturnType<typeof createApiKeysRepository>;
