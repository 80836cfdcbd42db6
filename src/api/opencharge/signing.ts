/**
 * Opencharge signatures: requests, responses, orders, transfer proofs and the metadata config.
 *
 * Every signature is secp256k1 ECDSA over SHA-256 of the signed bytes (no Ethereum prefix, no
 * keccak). What is accepted and what is emitted, where the documents disagree:
 *
 * - Emitted: 130 lower-case hex r‖s‖v, low-S, v = `1b`/`1c` (27 + recovery id), deterministic
 *   (RFC 6979). Documents are signed over their `deep` canonical JSON (canonical.ts).
 * - Accepted signatures: 130 hex r‖s‖v (v may be `1b`, `1c`, `00` or `01`), 128 hex r‖s (the
 *   registry app) and DER hex (the merchant samples' old noble default); either case, optional
 *   `0x`. 128 and 130 hex are always read as r‖s(‖v); any other length as DER.
 * - v is not checked against the key: the verifier always knows the signer's key (from its own
 *   participants table), so r‖s verified against that key is the whole proof; v only helps
 *   someone who does not know the key. A peer that flips v wrongly after normalising s still
 *   verifies. v must still be one of the four values above.
 * - High-S signatures are accepted (OpenSSL and Node's crypto emit them half the time); replay is
 *   stopped by nonces and txids, never by signature bytes, so malleability costs nothing here.
 * - Not accepted: a signature over the unhashed canonical string (one sample verifies that way).
 *   ECDSA truncates its input to 32 bytes, so such a signature would cover only the string's
 *   first 32 bytes (OCID, timestamp, part of the nonce) and none of the body.
 * - Orders are checked in both canonical forms by default (peers built from the text or from the
 *   samples); proofs and config only in `deep` unless the caller opts in, because the `shallow`
 *   form leaves a proof's `from`/`to` and the config's settlement lists unsigned.
 *
 * Verification never throws on peer input: it answers a `SignatureCheck`. Keys that fail to parse
 * throw `OpenchargeKeyError` (keys.ts), for the places that load them from configuration.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import {
  type CanonicalForm,
  canonicalJson,
  deepCanonicalJson,
  type RequestSigningInput,
  type ResponseSigningInput,
  requestCanonicalString,
  responseCanonicalString,
  sha256,
} from "./canonical.js";
import { bytesToHex, hexToBytes, type PrivateKey, PublicKey } from "./keys.js";

// ---------------------------------------------------------------------------------------------
// Signature encodings and the ECDSA primitive

export type SignatureEncoding = "rsv" | "compact" | "der";

export interface ParsedSignature {
  r: bigint;
  s: bigint;
  /** The v byte of an r‖s‖v signature (0, 1, 27 or 28); null for the other encodings. */
  v: number | null;
  encoding: SignatureEncoding;
}

export type SignatureFailure =
  /** Not one of the accepted encodings, or r/s out of range. */
  | "malformed_signature"
  /** The public key given to the verifier is not a valid key. */
  | "invalid_public_key"
  /** The input to sign is unusable (a newline inside a canonical-string field, a non-object document). */
  | "malformed_input"
  /** Well-formed, but not a signature of this message by this key. */
  | "mismatch";

export type SignatureCheck = { ok: true; encoding: SignatureEncoding } | { ok: false; reason: SignatureFailure };

/** A document check also says which canonical form the signature covered. */
export type DocumentCheck =
  | { ok: true; encoding: SignatureEncoding; form: CanonicalForm }
  | { ok: false; reason: SignatureFailure };

const ACCEPTED_V = new Set([0, 1, 27, 28]);

/** Reads any accepted signature spelling; null when it is none of them. */
export function parseSignature(text: string): ParsedSignature | null {
  if (typeof text !== "string") return null;
  const bytes = hexToBytes(text.trim());
  if (!bytes || bytes.length === 0) return null;
  try {
    if (bytes.length === 65) {
      const v = bytes[64]!;
      if (!ACCEPTED_V.has(v)) return null;
      const sig = secp256k1.Signature.fromBytes(bytes.subarray(0, 64), "compact");
      return { r: sig.r, s: sig.s, v, encoding: "rsv" };
    }
    if (bytes.length === 64) {
      const sig = secp256k1.Signature.fromBytes(bytes, "compact");
      return { r: sig.r, s: sig.s, v: null, encoding: "compact" };
    }
    const sig = secp256k1.Signature.fromBytes(bytes, "der");
    return { r: sig.r, s: sig.s, v: null, encoding: "der" };
  } catch {
    // noble rejects r or s outside 1..n-1 and malformed DER; all of it is "not a signature".
    return null;
  }
}

/** Sign a 32-byte digest: 130 hex r‖s‖v, low-S, v = 1b/1c. */
export function signDigest(digest: Uint8Array, key: PrivateKey): string {
  const { compact, recovery } = key.signDigest(digest);
  return bytesToHex(compact) + (27 + recovery).toString(16);
}

/** Verify a signature (any accepted encoding, high-S allowed) of a 32-byte digest. */
export function verifyDigest(digest: Uint8Array, signature: string, publicKey: PublicKey | string): SignatureCheck {
  const key = toPublicKey(publicKey);
  if (!key) return { ok: false, reason: "invalid_public_key" };
  const parsed = parseSignature(signature);
  if (!parsed) return { ok: false, reason: "malformed_signature" };
  let valid = false;
  try {
    const compact = new secp256k1.Signature(parsed.r, parsed.s).toBytes("compact");
    valid = secp256k1.verify(compact, digest, key.uncompressed, { prehash: false, lowS: false, format: "compact" });
  } catch {
    valid = false;
  }
  return valid ? { ok: true, encoding: parsed.encoding } : { ok: false, reason: "mismatch" };
}

