/**
 * A merchant gateway and its merchant, as the adapter's HTTP tests play them: keys held by the
 * independent reference signer (Node's crypto), requests and orders signed by it, canonical JSON
 * written here again from the spec's words (sorted keys at every level) or the samples' expression.
 */
import { runOperation } from "../../../src/admin/admin.operations.js";
import type { Services } from "../../../src/core/services.js";
import type { Database } from "../../../src/db/database.js";
import {
  type ReferenceKey,
  type ReferenceSignature,
  referenceKey,
  referenceRequestMessage,
  referenceSign,
} from "./reference-signer.js";

/** Kassa's OCID in these tests. */
export const KASSA_OCID = "900";

export const MERCHANT_KEY = referenceKey("1111111111111111111111111111111111111111111111111111111111111111");
export const GATEWAY_KEY = referenceKey("2222222222222222222222222222222222222222222222222222222222222222");
export const STRANGER_KEY = referenceKey("3333333333333333333333333333333333333333333333333333333333333333");

/** Sorted keys at every level, no whitespace (the protocol text's canonical form), written independently. */
export function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The code samples' form: a key-array replacer, which drops nested keys that are not top-level keys. */
export const sampleJson = (value: Record<string, unknown>) => JSON.stringify(value, Object.keys(value).sort());

export type Encoding = "rsv" | "compact" | "der";
export const encoded = (signature: ReferenceSignature, encoding: Encoding) => signature[encoding];

export function signOrderAs(
  order: Record<string, unknown>,
  key: ReferenceKey = MERCHANT_KEY,
  opts: { form?: "deep" | "shallow"; encoding?: Encoding } = {},
): string {
  const text = opts.form === "shallow" ? sampleJson(order) : sortedJson(order);
  return encoded(referenceSign(text, key), opts.encoding ?? "rsv");
}

let orderCounter = 0;

/** A seed-002-shaped order from merchant 500, unique id, expiring in an hour of `now`. */
export function anOrder(now: Date, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  orderCounter += 1;
  const seconds = Math.floor(now.getTime() / 1000);
  return {
    id: `ord_${orderCounter}_${Math.random().toString(36).slice(2, 8)}`,
    ocid: 500,
    reference: "INV-001",
    amount: "99.99",
    currency: "USD",
    items: [{ id: "item_001", name: "Product A", quantity: 1, price: "99.99" }],
    memo: "Order from Merchant Store",
    createdAt: seconds - 10,
    expiresAt: seconds + 3600,
    accepts: [100, 900],
    ...overrides,
  };
}

export interface SignedRequestOptions {
  ocid?: string;
  key?: ReferenceKey;
  timestamp?: number;
  nonce?: string;
  encoding?: Encoding;
  /** The path signed, when it differs from the one sent (a tampering test). */
  signedPath?: string;
  /** The body signed, when it differs from the one sent. */
  signedBody?: string;
  method?: string;
}

let nonceCounter = 0;
export const freshNonce = () => `req_${Date.now().toString(16)}${(nonceCounter++).toString(16).padStart(8, "0")}`;

/** Sends `body` (exact text) to `path` on `baseUrl` signed as the gateway (OCID 600) unless told otherwise. */
export async function signedFetch(baseUrl: string, path: string, body: string | null, opts: SignedRequestOptions = {}) {
  const ocid = opts.ocid ?? "600";
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? freshNonce();
  const method = opts.method ?? (body === null ? "GET" : "POST");
  const message = referenceRequestMessage({
    ocid,
    timestamp,
    nonce,
    method,
    path: opts.signedPath ?? path,
    body: opts.signedBody ?? body ?? "",
  });
  const signature = encoded(referenceSign(message, opts.key ?? GATEWAY_KEY), opts.encoding ?? "rsv");
  const response = await fetch(baseUrl + path, {
    method,
    headers: {
      "x-oc-id": ocid,
      "x-oc-timestamp": timestamp,
      "x-oc-nonce": nonce,
      "x-oc-signature": signature,
      ...(body === null ? {} : { "content-type": "application/json" }),
    },
    body: body ?? undefined,
  });
  const text = await response.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, body: json, nonce, timestamp };
}

/** A create request body for `order`, signed by the merchant. */
export function createBody(
  order: Record<string, unknown>,
  opts: { signature?: string; merchantOcid?: number; urls?: Record<string, string> } = {},
) {
  return JSON.stringify({
    order,
    signature: opts.signature ?? signOrderAs(order),
    merchantOcid: opts.merchantOcid ?? 500,
    urls: opts.urls ?? { success: "https://merchant.example/success", cancel: "https://merchant.example/cancel" },
  });
}

/** Registers merchant 500 ("Merchant Store") and gateway 600 through the operator commands. */
export async function registerParticipants(
  t: { services: Services; db: Database },
  gatewayEndpoint = "https://gateway.example/opencharge",
) {
  const ctx = { services: t.services, db: t.db };
  await runOperation(ctx, "opencharge.participants.add", {
    ocid: "500",
    name: "Merchant Store",
    public_key: MERCHANT_KEY.publicHex,
    endpoint: "https://merchant.example/opencharge",
    role: "merchant",
  });
  await runOperation(ctx, "opencharge.participants.add", {
    ocid: "600",
    name: "Gateway",
    public_key: GATEWAY_KEY.publicHex,
    endpoint: gatewayEndpoint,
    role: "merchant-gateway",
  });
}

export const OPENCHARGE_ENV = { OPENCHARGE_OCID: KASSA_OCID, OPENCHARGE_CURRENCIES: "USD,EUR" };
