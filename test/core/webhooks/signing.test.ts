import fc from "fast-check";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret, sign, WEBHOOK_USER_AGENT, webhookHeaders } from "../../../src/core/webhooks/signing.js";

/** `standardwebhooks` is the independent verifier: what a receiver would run. */
const verifies = (secret: string, body: string, headers: Record<string, string>) => {
  try {
    new Webhook(secret).verify(body, headers, { jsonParse: false });
    return true;
  } catch {
    return false;
  }
};

describe("Standard Webhooks signing", () => {
  it("a secret is whsec_ and the base64 of 32 random bytes, different every time", () => {
    const a = newWebhookSecret();
    const b = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice("whsec_".length), "base64")).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it("the headers of an attempt verify with standardwebhooks and carry id, timestamp, type and agent", () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ order: { id: "abc", state: "placed" } });
    const timestamp = new Date();
    const headers = webhookHeaders({ webhookId: "msg_1", timestamp, body, secrets: [secret] });
    expect(headers).toMatchObject({
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "content-type": "application/json",
      "user-agent": WEBHOOK_USER_AGENT,
    });
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual({ order: { id: "abc", state: "placed" } });
  });

  it("a changed body, id or timestamp, or another secret, does not verify", () => {
    const secret = newWebhookSecret();
    const body = '{"order":{"id":"abc"}}';
    const headers = webhookHeaders({ webhookId: "msg_1", timestamp: new Date(), body, secrets: [secret] });
    expect(verifies(secret, body, headers)).toBe(true);
    expect(verifies(secret, '{"order":{"id":"abd"}}', headers)).toBe(false);
    expect(verifies(secret, body, { ...headers, "webhook-id": "msg_2" })).toBe(false);
    expect(
      verifies(secret, body, { ...headers, "webhook-timestamp": String(Number(headers["webhook-timestamp"]) - 1) }),
    ).toBe(false);
    expect(verifies(newWebhookSecret(), body, headers)).toBe(false);
  });

  it("with two secrets (a rotation) both signatures are sent and either secret verifies", () => {
    const current = newWebhookSecret();
    const previous = newWebhookSecret();
    const body = '{"order":{"id":"abc"}}';
    const headers = webhookHeaders({ webhookId: "msg_9", timestamp: new Date(), body, secrets: [current, previous] });
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(verifies(current, body, headers)).toBe(true);
    expect(verifies(previous, body, headers)).toBe(true);
    expect(verifies(newWebhookSecret(), body, headers)).toBe(false);
  });

  it("signs exactly as the reference implementation for any id, time and body", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.string({ unit: "grapheme", maxLength: 300 }),
        (key, id, seconds, body) => {
          const secret = `whsec_${Buffer.from(key).toString("base64")}`;
          expect(sign(secret, id, seconds, body)).toBe(new Webhook(secret).sign(id, new Date(seconds * 1000), body));
        },
      ),
    );
  });
});
