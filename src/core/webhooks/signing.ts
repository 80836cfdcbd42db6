import { createHmac, randomBytes } from "node:crypto";

/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing: receivers verify with any of the
 * standard libraries (`standardwebhooks` on npm, `Webhook.verify`).
 */

export const SECRET_PREFIX = "whsec_";

/** The scheme of outbox rows that do not name another (webhook_deliveries.signature). */
export const STANDARD_WEBHOOKS = "standard-webhooks";

/** What signing one attempt takes: the delivery's id, the attempt's time, the exact body, the secrets to sign with. */
export interface SigningInput {
  webhookId: string;
  timestamp: Date;
  body: string;
  secrets: readonly string[];
}

/** One signature scheme: the headers an attempt is sent with. */
export type WebhookSigner = (input: SigningInput) => Record<string, string>;

/** What the outbox hands every signer: the attempt's signing input and where it is sent. */
export interface AttemptSigningInput extends SigningInput {
  url: string;
}

/**
 * A scheme that signs the request itself (its path) or loads its key from the store (Opencharge:
 * X-OC-* headers signed with Kassa's key): it sees the URL and may answer a promise.
 */
export type RequestSigner = (input: AttemptSigningInput) => Record<string, string> | Promise<Record<string, string>>;

/** Signers by scheme name, as outbox rows name them; an API brings its own (src/api/<vendor>/). */
export type WebhookSigners = Readonly<Record<string, WebhookSigner | RequestSigner>>;

/**
 * What a receiver's answer means, for one scheme: null when it is delivered, else why not and
 * whether it is final (the receiver refused it for good: not retried).
 */
export type ResponseJudge = (answer: { status: number; body: string }) => { problem: string; final: boolean } | null;

/** Judges by scheme name; a scheme without one is delivered by any 2xx. */
export type ResponseJudges = Readonly<Record<string, ResponseJudge>>;

/**
 * A scheme's own retry timetable, where its API documents one: the times after a delivery was
 * written at which it is retried (ascending, each at most 10% later for jitter); when the attempt
 * at the last one fails, the delivery is given up. A scheme without one retries with backoff for 24 h.
 */
export interface RetrySchedule {
  retryAfterMs: readonly number[];
}

/** Timetables by scheme name. */
export type RetrySchedules = Readonly<Record<string, RetrySchedule>>;

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
export function webhookHeaders(input: SigningInput): Record<string, string> {
  const seconds = Math.floor(input.timestamp.getTime() / 1000);
  return {
    "webhook-id": input.webhookId,
    "webhook-timestamp": String(seconds),
    "webhook-signature": input.secrets.map((s) => sign(s, input.webhookId, seconds, input.body)).join(" "),
    "content-type": "application/json",
    "user-agent": WEBHOOK_USER_AGENT,
  };
}
