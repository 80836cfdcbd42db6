import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deepCanonicalJson, sha256 } from "../../../src/api/opencharge/canonical.js";
import { parsePrivateKey, parsePublicKey } from "../../../src/api/opencharge/keys.js";
import {
  parseSignature,
  signConfig,
  signMessage,
  signOrder,
  signProof,
  signRequest,
  signResponse,
  verifyConfig,
  verifyDigest,
  verifyMessage,
  verifyOrderSignature,
  verifyProof,
  verifyRequestSignature,
  verifyResponseSignature,
} from "../../../src/api/opencharge/signing.js";
import {
  CONFIG,
  CONFIG_DEEP,
  DOC_ORDER,
  DOC_ORDER_DEEP,
  DOC_ORDER_SHALLOW,
  DOC_PROOF,
  DOC_PROOF_DEEP,
  DOC_PROOF_SHALLOW,
  VECTOR,
} from "./fixtures.js";
import {
  derEncode,
  N,
  recoverPublicKeyHex,
  referenceKey,
  referenceRequestMessage,
  referenceSha256Hex,
  referenceSign,
  referenceVerify,
} from "./reference-signer.js";

const vectorKey = parsePrivateKey(VECTOR.privateKey);
const vectorReference = referenceKey(VECTOR.privateKey);
const otherReference = referenceKey("1".repeat(64));

const scalarHex = (n: bigint) => n.toString(16).padStart(64, "0");
const privateScalar = fc.bigInt({ min: 1n, max: N - 1n }).map(scalarHex);

/** What OpenSSL and the bigint arithmetic say of a 130-hex signature made by the code under test. */
function checkWithReference(message: string, rsv: string, publicHex: string) {
  expect(rsv).toMatch(/^[0-9a-f]{128}(1b|1c)$/);
  const r = BigInt(`0x${rsv.slice(0, 64)}`);
  const s = BigInt(`0x${rsv.slice(64, 128)}`);
  const recovery = Number.parseInt(rsv.slice(128), 16) - 27;
  expect(s <= N / 2n, "low-S").toBe(true);
  expect(referenceVerify(message, rsv.slice(0, 128), publicHex), "OpenSSL verifies r‖s").toBe(true);
  expect(recoverPublicKeyHex(sha256Buffer(message), r, s, recovery as 0 | 1), "v recovers the signer").toBe(publicHex);
}

const sha256Buffer = (message: string) => Buffer.from(referenceSha256Hex(message), "hex");

describe("the known-answer vector", () => {
  it("signs the vector's request to its exact bytes (RFC 6979, low-S, v 1c)", () => {
    expect(signRequest(VECTOR, vectorKey)).toBe(VECTOR.signature);
    expect(signMessage(VECTOR.message, vectorKey)).toBe(VECTOR.signature);
  });

  it("verifies the vector's signature, and OpenSSL agrees with it and its v", () => {
    expect(verifyRequestSignature(VECTOR, VECTOR.signature, VECTOR.publicKey)).toEqual({ ok: true, encoding: "rsv" });
    checkWithReference(VECTOR.message, VECTOR.signature, VECTOR.publicKey);
    expect(VECTOR.signature.endsWith("1c")).toBe(true);
  });

  it("the reference's own message and body hash are the vector's", () => {
    expect(referenceSha256Hex(VECTOR.body)).toBe(VECTOR.bodyHash);
    expect(referenceRequestMessage(VECTOR)).toBe(VECTOR.message);
  });
});

