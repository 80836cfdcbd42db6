import { hash, timingSafeEqual } from "node:crypto";
import type { ChangeFeed, Db } from "../../db/database.js";
import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { invalidState, notFound } from "../errors.js";
import { newId, newSecret } from "../ids.js";
import type { Clock } from "../time.js";
import type { ApiKeysRepository } from "./api-keys.repository.js";
import { createKeyCache } from "./key-cache.js";

/** Secret keys look like `sk_test_<32 alphanumerics>`; the mode says which payment world they act in. */
export const KEY_MODE = "test";
const SECRET_PREFIX = `sk_${KEY_MODE}_`;
const SECRET_PATTERN = new RegExp(`^${SECRET_PREFIX}[0-9A-Za-z]{32}$`);
const DISPLAY_PREFIX_LENGTH = SECRET_PREFIX.length + 4;

/**
 * How stale a key's recorded last use may get. A request writes `last_used_at` only when the
 * recorded time is older than this, so a busy key costs one write a minute, not one per request.
 */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Keys are stored only as SHA-256 hashes. A secret has ~190 bits of entropy, so a fast hash is
 * enough (nothing to brute-force), and lookup by hash through a unique index means the secret is
 * never compared byte by byte against stored values.
 */
export const hashSecret = (secret: string) => hash("sha256", secret, "hex");

/** Compared against when no stored key matched, so an unknown key does the same work as a known one. */
const NO_KEY_DIGEST = Buffer.alloc(32);

/** Constant-time equality of a presented digest and a stored hex hash (absent or malformed: false). */
function sameDigest(presented: Buffer, storedHex: string | undefined): boolean {
  const stored = storedHex === undefined ? null : Buffer.from(storedHex, "hex");
  const usable = stored !== null && stored.length === presented.length;
  const equal = timingSafeEqual(presented, usable ? stored : NO_KEY_DIGEST);
  return usable && equal;
}

export interface ApiKeyView {
  id: string;
  account_id: string;
  mode: string;
  prefix: string;
  created_on: Date;
  last_used_on: Date | null;
  revoked_on: Date | null;
}

const view = (k: {
  id: string;
  accountId: string;
  mode: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}): ApiKeyView => ({
  id: k.id,
  account_id: k.accountId,
  mode: k.mode,
  prefix: k.prefix,
  created_on: k.createdAt,
  last_used_on: k.lastUsedAt,
  revoked_on: k.revokedAt,
});

export interface Principal {
  accountId: string;
  keyId: string;
}

/** Told about failures of work that no request waits for (recording a key's last use). */
export type BackgroundErrorReporter = (error: unknown) => void;

export function createApiKeysService(deps: {
  apiKeys: ApiKeysRepository;
  accounts: Pick<AccountsRepository, "findById">;
  /** Revocations made by any instance, so valid keys can be remembered (see key-cache.ts). */
  changes?: ChangeFeed;
  clock: Clock;
}) {
  const { apiKeys, accounts, clock } = deps;
  const cache = createKeyCache({ changes: deps.changes, now: () => clock().getTime() });
  /** Last-use writes in flight; `settle` waits for them (before the store closes, and in tests). */
  const pending = new Set<Promise<void>>();

  function recordUse(key: { id: string; lastUsedAt: Date | null }, report: BackgroundErrorReporter) {
    const now = clock();
    const staleBefore = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
    if (key.lastUsedAt && key.lastUsedAt >= staleBefore) return; // fresh enough: no write at all
    key.lastUsedAt = now; // the remembered key too: one write a minute, not one per request until it lands
    const write = apiKeys.touchLastUsed(key.id, now, staleBefore).then(
      () => {},
      (error: unknown) => report(error),
    );
    pending.add(write);
    void write.then(() => pending.delete(write));
  }

  async function create(accountId: string, tx?: Db): Promise<ApiKeyView & { secret: string }> {
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
  }

  return {
    /** Creates a key; the returned secret is shown once and never stored. */
    create,

    /**
     * A new key for the same account as `keyId`, which keeps working until it is revoked, so
     * clients can move over before the old one stops. The new secret is shown once.
     */
    async rotate(keyId: string): Promise<ApiKeyView & { secret: string; replaces: string }> {
      const old = await apiKeys.findById(keyId);
      if (!old) throw notFound("api_key", keyId);
      if (old.revokedAt) {
        throw invalidState(`API key '${keyId}' is revoked; create a new key for account '${old.accountId}' instead`);
      }
      return { ...(await create(old.accountId)), replaces: old.id };
    },

    async revoke(keyId: string): Promise<ApiKeyView> {
      const key = await apiKeys.findById(keyId);
      if (!key) throw notFound("api_key", keyId);
      await apiKeys.revoke(keyId, clock());
      cache.forget(key.secretHash); // at once here; other instances when the NOTIFY reaches them
      return view((await apiKeys.findById(keyId)) ?? key);
    },

    async list(accountId: string): Promise<ApiKeyView[]> {
      if (!(await accounts.findById(accountId))) throw notFound("account", accountId);
      return (await apiKeys.listForAccount(accountId)).map(view);
    },

    /**
     * The account a presented secret acts for, or null. Every refusal looks the same to the
     * caller: malformed, unknown and revoked keys all get null. A well-formed secret is looked up
     * by its hash through a unique index, and the stored hash is then compared in constant time;
     * an unknown key compares against a dummy digest and a revoked one is refused only after the
     * comparison, so both do the same work. A malformed secret is refused before any look-up:
     * the format is public, so that timing tells nothing. A valid key's last use is recorded in
     * the background (at most once per LAST_USED_RESOLUTION_MS); `onBackgroundError` hears of a
     * failed write, which never fails the request. Valid keys are remembered (key-cache.ts), so a
     * busy client costs no look-up per request; a revocation anywhere is heard at once.
     */
    async authenticate(
      secret: string,
      onBackgroundError: BackgroundErrorReporter = () => {},
    ): Promise<Principal | null> {
      if (!SECRET_PATTERN.test(secret)) return null;
      const hash = hashSecret(secret);
      // Only a valid key is remembered; unknown and revoked ones are looked up every time.
      const key = await cache.remember(hash, async () => {
        const found = await apiKeys.findBySecretHash(hash);
        const matches = sameDigest(Buffer.from(hash, "hex"), found?.secretHash);
        if (!found || !matches || found.revokedAt) return null;
        const { revokedAt: _, ...valid } = found;
        return valid;
      });
      if (!key) return null;
      recordUse(key, onBackgroundError);
      return { accountId: key.accountId, keyId: key.id };
    },

    /** Resolves once every last-use write started so far has finished (or failed and been reported). */
    async settle(): Promise<void> {
      await Promise.all([...pending]);
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
