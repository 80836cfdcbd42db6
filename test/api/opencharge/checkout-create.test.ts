import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOperation } from "../../../src/admin/admin.operations.js";
import { openchargeOf } from "../../../src/composition.js";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { referenceSha256Hex, referenceVerify } from "./reference-signer.js";
import {
  anOrder,
  createBody,
  type Encoding,
  freshNonce,
  GATEWAY_KEY,
  KASSA_OCID,
  MERCHANT_KEY,
  OPENCHARGE_ENV,
  registerParticipants,
  STRANGER_KEY,
  signedFetch,
  signOrderAs,
  sortedJson,
} from "./support.js";

let t: TestApp;
let kassaPublicKey: string;
const CREATE = "/opencharge/checkout/create";

beforeAll(async () => {
  t = await startTestApp({ ...OPENCHARGE_ENV, BODY_LIMIT_BYTES: "4096" });
  await registerParticipants(t);
  const metadata = (await (await fetch(`${t.url}/opencharge/metadata.json`)).json()) as any;
  kassaPublicKey = metadata.config.publicKey;
});
afterAll(() => t?.close());

const now = () => new Date();
const create = (body: string, opts: Parameters<typeof signedFetch>[3] = {}) => signedFetch(t.url, CREATE, body, opts);

/** The response's signature, checked with OpenSSL over the spec's response string and Kassa's published key. */
function expectSignedResponse(res: { status: number; headers: Headers; text: string }) {
  expect(res.headers.get("x-oc-id")).toBe(KASSA_OCID);
  const timestamp = res.headers.get("x-oc-timestamp")!;
  const message = `${KASSA_OCID}\n${timestamp}\n${res.status}\n${referenceSha256Hex(res.text)}`;
  const signature = res.headers.get("x-oc-signature")!;
  expect(signature).toMatch(/^[0-9a-f]{128}(1b|1c)$/);
  expect(referenceVerify(message, signature.slice(0, 128), kassaPublicKey)).toBe(true);
}

describe("POST /opencharge/checkout/create", () => {
  it("creates a session from a signed order: checkout_url, session_id, expires_at, signed with Kassa's key", async () => {
    const order = anOrder(now(), { expiresAt: undefined });
    const before = Math.floor(Date.now() / 1000);
    const res = await create(createBody(order));
    expect(res.status, res.text).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["checkout_url", "expires_at", "session_id"]);
    expect(res.body.session_id).toMatch(/^sess_/);
    expect(res.body.checkout_url).toBe(`${TEST_PUBLIC_URL}/pay/${res.body.session_id}`);
    // 30 minutes from creation.
    expect(res.body.expires_at).toBeGreaterThanOrEqual(before + 1800);
    expect(res.body.expires_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1800);
    expectSignedResponse(res);

    const session = await t.services.checkoutSessions.get(
      { accountId: (await openchargeOf(t.services)!.identity()).accountId, subaccountId: null },
      res.body.session_id,
    );
    expect(session.api).toBe("opencharge");
    expect(session.currency).toBe("USD");
    expect(session.amountTotal.toFixed()).toBe("9999");
    expect(session.lineItems.map((l) => [l.description, l.quantity.toFixed(), l.amount.toFixed()])).toEqual([
      ["Product A", "1", "9999"],
    ]);
    expect(session.description).toBe("Order from Merchant Store");
    expect(session.cancelUrl).toBe("https://merchant.example/cancel");
  });

  it("expires at the order's expiresAt when that is sooner than 30 minutes", async () => {
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const res = await create(createBody(anOrder(now(), { expiresAt })));
    expect(res.status, res.text).toBe(200);
    expect(res.body.expires_at).toBe(expiresAt);
  });

  it("accepts the order signed over either canonical form (the spec text's and the samples')", async () => {
    for (const form of ["deep", "shallow"] as const) {
      const order = anOrder(now());
      const res = await create(createBody(order, { signature: signOrderAs(order, MERCHANT_KEY, { form }) }));
      expect(res.status, `${form}: ${res.text}`).toBe(200);
    }
  });

  it.each<Encoding>(["rsv", "compact", "der"])(
    "accepts request and order signatures encoded as %s",
    async (encoding) => {
      const order = anOrder(now());
      const res = await create(createBody(order, { signature: signOrderAs(order, MERCHANT_KEY, { encoding }) }), {
        encoding,
      });
      expect(res.status, res.text).toBe(200);
    },
  );

  it("the same order id from the same merchant returns the same session, also when sent at once", async () => {
    const order = anOrder(now());
    const body = createBody(order);
    const first = await create(body);
    const again = await create(body);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body.session_id).toBe(first.body.session_id);

    const racing = anOrder(now());
    const racingBody = createBody(racing);
    const answers = await Promise.all(Array.from({ length: 6 }, () => create(racingBody)));
    expect(answers.map((a) => a.status)).toEqual(Array(6).fill(200));
    expect(new Set(answers.map((a) => a.body.session_id)).size).toBe(1);
    const rows = await t.db.prisma.checkoutSession.count({ where: { clientReferenceId: racing.id as string } });
    expect(rows).toBe(1);
  });

  it("keeps an asset code's decimal exactly", async () => {
    const order = anOrder(now(), {
      amount: "12.345678901234567891",
      currency: "USDC",
      items: [
        { id: "a", name: "A", quantity: 2, price: "6.000000000000000001" },
        { id: "b", name: "B", quantity: 1, price: "0.345678901234567889" },
      ],
    });
    const res = await create(createBody(order));
    expect(res.status, res.text).toBe(200);
    const session = await t.db.prisma.checkoutSession.findUniqueOrThrow({ where: { id: res.body.session_id } });
    expect(session.currency).toBe("USDC");
    expect(session.amountTotal.toFixed()).toBe("12.345678901234567891");
  });

  it("without items, the whole amount is one line item", async () => {
    const order = anOrder(now(), { items: undefined, amount: "1000", currency: "JPY" });
    const res = await create(createBody(order));
    expect(res.status, res.text).toBe(200);
    const session = await t.db.prisma.checkoutSession.findUniqueOrThrow({ where: { id: res.body.session_id } });
    expect((session.lineItems as Array<{ amount: string }>).map((l) => l.amount)).toEqual(["1000"]);
  });
});

