import type { ChangeFeed } from "../db/database.js";

/**
 * A per-instance cache of things stored in PostgreSQL, correct only because every change to them
 * reaches it: writers (or triggers) NOTIFY `channel` in the changing transaction, and the cache
 * forgets when the change commits. While the listening connection is down, or not yet up,
 * nothing is served from memory. Entries also expire after `ttlMs`, as a safety net only.
 *
 * A notification's payload names the entry to forget ('' forgets all); with `forgetAllOnChange`,
 * any notification empties the cache (for data whose entries depend on several rows).
 */
export function createNotifiedCache<V>(options: {
  changes?: ChangeFeed;
  channel: string;
  now: () => number;
  ttlMs: number;
  maxEntries: number;
  forgetAllOnChange?: boolean;
}) {
  const entries = new Map<string, { value: V; at: number }>();
  let live = false;
  let subscribed = false;
  /** Bumped by every change: a look-up that started before one must not fill the cache. */
  let generation = 0;

  const forget = (key: string) => {
    generation++;
    entries.delete(key);
  };
  const forgetAll = () => {
    generation++;
    entries.clear();
  };

  function subscribe() {
    if (subscribed || !options.changes) return;
    subscribed = true;
    options.changes.listen(options.channel, {
      message: (payload) => (options.forgetAllOnChange || payload === "" ? forgetAll() : forget(payload)),
      live(listening) {
        forgetAll(); // whatever changed while not listening is unknown
        live = listening;
      },
    });
  }

  return {
    /**
     * The value under `key`: from memory when the cache may be trusted now, else `load()`'s, which
     * is remembered when it is not null and nothing changed while it was loading.
     */
    async remember(key: string, load: () => Promise<V | null>): Promise<V | null> {
      subscribe();
      const entry = live ? entries.get(key) : undefined;
      if (entry && options.now() - entry.at <= options.ttlMs) return entry.value;
      if (entry) entries.delete(key);
      const ticket = generation;
      const value = await load();
      if (value !== null && live && ticket === generation) {
        if (entries.size >= options.maxEntries) {
          const oldest = entries.keys().next().value;
          if (oldest !== undefined) entries.delete(oldest);
        }
        entries.set(key, { value, at: options.now() });
      }
      return value;
    },
    /** Forgets one entry at once (this instance made the change; the others hear the NOTIFY). */
    forget,
    /** Forgets everything at once (this instance made a change; the others hear the NOTIFY). */
    forgetAll,
  };
}

export type NotifiedCache<V> = ReturnType<typeof createNotifiedCache<V>>;
