import { ECDH } from "node:crypto";
import { inspect } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generatePrivateKey,
  OpenchargeKeyError,
  PrivateKey,
  parsePrivateKey,
  parsePublicKey,
  publicKeyHex,
} from "../../../src/api/opencharge/keys.js";
import { VECTOR } from "./fixtures.js";
import { hasPointWithX, N, referenceKey } from "./reference-signer.js";

const VECTOR_PRIVATE = VECTOR.privateKey;
const VECTOR_PUBLIC = VECTOR.publicKey;

/** OpenSSL's compressed form of a 128-hex key. */
const compressed = (publicHex: string) =>
  ECDH.convertKey(`04${publicHex}`, "secp256k1", "hex", "hex", "compressed") as string;

const keyError = (fn: () => unknown): OpenchargeKeyError => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OpenchargeKeyError);
    return error as OpenchargeKeyError;
  }
  throw new Error("expected an OpenchargeKeyError, nothing was thrown");
};

const scalarHex = (n: bigint) => n.toString(16).padStart(64, "0");

describe("private keys", () => {
  it("derives the known-answer vector's public key, as OpenSSL does", () => {
    const key = parsePrivateKey(VECTOR_PRIVATE);
    expect(key.publicKey.hex).toBe(VECTOR_PUBLIC);
    expect(publicKeyHex(key)).toBe(VECTOR_PUBLIC);
    expect(referenceKey(VECTOR_PRIVATE).publicHex).toBe(VECTOR_PUBLIC);
  });

  it("reads upper case and 0x, and writes 64 lower-case hex", () => {
    expect(parsePrivateKey(`0x${VECTOR_PRIVATE.toUpperCase()}`).toHex()).toBe(VECTOR_PRIVATE);
  });

  it("generates distinct valid keys whose hex round-trips", () => {
    const a = generatePrivateKey();
    const b = generatePrivateKey();
    expect(a.toHex()).toMatch(/^[0-9a-f]{64}$/);
    expect(a.toHex()).not.toBe(b.toHex());
    expect(parsePrivateKey(a.toHex()).publicKey.hex).toBe(a.publicKey.hex);
    expect(referenceKey(a.toHex()).publicHex).toBe(a.publicKey.hex);
  });

  it.each([
    ["empty", ""],
    ["63 hex", VECTOR_PRIVATE.slice(1)],
    ["66 hex", `${VECTOR_PRIVATE}00`],
    ["not hex", `${VECTOR_PRIVATE.slice(2)}zz`],
    ["zero", scalarHex(0n)],
    ["the group order n", scalarHex(N)],
    ["above n", scalarHex(N + 1n)],
    ["all ff", "f".repeat(64)],
  ])("rejects %s with an OpenchargeKeyError", (_, hex) => {
    expect(keyError(() => parsePrivateKey(hex)).code).toBe("invalid_private_key");
  });

  it("never shows its secret when printed, logged or serialised", () => {
    const key = parsePrivateKey(VECTOR_PRIVATE);
    for (const text of [String(key), `${key}`, JSON.stringify({ key }), inspect(key), inspect({ nested: key })]) {
      expect(text).not.toContain(VECTOR_PRIVATE);
      expect(text).toContain("redacted");
    }
  });

  it("derives the same public key as OpenSSL for any scalar (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: N - 1n }), (scalar) => {
        const hex = scalarHex(scalar);
        expect(PrivateKey.fromHex(hex).publicKey.hex).toBe(referenceKey(hex).publicHex);
      }),
      { numRuns: 50 },
    );
  });
});

describe("public keys", () => {
  const vectorCompressed = compressed(VECTOR_PUBLIC);

  it("reads 128 hex, 130 hex with 04 and 66 hex compressed as the same key", () => {
    expect(vectorCompressed).toMatch(/^0[23][0-9a-f]{64}$/);
    for (const spelling of [
      VECTOR_PUBLIC,
      `04${VECTOR_PUBLIC}`,
      vectorCompressed,
      VECTOR_PUBLIC.toUpperCase(),
      `0x${VECTOR_PUBLIC}`,
      ` ${VECTOR_PUBLIC}\n`,
    ]) {
      const key = parsePublicKey(spelling);
      expect(key.hex).toBe(VECTOR_PUBLIC);
      expect(key.compressedHex).toBe(vectorCompressed);
      expect(key.equals(parsePublicKey(VECTOR_PUBLIC))).toBe(true);
    }
    expect(JSON.stringify({ key: parsePublicKey(vectorCompressed) })).toBe(`{"key":"${VECTOR_PUBLIC}"}`);
  });

  it("decompresses any key as OpenSSL does (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: N - 1n }), (scalar) => {
        const { publicHex } = referenceKey(scalarHex(scalar));
        expect(parsePublicKey(compressed(publicHex)).hex).toBe(publicHex);
      }),
      { numRuns: 50 },
    );
  });

  let noPointX = 1n;
  while (hasPointWithX(noPointX)) noPointX++;
  const notOnCurve = `${VECTOR_PUBLIC.slice(0, 127)}${VECTOR_PUBLIC.endsWith("0") ? "1" : "0"}`;
  it.each([
    ["empty", ""],
    ["127 hex", VECTOR_PUBLIC.slice(1)],
    ["129 hex", `${VECTOR_PUBLIC}0`],
    ["130 hex not starting 04", `02${VECTOR_PUBLIC}`],
    ["66 hex starting 04", `04${VECTOR_PUBLIC.slice(0, 64)}`],
    ["64 hex (an x alone)", VECTOR_PUBLIC.slice(0, 64)],
    ["not hex", `${VECTOR_PUBLIC.slice(2)}zz`],
    ["x‖y off the curve", notOnCurve],
    ["04‖x‖y off the curve", `04${notOnCurve}`],
    ["a compressed x with no point", `02${scalarHex(noPointX)}`],
    ["x ≥ p", `02${"f".repeat(64)}`],
  ])("rejects %s with an OpenchargeKeyError", (_, hex) => {
    expect(keyError(() => parsePublicKey(hex)).code).toBe("invalid_public_key");
  });

  it("rejects a non-string with an OpenchargeKeyError, not a TypeError", () => {
    expect(keyError(() => parsePublicKey(42 as unknown as string)).code).toBe("invalid_public_key");
    expect(keyError(() => parsePrivateKey(undefined as unknown as string)).code).toBe("invalid_private_key");
  });
});