/** Sign SHA-256 of a message (a string is taken as UTF-8). */
export const signMessage = (message: string | Uint8Array, key: PrivateKey): string => signDigest(sha256(message), key);

export const verifyMessage = (
  message: string | Uint8Array,
  signature: string,
  publicKey: PublicKey | string,
): SignatureCheck => verifyDigest(sha256(message), signature, publicKey);

function toPublicKey(key: PublicKey | string): PublicKey | null {
  if (key instanceof PublicKey) return key;
  try {
    return PublicKey.fromHex(key);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Requests and responses

/** A field of the canonical string may not hold a newline: it would let two messages collide. */
const hasNewline = (...fields: (string | number)[]) => fields.some((field) => String(field).includes("\n"));

/** The X-OC-Signature of a request. Throws TypeError on a newline in a field (a caller's bug). */
export function signRequest(input: RequestSigningInput, key: PrivateKey): string {
  if (hasNewline(input.ocid, input.timestamp, input.nonce, input.method, input.path)) {
    throw new TypeError("A request's OCID, timestamp, nonce, method and path cannot contain a newline");
  }
  return signMessage(requestCanonicalString(input), key);
}

export function verifyRequestSignature(
  input: RequestSigningInput,
  signature: string,
  publicKey: PublicKey | string,
): SignatureCheck {
  if (hasNewline(input.ocid, input.timestamp, input.nonce, input.method, input.path)) {
    return { ok: false, reason: "malformed_input" };
  }
  return verifyMessage(requestCanonicalString(input), signature, publicKey);
}

/** The X-OC-Signature of a response. */
export function signResponse(input: ResponseSigningInput, key: PrivateKey): string {
  if (hasNewline(input.ocid, input.timestamp)) {
    throw new TypeError("A response's OCID and timestamp cannot contain a newline");
  }
  return signMessage(responseCanonicalString(input), key);
}

export function verifyResponseSignature(
  input: ResponseSigningInput,
  signature: string,
  publicKey: PublicKey | string,
): SignatureCheck {
  if (hasNewline(input.ocid, input.timestamp)) return { ok: false, reason: "malformed_input" };
  return verifyMessage(responseCanonicalString(input), signature, publicKey);
}

// ---------------------------------------------------------------------------------------------
// Signed documents: orders, transfer proofs, the metadata config

export type SignedDocument = Readonly<Record<string, unknown>>;

export interface DocumentVerifyOptions {
  /** The canonical forms to try, in order. */
  forms?: readonly CanonicalForm[];
}

/** Orders: both forms, since merchants are built from the text or from the samples. */
export const ORDER_FORMS: readonly CanonicalForm[] = ["deep", "shallow"];
/** Proofs and config: the spec's form only, unless a caller opts in to `shallow`. */
export const PROOF_FORMS: readonly CanonicalForm[] = ["deep"];
export const CONFIG_FORMS: readonly CanonicalForm[] = ["deep"];

const isDocument = (value: unknown): value is SignedDocument =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** Signs the `deep` canonical JSON: the one form Kassa emits. */
export function signDocument(document: SignedDocument, key: PrivateKey): string {
  if (!isDocument(document)) throw new TypeError("A signed document is a JSON object");
  return signMessage(deepCanonicalJson(document), key);
}

export function verifyDocument(
  document: unknown,
  signature: string,
  publicKey: PublicKey | string,
  forms: readonly CanonicalForm[],
): DocumentCheck {
  if (!isDocument(document)) return { ok: false, reason: "malformed_input" };
  let canonical: Map<CanonicalForm, string>;
  try {
    canonical = new Map(forms.map((form) => [form, canonicalJson(document, form)]));
  } catch {
    // No JSON form at all (a BigInt, a cycle): only possible for input that did not come from JSON.
    return { ok: false, reason: "malformed_input" };
  }
  let last: SignatureCheck = { ok: false, reason: "mismatch" };
  for (const [form, text] of canonical) {
    last = verifyMessage(text, signature, publicKey);
    if (last.ok) return { ok: true, encoding: last.encoding, form };
    // A malformed signature or key will not get better in another form.
    if (last.reason !== "mismatch") return last;
  }
  return last;
}

/** The merchant's signature over an order (`POST /checkout/create`'s `signature`). */
export const signOrder = (order: SignedDocument, key: PrivateKey): string => signDocument(order, key);

/**
 * Checks an order's signature in both canonical forms by default. A `shallow` match covers the
 * order's top-level fields (id, ocid, amount, currency, accepts, expiresAt…) but of its items only
 * their ids: names, quantities and prices are not signed in that form (`form` says which matched).
 */
export const verifyOrderSignature = (
  order: unknown,
  signature: string,
  publicKey: PublicKey | string,
  options: DocumentVerifyOptions = {},
): DocumentCheck => verifyDocument(order, signature, publicKey, options.forms ?? ORDER_FORMS);

/** The issuer's signature over a transfer proof's `proof` object (not the `{proof, signature}` envelope). */
export const signProof = (proof: SignedDocument, key: PrivateKey): string => signDocument(proof, key);

export const verifyProof = (
  proof: unknown,
  signature: string,
  publicKey: PublicKey | string,
  options: DocumentVerifyOptions = {},
): DocumentCheck => verifyDocument(proof, signature, publicKey, options.forms ?? PROOF_FORMS);

/** The metadata document's `signature`, over its `config` object. */
export const signConfig = (config: SignedDocument, key: PrivateKey): string => signDocument(config, key);

export const verifyConfig = (
  config: unknown,
  signature: string,
  publicKey: PublicKey | string,
  options: DocumentVerifyOptions = {},
): DocumentCheck => verifyDocument(config, signature, publicKey, options.forms ?? CONFIG_FORMS);
