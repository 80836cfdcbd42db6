/**
 * What a paid Opencharge session does, in the completing transaction: Kassa, the issuer, signs a
 * transfer proof crediting the merchant gateway (the order id as its reference), stores it, and
 * writes its delivery to the gateway's `<endpoint>/transfer/webhook` into the outbox. The session
 * completes once (the core's row lock), so there is one proof per session (unique in the table).
 *
 * The proof: `{txid, issuer, from, to, amount, currency, timestamp, memo?}`, signed over its deep
 * canonical JSON (canonical.ts). `txid` is the payment's id; `from` is Kassa itself with the
 * session id as reference (the customer paid Kassa by card and has no OCID); amount and currency
 * are the order's strings exactly as the merchant signed them. OCIDs are JSON numbers when they
 * fit one exactly, else decimal strings.
 */
import type { SessionLifecycle } from "../../core/checkout-sessions/lifecycle.js";
import type { LifecycleCore } from "../../core/services.js";
import { OPENCHARGE_API, type OpenchargeRuntime } from "./opencharge.js";
import type { OpenchargeSessionData } from "./order.js";
import { signProof } from "./signing.js";

/** An OCID in a signed document: a number when exact, else its decimal string. */
export const ocidValue = (ocid: string): number | string => (Number.isSafeInteger(Number(ocid)) ? Number(ocid) : ocid);

/** The path a merchant gateway receives proofs on, under its endpoint. */
export const PROOF_WEBHOOK_PATH = "/transfer/webhook";

export function openchargeLifecycle(
  core: Pick<LifecycleCore, "webhooks" | "clock">,
  opencharge: OpenchargeRuntime,
): SessionLifecycle {
  return {
    async completed(session, { tx, eventId }) {
      const identity = await opencharge.identity();
      const data = session.apiData as OpenchargeSessionData;
      const order = data.order;
      const txid = session.paymentId ?? session.id;
      const proof: Record<string, unknown> = {
        txid,
        issuer: ocidValue(identity.ocid),
        from: { ocid: ocidValue(identity.ocid), reference: session.id },
        to: { ocid: ocidValue(data.gatewayOcid), reference: String(order.id) },
        amount: String(order.amount),
        currency: String(order.currency),
        timestamp: Math.floor((session.completedAt ?? core.clock()).getTime() / 1000),
        ...(typeof order.memo === "string" ? { memo: order.memo } : {}),
      };
      const signature = signProof(proof, identity.key);
      const gateway = await opencharge.repository.findParticipant(data.gatewayOcid, tx);
      // A gateway removed since the order came in gets no delivery; the proof is kept and listed.
      const deliveryId = gateway
        ? await core.webhooks.enqueue(
            {
              accountId: session.accountId,
              eventId,
              subjectType: "opencharge_proof",
              subjectId: txid,
              url: `${gateway.endpoint}${PROOF_WEBHOOK_PATH}`,
              payload: JSON.stringify({ proof, signature }),
              nextAttemptAt: core.clock(),
              signature: OPENCHARGE_API,
            },
            tx,
          )
        : null;
      await opencharge.repository.insertProof(
        { txid, sessionId: session.id, deliveryId, proof, signature, createdAt: core.clock() },
        tx,
      );
    },
  };
}
