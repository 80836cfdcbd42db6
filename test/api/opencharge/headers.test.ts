import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkTimestamp,
  isValidNonce,
  isValidOcid,
  newNonce,
  nonceKeptUntil,
  readRequestAuthHeaders,
  signedRequestHeaders,
  signedResponseHeaders,
  TIMESTAMP_WINDOW_SECONDS,
} from "../../../src/api/opencharge/headers.js";
import { parsePrivateKey } from "../../../src/api/opencharge/keys.js";
import { VECTOR } from "./fixtures.js";
import { referenceRequestMessage, referenceSha256Hex, referenceVerify } from "./reference-signer.js";

const key = parsePrivateKey(VECTOR.privateKey);
const vectorNow = new Date(Number(VECTOR.timestamp) * 1000 + 999); // within the vector's second

describe("signed request headers", () => {
  it("carry the known-answer vector exactly, given its time and nonce", () => {
    expect(
      signedRequestHeaders({ ocid: 200, method: "post", path: VECTOR.path, body: VECTOR.body }, key, {
        now: vectorNow,
        nonce: VECTOR.nonce,
      }),
    ).toEqual({
      "X-OC-ID": "200",
      "X-OC-Timestamp": "1706500000",
      "X-OC-Nonce": "req_abc123",
      "X-OC-Signature": VECTOR.signature,
    });
  });

  it("make a fresh req_<32 hex> nonce each time, and OpenSSL verifies what they sign", () => {
    const request = { ocid: "900", method: "GET", path: "/opencharge/capabilities?for=500" };
    const a = signedRequestHeaders(request, key, { now: vectorNow });
    const b = signedRequestHeaders(request, key, { now: vectorNow });
    expect(a["X-OC-Nonce"]).toMatch(/^req_[0-9a-f]{32}$/);
    expect(a["X-OC-Nonce"]).not.toBe(b["X-OC-Nonce"]);
    expect(isValidNonce(a["X-OC-Nonce"])).toBe(true);
    const message = referenceRequestMessage({
      ...request,
      timestamp: a["X-OC-Timestamp"],
      nonce: a["X-OC-Nonce"],
      body: "",
    });
    expect(referenceVerify(message, a["X-OC-Signature"].slice(0, 128), VECTOR.publicKey)).toBe(true);
  });

  it("newNonce is req_ and 128 random bits", () => {
    const nonces = new Set(Array.from({ length: 100 }, newNonce));
    expect(nonces.size).toBe(100);
    for (const nonce of nonces) expect(nonce).toMatch(/^req_[0-9a-f]{32}$/);
  });
});

describe("signed response headers", () => {
  it("sign ocid, timestamp, status and the body hash, which OpenSSL verifies", () => {
    const body = '{"checkout_url":"https://kassa.example/pay/cs_1","session_id":"cs_1","expires_at":1706501800}';
    const headers = signedResponseHeaders({ ocid: 900, status: 200, body }, key, { now: vectorNow });
    expect(Object.keys(headers)).toEqual(["X-OC-ID", "X-OC-Timestamp", "X-OC-Signature"]);
    expect(headers["X-OC-ID"]).toBe("900");
    expect(headers["X-OC-Timestamp"]).toBe("1706500000");
    const message = `900\n1706500000\n200\n${referenceSha256Hex(body)}`;
    expect(referenceVerify(message, headers["X-OC-Signature"].slice(0, 128), VECTOR.publicKey)).toBe(true);
  });
});

