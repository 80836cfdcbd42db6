/**
 * What Opencharge signs, as bytes: the request and response canonical strings and the two
 * canonical JSON forms of signed documents (orders, transfer proofs, metadata config).
 *
 * Canonical JSON, as the documents disagree (see shared/design/opencharge.md):
 * - `deep`: the protocol text ("keys sorted alphabetically at all levels, no whitespace, minimal
 *   escaping"). Keys are sorted by UTF-16 code units (JavaScript's default sort), values are
 *   written as `JSON.stringify` writes them; for anything `JSON.parse` produces this is RFC 8785
 *   (JCS). This is the only form Kassa emits: it is what the spec says, and it is the only one
 *   that signs nested content (a proof's `to.ocid`, an order's item prices).
 * - `shallow`: what every code sample computes, `JSON.stringify(obj, Object.keys(obj).sort())`.
 *   An array replacer applies at every depth, so nested keys that are not also top-level keys
 *   vanish: an order's items become `[{"id":…}]`, a proof's `from`/`to` become `{}`. Reproduced
 *   here by calling exactly that expression, so its quirks match the peers' bytes. Accepted only
 *   where a verifier opts in (orders by default, see signing.ts).
 */
import { createHash } from "node:crypto";

export type CanonicalForm = "deep" | "shallow";

/** Sorted keys at every level, no whitespace: the protocol text's form, and the one Kassa signs. */
export function deepCanonicalJson(value: unknown): string {
  // A round trip through JSON first gives JSON.stringify's semantics for everything but key order:
  // toJSON, undefined members dropped, undefined array slots and non-finite numbers as null.
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError("Value has no JSON representation");
  return writeSorted(JSON.parse(text));
}

function writeSorted(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(writeSorted).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${writeSorted(record[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The code samples' form, byte for byte: `JSON.stringify(obj, Object.keys(obj).sort())`. */
export function shallowCanonicalJson(value: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(value, Object.keys(value).sort());
}

export function canonicalJson(value: Readonly<Record<string, unknown>>, form: CanonicalForm): string {
  return form === "deep" ? deepCanonicalJson(value) : shallowCanonicalJson(value);
}

/** Raw bytes as sent; a string is taken as its UTF-8 bytes; no body is the empty string. */
export type Body = Uint8Array | string | null | undefined;

export function sha256(data: Uint8Array | string): Uint8Array {
  return createHash("sha256").update(data).digest();
}

export const sha256Hex = (data: Uint8Array | string): string => createHash("sha256").update(data).digest("hex");

/** hex(sha256(body)), with no body hashed as "" (e3b0c442…b855). */
export const bodyHashHex = (body: Body): string => sha256Hex(body ?? "");

export interface RequestSigningInput {
  /** The caller's OCID, as it appears in X-OC-ID. */
  ocid: string | number;
  /** Unix seconds, as in X-OC-Timestamp. */
  timestamp: string | number;
  nonce: string;
  method: string;
  /** The full path as sent: mount prefix and query string included (`/opencharge/checkout/create?x=1`). */
  path: string;
  body?: Body;
}

/** `ocid\ntimestamp\nnonce\nMETHOD\npath\nhex(sha256(body))`. */
export function requestCanonicalString(input: RequestSigningInput): string {
  return [
    String(input.ocid),
    String(input.timestamp),
    input.nonce,
    input.method.toUpperCase(),
    input.path,
    bodyHashHex(input.body),
  ].join("\n");
}

export interface ResponseSigningInput {
  /** The responder's OCID. */
  ocid: string | number;
  timestamp: string | number;
  /** HTTP status code. */
  status: number;
  /** The response body exactly as sent. */
  body?: Body;
}

/** `ocid\ntimestamp\nstatus_code\nhex(sha256(body))`: no nonce, no method or path. */
export function responseCanonicalString(input: ResponseSigningInput): string {
  return [String(input.ocid), String(input.timestamp), String(input.status), bodyHashHex(input.body)].join("\n");
}
