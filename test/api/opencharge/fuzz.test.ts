import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FuzzRequest, type FuzzResponse, fuzzSurface, type OpenApiDocument } from "../../helpers/api-fuzz.js";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { type ReferenceKey, referenceRequestMessage, referenceSignWithoutRecovery } from "./reference-signer.js";
import {
  GATEWAY_KEY,
  MERCHANT_KEY,
  OPENCHARGE_ENV,
  registerParticipants,
  STRANGER_KEY,
  signedFetch,
  sortedJson,
} from "./support.js";

/**
 * The Opencharge surface (/opencharge) under the seeded property-based fuzz run derived from its
 * served OpenAPI document (test/helpers/api-fuzz.ts), with every request signed as it is sent:
 * the X-OC-* headers over the mutated raw body and the path as the server receives it, by the
 * registered gateway's key (test's own signer), so the hostile bodies reach past authentication
 * to the envelope, the order and the session. Most create bodies that still hold an order carry
 * the merchant's signature over it, so orders are judged on their content. A share goes unsigned
 * or badly signed (another key, an unknown OCID, a stale timestamp, another body or path, a
 * replayed nonce, a malformed signature). No 5xx, every error Opencharge's
 * `{"error": {code, message, details?}}` with a code the document lists, the server healthy after.
 * Replay a failure with the FUZZ_SEED (and FUZZ_RUNS) its message names.
 */

const BASE = "/opencharge";
const RUNS = 1500;

let t: TestApp;
let document: OpenApiDocument;
let documentedCodes: string[];
beforeAll(async () => {
  // No rate limits: the fuzzer sends as fast as the app answers, all as one caller.
  t = await startTestApp({ ...OPENCHARGE_ENV, RATE_LIMIT_MAX: "0", AUTH_FAILURE_LIMIT_MAX: "0" });
  await registerParticipants(t);
  document = (await t.app.inject({ method: "GET", url: `${BASE}/openapi.json` })).json() as OpenApiDocument;
  const errorSchema = document.components?.schemas?.OpenchargeError as any;
  documentedCodes = errorSchema.properties.error.properties.code.enum;
});
afterAll(() => t?.close());

/** Opencharge's error format: JSON, exactly {error: {code, message, details?}}, a documented code. */
function isOpenchargeError(response: FuzzResponse): boolean {
  if (!/^application\/json/.test(String(response.headers["content-type"] ?? ""))) return false;
  const body = response.json as { error?: Record<string, unknown> } | undefined;
  if (!body || typeof body !== "object" || Array.isArray(body) || Object.keys(body).join() !== "error") return false;
  const error = body.error;
  if (!error || typeof error !== "object" || Array.isArray(error)) return false;
  const keys = Object.keys(error).sort().join();
  if (keys !== "code,message" && keys !== "code,details,message") return false;
  if ("details" in error && (!error.details || typeof error.details !== "object")) return false;
  return (
    typeof error.code === "string" &&
    documentedCodes.includes(error.code) &&
    typeof error.message === "string" &&
    error.message.length > 0
  );
}

// ---------------------------------------------------------------------------------------------
// Signing what is sent

const seconds = () => Math.floor(Date.now() / 1000);
let nonces = 0;
const usedNonces: string[] = [];
const nextNonce = () => `req_fuzz_${(nonces++).toString(16).padStart(8, "0")}`;

/** The path and query as the server sees them (app.inject resolves the URL as a client would). */
function pathAsReceived(url: string): string {
  try {
    const parsed = new URL(url, "http://localhost");
    return parsed.pathname + parsed.search;
  } catch {
    return url;
  }
}

const bodyBytes = (body: FuzzRequest["body"]) =>
  body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);

/** The request without any X-OC-* header the generator put on it. */
function withoutAuth(request: FuzzRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(request.headers).filter(([name]) => !/^x-oc-/i.test(name)));
}

interface Signing {
  ocid: string;
  key: ReferenceKey;
  timestamp: number;
  nonce: string;
  path: string;
  body: Buffer;
  encoding: "compact" | "der";
  /** Replaces the signature (a malformed one). */
  signature?: string;
}

function signedHeaders(request: FuzzRequest, s: Signing): Record<string, string> {
  const message = referenceRequestMessage({
    ocid: s.ocid,
    timestamp: String(s.timestamp),
    nonce: s.nonce,
    method: request.method,
    path: s.path,
    body: s.body,
  });
  const signature = s.signature ?? referenceSignWithoutRecovery(message, s.key)[s.encoding];
  return {
    "x-oc-id": s.ocid,
    "x-oc-timestamp": String(s.timestamp),
    "x-oc-nonce": s.nonce,
    "x-oc-signature": signature,
  };
}