describe("requests: both directions against an independent implementation", () => {
  const requestParts = fc.record({
    ocid: fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
    timestamp: fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }).map(String),
    nonce: fc.stringMatching(/^req_[0-9a-f]{32}$/),
    method: fc.constantFrom("GET", "POST"),
    path: fc.webPath().map((p) => `/opencharge${p}`),
    body: fc.oneof(fc.constant(""), fc.json()),
  });

  it("what Kassa signs, OpenSSL verifies, and v recovers Kassa's key (property)", () => {
    fc.assert(
      fc.property(privateScalar, requestParts, (secret, parts) => {
        const key = parsePrivateKey(secret);
        const signature = signRequest(parts, key);
        checkWithReference(referenceRequestMessage(parts), signature, key.publicKey.hex);
        expect(signRequest(parts, key), "deterministic").toBe(signature);
      }),
      { numRuns: 25 },
    );
  });

  it("what OpenSSL signs, Kassa verifies in all three encodings and with high S (property)", () => {
    fc.assert(
      fc.property(privateScalar, requestParts, (secret, parts) => {
        const reference = referenceKey(secret);
        const signature = referenceSign(referenceRequestMessage(parts), reference);
        const key = parsePublicKey(reference.publicHex);
        for (const [encoding, text] of [
          ["rsv", signature.rsv],
          ["compact", signature.compact],
          ["der", signature.der],
          ["compact", signature.highSCompact],
        ] as const) {
          expect(verifyRequestSignature(parts, text, key)).toEqual({ ok: true, encoding });
        }
      }),
      { numRuns: 25 },
    );
  });

  it("accepts a DER signature with high S (as OpenSSL emits half the time)", () => {
    const signature = referenceSign(VECTOR.message, vectorReference);
    const highS = N - signature.s;
    const der = derEncode(signature.r, highS);
    expect(verifyRequestSignature(VECTOR, der, VECTOR.publicKey)).toEqual({ ok: true, encoding: "der" });
  });

  it("reads upper-case and 0x-prefixed signatures", () => {
    expect(verifyRequestSignature(VECTOR, VECTOR.signature.toUpperCase(), VECTOR.publicKey).ok).toBe(true);
    expect(verifyRequestSignature(VECTOR, `0x${VECTOR.signature}`, VECTOR.publicKey).ok).toBe(true);
  });

  it("verifies against a public key given as 128, 130 or 66 hex", () => {
    const key = parsePublicKey(VECTOR.publicKey);
    for (const spelling of [VECTOR.publicKey, `04${VECTOR.publicKey}`, key.compressedHex, key]) {
      expect(verifyRequestSignature(VECTOR, VECTOR.signature, spelling).ok).toBe(true);
    }
  });

  it.each([
    ["body", { body: '{"amount":"10.01","currency":"USD"}' }],
    ["body (none instead of some)", { body: undefined }],
    ["path", { path: "/opencharge/payment/create2" }],
    ["path (the mount prefix left out)", { path: "/payment/create" }],
    ["path (a query added)", { path: "/opencharge/payment/create?x=1" }],
    ["method", { method: "PUT" }],
    ["nonce", { nonce: "req_abc124" }],
    ["timestamp", { timestamp: "1706500001" }],
    ["ocid", { ocid: "201" }],
  ])("a changed %s fails as a mismatch", (_, change) => {
    expect(verifyRequestSignature({ ...VECTOR, ...change }, VECTOR.signature, VECTOR.publicKey)).toEqual({
      ok: false,
      reason: "mismatch",
    });
  });

  it("another key's signature fails as a mismatch, in every encoding", () => {
    const signature = referenceSign(VECTOR.message, otherReference);
    for (const text of [signature.rsv, signature.compact, signature.der]) {
      expect(verifyRequestSignature(VECTOR, text, VECTOR.publicKey)).toEqual({ ok: false, reason: "mismatch" });
    }
    expect(verifyRequestSignature(VECTOR, VECTOR.signature, otherReference.publicHex)).toEqual({
      ok: false,
      reason: "mismatch",
    });
  });

  it("rejects a signature over the unhashed canonical string (it would cover only its first 32 bytes)", () => {
    const unhashed = vectorKey.signDigest(Buffer.from(VECTOR.message).subarray(0, 32));
    const signature = Buffer.from(unhashed.compact).toString("hex") + (27 + unhashed.recovery).toString(16);
    expect(verifyRequestSignature(VECTOR, signature, VECTOR.publicKey)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("a newline inside a field is malformed input, never verified", () => {
    expect(verifyRequestSignature({ ...VECTOR, nonce: "req_abc\n123" }, VECTOR.signature, VECTOR.publicKey)).toEqual({
      ok: false,
      reason: "malformed_input",
    });
    expect(() => signRequest({ ...VECTOR, path: "/a\nb" }, vectorKey)).toThrow(TypeError);
  });
});

describe("signature encodings and v", () => {
  const compact = VECTOR.signature.slice(0, 128);

  it("v is not checked against the key: 1b, 1c, 00 and 01 all verify (r‖s against the known key decides)", () => {
    for (const v of ["1b", "1c", "00", "01"]) {
      expect(verifyRequestSignature(VECTOR, compact + v, VECTOR.publicKey)).toEqual({ ok: true, encoding: "rsv" });
    }
  });

  it.each(["02", "1a", "1d", "ff"])("v = %s is malformed", (v) => {
    expect(verifyRequestSignature(VECTOR, compact + v, VECTOR.publicKey)).toEqual({
      ok: false,
      reason: "malformed_signature",
    });
  });

  const r = VECTOR.signature.slice(0, 64);
  const s = VECTOR.signature.slice(64, 128);
  it.each([
    ["empty", ""],
    ["not hex", `${compact.slice(2)}zz`],
    ["odd length", `${compact}1`],
    ["126 hex", compact.slice(2)],
    ["r = 0", `${"0".repeat(64)}${s}1b`],
    ["s = 0", `${r}${"0".repeat(64)}1b`],
    ["r = n", `${scalarHex(N)}${s}`],
    ["s = n", `${r}${scalarHex(N)}`],
    ["r ≥ 2^256 − 1", `${"f".repeat(64)}${s}`],
    ["DER with zero integers", "3006020100020100"],
    ["DER cut short", "3044022000"],
    ["DER with a wrong length byte", `30ff${VECTOR.signature.slice(0, 20)}`],
    ["132 hex, neither form", `${VECTOR.signature}00`],
  ])("%s is malformed, answered, never thrown", (_, text) => {
    expect(parseSignature(text)).toBeNull();
    expect(verifyRequestSignature(VECTOR, text, VECTOR.publicKey)).toEqual({
      ok: false,
      reason: "malformed_signature",
    });
  });

  it("non-string signatures and keys are answered, never thrown", () => {
    for (const value of [undefined, null, 42, {}, ["ab"]]) {
      expect(verifyRequestSignature(VECTOR, value as unknown as string, VECTOR.publicKey)).toEqual({
        ok: false,
        reason: "malformed_signature",
      });
      expect(verifyRequestSignature(VECTOR, VECTOR.signature, value as unknown as string)).toEqual({
        ok: false,
        reason: "invalid_public_key",
      });
    }
  });

  it("an invalid public key is its own answer", () => {
    for (const key of ["", "04", VECTOR.publicKey.slice(1), `02${"f".repeat(64)}`]) {
      expect(verifyRequestSignature(VECTOR, VECTOR.signature, key)).toEqual({
        ok: false,
        reason: "invalid_public_key",
      });
    }
  });

  it("parses each encoding to the same r and s", () => {
    const reference = referenceSign(VECTOR.message, vectorReference);
    const parsed = [reference.rsv, reference.compact, reference.der].map(parseSignature);
    expect(parsed.map((p) => p?.encoding)).toEqual(["rsv", "compact", "der"]);
    for (const p of parsed) expect([p?.r, p?.s]).toEqual([reference.r, reference.s]);
    expect(parsed[0]?.v).toBe(27 + reference.recovery);
  });

  it("always emits low-S with the v that recovers the key (property)", () => {
    fc.assert(
      fc.property(privateScalar, fc.uint8Array({ minLength: 32, maxLength: 32 }), (secret, digest) => {
        const key = parsePrivateKey(secret);
        const { compact, recovery } = key.signDigest(digest);
        const rHex = Buffer.from(compact.subarray(0, 32)).toString("hex");
        const sValue = BigInt(`0x${Buffer.from(compact.subarray(32)).toString("hex")}`);
        expect(sValue <= N / 2n).toBe(true);
        expect(recoverPublicKeyHex(Buffer.from(digest), BigInt(`0x${rHex}`), sValue, recovery as 0 | 1)).toBe(
          key.publicKey.hex,
        );
      }),
      { numRuns: 25 },
    );
  });

  it("verifyDigest and verifyMessage agree", () => {
    expect(verifyDigest(sha256(VECTOR.message), VECTOR.signature, VECTOR.publicKey).ok).toBe(true);
    expect(verifyMessage(VECTOR.message, VECTOR.signature, VECTOR.publicKey).ok).toBe(true);
    expect(verifyMessage(`${VECTOR.message} `, VECTOR.signature, VECTOR.publicKey).ok).toBe(false);
  });
});

describe("responses", () => {
  const response = { ocid: "900", timestamp: "1706500000", status: 200, body: '{"checkout_url":"https://x"}' };
  const message = `900\n1706500000\n200\n${referenceSha256Hex(response.body)}`;

  it("Kassa's response signature verifies with OpenSSL over the spec's string", () => {
    const signature = signResponse(response, vectorKey);
    checkWithReference(message, signature, VECTOR.publicKey);
    expect(verifyResponseSignature(response, signature, VECTOR.publicKey)).toEqual({ ok: true, encoding: "rsv" });
  });

  it("a peer's response signature (OpenSSL) verifies; a changed status or body does not", () => {
    const signature = referenceSign(message, vectorReference).der;
    expect(verifyResponseSignature(response, signature, VECTOR.publicKey).ok).toBe(true);
    expect(verifyResponseSignature({ ...response, status: 201 }, signature, VECTOR.publicKey)).toEqual({
      ok: false,
      reason: "mismatch",
    });
    expect(verifyResponseSignature({ ...response, body: "{}" }, signature, VECTOR.publicKey)).toEqual({
      ok: false,
      reason: "mismatch",
    });
  });
});

describe("orders: the merchant's signature, in both canonical forms", () => {
  it("Kassa signs the deep form, which OpenSSL verifies over the hand-written canonical text", () => {
    checkWithReference(DOC_ORDER_DEEP, signOrder(DOC_ORDER, vectorKey), VECTOR.publicKey);
  });

  it("accepts a merchant built from the spec text (deep) and one built from the samples (shallow)", () => {
    const deep = referenceSign(DOC_ORDER_DEEP, vectorReference);
    const shallow = referenceSign(DOC_ORDER_SHALLOW, vectorReference);
    expect(verifyOrderSignature(DOC_ORDER, deep.rsv, VECTOR.publicKey)).toEqual({
      ok: true,
      encoding: "rsv",
      form: "deep",
    });
    expect(verifyOrderSignature(DOC_ORDER, shallow.der, VECTOR.publicKey)).toEqual({
      ok: true,
      encoding: "der",
      form: "shallow",
    });
    expect(verifyOrderSignature(DOC_ORDER, shallow.compact, VECTOR.publicKey).ok).toBe(true);
  });

  it("the order as parsed from JSON with its keys in any order verifies the same", () => {
    const shuffled = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(DOC_ORDER).reverse())));
    expect(
      verifyOrderSignature(shuffled, referenceSign(DOC_ORDER_DEEP, vectorReference).rsv, VECTOR.publicKey).ok,
    ).toBe(true);
    expect(
      verifyOrderSignature(shuffled, referenceSign(DOC_ORDER_SHALLOW, vectorReference).rsv, VECTOR.publicKey).ok,
    ).toBe(true);
  });

  it.each([
    ["amount", { amount: "9.99" }],
    ["currency", { currency: "EUR" }],
    ["accepts", { accepts: [100, 101, 666] }],
    ["expiresAt", { expiresAt: 1806400000 }],
    ["id", { id: "ord_other" }],
    ["an added field", { memo2: "x" }],
  ])("a tampered %s fails in both forms", (_, change) => {
    const tampered = { ...DOC_ORDER, ...change };
    for (const text of [DOC_ORDER_DEEP, DOC_ORDER_SHALLOW]) {
      expect(verifyOrderSignature(tampered, referenceSign(text, vectorReference).rsv, VECTOR.publicKey)).toEqual({
        ok: false,
        reason: "mismatch",
      });
    }
  });

  it("an item's price is signed in the deep form only (the shallow form keeps item ids alone)", () => {
    const repriced = { ...DOC_ORDER, items: [{ ...DOC_ORDER.items[0], price: "0.01" }] };
    const deep = referenceSign(DOC_ORDER_DEEP, vectorReference).rsv;
    const shallow = referenceSign(DOC_ORDER_SHALLOW, vectorReference).rsv;
    expect(verifyOrderSignature(repriced, deep, VECTOR.publicKey)).toEqual({ ok: false, reason: "mismatch" });
    expect(verifyOrderSignature(repriced, shallow, VECTOR.publicKey)).toMatchObject({ ok: true, form: "shallow" });
  });

  it("a caller may insist on the deep form", () => {
    const shallow = referenceSign(DOC_ORDER_SHALLOW, vectorReference).rsv;
    expect(verifyOrderSignature(DOC_ORDER, shallow, VECTOR.publicKey, { forms: ["deep"] })).toEqual({
      ok: false,
      reason: "mismatch",
    });
  });

  it("another merchant's key fails; a non-object order is malformed input", () => {
    const signature = referenceSign(DOC_ORDER_DEEP, vectorReference).rsv;
    expect(verifyOrderSignature(DOC_ORDER, signature, otherReference.publicHex)).toEqual({
      ok: false,
      reason: "mismatch",
    });
    for (const order of [null, "order", 42, [DOC_ORDER]]) {
      expect(verifyOrderSignature(order, signature, VECTOR.publicKey)).toEqual({
        ok: false,
        reason: "malformed_input",
      });
    }
  });

  it("round-trips any JSON object, and a changed value breaks it (property)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), (order) => {
        const signature = signOrder(order, vectorKey);
        expect(verifyOrderSignature(order, signature, vectorReference.publicHex)).toMatchObject({ ok: true });
        expect(referenceVerify(deepCanonicalJson(order), signature.slice(0, 128), VECTOR.publicKey)).toBe(true);
        const key = Object.keys(order)[0]!;
        expect(verifyOrderSignature({ ...order, [key]: [order[key]] }, signature, VECTOR.publicKey).ok).toBe(false);
      }),
      { numRuns: 25 },
    );
  });
});

