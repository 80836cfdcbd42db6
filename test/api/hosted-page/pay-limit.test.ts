import { randomInt } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { ConfigError, loadConfig } from "../../../src/config.js";
import { TEST_CARDS } from "../../../src/core/payments/test-provider.js";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { createSession, GOOD_CARD, type PageResponse, submit } from "./support.js";

/**
 * Card-form submissions (POST /pay/<id>) per client address, across sessions, against card
 * testing. Each test is its own client address (TRUST_PROXY and X-Forwarded-For), chosen at
 * random: with REDIS_URL set the counts live in Redis and outlast the run.
 */

const MAX = 3;
const WINDOW_MS = 600_000;
/** Counted in Redis when the run has one (as .ci/run does), in memory otherwise. */
const REDIS_URL = process.env.REDIS_URL;
const STORE: Record<string, string> = REDIS_URL ? { REDIS_URL } : {};

const newAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

const DECLINED = { ...GOOD_CARD, card_number: TEST_CARDS.declined };

/** GET the page from `address`; returns the page with the CSRF cookie and token it handed out. */
async function openFrom(baseUrl: string, id: string, address: string) {
  const response = await fetch(`${baseUrl}/pay/${id}`, { headers: { "x-forwarded-for": address } });
  const html = await response.text();
  return {
    status: response.status,
    html,
    cookie: /^(kassa_csrf=[^;]+)/.exec(response.headers.get("set-cookie") ?? "")?.[1],
    csrf: /name="csrf_token" value="([^"]*)"/.exec(html)?.[1],
  };
}

/** Opens the page and submits `card` with its token and cookie, all from `address`. */
async function payFrom(baseUrl: string, id: string, address: string, card: Record<string, string> = GOOD_CARD) {
  const opened = await openFrom(baseUrl, id, address);
  if (!opened.csrf || !opened.cookie) throw new Error(`no form on the page (status ${opened.status})`);
  return submit(
    baseUrl,
    id,
    { ...card, csrf_token: opened.csrf },
    { cookie: opened.cookie, headers: { "x-forwarded-for": address } },
  );
}

function expectLimited(res: PageResponse) {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  expect(res.headers.get("ratelimit-remaining")).toBe("0");
  // The page's own error page and headers, not a JSON problem.
  expect(res.html).toContain("Too many requests");
  expect(res.headers.get("content-security-policy")).toBeTruthy();
}

describe(`card-form submissions per client address (${storeKind}${REDIS_URL ? ", Redis" : ""})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      PAY_LIMIT_MAX: String(MAX),
      PAY_LIMIT_WINDOW_MS: String(WINDOW_MS),
      TRUST_PROXY: "127.0.0.1",
      ...STORE,
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const paymentsOf = (sessionId: string) => t.services.repos.payments.listForSession(sessionId);

  it("refuses the submission after the limit with the page's 429, across sessions, and charges nothing", async () => {
    const address = newAddress();
    const { session: first } = await createSession(t);
    const { session: second } = await createSession(t);

    // Viewing the page costs nothing: more GETs than the limit, then still the whole budget.
    for (let i = 0; i <= MAX; i++) expect((await openFrom(t.url, first.id, address)).status).toBe(200);

    // Every submission counts, whatever its fate: no CSRF token (403), a bad card (422), a decline (402).
    const fromAddress = { headers: { "x-forwarded-for": address } };
    expect((await submit(t.url, first.id, GOOD_CARD, fromAddress)).status).toBe(403);
    expect((await payFrom(t.url, second.id, address, { ...GOOD_CARD, card_number: "1234" })).status).toBe(422);
    const declined = await payFrom(t.url, second.id, address, DECLINED);
    expect(declined.status).toBe(402);
    expect(declined.headers.get("ratelimit-limit")).toBe(String(MAX));
    expect(declined.headers.get("ratelimit-remaining")).toBe("0");
    expect(await paymentsOf(second.id)).toHaveLength(1);

    // A good card with a valid token: refused before anything is read, nothing charged.
    const refused = await payFrom(t.url, first.id, address);
    expectLimited(refused);
    expect(await paymentsOf(first.id)).toHaveLength(0);
    expect(await paymentsOf(second.id)).toHaveLength(1);
    expect((await t.services.checkoutSessions.getForPage(first.id)).session.state).toBe("open");

    // Refused before the body is parsed (this one would be 415) and before the session is read.
    expectLimited(
      await submit(t.url, first.id, {}, { headers: { ...fromAddress.headers, "content-type": "application/json" } }),
    );
    expectLimited(await submit(t.url, "cs_does_not_exist", GOOD_CARD, fromAddress));

    // The page itself still opens for that address, with its form.
    const page = await openFrom(t.url, first.id, address);
    expect(page.status).toBe(200);
    expect(page.csrf).toBeTruthy();
  });

  it("another address keeps its whole budget and can pay the same session", async () => {
    const limitedAddress = newAddress();
    const { session } = await createSession(t);
    for (let i = 0; i < MAX; i++) expect((await payFrom(t.url, session.id, limitedAddress, DECLINED)).status).toBe(402);
    expectLimited(await payFrom(t.url, session.id, limitedAddress));

    const paid = await payFrom(t.url, session.id, newAddress());
    expect(paid.status).toBe(303);
    expect((await paymentsOf(session.id)).map((p) => p.status)).toEqual([...Array(MAX).fill("declined"), "succeeded"]);
  });

  describe(
    REDIS_URL ? "two instances share one count through Redis" : "without Redis each instance counts alone",
    () => {
      let second: FastifyInstance;
      let secondUrl: string;
      beforeAll(async () => {
        second = await buildApp({ config: t.config, db: t.db, services: t.services });
        secondUrl = await second.listen({ host: "127.0.0.1", port: 0 });
      });
      afterAll(async () => {
        await second?.close();
      });

      it("an address's budget spent on one instance is spent on the other only when counted in Redis", async () => {
        const address = newAddress();
        const { session } = await createSession(t);
        for (let i = 0; i < MAX; i++) expect((await payFrom(t.url, session.id, address, DECLINED)).status).toBe(402);
        expectLimited(await payFrom(t.url, session.id, address));

        const onSecond = await payFrom(secondUrl, session.id, address, DECLINED);
        if (REDIS_URL) expectLimited(onSecond);
        else expect(onSecond.status).toBe(402);
      });
    },
  );
});

describe(`the per-address limit counts the address Fastify sees (${storeKind})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    // Memory store: every request here comes from 127.0.0.1, a count Redis would keep across runs.
    t = await startTestApp({ PAY_LIMIT_MAX: String(MAX), PAY_LIMIT_WINDOW_MS: String(WINDOW_MS) });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("without TRUST_PROXY a changing X-Forwarded-For does not buy new attempts", async () => {
    const { session } = await createSession(t);
    for (let i = 0; i < MAX; i++) {
      expect((await payFrom(t.url, session.id, newAddress(), DECLINED)).status).toBe(402);
    }
    expectLimited(await payFrom(t.url, session.id, newAddress()));
    expect(await t.services.repos.payments.listForSession(session.id)).toHaveLength(MAX);
  });
});