describe("request authentication", () => {
  const expectError = (res: { status: number; body: any; text: string }, status: number, code: string) => {
    expect(res.status, res.text).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.error.message).toBe("string");
  };

  it("its refusals are signed by Kassa too", async () => {
    const refused = await create(createBody(anOrder(now())), { ocid: "777", key: STRANGER_KEY });
    expect(refused.status).toBe(401);
    expectSignedResponse(refused);
    const missing = await signedFetch(t.url, "/opencharge/nope", null);
    expect(missing.status).toBe(404);
    expectSignedResponse(missing);
  });

  it("refuses timestamps more than 300 s off either way, accepts them within", async () => {
    // Margins of 30 s around the window, so a slow machine's delay cannot move a request across it
    // (the exact edges are checkTimestamp's unit tests').
    const seconds = () => Math.floor(Date.now() / 1000);
    expectError(await create(createBody(anOrder(now())), { timestamp: seconds() - 330 }), 401, "TIMESTAMP_EXPIRED");
    expectError(await create(createBody(anOrder(now())), { timestamp: seconds() + 330 }), 401, "TIMESTAMP_EXPIRED");
    expect((await create(createBody(anOrder(now())), { timestamp: seconds() - 270 })).status).toBe(200);
    expect((await create(createBody(anOrder(now())), { timestamp: seconds() + 270 })).status).toBe(200);
  });

  it("refuses a nonce seen before, even on another request", async () => {
    const nonce = freshNonce();
    expect((await create(createBody(anOrder(now())), { nonce })).status).toBe(200);
    expectError(await create(createBody(anOrder(now())), { nonce }), 401, "NONCE_REUSED");
    // Another caller's nonces are its own.
    await runOperation({ services: t.services, db: t.db }, "opencharge.participants.add", {
      ocid: "601",
      name: "Other gateway",
      public_key: STRANGER_KEY.publicHex,
      endpoint: "https://other.example/opencharge",
      role: "merchant-gateway",
    });
    expect((await create(createBody(anOrder(now())), { nonce, ocid: "601", key: STRANGER_KEY })).status).toBe(200);
  });

  it("a refused signature does not use up the nonce", async () => {
    const nonce = freshNonce();
    const body = createBody(anOrder(now()));
    expectError(await create(body, { nonce, key: STRANGER_KEY }), 401, "INVALID_SIGNATURE");
    expect((await create(body, { nonce })).status).toBe(200);
  });

  it("refuses a tampered body, path or query, method, another key", async () => {
    const body = createBody(anOrder(now()));
    const other = createBody(anOrder(now()));
    expectError(await create(body, { signedBody: other }), 401, "INVALID_SIGNATURE");
    expectError(await create(body, { signedPath: "/checkout/create" }), 401, "INVALID_SIGNATURE");
    expectError(await signedFetch(t.url, `${CREATE}?x=1`, body, { signedPath: CREATE }), 401, "INVALID_SIGNATURE");
    expectError(await create(body, { key: MERCHANT_KEY }), 401, "INVALID_SIGNATURE");
    // The query is part of the signed path: signed with it, it verifies.
    expect((await signedFetch(t.url, `${CREATE}?x=1`, body)).status).toBe(200);
  });

  it("refuses an unknown caller OCID and missing or malformed headers", async () => {
    const body = createBody(anOrder(now()));
    expectError(await create(body, { ocid: "777", key: STRANGER_KEY }), 401, "UNKNOWN_OCID");
    const bare = await fetch(t.url + CREATE, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as any).error.code).toBe("INVALID_SIGNATURE");
    const res = await fetch(t.url + CREATE, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-oc-id": "600",
        "x-oc-timestamp": "soon",
        "x-oc-nonce": freshNonce(),
        "x-oc-signature": "00",
      },
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error).toMatchObject({
      code: "INVALID_SIGNATURE",
      details: { header: "x-oc-timestamp" },
    });
  });
});

