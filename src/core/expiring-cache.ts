/**
 * A per-instance memory of recent answers that may be a little old by design (what a public page
 * already tells caches to keep for a while): each answer is kept `ttlMs` after it was loaded, at
 * most `maxEntries` of them, the oldest loaded going first when it is full. Nothing tells it of
 * changes (unlike `notified-cache.ts`); a caller that must see one at once asks the store for it.
 * A missing answer (null) is never kept, so a thing that comes into being is seen at once.
 */
export function createExpiringCache<V>(options: { now: () => number; ttlMs: number; maxEntries: number }) {
  const entries = new Map<string, { value: V; at: number }>();

  return {
    /** The value under `key` if it was loaded less than `ttlMs` ago, else `load()`'s (kept unless null). */
    async remember(key: string, load: () => Promise<V | null>): Promise<V | null> {
      const entry = entries.get(key);
      if (entry && options.now() - entry.at < options.ttlMs) return entry.value;
      const value = await load();
      entries.delete(key); // re-inserted last: the Map's order is the order of loading
      if (value === null) return value;
      while (entries.size >= options.maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
      entries.set(key, { value, at: options.now() });
      return value;
    },
    /** How many answers are kept now (expired ones are dropped only when asked for again or pushed out). */
    get size() {
      return entries.size;
    },
  };
}

export type ExpiringCache<V> = ReturnType<typeof createExpiringCache<V>>;
