import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runOperation } from "../../../src/admin/admin.operations.js";
import { createKassaServices } from "../../../src/composition.js";
import { TEST_CARDS } from "../../../src/core/payments/test-provider.js";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import {
  anOrder,
  createBody,
  GATEWAY_KEY,
  KASSA_OCID,
  OPENCHARGE_ENV,
  registerParticipants,
  signedFetch,
  startProofReceiver,
  verifyReceivedProof,
} from "./support.js";

let t: TestApp;
let kassaPublicKey: string;
const receivers: Array<{ close(): Promise<void> }> = [];
const card = { number: TEST_CARDS.success, expMonth: 12, expYear: 2099, cvc: "123" };

beforeAll(async () => {
  t = await startTestApp({ ...OPENCHARGE_ENV, WEBHOOK_RETRY_BASE_MS: "10", WEBHOOK_RETRY_MAX_MS: "20" });
  await registerParticipants(t);
  kassaPublicKey = (
    (await (await fetch(`${t.url}/opencharge/metadata.json`)).json()) as { config: { publicKey: string } }
  ).config.publicKey;
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(() => t?.close());

const ops = () => ({ services: t.services, db: t.db });

/** A gateway registered at the receiver's endpoint, an order created through it and paid. */
async function paidOrderTo(receiver: { endpoint: string }, ocid: string, overrides: Record<string, unknown> = {}) {
  await runOperation(ops(), "opencharge.participants.add", {
    ocid,
    name: `Gateway ${ocid}`,
    public_key: GATEWAY_KEY.publicHex,
    endpoint: receiver.endpoint,
    role: "merchant-gateway",
  });
  const order = anOrder(new Date(), overrides);
  const created = await signedFetch(t.url, "/opencharge/checkout/create", createBody(order), { ocid });
  expect(created.status, created.text).toBe(200);
  const paid = await t.services.checkoutSessions.pay(created.body.session_id, card);
  expect(paid.outcome).toBe("paid");
  return { order, sessionId: created.body.session_id as string };
}

async function deliverUntil(done: () => boolean, rounds = 20) {
  for (let i = 0; i < rounds && !done(); i++) {
    await t.services.webhooks.deliverDue();
    await new Promise((r) => setTimeout(r, 30));
  }
}

describe("transfer proofs", () => {
  it("a paid session's proof arrives at <endpoint>/transfer/webhook, signed by Kassa, and is accepted", async () => {
    const receiver = await startProofReceiver();
    receivers.push(receiver);
    const { order, sessionId } = await paidOrderTo(receiver, "610");
    await deliverUntil(() => receiver.received.length > 0);

    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.path).toBe("/gw/transfer/webhook");
    const { requestOk, proofOk, proof } = verifyReceivedProof(got, kassaPublicKey);
    expect(requestOk).toBe(true);
    expect(proofOk).toBe(true);
    expect(proof).toEqual({
      txid: expect.stringMatching(/^pay_/),
      issuer: Number(KASSA_OCID),
      from: { ocid: Number(KASSA_OCID), reference: sessionId },
      to: { ocid: 610, reference: order.id },
      amount: "99.99",
      currency: "USD",
      timestamp: expect.any(Number),
      memo: "Order from Merchant Store",
    });

    const listed = (await runOperation(ops(), "opencharge.proofs", {})) as Array<Record<string, any>>;
    const mine = listed.find((p) => p.session_id === sessionId)!;
    expect(mine.txid).toBe(proof.txid);
    expect(mine.delivery).toMatchObject({ status: "succeeded", attempt_count: 1, last_status_code: 200 });
  });

  it("a tampered proof or request would not verify (the receiver's check can fail)", async () => {
    const receiver = await startProofReceiver();
    receivers.push(receiver);
    await paidOrderTo(receiver, "611");
    await deliverUntil(() => receiver.received.length > 0);
    const got = receiver.received[0]!;
    const envelope = JSON.parse(got.body);
    envelope.proof.to.ocid = 999;
    const tampered = { ...got, body: JSON.stringify(envelope) };
    const check = verifyReceivedProof(tampered, kassaPublicKey);
    expect([check.requestOk, check.proofOk]).toEqual([false, false]);
    expect(verifyReceivedProof(got, GATEWAY_KEY.publicHex).proofOk).toBe(false);
  });

  it("is retried until the gateway answers {status: accepted} (an error, or 200 without it, is retried)", async () => {
    const receiver = await startProofReceiver((r, i) =>
      i === 0
        ? { status: 503, body: { error: "busy" } }
        : i === 1
          ? { status: 200, body: { ok: true } }
          : { status: 200, body: { status: "accepted", txid: JSON.parse(r.body).proof.txid } },
    );
    receivers.push(receiver);
    const { sessionId } = await paidOrderTo(receiver, "612");
    await deliverUntil(() => receiver.received.length >= 3);
    await deliverUntil(() => false, 3); // nothing more is sent once accepted
    expect(receiver.received).toHaveLength(3);
    // Each attempt is a fresh signed request (new nonce), each verifies.
    expect(new Set(receiver.received.map((r) => r.headers["x-oc-nonce"])).size).toBe(3);
    for (const r of receiver.received) expect(verifyReceivedProof(r, kassaPublicKey).requestOk).toBe(true);
    const listed = (await runOperation(ops(), "opencharge.proofs", {})) as Array<Record<string, any>>;
    expect(listed.find((p) => p.session_id === sessionId)!.delivery).toMatchObject({
      status: "succeeded",
      attempt_count: 3,
    });
  });

  it("a rejected proof is recorded with its reason and not retried", async () => {
    const receiver = await startProofReceiver(() => ({
      status: 400,
      body: { status: "rejected", reason: "AMOUNT_MISMATCH" },
    }));
    receivers.push(receiver);
    const { sessionId } = await paidOrderTo(receiver, "613");
    await deliverUntil(() => receiver.received.length > 0);
    await deliverUntil(() => false, 3);
    expect(receiver.received).toHaveLength(1);
    const listed = (await runOperation(ops(), "opencharge.proofs", {})) as Array<Record<string, any>>;
    expect(listed.find((p) => p.session_id === sessionId)!.delivery).toMatchObject({
      status: "failed",
      attempt_count: 1,
      last_status_code: 400,
      last_error: "rejected by the receiver: AMOUNT_MISMATCH",
      next_attempt_on: null,
    });
  });

  it("a session completes once: paying again makes no second proof", async () => {
    const receiver = await startProofReceiver();
    receivers.push(receiver);
    const { sessionId } = await paidOrderTo(receiver, "614");
    expect((await t.services.checkoutSessions.pay(sessionId, card)).outcome).toBe("already_paid");
    expect(await t.db.prisma.openchargeProof.count({ where: { sessionId } })).toBe(1);
  });

  it("participant endpoints on private addresses follow WEBHOOK_ALLOW_PRIVATE_URLS", async () => {
    const strict = createKassaServices(t.db, undefined, {
      ...t.config,
      webhooks: { ...t.config.webhooks, allowPrivateUrls: false },
    });
    await expect(
      runOperation({ services: strict, db: t.db }, "opencharge.participants.add", {
        ocid: "620",
        name: "Local",
        public_key: GATEWAY_KEY.publicHex,
        endpoint: "http://127.0.0.1:9/gw",
      }),
    ).rejects.toMatchObject({ code: "invalid_parameters", details: { fields: { endpoint: [expect.any(String)] } } });
    const added = await runOperation(ops(), "opencharge.participants.add", {
      ocid: "620",
      name: "Local",
      public_key: GATEWAY_KEY.publicHex,
      endpoint: "http://127.0.0.1:9/gw/",
    });
    expect(added).toMatchObject({ ocid: "620", endpoint: "http://127.0.0.1:9/gw", role: "merchant" });
  });
});