describe("transfer proofs", () => {
  it("signProof signs the deep form, which OpenSSL verifies over the hand-written text", () => {
    const signature = signProof(DOC_PROOF, vectorKey);
    checkWithReference(DOC_PROOF_DEEP, signature, VECTOR.publicKey);
    expect(verifyProof(DOC_PROOF, signature, VECTOR.publicKey)).toEqual({ ok: true, encoding: "rsv", form: "deep" });
  });

  it("verifies a peer's proof in any encoding", () => {
    const signature = referenceSign(DOC_PROOF_DEEP, vectorReference);
    for (const text of [signature.rsv, signature.compact, signature.der, signature.highSCompact]) {
      expect(verifyProof(DOC_PROOF, text, VECTOR.publicKey).ok).toBe(true);
    }
  });

  it("a redirected proof (to.ocid changed) or another amount fails", () => {
    const signature = signProof(DOC_PROOF, vectorKey);
    const redirected = { ...DOC_PROOF, to: { ...DOC_PROOF.to, ocid: 999 } };
    expect(verifyProof(redirected, signature, VECTOR.publicKey)).toEqual({ ok: false, reason: "mismatch" });
    expect(verifyProof({ ...DOC_PROOF, amount: "10000.01" }, signature, VECTOR.publicKey).ok).toBe(false);
  });

  it("refuses the shallow form by default (it leaves from and to unsigned), accepts it on request", () => {
    const shallow = referenceSign(DOC_PROOF_SHALLOW, vectorReference).rsv;
    expect(verifyProof(DOC_PROOF, shallow, VECTOR.publicKey)).toEqual({ ok: false, reason: "mismatch" });
    expect(verifyProof(DOC_PROOF, shallow, VECTOR.publicKey, { forms: ["deep", "shallow"] })).toEqual({
      ok: true,
      encoding: "rsv",
      form: "shallow",
    });
  });
});

describe("metadata config", () => {
  it("signConfig signs the deep form; verifyConfig checks it; a changed settlement list fails", () => {
    const signature = signConfig(CONFIG, vectorKey);
    checkWithReference(CONFIG_DEEP, signature, VECTOR.publicKey);
    expect(verifyConfig(CONFIG, signature, VECTOR.publicKey)).toEqual({ ok: true, encoding: "rsv", form: "deep" });
    const widened = { ...CONFIG, settlement: { ...CONFIG.settlement, accepts: [100, 666] } };
    expect(verifyConfig(widened, signature, VECTOR.publicKey)).toEqual({ ok: false, reason: "mismatch" });
  });

  it("verifies a peer's config signed with OpenSSL", () => {
    expect(verifyConfig(CONFIG, referenceSign(CONFIG_DEEP, vectorReference).der, VECTOR.publicKey).ok).toBe(true);
  });
});
