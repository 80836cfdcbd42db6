/**
 * Opencharge's authentication headers: building them for outgoing requests and responses, reading
 * them from incoming requests, and the freshness rules (timestamp window, nonce form). All pure:
 * "now" is always a parameter.
 *
 * Emitted nonces are `req_<32 hex>`. Accepted nonces are 8 to 128 characters of letters, digits
 * and `_ - . :` (the docs' own example is `req_abc123`, so the `req_<32 hex>` shape cannot be
 * required). OCIDs are unsigned decimal integers without leading zeros (ERC-721 token ids, up to
 * 78 digits), timestamps Unix seconds as decimal digits.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Body } from "./canonical.js";
import type { PrivateKey } from "./keys.js";
import { signRequest, signResponse } from "./signing.js";

/** Requests and responses are fresh within ±300 s of the receiver's clock. */
export const TIMESTAMP_WINDOW_SECONDS = 300;

/** Header names as Node presents them (lower case). */
export const OC_HEADER = {
  id: "x-oc-id",
  timestamp: "x-oc-timestamp",
  nonce: "x-oc-nonce",
  signature: "x-oc-signature",
} as const;

export interface SignedRequestHeaders {
  "X-OC-ID": string;
  "X-OC-Timestamp": string;
  "X-OC-Nonce": string;
  "X-OC-Signature": string;
}

export interface SignedResponseHeaders {
  "X-OC-ID": string;
  "X-OC-Timestamp": string;
  "X-OC-Signature": string;
}

export const unixSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** A fresh nonce: `req_` and 32 hex characters (128 random bits). */
export const newNonce = (): string => `req_${randomBytes(16).toString("hex")}`;

/**
 * Headers for an outgoing signed request. `path` is the path as it will be sent, prefix and
 * query included; `body` the exact bytes (or string) that will be sent.
 */
export function signedRequestHeaders(
  request: { ocid: string | number; method: string; path: string; body?: Body },
  key: PrivateKey,
  options: { now: Date; nonce?: string },
): SignedRequestHeaders {
  const timestamp = String(unixSeconds(options.now));
  const nonce = options.nonce ?? newNonce();
  const ocid = String(request.ocid);
  const signature = signRequest({ ...request, ocid, timestamp, nonce }, key);
  return { "X-OC-ID": ocid, "X-OC-Timestamp": timestamp, "X-OC-Nonce": nonce, "X-OC-Signature": signature };
}

/** Headers for a signed response; `body` is the response body exactly as sent. */
export function signedResponseHeaders(
  response: { ocid: string | number; status: number; body?: Body },
  key: PrivateKey,
  options: { now: Date },
): SignedResponseHeaders {
  const timestamp = String(unixSeconds(options.now));
  const ocid = String(response.ocid);
  const signature = signResponse({ ...response, ocid, timestamp }, key);
  return { "X-OC-ID": ocid, "X-OC-Timestamp": timestamp, "X-OC-Signature": signature };
}

/** An OCID's text: an unsigned decimal integer without leading zeros (up to 78 digits). */
export const OCID_PATTERN = /^(0|[1-9][0-9]{0,77})$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const NONCE = /^[A-Za-z0-9_.:-]{8,128}$/;

export const isValidOcid = (value: string): boolean => typeof value === "string" && OCID_PATTERN.test(value);
export const isValidNonce = (value: string): boolean => typeof value === "string" && NONCE.test(value);

/**
 * The four request headers' forms (after trimming), the one source of readRequestAuthHeaders'
 * checks and of the headers the OpenAPI document lists (src/api/opencharge/opencharge.schemas.ts).
 */
