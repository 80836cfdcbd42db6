/**
 * An Opencharge signer and verifier that shares no code with src/api/opencharge: Node's crypto
 * (OpenSSL) signs and verifies; the recovery id, low-S normalisation, DER encoding and public-key
 * recovery are computed here with plain bigint arithmetic on the curve. Tests use it to check the
 * server's implementation in both directions, and the adapter's tests can sign requests with it.
 */
import { createECDH, createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

export const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
export const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const G = {
  x: 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
  y: 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n,
};

type Point = { x: bigint; y: bigint } | null; // null: the point at infinity

const mod = (a: bigint, m: bigint) => ((a % m) + m) % m;

function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return mod(oldS, m);
}

function add(a: Point, b: Point): Point {
  if (!a) return b;
  if (!b) return a;
  if (a.x === b.x && mod(a.y + b.y, P) === 0n) return null;
  const slope =
    a.x === b.x ? mod(3n * a.x * a.x * inverse(2n * a.y, P), P) : mod((b.y - a.y) * inverse(b.x - a.x, P), P);
  const x = mod(slope * slope - a.x - b.x, P);
  return { x, y: mod(slope * (a.x - x) - a.y, P) };
}

function multiply(k: bigint, point: Point): Point {
  let result: Point = null;
  let addend = point;
  for (let e = mod(k, N); e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

function powMod(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = mod(result * b, m);
    b = mod(b * b, m);
  }
  return result;
}

/** Is there a curve point with this x (is x³ + 7 a square mod p)? */
export const hasPointWithX = (x: bigint): boolean => powMod(x ** 3n + 7n, (P - 1n) / 2n, P) !== P - 1n;

const toHex32 = (n: bigint) => n.toString(16).padStart(64, "0");
const fromHex = (hex: string) => BigInt(`0x${hex}`);
const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest();

/** Q = r⁻¹(sR − eG), with R the curve point whose x is r and whose y has the parity of `recovery`. */
export function recoverPublicKeyHex(digest: Buffer, r: bigint, s: bigint, recovery: 0 | 1): string | null {
  const y2 = mod(r ** 3n + 7n, P);
  let y = powMod(y2, (P + 1n) / 4n, P);
  if (mod(y * y, P) !== y2) return null;
  if ((y & 1n) !== BigInt(recovery)) y = P - y;
  const e = mod(fromHex(digest.toString("hex")), N);
  const sR = multiply(s, { x: r, y });
  const eG = multiply(e, G);
  const q = multiply(inverse(r, N), add(sR, eG && { x: eG.x, y: mod(-eG.y, P) }));
  return q ? toHex32(q.x) + toHex32(q.y) : null;
}

export interface ReferenceKey {
  privateHex: string;
  /** 128 hex x‖y, from OpenSSL's ECDH. */
  publicHex: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function referenceKey(privateHex: string): ReferenceKey {
  const ecdh = createECDH("secp256k1");
  ecdh.setPrivateKey(Buffer.from(privateHex, "hex"));
  const uncompressed = ecdh.getPublicKey();
  const b64 = (bytes: Buffer) => bytes.toString("base64url");
  const jwk = {
    kty: "EC",
    crv: "secp256k1",
    x: b64(uncompressed.subarray(1, 33)),
    y: b64(uncompressed.subarray(33)),
    d: b64(Buffer.from(privateHex, "hex")),
  };
  const privateKey = createPrivateKey({ key: jwk, format: "jwk" });
  return {
    privateHex,
    publicHex: uncompressed.subarray(1).toString("hex"),
    privateKey,
    publicKey: createPublicKey(privateKey),
  };
}

/** A public key given only as hex (128, or 130 with 04), as a Node KeyObject. */
export function referencePublicKey(publicHex: string): KeyObject {
  const xy = Buffer.from(publicHex.length === 130 ? publicHex.slice(2) : publicHex, "hex");
  const jwk = {
    kty: "EC",
    crv: "secp256k1",
    x: xy.subarray(0, 32).toString("base64url"),
    y: xy.subarray(32).toString("base64url"),
  };
  return createPublicKey({ key: jwk, format: "jwk" });
}

export interface ReferenceSignature {
  r: bigint;
  /** Low-S. */
  s: bigint;
  recovery: 0 | 1;
  /** 130 hex r‖s‖v, v = 1b/1c: the spec's form. */
  rsv: string;
  /** 128 hex r‖s. */
  compact: string;
  /** DER hex. */
  der: string;
  /** 128 hex r‖(n − s): the same signature with high S. */
  highSCompact: string;
}

/** Sign SHA-256(message) with OpenSSL (random k), then normalise and encode it here. */
export function referenceSign(message: string | Buffer, key: ReferenceKey): ReferenceSignature {
  const raw = sign("sha256", Buffer.from(message), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return encodeSignature(
    sha256(message),
    fromHex(raw.subarray(0, 32).toString("hex")),
    fromHex(raw.subarray(32).toString("hex")),
    key.publicHex,
  );
}

/**
 * Sign SHA-256(message) with OpenSSL and encode it low-S as 128 hex r‖s and as DER, without the
 * recovery id: finding it by recovering the key in bigint arithmetic costs about 50 ms, too much
 * for a test that signs thousands of requests.
 */
export function referenceSignWithoutRecovery(
  message: string | Buffer,
  key: ReferenceKey,
): { compact: string; der: string } {
  const raw = sign("sha256", Buffer.from(message), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  const r = fromHex(raw.subarray(0, 32).toString("hex"));
  const rawS = fromHex(raw.subarray(32).toString("hex"));
  const s = rawS > N / 2n ? N - rawS : rawS;
  return { compact: toHex32(r) + toHex32(s), der: derEncode(r, s) };
}

/** Encodings of (r, s) over `digest` by the key `publicHex`; the recovery id found by recovering the key. */
export function encodeSignature(digest: Buffer, r: bigint, rawS: bigint, publicHex: string): ReferenceSignature {
  const s = rawS > N / 2n ? N - rawS : rawS;
  const recovery = ([0, 1] as const).find((candidate) => recoverPublicKeyHex(digest, r, s, candidate) === publicHex);
  if (recovery === undefined) throw new Error("reference signer: no recovery id recovers the signer's key");
  const compact = toHex32(r) + toHex32(s);
  return {
    r,
    s,
    recovery,
    rsv: compact + (27 + recovery).toString(16),
    compact,
    der: derEncode(r, s),
    highSCompact: toHex32(r) + toHex32(N - s),
  };
}

function derInteger(n: bigint): string {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return `02${(hex.length / 2).toString(16).padStart(2, "0")}${hex}`;
}

export function derEncode(r: bigint, s: bigint): string {
  const body = derInteger(r) + derInteger(s);
  return `30${(body.length / 2).toString(16).padStart(2, "0")}${body}`;
}

/** OpenSSL's verdict on r‖s (128 hex) over SHA-256(message); accepts high S, as OpenSSL does. */
export function referenceVerify(message: string | Buffer, compactHex: string, publicHex: string): boolean {
  return verify(
    "sha256",
    Buffer.from(message),
    { key: referencePublicKey(publicHex), dsaEncoding: "ieee-p1363" },
    Buffer.from(compactHex, "hex"),
  );
}

/** The request canonical string, written out again from the spec's words. */
export function referenceRequestMessage(parts: {
  ocid: string;
  timestamp: string;
  nonce: string;
  method: string;
  path: string;
  body: string | Buffer;
}): string {
  const bodyHash = sha256(parts.body).toString("hex");
  return `${parts.ocid}\n${parts.timestamp}\n${parts.nonce}\n${parts.method}\n${parts.path}\n${bodyHash}`;
}

export const referenceSha256Hex = (data: string | Buffer) => sha256(data).toString("hex");