describe("timestamps", () => {
  const now = new Date(1_706_500_000_000);

  it.each([
    [1_706_500_000, 0],
    [1_706_500_300, 300],
    [1_706_499_700, -300],
  ])("%i is fresh (skew %i s, the bounds included)", (timestamp, _skew) => {
    expect(checkTimestamp(String(timestamp), now)).toEqual({ ok: true, seconds: timestamp });
    expect(checkTimestamp(timestamp, now)).toEqual({ ok: true, seconds: timestamp });
  });

  it.each([
    [1_706_500_301, 301],
    [1_706_499_699, -301],
    [0, -1_706_500_000],
  ])("%i has expired (skew %i s)", (timestamp, skewSeconds) => {
    expect(checkTimestamp(String(timestamp), now)).toEqual({ ok: false, reason: "timestamp_expired", skewSeconds });
  });

  it("counts whole seconds of now: 299.999 s later is still fresh, 301 s is not", () => {
    expect(checkTimestamp("1706500000", new Date(1_706_500_300_999)).ok).toBe(true);
    expect(checkTimestamp("1706500000", new Date(1_706_500_301_000)).ok).toBe(false);
  });

  it.each([
    "",
    " ",
    "-1706500000",
    "+1706500000",
    "1706500000.0",
    "1.7065e9",
    "0x65b7a3a0",
    "1706500000000", // milliseconds
    "abc",
  ])("%j is malformed", (value) => {
    expect(checkTimestamp(value, now)).toEqual({ ok: false, reason: "malformed_timestamp" });
  });

  it("is fresh exactly when within the window (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_000_000_000 }), fc.integer({ min: 0, max: 4_000_000_000 }), (t, n) => {
        expect(checkTimestamp(String(t), new Date(n * 1000)).ok).toBe(Math.abs(t - n) <= TIMESTAMP_WINDOW_SECONDS);
      }),
    );
  });

  it("a nonce is kept until its own timestamp plus the window", () => {
    expect(nonceKeptUntil(1_706_500_000)).toEqual(new Date(1_706_500_300_000));
    expect(nonceKeptUntil(1_706_500_000, 60)).toEqual(new Date(1_706_500_060_000));
  });
});

describe("nonces and OCIDs", () => {
  it.each([
    "req_abc123",
    `req_${"a".repeat(32)}`,
    "550e8400-e29b-41d4-a716-446655440000",
    "A.b:c_d-e",
    "x".repeat(128),
  ])("nonce %j is accepted", (nonce) => expect(isValidNonce(nonce)).toBe(true));

  it.each(["", "short", "x".repeat(129), "req abc123", "req_abc\n123", "req_abc/123", "req_é12345"])(
    "nonce %j is refused",
    (nonce) => expect(isValidNonce(nonce)).toBe(false),
  );

  it.each(["0", "200", "500", "9".repeat(78)])("OCID %j is accepted", (ocid) => expect(isValidOcid(ocid)).toBe(true));
  it.each(["", "0500", "-1", "1.0", "5e2", "9".repeat(79), " 200"])("OCID %j is refused", (ocid) =>
    expect(isValidOcid(ocid)).toBe(false),
  );
});

describe("reading the request headers", () => {
  const headers = {
    "x-oc-id": "200",
    "x-oc-timestamp": "1706500000",
    "x-oc-nonce": "req_abc123",
    "x-oc-signature": VECTOR.signature,
    "content-type": "application/json",
  };

  it("reads the four headers", () => {
    expect(readRequestAuthHeaders(headers)).toEqual({
      ok: true,
      value: { ocid: "200", timestamp: "1706500000", nonce: "req_abc123", signature: VECTOR.signature },
    });
  });

  it.each(["x-oc-id", "x-oc-timestamp", "x-oc-nonce", "x-oc-signature"])("names %s when it is missing", (header) => {
    expect(readRequestAuthHeaders({ ...headers, [header]: undefined })).toEqual({
      ok: false,
      reason: "missing_header",
      header,
    });
    expect(readRequestAuthHeaders({ ...headers, [header]: "" })).toMatchObject({ reason: "missing_header", header });
  });

  it.each([
    ["x-oc-id", "abc"],
    ["x-oc-id", "0200"],
    ["x-oc-timestamp", "soon"],
    ["x-oc-nonce", "abc"],
    ["x-oc-signature", "a".repeat(301)],
  ])("names %s when it is malformed (%j)", (header, value) => {
    expect(readRequestAuthHeaders({ ...headers, [header]: value })).toEqual({
      ok: false,
      reason: "malformed_header",
      header,
    });
  });

  it("a header sent twice is malformed", () => {
    expect(readRequestAuthHeaders({ ...headers, "x-oc-nonce": ["req_abc123", "req_abc124"] })).toEqual({
      ok: false,
      reason: "malformed_header",
      header: "x-oc-nonce",
    });
  });
});
