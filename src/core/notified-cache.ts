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
    /** The remembered value, if the cache may be trusted now. */
    get(key: string): V | undefined {
      subscribe();
      if (!live) return undefined;
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (options.now() - entry.at > options.ttlMs) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    /** A token to pass to `put`, taken before the database look-up whose result will be put. */
    ticket: () => generation,
    /** Remembers a value looked up under `ticket`, unless anything changed since. */
    put(key: string, value: V, ticket: number) {
      if (!live || ticket !== generation) return;
      if (entries.size >= options.maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(key, { value, at: options.now() });
    },
    /** Forgets one entry at once (this instance made the change; the others hear the NOTIFY). */
    forget,
    /** Forgets everything at once (this instance made a change; the others hear the NOTIFY). */
    forgetAll,
  };
}

export type NotifiedCache<V> = ReturnType<typeof createNotifiedCache<V>>;
