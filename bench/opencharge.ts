/**
 * The signed Opencharge scenario: a merchant gateway (OCID 600) creating sessions for its merchant
 * (500) through `POST /opencharge/checkout/create`, each with a fresh order id, nonce and
 * timestamp, signed by the load generator with Node's crypto (OpenSSL), as a peer would. Also the
 * cost of the server's own verification (its @noble/curves code), measured in-process.
 */
import { createECDH, createHash, createPrivateKey, type KeyObject, randomUUID, sign } from "node:crypto";
import { performance } from "node:perf_hooks";
import { generatePrivateKey } from "../src/api/opencharge/keys.js";
import { signResponse, verifyOrderSignature, verifyRequestSignature } from "../src/api/opencharge/signing.js";

export const OC_KASSA_OCID = "900";
export const OC_MERCHANT_OCID = "500";
export const OC_GATEWAY_OCID = "600";
export const OC_CREATE_PATH = "/opencharge/checkout/create";

// Bench-only keys: nothing but this harness trusts them.
const MERCHANT_SECRET = "5e5e".repeat(16);
const GATEWAY_SECRET = "6a6a".repeat(16);

function keyPair(hex: string): { key: KeyObject; publicHex: string } {
  const ecdh = createECDH("secp256k1");
  ecdh.setPrivateKey(Buffer.from(hex, "hex"));
  const point = ecdh.getPublicKey();
  const b64 = (bytes: Buffer) => bytes.toString("base64url");
  const jwk = {
    kty: "EC",
    crv: "secp256k1",
    d: b64(Buffer.from(hex, "hex")),
    x: b64(point.subarray(1, 33)),
    y: b64(point.subarray(33)),
  };
  return { key: createPrivateKey({ key: jwk, format: "jwk" }), publicHex: point.subarray(1).toString("hex") };
}

export const OC_MERCHANT = keyPair(MERCHANT_SECRET);
export const OC_GATEWAY = keyPair(GATEWAY_SECRET);

const signHex = (text: string, key: KeyObject) =>
  sign("sha256", Buffer.from(text), { key, dsaEncoding: "ieee-p1363" }).toString("hex");

const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(",")}]`
    : v && typeof v === "object"
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(",")}}`
      : JSON.stringify(v);

/** One signed create: its body and X-OC-* headers, fresh each time. */
export function signedCreate(): { body: string; headers: Record<string, string> } {
  const now = Math.floor(Date.now() / 1000);
  const order = {
    id: `ord_${randomUUID()}`,
    ocid: Number(OC_MERCHANT_OCID),
    amount: "99.99",
    currency: "USD",
    items: [{ id: "item_001", name: "Product A", quantity: 1, price: "99.99" }],
    memo: "Bench order",
    createdAt: now,
    expiresAt: now + 3600,
  };
  const body = JSON.stringify({
    order,
    signature: signHex(canonical(order), OC_MERCHANT.key),
    merchantOcid: Number(OC_MERCHANT_OCID),
    urls: { success: "https://example.com/ok", cancel: "https://example.com/cancel" },
  });
  const nonce = `req_${randomUUID().replaceAll("-", "")}`;
  const hash = createHash("sha256").update(body).digest("hex");
  const message = [OC_GATEWAY_OCID, now, nonce, "POST", OC_CREATE_PATH, hash].join("\n");
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-oc-id": OC_GATEWAY_OCID,
      "x-oc-timestamp": String(now),
      "x-oc-nonce": nonce,
      "x-oc-signature": signHex(message, OC_GATEWAY.key),
    },
  };
}

/** Microseconds per call of `fn` over `perRound` calls, the median of `rounds` rounds. */
function medianMicros(rounds: number, perRound: number, fn: (i: number) => void): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (let i = 0; i < perRound; i++) fn(i);
    times.push(((performance.now() - start) * 1000) / perRound);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(times.length / 2)]!);
}

/** What signing one answer (X-OC-Signature over status and body) costs the server, in microseconds. */
export function responseSigningMicros(rounds = 5, perRound = 200): number {
  const key = generatePrivateKey();
  const body = JSON.stringify({
    checkout_url: "https://kassa.example/pay/sess_0123456789",
    session_id: "sess_0123456789",
    expires_at: 1,
  });
  return medianMicros(rounds, perRound, (i) =>
    signResponse({ ocid: OC_KASSA_OCID, timestamp: i, status: 200, body }, key),
  );
}

/**
 * What the server's signature checks of one create cost in CPU: the request's and the order's
 * verification with the server's own code, as microseconds per create (median of rounds).
 */
export function verificationMicros(rounds = 5, perRound = 200): number {
  const samples = Array.from({ length: perRound }, () => {
    const { body, headers } = signedCreate();
    const parsed = JSON.parse(body) as { order: Record<string, unknown>; signature: string };
    return { body, headers, parsed };
  });
  return medianMicros(rounds, perRound, (i) => {
    const { body, headers, parsed } = samples[i]!;
    {
      const request = verifyRequestSignature(
        {
          ocid: headers["x-oc-id"]!,
          timestamp: headers["x-oc-timestamp"]!,
          nonce: headers["x-oc-nonce"]!,
          method: "POST",
          path: OC_CREATE_PATH,
          body,
        },
        headers["x-oc-signature"]!,
        OC_GATEWAY.publicHex,
      );
      const order = verifyOrderSignature(parsed.order, parsed.signature, OC_MERCHANT.publicHex);
      if (!request.ok || !order.ok) throw new Error("bench: the server's code refused the bench's own signatures");
    }
  });
}
