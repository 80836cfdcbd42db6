import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { createKassaServices } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { SETTING_KEYS } from "../../../src/core/settings/settings.service.js";
import { loggerOptions } from "../../../src/logger.js";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { createSession, GOOD_CARD, openPage, pay, submit } from "./support.js";

let t: TestApp;
const others: FastifyInstance[] = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  for (const app of others) await app.close();
  await t.close();
});

/** Another instance of Kassa on the same store: its own services, config and listener. */
async function anotherInstance(env: Record<string, string> = {}, logger?: Parameters<typeof buildApp>[0]["logger"]) {
  const config = loadConfig({ NODE_ENV: "test", PORT: "0", PUBLIC_URL: TEST_PUBLIC_URL, LOG_LEVEL: "silent", ...env });
  const app = await buildApp({ config, db: t.db, services: createKassaServices(t.db), logger });
  others.push(app);
  return { app, url: await app.listen({ host: "127.0.0.1", port: 0 }) };
}

describe(`the CSRF secret (${storeKind})`, () => {
  it("settings.getOrCreate: concurrent callers with different candidates all get the first stored value", async () => {
    const key = `test.${Math.random()}`;
    const values = await Promise.all(
      Array.from({ length: 8 }, (_, i) => t.services.repos.settings.getOrCreate(key, `candidate-${i}`)),
    );
    expect(new Set(values).size).toBe(1);
    expect(values[0]).toMatch(/^candidate-\d$/);
    expect(await t.services.repos.settings.getOrCreate(key, "later")).toBe(values[0]);
    expect(await t.services.repos.settings.get(key)).toBe(values[0]);
  });

  it("without CHECKOUT_PAGE_SECRET, instances share the generated one: a form from one is paid on another", async () => {
    const { session } = await createSession(t);
    const other = await anotherInstance();
    const opened = await openPage(t.url, session.id);
    const res = await submit(
      other.url,
      session.id,
      { ...GOOD_CARD, csrf_token: opened.csrf! },
      { cookie: opened.cookie },
    );
    expect(res.status).toBe(303);
    const stored = await t.services.repos.settings.get(SETTING_KEYS.checkoutPageSecret);
    expect(stored).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("with CHECKOUT_PAGE_SECRET, that secret signs (a token from the generated one is refused)", async () => {
    const configured = await anotherInstance({ CHECKOUT_PAGE_SECRET: "s".repeat(40) });
    const { session } = await createSession(t);
    const fromGenerated = await openPage(t.url, session.id);
    const refused = await submit(
      configured.url,
      session.id,
      { ...GOOD_CARD, csrf_token: fromGenerated.csrf! },
      {
        cookie: fromGenerated.cookie,
      },
    );
    expect(refused.status).toBe(403);
    expect(await t.services.repos.payments.listForSession(session.id)).toHaveLength(0);
    const paid = await pay(configured.url, session.id);
    expect(paid.status).toBe(303);
  });
});

describe("plain-http PUBLIC_URL (local development)", () => {
  it("sets the cookie without Secure and sends no HSTS", async () => {
    const local = await anotherInstance({ PUBLIC_URL: "http://localhost:3000" });
    const { session } = await createSession(t);
    const page = await openPage(local.url, session.id);
    expect(page.status).toBe(200);
    expect(page.setCookie).toMatch(/^kassa_csrf=[A-Za-z0-9_-]{43}; Path=\/pay; HttpOnly; SameSite=Lax$/);
    expect(page.headers.get("strict-transport-security")).toBeNull();
  });
});

describe("logs", () => {
  it("never carry card numbers or CVCs, whatever the outcome; logged card objects are redacted", async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const config = loadConfig({ NODE_ENV: "test", PUBLIC_URL: TEST_PUBLIC_URL, LOG_LEVEL: "trace" });
    const logged = await anotherInstance({ LOG_LEVEL: "trace" }, { ...(loggerOptions(config) as object), stream });
    const { session } = await createSession(t);
    const cvc = "987";
    expect((await pay(logged.url, session.id, { ...GOOD_CARD, cvc, card_number: "4000000000000002" })).status).toBe(
      402,
    );
    expect(
      (await pay(logged.url, session.id, { ...GOOD_CARD, cvc: "98", card_number: "4242424242424241" })).status,
    ).toBe(422);
    expect((await pay(logged.url, session.id, { ...GOOD_CARD, cvc })).status).toBe(303);
    logged.app.log.info({ card: { number: "4242424242424242", cvc }, body: { card_number: "4242424242424242" } }, "x");

    const all = lines.join("");
    expect(all).toContain("card declined"); // the decline itself is logged, by code
    expect(all).toContain("card_declined");
    for (const secret of ["4242424242424242", "4242 4242 4242 4242", "4000000000000002", "4242424242424241"]) {
      expect(all, secret).not.toContain(secret);
    }
    // Three digits can occur by chance inside a timestamp or a response time: look for the CVC as
    // a value of its own (a JSON string, or a form field).
    expect(all).not.toContain(`"${cvc}"`);
    expect(all).not.toMatch(new RegExp(`cvc\\W{1,4}${cvc}`));
    expect(all).toContain('"card":{"number":"[redacted]","cvc":"[redacted]"}');
  });
});
