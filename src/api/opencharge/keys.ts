/**
 * Opencharge keys: secp256k1 key pairs in the spellings the protocol's documents use.
 *
 * Accepted public keys: 128 hex (x‖y, the spec's form), 130 hex (`04`‖x‖y, SEC1 uncompressed)
 * and 66 hex (`02`/`03`‖x, SEC1 compressed, the registry app's form); upper or lower case, with
 * or without `0x`. Every key is checked to be a point on the curve. Emitted: 128 lower-case hex.
 * Private keys: 64 hex (a scalar in 1..n-1), emitted as 64 lower-case hex.
 *
 * Parsing throws `OpenchargeKeyError` (never a library's own error type), so a bad key in the
 * participants table or the configuration surfaces as a clear message, not a 500.
 */
import { inspect } from "node:util";
import { secp256k1 } from "@noble/curves/secp256k1.js";

export type OpenchargeKeyErrorCode = "invalid_private_key" | "invalid_public_key";

export class OpenchargeKeyError extends Error {
  override name = "OpenchargeKeyError";
  constructor(
    readonly code: OpenchargeKeyErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const HEX = /^[0-9a-fA-F]*$/;

/** Bytes of a hex string (optional `0x`, either case), or null when it is not whole-byte hex. */
export function hexToBytes(text: string): Uint8Array | null {
  const hex = text.startsWith("0x") || text.startsWith("0X") ? text.slice(2) : text;
  if (hex.length % 2 !== 0 || !HEX.test(hex)) return null;
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

export const bytesToHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** A secp256k1 public key; `hex` is the protocol's 128-hex x‖y form. */
export class PublicKey {
  /** 65 bytes, SEC1 uncompressed (`04`‖x‖y). */
  readonly uncompressed: Uint8Array;
  /** 128 lower-case hex, x‖y without the `04`: what Opencharge metadata publishes. */
  readonly hex: string;

  private constructor(uncompressed: Uint8Array) {
    this.uncompressed = uncompressed;
    this.hex = bytesToHex(uncompressed.subarray(1));
  }

  /** 128, 130 (`04`…) or 66 (`02`/`03`…) hex; throws `OpenchargeKeyError` for anything else. */
  static fromHex(text: string): PublicKey {
    const bytes = typeof text === "string" ? hexToBytes(text.trim()) : null;
    if (!bytes) throw invalidPublicKey("not hex");
    let sec1: Uint8Array;
    if (bytes.length === 64) sec1 = Uint8Array.of(0x04, ...bytes);
    else if (bytes.length === 65 && bytes[0] === 0x04) sec1 = bytes;
    else if (bytes.length === 33 && (bytes[0] === 0x02 || bytes[0] === 0x03)) sec1 = bytes;
    else throw invalidPublicKey("expected 128 hex (x‖y), 130 hex (04‖x‖y) or 66 hex (02/03‖x)");
    try {
      return new PublicKey(secp256k1.Point.fromBytes(sec1).toBytes(false));
    } catch {
      throw invalidPublicKey("not a point on secp256k1");
    }
  }

  /** @internal the derived key of a private key, already known to be valid. */
  static fromPrivateBytes(secret: Uint8Array): PublicKey {
    return new PublicKey(secp256k1.getPublicKey(secret, false));
  }

  /** 66 hex, SEC1 compressed. */
  get compressedHex(): string {
    return secp256k1.Point.fromBytes(this.uncompressed).toHex(true);
  }

  equals(other: PublicKey): boolean {
    return this.hex === other.hex;
  }

  toString(): string {
    return this.hex;
  }

  toJSON(): string {
    return this.hex;
  }
}

/**
 * A secp256k1 private key. Its bytes stay inside: it prints, logs and serialises as
 * `PrivateKey(<redacted>)`; `toHex()` is the one explicit way out (for storing it).
 */
export class PrivateKey {
  readonly #secret: Uint8Array;
  #publicKey: PublicKey | undefined;

  private constructor(secret: Uint8Array) {
    this.#secret = secret;
  }

  static generate(): PrivateKey {
    return new PrivateKey(secp256k1.utils.randomSecretKey());
  }

  /** 64 hex (optional `0x`); throws `OpenchargeKeyError` unless it is a scalar in 1..n-1. */
  static fromHex(text: string): PrivateKey {
    const bytes = typeof text === "string" ? hexToBytes(text.trim()) : null;
    if (bytes?.length !== 32) {
      throw new OpenchargeKeyError("invalid_private_key", "Invalid private key: expected 64 hex characters");
    }
    if (!secp256k1.utils.isValidSecretKey(bytes)) {
      throw new OpenchargeKeyError("invalid_private_key", "Invalid private key: out of range for secp256k1");
    }
    return new PrivateKey(bytes);
  }

  get publicKey(): PublicKey {
    this.#publicKey ??= PublicKey.fromPrivateBytes(this.#secret);
    return this.#publicKey;
  }

  /** 64 lower-case hex. The only way the secret leaves this object. */
  toHex(): string {
    return bytesToHex(this.#secret);
  }

  /**
   * ECDSA over a 32-byte digest (the caller hashes): RFC 6979 deterministic k, low-S.
   * Answers r‖s (64 bytes) and the recovery id (0 or 1) of that low-S signature.
   */
  signDigest(digest: Uint8Array): { compact: Uint8Array; recovery: number } {
    if (digest.length !== 32) throw new RangeError("signDigest takes a 32-byte digest");
    const recovered = secp256k1.sign(digest, this.#secret, { prehash: false, lowS: true, format: "recovered" });
    // noble's "recovered" format puts the recovery id first: rec‖r‖s.
    return { compact: recovered.slice(1), recovery: recovered[0]! };
  }

  toString(): string {
    return "PrivateKey(<redacted>)";
  }

  toJSON(): string {
    return "PrivateKey(<redacted>)";
  }

  [inspect.custom](): string {
    return "PrivateKey(<redacted>)";
  }
}

function invalidPublicKey(why: string): OpenchargeKeyError {
  return new OpenchargeKeyError("invalid_public_key", `Invalid public key: ${why}`);
}

/** Generate a fresh key pair (CSPRNG). */
export const generatePrivateKey = (): PrivateKey => PrivateKey.generate();

/** Parse 64 hex; throws `OpenchargeKeyError` (code `invalid_private_key`). */
export const parsePrivateKey = (hex: string): PrivateKey => PrivateKey.fromHex(hex);

/** Parse 128, 130 or 66 hex; throws `OpenchargeKeyError` (code `invalid_public_key`). */
export const parsePublicKey = (hex: string): PublicKey => PublicKey.fromHex(hex);

/** The protocol's 128-hex public key of a private key. */
export const publicKeyHex = (key: PrivateKey): string => key.publicKey.hex;
