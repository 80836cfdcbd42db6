import { createHmac } from "node:crypto";
import type { RetrySchedule, WebhookSigner } from "../../core/webhooks/signing.js";

/** The name LeanRails' outbox rows give their signature scheme (webhook_deliveries.signature). */
export const LEANRAILS_SIGNATURE = "leanrails";

export const LEANRAILS_WEBHOOK_USER_AGENT = "Kassa-LeanRails-Webhooks/1";

/**
 * The hex HMAC-SHA256 LeanRails documents: keyed with the whole `whsec_…` string (its UTF-8
 * bytes, prefix included), over `"v1=" + t + "." + body` (the `v1=` is part of the signed
 * message, unlike Stripe's `t.body`).
 */
export const leanRailsMac = (secret: string, timestampSeconds: number, body: string) =>
  createHmac("sha256", Buffer.from(secret, "utf8")).update(`v1=${timestampSeconds}.${body}`, "utf8").digest("hex");

/** `t=<unix seconds>,v1=<hex>`, one `v1=` per secret. */
export const leanRailsSignature = (secrets: readonly string[], timestampSeconds: number, body: string) =>
  [`t=${timestampSeconds}`, ...secrets.map((s) => `v1=${leanRailsMac(s, timestampSeconds, body)}`)].join(",");

/**
 * The headers of one delivery attempt: `X-Signature` (and the later doc set's `Fluveo-Signature`,
 * the same value), `Webhook-Id` (the delivery's id, the same on every retry), a User-Agent.
 */
export const leanRailsSigner: WebhookSigner = ({ webhookId, timestamp, body, secrets }) => {
  const signature = leanRailsSignature(secrets, Math.floor(timestamp.getTime() / 1000), body);
  return {
    "X-Signature": signature,
    "Fluveo-Signature": signature,
    "Webhook-Id": webhookId,
    "User-Agent": LEANRAILS_WEBHOOK_USER_AGENT,
    "Content-Type": "application/json",
  };
};

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** LeanRails' documented retries: at about 1 m, 5 m, 30 m, 2 h, 8 h, 24 h and 72 h after the event. */
export const LEANRAILS_RETRIES: RetrySchedule = {
  retryAfterMs: [MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 8 * HOUR, 24 * HOUR, 72 * HOUR],
};
