import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bodyHashHex,
  canonicalJson,
  deepCanonicalJson,
  requestCanonicalString,
  responseCanonicalString,
  shallowCanonicalJson,
} from "../../../src/api/opencharge/canonical.js";
import {
  DOC_ORDER,
  DOC_ORDER_DEEP,
  DOC_ORDER_SHALLOW,
  DOC_PROOF,
  DOC_PROOF_DEEP,
  DOC_PROOF_SHALLOW,
  VECTOR,
} from "./fixtures.js";
import { referenceRequestMessage, referenceSha256Hex } from "./reference-signer.js";

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

describe("canonical JSON", () => {
  it("deep: keys sorted at every level, arrays in order, no whitespace (the protocol text)", () => {
    expect(deepCanonicalJson(DOC_ORDER)).toBe(DOC_ORDER_DEEP);
    expect(deepCanonicalJson(DOC_PROOF)).toBe(DOC_PROOF_DEEP);
    expect(canonicalJson(DOC_ORDER, "deep")).toBe(DOC_ORDER_DEEP);
  });

  it("shallow: the samples' replacer drops nested keys that are not top-level keys", () => {
    expect(shallowCanonicalJson(DOC_ORDER)).toBe(DOC_ORDER_SHALLOW);
    expect(shallowCanonicalJson(DOC_PROOF)).toBe(DOC_PROOF_SHALLOW);
    expect(canonicalJson(DOC_PROOF, "shallow")).toBe(DOC_PROOF_SHALLOW);
  });

  it("deep: sorts by UTF-16 code units, numeric-looking keys as strings, writes non-ASCII as is", () => {
    const value = { b: 1, "10": 2, "9": 3, B: 4, é: "café ✓", a: { z: null, y: [3, { d: 1, c: 2 }] } };
    expect(deepCanonicalJson(value)).toBe(
      '{"10":2,"9":3,"B":4,"a":{"y":[3,{"c":2,"d":1}],"z":null},"b":1,"é":"café ✓"}',
    );
  });

  it("deep: escapes as JSON.stringify does (quotes, backslashes, control characters)", () => {
    expect(deepCanonicalJson({ s: 'a"b\\c\n\u0001' })).toBe('{"s":"a\\"b\\\\c\\n\\u0001"}');
  });

  it("deep: drops undefined members and writes JSON's own forms of the rest", () => {
    expect(deepCanonicalJson({ a: undefined, b: [undefined, Number.NaN], c: new Date(0) })).toBe(
      '{"b":[null,null],"c":"1970-01-01T00:00:00.000Z"}',
    );
  });

  const jsonObject = fc.dictionary(fc.string(), fc.jsonValue());

  it("deep: the same bytes whatever the key order, and it parses back to the same value (property)", () => {
    fc.assert(
      fc.property(jsonObject, fc.infiniteStream(fc.nat()), (value, seeds) => {
        const shuffled = shuffleKeys(value, seeds);
        const canonical = deepCanonicalJson(value);
        expect(deepCanonicalJson(shuffled)).toBe(canonical);
        expect(JSON.parse(canonical)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonical).toBe(deepCanonicalJson(JSON.parse(canonical)));
      }),
    );
  });

  it("shallow: is exactly the samples' expression (property)", () => {
    fc.assert(
      fc.property(jsonObject, (value) => {
        expect(shallowCanonicalJson(value)).toBe(JSON.stringify(value, Object.keys(value).sort()));
      }),
    );
  });
});

function shuffleKeys(value: unknown, seeds: fc.Stream<number>): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffleKeys(item, seeds));
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = (seeds.next().value as number) % (i + 1);
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  // Object.fromEntries defines own properties, so a "__proto__" key stays a key (assignment would set the prototype).
  return Object.fromEntries(keys.map((key) => [key, shuffleKeys((value as Record<string, unknown>)[key], seeds)]));
}

describe("request and response canonical strings", () => {
  it("matches the known-answer vector's message byte for byte", () => {
    expect(bodyHashHex(VECTOR.body)).toBe(VECTOR.bodyHash);
    expect(requestCanonicalString({ ...VECTOR, ocid: 200, timestamp: 1706500000 })).toBe(VECTOR.message);
    expect(requestCanonicalString(VECTOR)).toBe(VECTOR.message);
    expect(VECTOR.message).toBe(
      "200\n1706500000\nreq_abc123\nPOST\n/opencharge/payment/create\nea6a5c95109ae6382ed7a3f35bd90f1236e4d6a92f030086d5b6df02b1a4ac8f",
    );
  });

  it("hashes no body as the empty string, and bytes and their UTF-8 string alike", () => {
    expect(bodyHashHex(undefined)).toBe(EMPTY_SHA256);
    expect(bodyHashHex(null)).toBe(EMPTY_SHA256);
    expect(bodyHashHex("")).toBe(EMPTY_SHA256);
    expect(bodyHashHex(Buffer.from('{"name":"café"}'))).toBe(bodyHashHex('{"name":"café"}'));
    expect(bodyHashHex(new Uint8Array(Buffer.from("x")))).toBe(referenceSha256Hex("x"));
  });

  it("upper-cases the method and keeps the path with its query verbatim (property)", () => {
    fc.assert(
      fc.property(
        fc.record({
          ocid: fc.nat().map(String),
          timestamp: fc.nat().map(String),
          nonce: fc.stringMatching(/^req_[0-9a-f]{32}$/),
          method: fc.constantFrom("get", "POST", "Put", "delete"),
          path: fc.webPath().map((p) => `/opencharge${p}?a=1&b=%20`),
          body: fc.string(),
        }),
        (parts) => {
          expect(requestCanonicalString(parts)).toBe(
            referenceRequestMessage({ ...parts, method: parts.method.toUpperCase() }),
          );
        },
      ),
    );
  });

  it("response: ocid, timestamp, status and body hash, no nonce", () => {
    expect(responseCanonicalString({ ocid: "900", timestamp: "1706500000", status: 200, body: "{}" })).toBe(
      `900\n1706500000\n200\n${referenceSha256Hex("{}")}`,
    );
    expect(responseCanonicalString({ ocid: 900, timestamp: 1706500000, status: 204 })).toBe(
      `900\n1706500000\n204\n${EMPTY_SHA256}`,
    );
  });
});