/** A create body whose order is still an object gets the merchant's signature over it (deep canonical JSON). */
function withMerchantSignature(request: FuzzRequest): FuzzRequest {
  if (request.method !== "POST" || typeof request.body !== "string") return request;
  let parsed: unknown;
  try {
    parsed = JSON.parse(request.body);
  } catch {
    return request;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return request;
  const order = (parsed as { order?: unknown }).order;
  if (!order || typeof order !== "object" || Array.isArray(order)) return request;
  const signature = referenceSignWithoutRecovery(sortedJson(order), MERCHANT_KEY).compact;
  return { ...request, body: JSON.stringify({ ...parsed, signature }) };
}

const tally = { unsigned: 0, badlySigned: 0, signed: 0, merchantSigned: 0 };

/**
 * Five in a hundred requests go as generated (unsigned, or with the generator's junk X-OC-*
 * headers), fifteen badly signed, the rest signed by gateway 600; of the create requests signed,
 * three in four carry the merchant's own signature over their order.
 */
function prepare(generated: FuzzRequest, pick: number): FuzzRequest {
  const share = pick % 100;
  if (share < 5) {
    tally.unsigned += 1;
    return generated;
  }
  let request = generated;
  if (share >= 20 && Math.floor(pick / 100) % 4 !== 0) {
    const resigned = withMerchantSignature(generated);
    if (resigned !== generated) tally.merchantSigned += 1;
    request = resigned;
  }
  const path = pathAsReceived(request.url);
  const body = bodyBytes(request.body);
  const good: Signing = {
    ocid: "600",
    key: GATEWAY_KEY,
    timestamp: seconds(),
    nonce: nextNonce(),
    path,
    body,
    encoding: Math.floor(pick / 400) % 2 === 0 ? "compact" : "der",
  };
  let signing = good;
  if (share < 20) {
    tally.badlySigned += 1;
    const variants: Array<Partial<Signing>> = [
      { key: STRANGER_KEY }, // INVALID_SIGNATURE
      { ocid: "777" }, // UNKNOWN_OCID
      { timestamp: good.timestamp - 301 }, // TIMESTAMP_EXPIRED
      { timestamp: good.timestamp + 400 },
      { body: Buffer.concat([body, Buffer.from(" ")]) }, // signed another body
      { path: path.replace(BASE, "") || "/" }, // signed without the mount prefix
      { nonce: usedNonces[pick % Math.max(usedNonces.length, 1)] ?? good.nonce }, // NONCE_REUSED
      { signature: "zz".repeat(65) },
      { signature: "ab" }, // a malformed encoding
    ];
    signing = { ...good, ...variants[share % variants.length] };
  } else {
    tally.signed += 1;
  }
  usedNonces.push(good.nonce);
  return { ...request, headers: { ...withoutAuth(request), ...signedHeaders(request, signing) } };
}

describe(`fuzzing the Opencharge API from its OpenAPI document, requests signed (${storeKind})`, () => {
  it("answers hostile signed requests without a 5xx, every error in Opencharge's format, and stays healthy", async () => {
    const report = await fuzzSurface({
      app: t.app,
      document,
      basePath: BASE,
      authHeaders: {},
      isSurfaceError: isOpenchargeError,
      prepare,
      numRuns: RUNS,
    });
    const runs = Number(process.env.FUZZ_RUNS ?? RUNS);
    expect(report.requests).toBe(runs);
    const statuses = JSON.stringify({ statuses: report.statuses, tally });
    // Each way in was taken.
    expect(tally.unsigned + tally.badlySigned + tally.signed).toBe(runs);
    expect(tally.unsigned, statuses).toBeGreaterThan(runs / 50);
    expect(tally.badlySigned, statuses).toBeGreaterThan(runs / 10);
    expect(tally.merchantSigned, statuses).toBeGreaterThan(runs / 20);
    // The run reached past authentication: successes, 400s (the body judged), 401s, more than one refusal.
    const count = (from: number, to: number) =>
      Object.entries(report.statuses)
        .filter(([status]) => Number(status) >= from && Number(status) < to)
        .reduce((n, [, c]) => n + c, 0);
    expect(count(200, 300), statuses).toBeGreaterThan(runs / 20);
    expect(report.statuses[400] ?? 0, statuses).toBeGreaterThan(runs / 50);
    expect(report.statuses[401] ?? 0, statuses).toBeGreaterThan(runs / 50);
    expect(Object.keys(report.statuses).filter((s) => Number(s) >= 400).length).toBeGreaterThanOrEqual(4);
    // Some mutated, signed orders became sessions.
    const sessions = await t.db.prisma.checkoutSession.count({ where: { api: "opencharge" } });
    expect(sessions, statuses).toBeGreaterThan(0);
    // And the gateway can still call with a fresh signed request.
    const after = await signedFetch(t.url, `${BASE}/capabilities`, null);
    expect(after.status, after.text).toBe(200);
  });
});
