import { describe, expect, it } from "vitest";
import { createExpiringCache } from "../../src/core/expiring-cache.js";

/** The per-instance cache of answers that may be a little old: kept for a while, never too many. */

function cacheAt(maxEntries = 100) {
  const clock = { ms: 0 };
  const loads: string[] = [];
  const cache = createExpiringCache<string>({ now: () => clock.ms, ttlMs: 60_000, maxEntries });
  const get = (key: string, value: string | null = `${key}@${clock.ms}`) =>
    cache.remember(key, async () => {
      loads.push(key);
      return value;
    });
  return { cache, clock, loads, get };
}

describe("createExpiringCache", () => {
  it("answers from memory for ttlMs after a load, and loads again once it has passed", async () => {
    const { clock, loads, get } = cacheAt();
    expect(await get("a")).toBe("a@0");
    clock.ms = 59_999;
    expect(await get("a")).toBe("a@0");
    expect(loads).toEqual(["a"]);
    clock.ms = 60_000;
    expect(await get("a")).toBe("a@60000");
    expect(loads).toEqual(["a", "a"]);
  });

  it("keeps no missing answer: a thing that appears is seen at once", async () => {
    const { cache, loads, get } = cacheAt();
    expect(await get("a", null)).toBeNull();
    expect(await get("a", "found")).toBe("found");
    expect(loads).toEqual(["a", "a"]);
    expect(cache.size).toBe(1);
  });

  it("holds at most maxEntries, pushing out the oldest loaded", async () => {
    const { cache, loads, get } = cacheAt(3);
    for (const key of ["a", "b", "c", "d", "e"]) await get(key);
    expect(cache.size).toBe(3);
    loads.length = 0;
    for (const key of ["c", "d", "e"]) await get(key);
    expect(loads).toEqual([]); // still in memory
    await get("a");
    expect(loads).toEqual(["a"]); // pushed out, loaded again (and now "c" is the oldest)
    expect(cache.size).toBe(3);
    await get("c");
    expect(loads).toEqual(["a", "c"]);
  });
});
