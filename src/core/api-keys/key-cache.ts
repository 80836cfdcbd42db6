import type { ChangeFeed } from "../../db/database.js";
import { createNotifiedCache } from "../notified-cache.js";

/**
 * The NOTIFY channel on which a trigger names the secret hash of every key revoked, re-hashed or
 * deleted (by any code path, or by hand in SQL), and '' when the table is truncated.
 */
export const API_KEY_CHANGES_CHANNEL = "kassa_api_keys";

/** How long a key is trusted from memory at most, even with the feed live: a safety net only. */
export const KEY_CACHE_TTL_MS = 60_000;

/** What authentication needs to know of a key. */
export interface CachedKey {
  id: string;
  accountId: string;
  secretHash: string;
  lastUsedAt: Date | null;
}

/**
 * Valid keys by secret hash, so a busy client's requests do not look its key up every time. A
 * revocation NOTIFYs the key's hash (a trigger; see the change_notifications migration), so every
 * instance forgets it as the revocation commits. Unknown and revoked keys are never remembered.
 */
export const createKeyCache = (deps: { changes?: ChangeFeed; now: () => number }) =>
  createNotifiedCache<CachedKey>({
    changes: deps.changes,
    channel: API_KEY_CHANGES_CHANNEL,
    now: deps.now,
    ttlMs: KEY_CACHE_TTL_MS,
    maxEntries: 10_000,
  });
