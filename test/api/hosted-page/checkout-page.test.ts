import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { createSession, GOOD_CARD, inputAttributes, openPage, pay, submit, textOf } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ PAY_LIMIT_MAX: "0" }); // many submissions from one address; the limit is tested in pay-limit.test.ts
});
afterAll(() => t.close());

const paymentsOf = (sessionId: string) => t.services.repos.payments.listForSession(sessionId);
const ordersOf = (sessionId: string) => t.db.prisma.order.findMany({ where: { checkoutSessionId: sessionId } });

describe(`GET /pay/:id renders the checkout (${storeKind})`, () => {
  it("shows the seller (subaccount name and re-hosted logo), description, kg, exact USD price and expiry in UTC", async () => {
    const { merchant } = await createSession(t);
    const sub = await merchant.api("POST", "/v1/subaccounts", { name: "Green Leaf Coffee" });
    expect(sub.status).toBe(201);
    const logo = await fetch(`${t.url}/v1/subaccounts/${sub.body.id}/logo`, {
      method: "PUT",
      headers: { authorization: `Bearer ${merchant.key}`, "content-type": "image/svg+xml" },
      body: '<svg xmlns="http://www.w3.org/2000/svg"/>',
    });
    const logoUrl = ((await logo.json()) as { logo_url: string }).logo_url;
    expect(logoUrl).toMatch(new RegExp(`^${TEST_PUBLIC_URL}/logos/\\w+\\.svg$`));
    const res = await merchant.api(
      "POST",
      "/v1/checkout/sessions",
      {
        amount_kg: 1250.5,
        success_url: "https://shop.example/thanks",
        cancel_url: "https://shop.example/cart",
        description: "Offset for order #1234",
      },
      { "x-subaccount-id": sub.body.id },
    );
    expect(res.status).toBe(201);
    const session = res.body;
    expect(session.checkout_url).toBe(`${TEST_PUBLIC_URL}/pay/${session.id}`);

    const page = await openPage(t.url, session.id);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.html).toMatch(/^<!doctype html>/);
    expect(page.html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(page.html).toContain("Green Leaf Coffee");
    expect(page.html).toContain(`<img class="logo" src="${logoUrl}"`);
    expect(page.html).toContain("Offset for order #1234");
    expect(page.html).toContain("<dd>1,250.5 kg</dd>");
    // 1250.5 kg at 2 cents/kg = 2501 cents.
    expect(session.price_usd_cents).toBe(2501);
    expect(page.html).toContain("<dd>$25.01</dd>");
    expect(page.html).toContain("Pay $25.01</button>");
    const expires = new Date(session.expires_on);
    const time = /<time datetime="([^"]+)">([^<]+)<\/time>/.exec(page.html);
    expect(new Date(time![1]!).getTime()).toBe(expires.getTime());
    expect(time![2]).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} UTC$/);
    expect(time![2]).toContain(`${String(expires.getUTCHours()).padStart(2, "0")}:`);
    // Test mode: the banner lists the test cards.
    expect(page.html).toContain("Test mode");
    for (const card of ["4242 4242 4242 4242", "4000 0000 0000 0002", "4000 0000 0000 9995"]) {
      expect(page.html).toContain(`<code>${card}</code>`);
    }
    // Cancel goes to the stored cancel_url.
    expect(page.html).toContain('<a class="cancel" href="https://shop.example/cart">');
  });

  it("has a keyboard- and phone-friendly form: labels, autocomplete, numeric keypad, POST to itself with a CSRF token", async () => {
    const { session } = await createSession(t);
    const page = await openPage(t.url, session.id);
    expect(page.html).toContain(`<form method="post" action="/pay/${session.id}"`);
    expect(page.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const expected = {
      card_number: { autocomplete: "cc-number", inputmode: "numeric", label: "Card number" },
      expiry: { autocomplete: "cc-exp", inputmode: "numeric", label: "Expiry date" },
      cvc: { autocomplete: "cc-csc", inputmode: "numeric", label: "CVC" },
      name: { autocomplete: "cc-name", inputmode: undefined, label: "Name on card" },
    };
    for (const [id, want] of Object.entries(expected)) {
      const attrs = inputAttributes(page.html, id)!;
      expect(attrs, id).toBeDefined();
      expect(attrs.name).toBe(id);
      expect(attrs.autocomplete).toBe(want.autocomplete);
      expect(attrs.inputmode).toBe(want.inputmode);
      expect(page.html).toContain(`<label for="${id}">${want.label}`);
      expect(attrs["aria-invalid"]).toBeUndefined();
    }
    const css = /<link rel="stylesheet" href="(\/pay\/assets\/checkout\.[0-9a-f]{12}\.css)">/.exec(page.html)?.[1];
    expect(css).toBeDefined();
    const sheet = await fetch(t.url + css);
    expect(sheet.status).toBe(200);
    expect(sheet.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(sheet.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const body = await sheet.text();
    expect(body).toContain(":focus-visible");
    const again = await fetch(t.url + css, { headers: { "if-none-match": sheet.headers.get("etag")! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${t.url}/pay/assets/other.css`)).status).toBe(404);
  });

  it("escapes merchant-provided text everywhere (text and attributes)", async () => {
    const nasty = `<script>alert("x")</script> & 'quotes' "double" \`tick\``;
    const { merchant } = await createSession(t);
    const sub = await merchant.api("POST", "/v1/subaccounts", {
      name: `<img src=x onerror=alert(1)> "Evil" Co`,
    });
    expect(sub.status).toBe(201);
    const res = await merchant.api(
      "POST",
      "/v1/checkout/sessions",
      {
        amount_kg: 100,
        success_url: "https://shop.example/ok",
        cancel_url: `https://shop.example/cart?x="><script>alert(3)</script>`,
        description: nasty,
      },
      { "x-subaccount-id": sub.body.id },
    );
    expect(res.status).toBe(201);
    const page = await openPage(t.url, res.body.id);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain("<script");
    expect(page.html).not.toContain("<img src=x");
    expect(page.html).toContain(
      "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; &quot;double&quot; &#96;tick&#96;",
    );
    expect(page.html).toContain("&lt;img src=x onerror=alert(1)&gt; &quot;Evil&quot; Co");
    // Every attribute value stays inside its quotes.
    for (const tag of page.html.match(/<[a-z][^>]*>/g)!) {
      expect(tag.slice(1).replace(/="[^"]*"/g, ""), tag).not.toMatch(/["'<]/);
    }
  });

  it("shows a monogram when there is no logo", async () => {
    const { merchant } = await createSession(t);
    const res = await merchant.api("POST", "/v1/checkout/sessions", {
      amount_kg: 100,
      success_url: "https://shop.example/ok",
      cancel_url: "https://shop.example/cart",
    });
    const page = await openPage(t.url, res.body.id);
    expect(page.html).not.toContain("<img");
    expect(page.html).toMatch(/<span class="monogram" aria-hidden="true">M<\/span>/);
  });

  it("answers an unknown or malformed id with an HTML 404", async () => {
    const cases: Array<[string, number]> = [
      ["doesNotExist", 404],
      ["a".repeat(80), 404],
      ["x%00y", 404],
      ["%3Cscript%3E", 404],
      ["%FF", 400],
      // Longer than Fastify lets a path parameter be.
      ["a".repeat(300), 414],
    ];
    for (const [id, status] of cases) {
      const res = await fetch(`${t.url}/pay/${id}`);
      expect(res.status, id).toBe(status);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const html = await res.text();
      expect(html).toContain(status === 400 ? "Bad request" : "Checkout not found");
      expect(html).not.toContain("<script");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    }
    const deeper = await fetch(`${t.url}/pay/a/b/c`);
    expect(deeper.status).toBe(404);
    expect(deeper.headers.get("content-type")).toBe("text/html; charset=utf-8");
  });
});

describe("security headers and CSRF", () => {
  it("sends CSP (form-action allows the session's own redirect origins), nosniff, no-referrer, DENY, no-store, HSTS", async () => {
    const { merchant } = await createSession(t);
    const res = await merchant.api("POST", "/v1/checkout/sessions", {
      amount_kg: 100,
      success_url: "https://shop.example/thanks?s={CHECKOUT_SESSION_ID}",
      cancel_url: "http://localhost:8080/cart",
    });
    const page = await openPage(t.url, res.body.id);
    const h = page.headers;
    expect(h.get("content-security-policy")).toBe(
      `default-src 'none'; style-src 'self'; img-src 'self' ${TEST_PUBLIC_URL} data:; ` +
        "form-action 'self' https://shop.example http://localhost:8080; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("referrer-policy")).toBe("no-referrer");
    expect(h.get("x-frame-options")).toBe("DENY");
    expect(h.get("cache-control")).toBe("no-store");
    expect(h.get("permissions-policy")).toContain("camera=()");
    // PUBLIC_URL is https in these tests.
    expect(h.get("strict-transport-security")).toBe("max-age=31536000");
    expect(page.setCookie).toMatch(/^kassa_csrf=[A-Za-z0-9_-]{43}; Path=\/pay; HttpOnly; SameSite=Lax; Secure$/);
  });

  it("keeps the browser's cookie: no new cookie when a valid one is sent, same token for the same session", async () => {
    const { session } = await createSession(t);
    const first = await openPage(t.url, session.id);
    const second = await openPage(t.url, session.id, first.cookie);
    expect(second.setCookie).toBeNull();
    expect(second.csrf).toBe(first.csrf);
    const other = await createSession(t);
    const third = await openPage(t.url, other.session.id, first.cookie);
    expect(third.csrf).not.toBe(first.csrf);
  });

  it("refuses a form without a valid token with 403 and charges nothing", async () => {
    const { session } = await createSession(t);
    const opened = await openPage(t.url, session.id);
    const other = await createSession(t);
    const otherPage = await openPage(t.url, other.session.id, opened.cookie);
    const cases: Array<[string, Record<string, string>, string | undefined]> = [
      ["no token, no cookie", { ...GOOD_CARD }, undefined],
      ["no token", { ...GOOD_CARD }, opened.cookie],
      ["token without cookie", { ...GOOD_CARD, csrf_token: opened.csrf! }, undefined],
      ["wrong token", { ...GOOD_CARD, csrf_token: "A".repeat(43) }, opened.cookie],
      ["short token", { ...GOOD_CARD, csrf_token: "abc" }, opened.cookie],
      ["another session's token", { ...GOOD_CARD, csrf_token: otherPage.csrf! }, opened.cookie],
      ["another browser's cookie", { ...GOOD_CARD, csrf_token: opened.csrf! }, `kassa_csrf=${"B".repeat(43)}`],
    ];
    for (const [name, fields, cookie] of cases) {
      const res = await submit(t.url, session.id, fields, { cookie });
      expect(res.status, name).toBe(403);
      expect(res.html, name).toContain("Nothing was charged");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
    }
    expect(await paymentsOf(session.id)).toHaveLength(0);
    const read = await openPage(t.url, session.id, opened.cookie);
    expect(read.html).toContain("<form");
  });
});

describe("paying", () => {
  it("4242: 303 to success_url with the id URL-encoded; the session completes with one order", async () => {
    const { merchant, session } = await createSession(t);
    const res = await pay(t.url, session.id);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`https://shop.example/thanks?session=${encodeURIComponent(session.id)}`);
    const read = await merchant.api("GET", `/v1/checkout/sessions/${session.id}`);
    expect(read.body.state).toBe("complete");
    expect(read.body.completed_on).not.toBeNull();
    const orders = await ordersOf(session.id);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ state: "placed", priceUsdCents: 200 });
    const payments = await paymentsOf(session.id);
    expect(payments.map((p) => [p.status, p.cardLast4])).toEqual([["succeeded", "4242"]]);

    // The page now says it is paid and links back to the success URL; no form.
    const page = await openPage(t.url, session.id);
    expect(page.status).toBe(200);
    expect(page.html).toContain("This checkout is paid.");
    expect(page.html).not.toContain("<form");
    expect(page.html).toContain(`href="https://shop.example/thanks?session=${session.id}"`);
  });

  it("another submit of a paid session lands on success without charging again", async () => {
    const { session } = await createSession(t);
    const opened = await openPage(t.url, session.id);
    const form = { ...GOOD_CARD, csrf_token: opened.csrf! };
    expect((await submit(t.url, session.id, form, { cookie: opened.cookie })).status).toBe(303);
    const again = await submit(t.url, session.id, form, { cookie: opened.cookie });
    expect(again.status).toBe(303);
    expect(again.headers.get("location")).toContain(session.id);
    expect(await paymentsOf(session.id)).toHaveLength(1);
    expect(await ordersOf(session.id)).toHaveLength(1);
  });

  it.each([
    ["4000 0000 0000 0002", "card_declined", "Your card was declined."],
    ["4000-0000-0000-9995", "insufficient_funds", "Your card has insufficient funds."],
  ])("declines %s (%s): 402, says why, keeps the session open", async (number, code, message) => {
    const { merchant, session } = await createSession(t);
    const res = await pay(t.url, session.id, { ...GOOD_CARD, card_number: number });
    expect(res.status).toBe(402);
    expect(res.html).toMatch(
      new RegExp(`<div class="alert" role="alert"><strong>Payment declined.</strong> ${message}`),
    );
    // Typed values come back, except the CVC.
    expect(inputAttributes(res.html, "card_number")!.value).toBe(number);
    expect(inputAttributes(res.html, "expiry")!.value).toBe("12 / 34");
    expect(inputAttributes(res.html, "name")!.value).toBe("Ada Lovelace");
    expect(inputAttributes(res.html, "cvc")!.value).toBe("");
    const read = await merchant.api("GET", `/v1/checkout/sessions/${session.id}`);
    expect(read.body.state).toBe("open");
    expect(await ordersOf(session.id)).toHaveLength(0);
    expect((await paymentsOf(session.id)).map((p) => [p.status, p.declineCode])).toEqual([["declined", code]]);

    // The same page then takes a good card.
    const retry = await pay(t.url, session.id);
    expect(retry.status).toBe(303);
    expect(await ordersOf(session.id)).toHaveLength(1);
  });

  it("refuses a Luhn failure, a past expiry and a bad CVC with 422 and messages next to the fields", async () => {
    const now = new Date();
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const past = `${String(lastMonth.getUTCMonth() + 1).padStart(2, "0")}/${String(lastMonth.getUTCFullYear()).slice(2)}`;
    const { merchant, session } = await createSession(t);
    const res = await pay(t.url, session.id, {
      card_number: "4242 4242 4242 4241",
      expiry: past,
      cvc: "12",
      name: "Ada",
    });
    expect(res.status).toBe(422);
    const fields = {
      card_number: "Your card number is invalid.",
      expiry: "Your card's expiry date is in the past.",
      cvc: "Your card's security code has 3 digits (on the back of the card).",
    };
    for (const [id, message] of Object.entries(fields)) {
      const attrs = inputAttributes(res.html, id)!;
      expect(attrs["aria-invalid"], id).toBe("true");
      expect(attrs["aria-describedby"], id).toBe(`${id}-error`);
      expect(textOf(res.html, `${id}-error`)).toBe(message.replace("'", "&#39;"));
    }
    // The first field in error gets the focus; values come back except the CVC.
    expect(inputAttributes(res.html, "card_number")!.autofocus).toBe("");
    expect(inputAttributes(res.html, "card_number")!.value).toBe("4242 4242 4242 4241");
    expect(inputAttributes(res.html, "expiry")!.value).toBe(past);
    expect(inputAttributes(res.html, "cvc")!.value).toBe("");
    expect(inputAttributes(res.html, "name")!.aria).toBeUndefined();
    expect(await paymentsOf(session.id)).toHaveLength(0);
    expect((await merchant.api("GET", `/v1/checkout/sessions/${session.id}`)).body.state).toBe("open");
  });

  it("asks for 4 CVC digits on an American Express card", async () => {
    const { session } = await createSession(t);
    const res = await pay(t.url, session.id, { card_number: "3782 822463 10005", expiry: "12/34", cvc: "123" });
    expect(res.status).toBe(422);
    expect(textOf(res.html, "cvc-error")).toContain("4 digits");
    expect(textOf(res.html, "card_number-error")).toBeUndefined();
    const ok = await pay(t.url, session.id, { card_number: "3782 822463 10005", expiry: "12/34", cvc: "1234" });
    expect(ok.status).toBe(303);
  });
});

describe("expiry", () => {
  it("an expired session's page says so, has no form, and a POST is refused without a charge", async () => {
    const { merchant, session } = await createSession(t);
    const opened = await openPage(t.url, session.id);
    t.clock.set(new Date(new Date(session.expires_on as string).getTime() + 1000));
    try {
      const page = await openPage(t.url, session.id, opened.cookie);
      expect(page.status).toBe(200);
      expect(page.html).toContain("This checkout has expired.");
      expect(page.html).not.toContain("<form");
      expect(page.html).toContain('href="https://shop.example/cart"');

      const res = await submit(
        t.url,
        session.id,
        { ...GOOD_CARD, csrf_token: opened.csrf! },
        { cookie: opened.cookie },
      );
      expect(res.status).toBe(409);
      expect(res.html).toContain("This checkout has expired.");
      expect(await paymentsOf(session.id)).toHaveLength(0);
      expect(await ordersOf(session.id)).toHaveLength(0);
      expect((await merchant.api("GET", `/v1/checkout/sessions/${session.id}`)).body.state).toBe("expired");
    } finally {
      (t.clock as { now: Date | null }).now = null;
    }
  });
});

describe("bad requests are 4xx pages, never 500", () => {
  it("refuses other content types (415), oversized forms (413) and other methods (405)", async () => {
    const { session } = await createSession(t);
    const opened = await openPage(t.url, session.id);
    const url = `${t.url}/pay/${session.id}`;
    const json = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: opened.cookie! },
      body: JSON.stringify({ ...GOOD_CARD, csrf_token: opened.csrf }),
    });
    expect(json.status).toBe(415);
    expect(json.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const multipart = new FormData();
    multipart.set("card_number", GOOD_CARD.card_number);
    expect((await fetch(url, { method: "POST", body: multipart })).status).toBe(415);
    const text = await fetch(url, { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" });
    expect(text.status).toBe(415);

    const huge = await submit(
      t.url,
      session.id,
      { ...GOOD_CARD, csrf_token: opened.csrf!, name: "x".repeat(20_000) },
      {
        cookie: opened.cookie,
      },
    );
    expect(huge.status).toBe(413);
    expect(huge.html).toContain("Request too large");

    const empty = await fetch(url, { method: "POST" });
    expect(empty.status).toBe(403);

    const put = await fetch(url, { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toContain("POST");
    expect(put.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await paymentsOf(session.id)).toHaveLength(0);
  });

  it("survives junk in the form: repeated names, control characters, odd encodings", async () => {
    const { session } = await createSession(t);
    const opened = await openPage(t.url, session.id);
    const body = `card_number=%00%01<b>&card_number=4242424242424242&expiry=%FF%FE&cvc=&name=%E2%80%AE${encodeURIComponent("<script>")}&csrf_token=${opened.csrf}&__proto__=x&constructor=y`;
    const res = await fetch(`${t.url}/pay/${session.id}`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8", cookie: opened.cookie! },
      body,
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<b>");
    expect(textOf(html, "card_number-error")).toBe("Your card number may only contain digits.");
    expect(await paymentsOf(session.id)).toHaveLength(0);
  });
});
