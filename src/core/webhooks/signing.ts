import { createHmac, randomBytes } from "node:crypto";

/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing: receivers verify with any of the
 * standard libraries (`standardwebhooks` on npm, `Webhook.verify`).
 */

export const SECRET_PREFIX = "whsec_";

export const WEBHOOK_USER_AGENT = "Kassa-Webhooks/1";

/** A new signing secret: `whsec_` and the base64 of 32 random bytes. */
export const newWebhookSecret = () => `${SECRET_PREFIX}${randomBytes(32).toString("base64")}`;

/** `v1,<base64 HMAC-SHA256>` of `${webhookId}.${timestampSeconds}.${body}`, keyed with the secret's bytes. */
export function sign(secret: string, webhookId: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
  const mac = createHmac("sha256", key).update(`${webhookId}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/**
 * The headers of one attempt. Each secret adds a signature (space-separated), so during a
 * rotation a receiver holding either the new or the previous secret can verify.
 */
export function webhookHeaders(input: {
  webhookId: string;
  timestamp: Date;
  body: string;
  secrets: readonly string[];
}): Record<string, string> {
  const seconds = Math.floor(input.timestamp.getTime() / 1000);
  return {
    "webhook-id": input.webhookId,
    "webhook-timestamp": String(seconds),
    "webhook-signature": input.secrets.map((s) => sign(s, input.webhookId, seconds, input.body)).join(" "),
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
  };
}