describe("the order", () => {
  const expectError = async (body: string, status: number, code: string) => {
    const res = await create(body);
    expect(res.status, res.text).toBe(status);
    expect(res.body.error.code).toBe(code);
    return res.body.error;
  };

  it("a tampered order fails the merchant's signature (400 INVALID_SIGNATURE)", async () => {
    const order = anOrder(now());
    const signature = signOrderAs(order);
    await expectError(
      createBody({ ...order, amount: "0.01", items: undefined }, { signature }),
      400,
      "INVALID_SIGNATURE",
    );
    await expectError(createBody({ ...order, accepts: [900] }, { signature }), 400, "INVALID_SIGNATURE");
    // Signed by someone else than merchantOcid.
    await expectError(createBody(order, { signature: signOrderAs(order, GATEWAY_KEY) }), 400, "INVALID_SIGNATURE");
  });

  it("an unknown merchant is UNKNOWN_OCID; order.ocid must be merchantOcid", async () => {
    const order = anOrder(now(), { ocid: 501 });
    await expectError(createBody(order, { merchantOcid: 501 }), 401, "UNKNOWN_OCID");
    await expectError(createBody(anOrder(now()), { merchantOcid: 600 }), 400, "INVALID_ORDER");
  });

  it.each([
    ["items not summing to the amount", { amount: "100.00" }, "INVALID_ORDER"],
    ["an amount as a number", { amount: 99.99 }, "INVALID_ORDER"],
    ["an amount with a sign", { amount: "-99.99" }, "INVALID_ORDER"],
    ["more decimals than the currency has", { amount: "99.999", items: undefined }, "INVALID_ORDER"],
    ["a lower-case asset code", { currency: "usdc" }, "INVALID_ORDER"],
    ["an expiry in the past", { expiresAt: Math.floor(Date.now() / 1000) - 5 }, "INVALID_ORDER"],
    ["accepts without Kassa", { accepts: [100, 101] }, "ISSUER_NOT_ACCEPTED"],
    ["no id", { id: undefined }, "INVALID_ORDER"],
  ])("refuses %s", async (_, change, code) => {
    const order = anOrder(now(), change);
    const error = await expectError(createBody(order), 400, code);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it("an ISO code in lower case is known; its amount converts exactly", async () => {
    const order = anOrder(now(), {
      currency: "eur",
      amount: "0.30",
      items: [{ id: "a", name: "A", quantity: 3, price: "0.10" }],
    });
    const res = await create(createBody(order));
    expect(res.status, res.text).toBe(200);
    const session = await t.db.prisma.checkoutSession.findUniqueOrThrow({ where: { id: res.body.session_id } });
    expect([session.currency, session.amountTotal.toFixed()]).toEqual(["EUR", "30"]);
  });

  it("a unit price may be a fraction of a cent when the line is whole cents", async () => {
    const order = anOrder(now(), { amount: "0.25", items: [{ id: "a", name: "A", quantity: 2, price: "0.125" }] });
    const res = await create(createBody(order));
    expect(res.status, res.text).toBe(200);
    const odd = anOrder(now(), { amount: "0.125", items: [{ id: "a", name: "A", quantity: 1, price: "0.125" }] });
    expect((await create(createBody(odd))).body.error.code).toBe("INVALID_ORDER");
  });

  it("refuses a success URL that is not http(s), in Opencharge's format", async () => {
    const error = await expectError(
      createBody(anOrder(now()), { urls: { success: "javascript:alert(1)" } }),
      400,
      "INVALID_REQUEST",
    );
    expect(Object.keys(error.details.fields)).toEqual(["urls.success"]);
  });

  it("refuses a body that is not JSON, or not a create request, after checking the signature", async () => {
    const notJson = await create("{not json");
    expect([notJson.status, notJson.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    const wrong = await create(JSON.stringify({ order: "x" }));
    expect([wrong.status, wrong.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    const nul = await create(createBody(anOrder(now(), { memo: "a\u0000b" })));
    expect([nul.status, nul.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
  });
});

describe("errors on the surface's paths", () => {
  it("unknown paths, methods, oversized and malformed bodies and URLs answer in Opencharge's format", async () => {
    const cases: Array<[string, RequestInit, number, string]> = [
      ["/opencharge/nope", {}, 404, "NOT_FOUND"],
      ["/opencharge/checkout/create", {}, 405, "METHOD_NOT_ALLOWED"],
      ["/opencharge/%FF", {}, 400, "INVALID_REQUEST"],
      [
        CREATE,
        {
          method: "POST",
          body: JSON.stringify({ pad: "x".repeat(5000) }),
          headers: { "content-type": "application/json" },
        },
        413,
        "PAYLOAD_TOO_LARGE",
      ],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await fetch(t.url + path, init);
      const body = (await res.json()) as any;
      expect([path, res.status, body.error?.code]).toEqual([path, status, code]);
      expect(Object.keys(body)).toEqual(["error"]);
    }
  });

  it("what Node's parser refuses (an oversized header block, a NUL in a header) answers in Opencharge's format", async () => {
    const { port } = new URL(t.url);
    const raw = (request: string) =>
      new Promise<string>((resolve) => {
        let received = "";
        const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(request));
        socket.setEncoding("utf8");
        socket.on("data", (d: string) => {
          received += d;
        });
        socket.on("error", () => {});
        socket.on("close", () => resolve(received));
      });
    for (const [request, status] of [
      [`POST ${CREATE} HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
      [`GET /opencharge/metadata.json HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n`, 400],
    ] as const) {
      const answer = await raw(request);
      expect(answer.split("\r\n")[0]).toContain(` ${status} `);
      expect(answer).toMatch(/content-type: application\/json/i);
      const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
      expect(body.error.code).toBe("INVALID_REQUEST");
      expect(Object.keys(body)).toEqual(["error"]);
    }
  });
});

describe("GET metadata.json and capabilities", () => {
  it("publishes Kassa's key and capabilities, its config signed by that key (checked with OpenSSL)", async () => {
    const res = await fetch(`${t.url}/opencharge/metadata.json`);
    expect(res.status).toBe(200);
    const metadata = (await res.json()) as any;
    expect(metadata).toMatchObject({
      opencharge: "0.1",
      name: "Kassa",
      config: {
        endpoint: `${TEST_PUBLIC_URL}/opencharge`,
        capabilities: ["checkout.create"],
        settlement: { currencies: ["USD", "EUR"], accepts: [] },
      },
      kyc: [],
    });
    expect(metadata.config.publicKey).toMatch(/^[0-9a-f]{128}$/);
    expect(
      referenceVerify(sortedJson(metadata.config), metadata.signature.slice(0, 128), metadata.config.publicKey),
    ).toBe(true);
    const identity = (await runOperation({ services: t.services, db: t.db }, "opencharge.identity", {})) as any;
    expect(identity).toMatchObject({ ocid: KASSA_OCID, public_key: metadata.config.publicKey });
  });

  it("capabilities: a signed request gets a signed answer; an unsigned one is refused", async () => {
    const res = await signedFetch(t.url, "/opencharge/capabilities", null);
    expect(res.status, res.text).toBe(200);
    expect(res.body.capabilities).toEqual(["checkout.create"]);
    expectSignedResponse(res);
    const bare = await fetch(`${t.url}/opencharge/capabilities`);
    expect(bare.status).toBe(401);
  });
});
