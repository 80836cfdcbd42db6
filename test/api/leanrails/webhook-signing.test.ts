import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { leanRailsSigner } from "../../../src/api/leanrails/webhook-signing.js";

/** LeanRails' documented check, written from leanrails.md: HMAC-SHA256(whole whsec_ string, "v1=" + t + "." + body), hex. */
function verify(header: string, secret: string, body: string): number | null {
  const parts = header.split(",");
  const t = parts.find((p) => p.startsWith("t="))?.slice(2);
  if (!t) return null;
  const expected = createHmac("sha256", secret).update(`v1=${t}.${body}`).digest("hex");
  return parts.some((p) => p === `v1=${expected}`) ? Number(t) : null;
}

describe("LeanRails webhook signing", () => {
  it("matches a vector computed with openssl", () => {
    // printf 'v1=1700000000.{"id":"evt_1","object":"event"}' | openssl dgst -sha256 -hmac 'whsec_abc123'
    const headers = leanRailsSigner({
      webhookId: "msg_1",
      timestamp: new Date(1_700_000_000_500),
      body: '{"id":"evt_1","object":"event"}',
      secrets: ["whsec_abc123"],
    });
    expect(headers["X-Signature"]).toBe(
      "t=1700000000,v1=56b41430cb1ed13232501ddbd1d070d68ad921e7d781a63ab968a8deb26294a4",
    );
    expect(headers["Fluveo-Signature"]).toBe(headers["X-Signature"]);
    expect(headers).toMatchObject({
      "Webhook-Id": "msg_1",
      "Content-Type": "application/json",
      "User-Agent": expect.stringMatching(/\S/),
    });
  });

  it("verifies for any body and secret, and fails for another body, secret or time", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary" }),
        fc.string({ minLength: 1 }),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        (body, secretTail, t) => {
          const secret = `whsec_${secretTail}`;
          const header = leanRailsSigner({ webhookId: "m", timestamp: new Date(t * 1000), body, secrets: [secret] })[
            "X-Signature"
          ]!;
          expect(verify(header, secret, body)).toBe(t);
          expect(verify(header, `${secret}x`, body)).toBeNull();
          expect(verify(header, secret, `${body} `)).toBeNull();
          expect(verify(header.replace(`t=${t}`, `t=${t + 1}`), secret, body)).toBeNull();
        },
      ),
    );
  });

  it("signs the whole whsec_ string with the v1= prefix in the message (not Stripe's t.body)", () => {
    const body = "{}";
    const header = leanRailsSigner({ webhookId: "m", timestamp: new Date(0), body, secrets: ["whsec_k"] })[
      "X-Signature"
    ];
    const stripeStyle = createHmac("sha256", "whsec_k").update(`0.${body}`).digest("hex");
    const withoutPrefixKey = createHmac("sha256", "k").update(`v1=0.${body}`).digest("hex");
    expect(header).not.toContain(stripeStyle);
    expect(header).not.toContain(withoutPrefixKey);
  });
});

describe("README.md's LeanRails verifying snippet, run as written", () => {
  let verify: (secret: string, headers: Record<string, string>, body: string) => boolean;
  beforeAll(async () => {
    const readme = readFileSync(path.join(import.meta.dirname, "../../../README.md"), "utf8");
    const start = readme.indexOf("## LeanRails webhooks and events");
    const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
    const snippet = /^```js\n([\s\S]*?)^```/m.exec(section)?.[1];
    if (start < 0 || !snippet) throw new Error("README.md has no js block in its LeanRails webhooks section");
    const file = path.join(await mkdtemp(path.join(tmpdir(), "kassa-readme-lr-")), "verify.mjs");
    await writeFile(file, snippet);
    ({ verifyLeanRailsWebhook: verify } = await import(pathToFileURL(file).href));
  });

  const secret = "whsec_readme0123456789abcdefghijklmnop";
  const body = '{"id":"evt_1","object":"event","type":"checkout.session.completed"}';
  const lower = (h: Record<string, string>) =>
    Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
  const signed = (at = new Date(), secrets = [secret]) =>
    lower(leanRailsSigner({ webhookId: "msg_readme", timestamp: at, body, secrets }));

  it("accepts what Kassa signs", () => {
    expect(verify(secret, signed(), body)).toBe(true);
  });

  it("refuses a changed body, another secret, a stale timestamp and a missing header", () => {
    expect(verify(secret, signed(), body.replace("completed", "expired"))).toBe(false);
    expect(verify(`${secret}x`, signed(), body)).toBe(false);
    expect(verify(secret, signed(new Date(Date.now() - 10 * 60_000)), body)).toBe(false);
    expect(verify(secret, {}, body)).toBe(false);
  });
});
