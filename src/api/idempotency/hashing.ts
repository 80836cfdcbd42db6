import { hash } from "node:crypto";

/**
 * JSON with object keys sorted at every level, so key order and whitespace do not make a request
 * "different". The text is what JSON.stringify gives for the value with its keys sorted. A body
 * within the size limit can nest tens of thousands of levels (in a field the schema then drops),
 * which would overflow the call stack (a 500) in a recursive walk or in JSON.stringify of the
 * whole value: up to `MAX_RECURSION` levels a recursive walk writes it (every real body; it is
 * on every keyed request), deeper ones are written with an explicit stack.
 */
export function canonicalJson(value: unknown): string {
  const text = writeRecursively(value ?? null, 0);
  return text ?? canonicalJsonWithStack(value);
}

const MAX_RECURSION = 64;

/** Array indices, which `Object.keys` lists first in numeric order, whatever order they were added in. */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;

/** Whether `k` is an array index (checked by its first character before the pattern: most keys are words). */
const isArrayIndex = (k: string) => {
  const c = k.charCodeAt(0);
  return c >= 48 && c <= 57 && ARRAY_INDEX.test(k);
};

/**
 * An object's keys in the order JSON.stringify writes the object rebuilt with its keys sorted:
 * array indices first (ascending numerically), then the other keys sorted.
 */
function sortedKeys(o: Record<string, unknown>): string[] {
  const keys = Object.keys(o);
  // A body's objects have a handful of keys: sorted in place (Array.prototype.sort copies the
  // array first, the largest allocation of hashing a request). Same order: UTF-16 code units.
  if (keys.length > 16) keys.sort();
  else {
    for (let i = 1; i < keys.length; i++) {
      const key = keys[i] as string;
      let j = i - 1;
      for (; j >= 0 && (keys[j] as string) > key; j--) keys[j + 1] = keys[j] as string;
      keys[j + 1] = key;
    }
  }
  if (!keys.some(isArrayIndex)) return keys;
  return Object.keys(Object.fromEntries(keys.map((k) => [k, true])));
}

/** `v`'s canonical text; null when it nests deeper than MAX_RECURSION. */
function writeRecursively(v: unknown, depth: number): string | null {
  if (depth > MAX_RECURSION) return null;
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) {
      const element = writeRecursively(v[i] === undefined ? null : v[i], depth + 1);
      if (element === null) return null;
      out += i ? `,${element}` : element;
    }
    return `${out}]`;
  }
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    let out = "{";
    let first = true;
    for (const k of sortedKeys(o)) {
      if (o[k] === undefined) continue;
      const member = writeRecursively(o[k], depth + 1);
      if (member === null) return null;
      out += `${first ? "" : ","}${JSON.stringify(k)}:${member}`;
      first = false;
    }
    return `${out}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** canonicalJson with an explicit stack instead of recursion, for values nested too deep to recurse. */
export function canonicalJsonWithStack(value: unknown): string {
  const out: string[] = [];
  // Pieces still to write, last first: literal text, or a value to expand.
  const todo: ({ text: string } | { value: unknown })[] = [{ value: value ?? null }];
  for (let item = todo.pop(); item; item = todo.pop()) {
    if ("text" in item) {
      out.push(item.text);
      continue;
    }
    const v = item.value;
    const pieces: ({ text: string } | { value: unknown })[] = [];
    if (Array.isArray(v)) {
      pieces.push({ text: "[" });
      v.forEach((element, i) => {
        if (i) pieces.push({ text: "," });
        pieces.push({ value: element === undefined ? null : element });
      });
      pieces.push({ text: "]" });
    } else if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      // Rebuilt with sorted insertion, then read back: the key order JSON.stringify would give it.
      const sorted = Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
      pieces.push({ text: "{" });
      let first = true;
      for (const k of Object.keys(sorted)) {
        if (sorted[k] === undefined) continue;
        pieces.push({ text: `${first ? "" : ","}${JSON.stringify(k)}:` }, { value: sorted[k] });
        first = false;
      }
      pieces.push({ text: "}" });
    } else {
      out.push(JSON.stringify(v) ?? "null");
      continue;
    }
    for (let i = pieces.length - 1; i >= 0; i--) todo.push(pieces[i]!);
  }
  return out.join("");
}

/**
 * What makes two requests "the same request" for one key: method, path and query as sent, the
 * scope (subaccount or "") and the body as the client sent it (before any schema defaults or
 * trimming), canonicalised.
 */
export function requestHash(parts: { method: string; url: string; scope: string; body: unknown }): string {
  return hash("sha256", canonicalJson([parts.method, parts.url, parts.scope, parts.body ?? null]), "hex");
}
