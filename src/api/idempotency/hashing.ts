import { createHash } from "node:crypto";

/**
 * JSON with object keys sorted at every level, so key order and whitespace do not make a request
 * "different". Written with an explicit stack, not recursion: a body within the size limit can
 * nest tens of thousands of levels (in a field the schema then drops), which would overflow the
 * call stack (a 500) in a recursive walk or in JSON.stringify of the whole value. The text is
 * what JSON.stringify gives for the value with its keys sorted.
 */
export function canonicalJson(value: unknown): string {
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
  return createHash("sha256")
    .update(canonicalJson([parts.method, parts.url, parts.scope, parts.body ?? null]))
    .digest("hex");
}