export const REQUEST_AUTH_HEADER_SCHEMAS = {
  [OC_HEADER.id]: z
    .string()
    .regex(OCID_PATTERN)
    .meta({ description: "The caller's OCID (a registered participant)", examples: ["600"] }),
  [OC_HEADER.timestamp]: z
    .string()
    .regex(TIMESTAMP)
    .meta({
      description: `Unix seconds; refused (TIMESTAMP_EXPIRED) outside ±${TIMESTAMP_WINDOW_SECONDS} s of Kassa's clock`,
      examples: ["1706500000"],
    }),
  [OC_HEADER.nonce]: z
    .string()
    .regex(NONCE)
    .meta({
      description:
        "Unique per caller within the timestamp window (NONCE_REUSED otherwise); 8 to 128 of A-Z a-z 0-9 _ . : -",
      examples: ["req_abc123"],
    }),
  [OC_HEADER.signature]: z
    .string()
    .min(1)
    .max(300)
    .meta({
      description:
        "secp256k1 ECDSA over SHA-256 of `ocid\\ntimestamp\\nnonce\\nMETHOD\\npath\\nhex(sha256(raw body))`, the path as sent (base path and query included): 130 hex r‖s‖v, 128 hex r‖s or DER hex",
      examples: [
        "fc889c8b6cdb0b5bd79fd0bc4b171872173bf08573831f3a37daf3d6b721e1c56ed828416bc1e6416e9bf088bf92a60c5ad3df1f7d6f8a314bc2307e5fb019831c",
      ],
    }),
} as const;

export type TimestampCheck =
  | { ok: true; seconds: number }
  | { ok: false; reason: "malformed_timestamp" }
  /** `skewSeconds` is the timestamp minus now: negative when stale, positive when from the future. */
  | { ok: false; reason: "timestamp_expired"; skewSeconds: number };

/** Is this X-OC-Timestamp within ±window seconds of now (bounds included)? */
export function checkTimestamp(
  value: string | number,
  now: Date,
  windowSeconds: number = TIMESTAMP_WINDOW_SECONDS,
): TimestampCheck {
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string" || !TIMESTAMP.test(text)) return { ok: false, reason: "malformed_timestamp" };
  const seconds = Number(text);
  const skewSeconds = seconds - unixSeconds(now);
  if (Math.abs(skewSeconds) > windowSeconds) return { ok: false, reason: "timestamp_expired", skewSeconds };
  return { ok: true, seconds };
}

/**
 * Until when a nonce must be remembered: a request stamped `t` is accepted until `t + window`,
 * so a nonce is kept until then, counted from its timestamp and not from its arrival (a request
 * stamped 300 s ahead stays replayable for 600 s after it arrives).
 */
export const nonceKeptUntil = (timestampSeconds: number, windowSeconds: number = TIMESTAMP_WINDOW_SECONDS): Date =>
  new Date((timestampSeconds + windowSeconds) * 1000);

export interface RequestAuthHeaders {
  ocid: string;
  timestamp: string;
  nonce: string;
  signature: string;
}

export type HeaderProblem = "missing_header" | "malformed_header";

export type RequestAuthHeadersRead =
  | { ok: true; value: RequestAuthHeaders }
  | { ok: false; reason: HeaderProblem; header: (typeof OC_HEADER)[keyof typeof OC_HEADER] };

/**
 * The four request headers, each present once and well-formed (the signature's encoding and the
 * timestamp's freshness are checked later, by verifyRequestSignature and checkTimestamp).
 */
export function readRequestAuthHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): RequestAuthHeadersRead {
  const checks = [OC_HEADER.id, OC_HEADER.timestamp, OC_HEADER.nonce, OC_HEADER.signature] as const;
  const values: string[] = [];
  for (const header of checks) {
    const value = headers[header];
    if (value === undefined || value === "") return { ok: false, reason: "missing_header", header };
    if (typeof value !== "string" || !REQUEST_AUTH_HEADER_SCHEMAS[header].safeParse(value.trim()).success)
      return { ok: false, reason: "malformed_header", header };
    values.push(value.trim());
  }
  const [ocid, timestamp, nonce, signature] = values as [string, string, string, string];
  return { ok: true, value: { ocid, timestamp, nonce, signature } };
}