describe(`behind one reverse proxy, TRUST_PROXY=127.0.0.1 (${storeKind})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    // Memory store: the proxy-appended address below is fixed, a count Redis would keep across runs.
    t = await startTestApp({
      PAY_LIMIT_MAX: String(MAX),
      PAY_LIMIT_WINDOW_MS: String(WINDOW_MS),
      TRUST_PROXY: "127.0.0.1",
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("counts the address the proxy appended, not what the client put before it", async () => {
    const { session } = await createSession(t);
    // The client writes its own X-Forwarded-For; the proxy appends the address it saw.
    const forwarded = (i: number) => `6.6.6.${i}, 203.0.113.9`;
    for (let i = 0; i < MAX; i++) {
      expect((await payFrom(t.url, session.id, forwarded(i), DECLINED)).status).toBe(402);
    }
    expectLimited(await payFrom(t.url, session.id, forwarded(MAX)));
    // Another client behind the same proxy keeps its budget.
    expect((await payFrom(t.url, session.id, "6.6.6.6, 203.0.113.10", DECLINED)).status).toBe(402);
  });
});

describe(`PAY_LIMIT_MAX=0 (${storeKind})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ PAY_LIMIT_MAX: "0", PAY_LIMIT_WINDOW_MS: String(WINDOW_MS), ...STORE });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("turns the limit off: more submissions from one address than the default limit all get their answer", async () => {
    const { session } = await createSession(t);
    const defaultMax = loadConfig({}).limits.pay.max;
    for (let i = 0; i <= defaultMax; i++) {
      // No CSRF token: the cheapest submission the page answers itself (403), not the limiter.
      const res = await submit(t.url, session.id, GOOD_CARD);
      expect(res.status).toBe(403);
      expect(res.headers.get("ratelimit-limit")).toBeNull();
    }
    // This app trusts no proxy: every request, this one too, is from 127.0.0.1.
    expect((await payFrom(t.url, session.id, "127.0.0.1")).status).toBe(303);
  });
});

describe("configuration", () => {
  it("defaults to 20 submissions per address per 10 minutes", () => {
    expect(loadConfig({}).limits.pay).toEqual({ max: 20, windowMs: 600_000 });
    expect(loadConfig({ PAY_LIMIT_MAX: "5", PAY_LIMIT_WINDOW_MS: "1000" }).limits.pay).toEqual({
      max: 5,
      windowMs: 1000,
    });
  });

  it("refuses a negative limit or a window under 100 ms, naming the variable", () => {
    expect(() => loadConfig({ PAY_LIMIT_MAX: "-1" })).toThrow(ConfigError);
    expect(() => loadConfig({ PAY_LIMIT_MAX: "-1" })).toThrow(/PAY_LIMIT_MAX/);
    expect(() => loadConfig({ PAY_LIMIT_WINDOW_MS: "50" })).toThrow(/PAY_LIMIT_WINDOW_MS/);
  });
});
