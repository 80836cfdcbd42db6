import { createHash } from "node:crypto";
import type { Db } from "../../db/database.js";
import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { notFound } from "../errors.js";
import { newId, newSecret } from "../ids.js";
import type { Clock } from "../time.js";
import type { ApiKeysRepository } from "./api-keys.repository.js";

/** Secret keys look like `sk_test_<32 alphanumerics>`; the mode says which payment world they act in. */
export const KEY_MODE = "test";
const SECRET_PREFIX = `sk_${KEY_MODE}_`;
const DISPLAY_PREFIX_LENGTH = SECRET_PREFIX.length + 4;

/**
 * Keys are stored only as SHA-256 hashes. A secret has ~190 bits of entropy, so a fast hash is
 * enough (nothing to brute-force), and lookup by hash through a unique index means the secret is
 * never compared byte by byte against stored values.
 */
export const hashSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");

export interface ApiKeyView {
  id: string;
  account_id: string;
  mode: string;
  prefix: string;
  created_on: Date;
  revoked_on: Date | null;
}

const view = (k: {
  id: string;
  accountId: string;
  mode: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}): ApiKeyView => ({
  id: k.id,
  account_id: k.accountId,
  mode: k.mode,
  prefix: k.prefix,
  created_on: k.createdAt,
  revoked_on: k.revokedAt,
});

export interface Principal {
  accountId: string;
  keyId: string;
}

export function createApiKeysService(deps: {
  apiKeys: ApiKeysRepository;
  accounts: Pick<AccountsRepository, "findById">;
  clock: Clock;
}) {
  const { apiKeys, accounts, clock } = deps;
  return {
    /** Creates a key; the returned secret is shown once and never stored. */
    async create(accountId: string, tx?: Db): Promise<ApiKeyView & { secret: string }> {
      if (!(await accounts.findById(accountId, tx))) throw notFound("account", accountId);
      const secret = SECRET_PREFIX + newSecret();
      const key = await apiKeys.create(
        {
          id: newId.apiKey(),
          accountId,
          mode: KEY_MODE,
          prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH),
          secretHash: hashSecret(secret),
        },
        tx,
      );
      return { ...view(key), secret };
    },

    async revoke(keyId: string): Promise<ApiKeyView> {
      const key = await apiKeys.findById(keyId);
      if (!key) throw notFound("api_key", keyId);
      await apiKeys.revoke(keyId, clock());
      return view((await apiKeys.findById(keyId)) ?? key);
    },

    async list(accountId: string): Promise<ApiKeyView[]> {
      if (!(await accounts.findById(accountId))) throw notFound("account", accountId);
      return (await apiKeys.listForAccount(accountId)).map(view);
    },

    /** The account a presented secret acts for, or null for an unknown or revoked key. */
    async authenticate(secret: string): Promise<Principal | null> {
      if (!secret.startsWith("sk_") || secret.length > 128) return null;
      const key = await apiKeys.findBySecretHash(hashSecret(secret));
      if (!key || key.revokedAt) return null;
      return { accountId: key.accountId, keyId: key.id };
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
