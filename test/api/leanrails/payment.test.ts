import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { GOOD_CARD, inputAttributes, openPage, pay } from "../hosted-page/support.js";
import { leanRailsMerchant, sessionParams } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const ADDRESS = {
  address_line1: "12 Analytical Row",
  address_city: "London",
  address_postal_code: "N1 9GU",
  address_country: "gb",
};

describe(`paying a LeanRails session on the hosted page (${storeKind})`, () => {
  it("completes it once: status complete, payment_status paid, pi_ payment_intent, customer_details from the page", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({ customer_email: "ada@example.com", billing_address_collection: "required" }),
    });
    expect(created.status, created.text).toBe(200);
    const id = created.body.id;

    // The page asks for the email (prefilled) and, as asked, the billing address.
    const page = await openPage(t.url, id);
    expect(page.status).toBe(200);
    expect(inputAttributes(page.html, "email")?.value).toBe("ada@example.com");
    expect(page.html).toContain("Billing address");
    expect(page.html).toContain("T-shirt");
    expect(page.html).toContain("€48.50");

    const paid = await pay(t.url, id, { ...GOOD_CARD, email: "ada@example.com", ...ADDRESS });
    expect(paid.status, paid.html).toBe(303);
    expect(paid.headers.get("location")).toBe(`https://shop.example/thanks?session_id=${id}`);

    const read = await lr("GET", `/v1/checkout_sessions/${id}`);
    expect(read.body).toMatchObject({
      status: "complete",
      payment_status: "paid",
      url: created.body.url,
      customer_email: "ada@example.com",
      customer_details: {
        email: "ada@example.com",
        name: "Ada Lovelace",
        phone: null,
        address: {
          line1: "12 Analytical Row",
          line2: null,
          city: "London",
          postal_code: "N1 9GU",
          state: null,
          country: "GB",
        },
      },
    });
    expect(read.body.payment_intent).toMatch(/^pi_[A-Za-z0-9]+$/);

    // Paid once: a second submit charges nothing more; expiring a complete session is a 400.
    const again = await pay(t.url, id, { ...GOOD_CARD, email: "ada@example.com", ...ADDRESS }).catch(() => null);
    expect(again === null || again.status === 303 || again.status === 200).toBe(true);
    const payments = await t.db.prisma.payment.findMany({ where: { checkoutSessionId: id } });
    expect(payments.filter((p) => p.status === "succeeded")).toHaveLength(1);
    expect(read.body.payment_intent).toBe(payments[0]!.id.replace(/^pay_/, "pi_"));
    const expire = await lr("POST", `/v1/checkout_sessions/${id}/expire`);
    expect(expire.status).toBe(400);
  });

  it("a JPY session pays in whole yen; without an address asked for, customer_details.address is null", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", {
      body: sessionParams({
        line_items: [{ quantity: 2, price_data: { currency: "jpy", product: "Onigiri", unit_amount: 250 } }],
      }),
    });
    const id = created.body.id;
    const page = await openPage(t.url, id);
    expect(page.html).toContain("¥500");
    expect(page.html).not.toContain("Billing address");
    const paid = await pay(t.url, id, { ...GOOD_CARD, email: "kenji@example.jp" });
    expect(paid.status, paid.html).toBe(303);
    const read = await lr("GET", `/v1/checkout_sessions/${id}`);
    expect(read.body).toMatchObject({
      status: "complete",
      payment_status: "paid",
      amount_total: 500,
      customer_email: null,
      customer_details: { email: "kenji@example.jp", name: "Ada Lovelace", address: null },
    });
    const payments = await t.db.prisma.payment.findMany({ where: { checkoutSessionId: id } });
    expect(payments.map((p) => [p.status, p.amount.toString(), p.currency])).toEqual([["succeeded", "500", "JPY"]]);
  });

  it("an expired session cannot be paid and reads expired", async () => {
    const { lr } = await leanRailsMerchant(t);
    const created = await lr("POST", "/v1/checkout_sessions", { body: sessionParams() });
    await lr("POST", `/v1/checkout_sessions/${created.body.id}/expire`);
    const page = await openPage(t.url, created.body.id);
    expect(page.html).not.toContain("<form");
    expect((await lr("GET", `/v1/checkout_sessions/${created.body.id}`)).body.status).toBe("expired");
  });
});
