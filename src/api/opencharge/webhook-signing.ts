/**
 * Transfer proofs leave through the outbox (webhook_deliveries, signature scheme "opencharge") as
 * signed Opencharge requests: X-OC-ID (Kassa's OCID), X-OC-Timestamp, a fresh X-OC-Nonce per
 * attempt, and X-OC-Signature over the path as sent and the exact body. The receiver's answer is
 * judged by the protocol: `{status: "accepted"}` delivers, `{status: "rejected", reason}` is
 * final (recorded with its reason, never retried), anything else is retried.
 */
import { type RequestSigner, type ResponseJudge, WEBHOOK_USER_AGENT } from "../../core/webhooks/signing.js";
import { signedRequestHeaders } from "./headers.js";
import type { OpenchargeRuntime } from "./opencharge.js";

export function openchargeSigner(opencharge: Pick<OpenchargeRuntime, "identity">): RequestSigner {
  return async (input) => {
    const identity = await opencharge.identity();
    const url = new URL(input.url);
    return {
      ...signedRequestHeaders(
        { ocid: identity.ocid, method: "POST", path: `${url.pathname}${url.search}`, body: input.body },
        identity.key,
        { now: input.timestamp },
      ),
      "content-type": "application/json",
      "user-agent": WEBHOOK_USER_AGENT,
    };
  };
}

/** The longest reason kept from a receiver's answer. */
const MAX_REASON = 500;

export const openchargeJudge: ResponseJudge = ({ status, body }) => {
  let answer: { status?: unknown; reason?: unknown } | null = null;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object") answer = parsed as { status?: unknown; reason?: unknown };
  } catch {
    // Not JSON: judged by its status below.
  }
  if (answer?.status === "rejected") {
    const reason = typeof answer.reason === "string" ? answer.reason.slice(0, MAX_REASON) : "no reason given";
    return { problem: `rejected by the receiver: ${reason}`, final: true };
  }
  const ok = status >= 200 && status < 300;
  if (ok && answer?.status === "accepted") return null;
  return {
    problem: ok ? `receiver answered ${status} without {"status":"accepted"}` : `receiver answered ${status}`,
    final: false,
  };
};
