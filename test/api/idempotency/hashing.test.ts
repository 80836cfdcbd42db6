import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, canonicalJsonWithStack, requestHash } from "../../../src/api/idempotency/hashing.js";

/** JSON.stringify of the value with every object's keys sorted: what both writers must give. */
function sortedStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

/** Keys that are array indices (listed first by Object.keys, in numeric order) beside ordinary ones. */
const key = fc.oneof(fc.string(), fc.constantFrom("0", "1", "2", "10", "9", "4294967294", "4294967295", "01", "-1"));
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string(),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 5 }),
  ),
})).value;

describe("request hashing", () => {
  it("writes every JSON value as JSON.stringify does with its keys sorted, recursively or with a stack", () => {
    fc.assert(
      fc.property(json, (value) => {
        const expected = sortedStringify(value);
        expect(canonicalJson(value)).toBe(expected);
        expect(canonicalJsonWithStack(value)).toBe(expected);
      }),
      { numRuns: 500, seed: 13 },
    );
  });

  it("writes a value nested far deeper than recursion goes, the same way", () => {
    let deep: unknown = { b: 1, a: [true, null] };
    for (let i = 0; i < 50_000; i++) deep = i % 2 ? [deep] : { z: deep, "10": 1, "9": 2 };
    const text = canonicalJson(deep);
    expect(text).toBe(canonicalJsonWithStack(deep));
    expect(text.startsWith('[{"9":2,"10":1,"z":[{"9":2,"10":1,"z":')).toBe(true);
  });

  it("is the same request whatever the order of the body's keys, and another for another body", () => {
    const a = requestHash({ method: "POST", url: "/v1/x", scope: "", body: { b: 2, a: { d: [1, 2], c: null } } });
    const b = requestHash({ method: "POST", url: "/v1/x", scope: "", body: { a: { c: null, d: [1, 2] }, b: 2 } });
    const c = requestHash({ method: "POST", url: "/v1/x", scope: "", body: { a: { c: null, d: [2, 1] }, b: 2 } });
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});
