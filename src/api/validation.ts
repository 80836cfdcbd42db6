import type { FastifyError } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import type { FieldErrors } from "../core/errors.js";

export interface IssueLike {
  keyword: string;
  instancePath: string;
  message: string;
  params: Record<string, unknown>;
}

/** A zod issue as a short phrase that reads after a field name: "'amount_kg' must be a number". */
export function phrase(issue: IssueLike): string {
  const p = issue.params;
  switch (issue.keyword) {
    case "invalid_type":
      // zod reports a missing property as an invalid_type whose input was undefined.
      return /received undefined$/.test(issue.message) ? "is required" : `must be ${article(String(p.expected))}`;
    case "too_small":
      if (p.origin === "string")
        return p.minimum === 1 ? "must not be empty" : `must be at least ${p.minimum} characters`;
      if (p.origin === "array") return `must have at least ${p.minimum} items`;
      return `must be greater than ${p.inclusive ? "or equal to " : ""}${p.minimum}`;
    case "too_big":
      if (p.origin === "string") return `must be at most ${p.maximum} characters`;
      if (p.origin === "array") return `must have at most ${p.maximum} items`;
      return `must be less than ${p.inclusive ? "or equal to " : ""}${p.maximum}`;
    case "invalid_format":
      return p.format === "email"
        ? "must be an email address"
        : p.format === "url"
          ? "must be a URL"
          : `must be a valid ${p.format}`;
    case "invalid_value":
      return `must be one of ${(p.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "unrecognized_keys":
      return "is not a recognised parameter";
    default:
      return issue.message;
  }
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/**
 * An empty field map. Field names come from requests, and a key such as "constructor" or
 * "__proto__" must be a new entry, not one Object.prototype already has: the map has no prototype.
 */
export const emptyFieldErrors = (): FieldErrors => Object.create(null);

/**
 * Schema validation errors as a field -> reasons map. Fields are dotted paths into the part of
 * the request that failed (body fields bare, headers and query parameters by their own names).
 */
export function fieldErrorsFrom(error: FastifyError): FieldErrors | null {
  if (!hasZodFastifySchemaValidationErrors(error)) return null;
  const fields = emptyFieldErrors();
  for (const issue of error.validation as unknown as IssueLike[]) {
    const segments = issue.instancePath.split("/").filter(Boolean);
    if (issue.keyword === "unrecognized_keys") segments.push(...((issue.params.keys as string[]) ?? []).slice(0, 1));
    const field =
      segments.join(".") || (error.validationContext === "body" ? "body" : (error.validationContext ?? "request"));
    const reason = `'${field}' ${phrase(issue)}`;
    (fields[field] ??= []).push(reason);
  }
  return fields;
}

interface PathNode {
  key: string;
  parent: PathNode | null;
}

const pathOf = (node: PathNode | null) => {
  const keys: string[] = [];
  for (let n = node; n; n = n.parent) keys.push(n.key);
  return keys.reverse().join(".");
};

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL could not keep a string as given, or null when it can. */
function unstorableText(text: string): string | null {
  if (text.includes("\u0000")) return "must not contain NUL (\\u0000) characters";
  // A UTF-16 surrogate without its pair is no character: stored as UTF-8 it would become U+FFFD,
  // and what was acknowledged would not be what was kept.
  if (LONE_SURROGATE.test(text)) return "must not contain unpaired UTF-16 surrogates (\\ud800-\\udfff)";
  return null;
}

/**
 * Every string in a parsed request part (body, params, query) that the store could not keep as
 * given (a NUL character, which PostgreSQL text cannot hold; a lone surrogate, which it would
 * replace), as a field -> reasons map, or null when there is none. Such a value is refused as
 * invalid input before it reaches the store. Walks iteratively with parent-linked paths: a body
 * within the size limit can still nest tens of thousands of levels. Stops after a few fields, so
 * a body full of such strings costs no more than one that has few.
 */
export function unstorableFieldErrors(value: unknown, rootName: string): FieldErrors | null {
  let fields: FieldErrors | null = null;
  let found = 0;
  const stack: Array<[unknown, PathNode | null]> = [[value, null]];
  while (stack.length && found < 10) {
    const [current, path] = stack.pop()!;
    if (typeof current === "string") {
      const problem = unstorableText(current);
      if (problem) {
        found += 1;
        const field = pathOf(path) || rootName;
        ((fields ??= emptyFieldErrors())[field] ??= []).push(`'${field}' ${problem}`);
      }
    } else if (current !== null && typeof current === "object") {
      for (const [key, child] of Object.entries(current)) stack.push([child, { key, parent: path }]);
    }
  }
  return fields;
}

/** A core field path in the snake_case most wire formats use: `defaultPortfolioId` -> `default_portfolio_id`. */
export const snakeCasePath = (path: string) => path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Core field errors keyed by their snake_case paths, reasons as they are (no prototype: keys may be any text). */
export function snakeCaseFields(fields: FieldErrors): FieldErrors {
  const out: FieldErrors = Object.create(null);
  for (const [path, reasons] of Object.entries(fields)) (out[snakeCasePath(path)] ??= []).push(...reasons);
  return out;
}
