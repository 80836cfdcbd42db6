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
  referenceVerify,
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

export interface ReceivedProof {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A merchant gateway's `/transfer/webhook` on a loopback port: records what arrives and answers
 * with what `answer` says (by default `{status: "accepted", txid}`).
 */
export async function startProofReceiver(
  answer: (received: ReceivedProof, index: number) => { status: number; body: unknown } = (r) => ({
    status: 200,
    body: { status: "accepted", txid: JSON.parse(r.body).proof.txid },
  }),
) {
  const { createServer } = await import("node:http");
  const received: ReceivedProof[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const got = { path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(got);
      const { status, body } = answer(got, received.length - 1);
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    received,
    /** The gateway's endpoint (its base URL); proofs arrive at `<endpoint>/transfer/webhook`. */
    endpoint: `http://127.0.0.1:${port}/gw`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Checks a received proof with the test's own code: the request's X-OC-* signature over the spec's
 * string (path as received, body hash) and the proof's signature over its sorted-keys JSON, both
 * with Kassa's published key. Returns the proof.
 */
export function verifyReceivedProof(received: ReceivedProof, kassaPublicKey: string, kassaOcid = KASSA_OCID) {
  const h = (name: string) => String(received.headers[name] ?? "");
  const message = referenceRequestMessage({
    ocid: h("x-oc-id"),
    timestamp: h("x-oc-timestamp"),
    nonce: h("x-oc-nonce"),
    method: "POST",
    path: received.path,
    body: received.body,
  });
  const requestOk =
    h("x-oc-id") === kassaOcid &&
    /^[0-9a-f]{130}$/.test(h("x-oc-signature")) &&
    referenceVerify(message, h("x-oc-signature").slice(0, 128), kassaPublicKey);
  const envelope = JSON.parse(received.body) as { proof: Record<string, unknown>; signature: string };
  const proofOk = referenceVerify(sortedJson(envelope.proof), envelope.signature.slice(0, 128), kassaPublicKey);
  return { requestOk, proofOk, proof: envelope.proof, signature: envelope.signature };
}
