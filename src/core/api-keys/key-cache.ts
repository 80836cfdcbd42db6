import type { ChangeFeed } from "../../db/database.js";

/** The NOTIFY channel on which a revocation names the key's secret hash to every instance. */
export const API_KEY_CHANGES_CHANNEL = "kassa_api_keys";

/** How long a key is trusted from memory at most, even with the feed live: a safety net only. */
export const KEY_CACHE_TTL_MS = 60_000;

/** Keys remembered at most; the oldest is forgotten first. */
const KEY_CACHE_MAX_ENTRIES = 10_000;

/** What authentication needs to know of a key. */
export interface CachedKey {
  id: string;
  accountId: string;
  secretHash: string;
  lastUsedAt: Date | null;
}

/**
 * Valid keys by secret hash, so a busy client's requests do not look its key up every time.
 * Correct only while revocations reach it: each instance LISTENs on API_KEY_CHANGES_CHANNEL and
 * forgets a key the moment its revocation commits anywhere. While that connection is down (or
 * not yet up) nothing is served from memory, so a revoked key is never accepted from here.
 * Unknown and revoked keys are never remembered: they are looked up every time.
 */
export function createKeyCache(deps: { changes?: ChangeFeed; now: () => number }) {
  const entries = new Map<string, { key: CachedKey; at: number }>();
  let live = false;
  let subscribed = false;
  /** Bumped by every invalidation: a lookup that started before one must not fill the cache. */
  let generation = 0;

  const forgetAll = () => {
    generation++;
    entries.clear();
  };

  function subscribe() {
    if (subscribed || !deps.changes) return;
    subscribed = true;
    deps.changes.listen(API_KEY_CHANGES_CHANNEL, {
      message(secretHash) {
        generation++;
        entries.delete(secretHash);
      },
      live(listening) {
        forgetAll(); // whatever happened while not listening is unknown
        live = listening;
      },
    });
  }

  return {
    /** The key remembered for this hash, if the cache may be trusted now. */
    get(secretHash: string): CachedKey | undefined {
      subscribe();
      if (!live) return undefined;
      const entry = entries.get(secretHash);
      if (!entry) return undefined;
      if (deps.now() - entry.at > KEY_CACHE_TTL_MS) {
        entries.delete(secretHash);
        return undefined;
      }
      return entry.key;
    },
    /** A token to pass to `put`, taken before the database lookup whose result will be put. */
    ticket: () => generation,
    /** Remembers a valid key looked up under `ticket`, unless something was revoked since. */
    put(key: CachedKey, ticket: number) {
      if (!live || ticket !== generation) return;
      if (entries.size >= KEY_CACHE_MAX_ENTRIES) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(key.secretHash, { key, at: deps.now() });
    },
    /** Forgets one key at once (this instance revoked it; the others hear the NOTIFY). */
    forget(secretHash: string) {
      generation++;
      entries.delete(secretHash);
    },
  };
}

export type KeyCache = ReturnType<typeof createKeyCache>;
