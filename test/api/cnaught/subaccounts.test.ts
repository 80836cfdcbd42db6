import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decimal } from "../../../src/core/money/money.js";
import {
  type createMerchant,
  createMerchantApi,
  startTestApp,
  TEST_PUBLIC_URL,
  type TestApp,
} from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectInvalid, expectProblem, sessionParams, TIMESTAMP, unknownId } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const merchantApi = (opts: Parameters<typeof createMerchant>[1] = {}) => createMerchantApi(t, opts);

const portfolio = (checkout: string, api = "1") =>
  t.services.portfolios.create({
    name: `Subaccount portfolio ${checkout}`,
    checkoutPricePerKgUsdCents: new Decimal(checkout),
    apiPricePerKgUsdCents: new Decimal(api),
  });

describe(`subaccount CRUD (${storeKind})`, () => {
  it("POST answers 201 with Location and the subaccount", async () => {
    const { api } = await merchantApi();
    const res = await api("POST", "/v1/subaccounts", { name: "Acme Shop" });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9]+$/),
      name: "Acme Shop",
      email: null,
      created_on: expect.stringMatching(TIMESTAMP),
      default_portfolio_id: null,
      logo_url: null,
    });
    expect(res.headers.get("location")).toBe(`${TEST_PUBLIC_URL}/v1/subaccounts/${res.body.id}`);
    const read = await api("GET", new URL(res.headers.get("location")!).pathname);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
  });

  // (logo_url is downloaded and re-hosted: test/api/cnaught/logos.test.ts.)
  it("POST with every field but the logo stores them all", async () => {
    const { api } = await merchantApi();
    const p = await portfolio("5");
    const body = {
      name: "Full",
      email: "shop@example.com",
      default_portfolio_id: p.id,
    };
    const res = await api("POST", "/v1/subaccounts", body);
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject(body);
  });

  it.each([
    ["no name", {}, "name"],
    ["an empty name", { name: "" }, "name"],
    ["a blank name", { name: "   " }, "name"],
    ["a name that is a number", { name: 42 }, "name"],
    ["an invalid email", { name: "n", email: "not-an-email" }, "email"],
    ["an ftp logo_url", { name: "n", logo_url: "ftp://cdn.example/logo.png" }, "logo_url"],
    ["a relative logo_url", { name: "n", logo_url: "/logo.png" }, "logo_url"],
    ["an unknown default_portfolio_id", { name: "n", default_portfolio_id: "nope1234" }, "default_portfolio_id"],
    ["an empty default_portfolio_id", { name: "n", default_portfolio_id: "" }, "default_portfolio_id"],
  ])("POST with %s is 400 naming the field", async (_label, body, field) => {
    const { api } = await merchantApi();
    expectInvalid(await api("POST", "/v1/subaccounts", body), field);
  });

  it("GET /v1/subaccounts lists the account's live subaccounts as {data}, oldest first", async () => {
    const { api } = await merchantApi();
    expect((await api("GET", "/v1/subaccounts")).body).toEqual({ data: [] });
    const a = (await api("POST", "/v1/subaccounts", { name: "A" })).body;
    const b = (await api("POST", "/v1/subaccounts", { name: "B" })).body;
    const c = (await api("POST", "/v1/subaccounts", { name: "C" })).body;
    const list = await api("GET", "/v1/subaccounts");
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ data: [a, b, c] });

    expect((await api("DELETE", `/v1/subaccounts/${b.id}`)).status).toBe(204);
    expect((await api("GET", "/v1/subaccounts")).body).toEqual({ data: [a, c] });
  });

  it("PUT replaces the subaccount's fields and GET reflects it", async () => {
    const { api } = await merchantApi();
    const p = await portfolio("3");
    const created = (
      await api("POST", "/v1/subaccounts", {
        name: "Old",
        email: "old@example.com",
      })
    ).body;
    const put = await api("PUT", `/v1/subaccounts/${created.id}`, { name: "New", default_portfolio_id: p.id });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({
      id: created.id,
      name: "New",
      email: null,
      created_on: created.created_on,
      default_portfolio_id: p.id,
      logo_url: null,
    });
    expect((await api("GET", `/v1/subaccounts/${created.id}`)).body).toEqual(put.body);
  });

  it("PUT validates like POST", async () => {
    const { api } = await merchantApi();
    const created = (await api("POST", "/v1/subaccounts", { name: "X" })).body;
    expectInvalid(await api("PUT", `/v1/subaccounts/${created.id}`, {}), "name");
    expectInvalid(await api("PUT", `/v1/subaccounts/${created.id}`, { name: "X", email: "bad" }), "email");
    expectInvalid(
      await api("PUT", `/v1/subaccounts/${created.id}`, { name: "X", default_portfolio_id: "nope1234" }),
      "default_portfolio_id",
    );
    expectInvalid(
      await api("PUT", `/v1/subaccounts/${created.id}`, { name: "X", default_portfolio_id: "" }),
      "default_portfolio_id",
    );
    expect((await api("GET", `/v1/subaccounts/${created.id}`)).body).toEqual(created);
  });

  it("DELETE answers 204 with no body; afterwards the subaccount is not found", async () => {
    const { api } = await merchantApi();
    const created = (await api("POST", "/v1/subaccounts", { name: "Doomed" })).body;
    const del = await api("DELETE", `/v1/subaccounts/${created.id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expect(del.headers.get("x-request-id")).toBeTruthy();
    expectProblem(await api("GET", `/v1/subaccounts/${created.id}`), 404, "not-found");
    expectProblem(await api("PUT", `/v1/subaccounts/${created.id}`, { name: "Back" }), 404, "not-found");
    expectProblem(await api("DELETE", `/v1/subaccounts/${created.id}`), 404, "not-found");
  });

  it("unknown ids are 404 not-found for GET, PUT and DELETE", async () => {
    const { api } = await merchantApi();
    const id = unknownId();
    const get = await api("GET", `/v1/subaccounts/${id}`);
    expectProblem(get, 404, "not-found");
    expectProblem(await api("PUT", `/v1/subaccounts/${id}`, { name: "n" }), 404, "not-found");
    expectProblem(await api("DELETE", `/v1/subaccounts/${id}`), 404, "not-found");
  });
});

describe(`X-Subaccount-Id scoping (${storeKind})`, () => {
  it("a session created with the header carries subaccount_id and uses the subaccount's default portfolio", async () => {
    const { api, portfolio: accountPortfolio } = await merchantApi({ checkoutPricePerKg: "2" });
    const p = await portfolio("7", "6");
    const sub = (await api("POST", "/v1/subaccounts", { name: "S", default_portfolio_id: p.id })).body;
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 100 }), {
      "x-subaccount-id": sub.id,
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ subaccount_id: sub.id, portfolio_id: p.id, price_usd_cents: 700 });

    const read = await api("GET", `/v1/checkout/sessions/${res.body.id}`, undefined, { "x-subaccount-id": sub.id });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);

    // Without the header, the account's default applies and no subaccount is recorded.
    const plain = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 100 }));
    expect(plain.body).toMatchObject({ subaccount_id: null, portfolio_id: accountPortfolio!.id, price_usd_cents: 200 });
  });

  it("a subaccount without a default portfolio falls back to the account's", async () => {
    const { api, portfolio: accountPortfolio } = await merchantApi({ checkoutPricePerKg: "2" });
    const sub = (await api("POST", "/v1/subaccounts", { name: "No default" })).body;
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 100 }), {
      "x-subaccount-id": sub.id,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ subaccount_id: sub.id, portfolio_id: accountPortfolio!.id, price_usd_cents: 200 });
  });

  it("an explicit portfolio_id wins over the subaccount's default", async () => {
    const { api } = await merchantApi();
    const subDefault = await portfolio("7");
    const named = await portfolio("9");
    const sub = (await api("POST", "/v1/subaccounts", { name: "S", default_portfolio_id: subDefault.id })).body;
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 100, portfolio_id: named.id }), {
      "x-subaccount-id": sub.id,
    });
    expect(res.body).toMatchObject({ subaccount_id: sub.id, portfolio_id: named.id, price_usd_cents: 900 });
  });

  it("PUT changing the subaccount's default portfolio changes the price of new sessions", async () => {
    const { api } = await merchantApi();
    const first = await portfolio("7");
    const second = await portfolio("11");
    const sub = (await api("POST", "/v1/subaccounts", { name: "S", default_portfolio_id: first.id })).body;
    await api("PUT", `/v1/subaccounts/${sub.id}`, { name: "S", default_portfolio_id: second.id });
    const res = await api("POST", "/v1/checkout/sessions", sessionParams({ amount_kg: 100 }), {
      "x-subaccount-id": sub.id,
    });
    expect(res.body).toMatchObject({ portfolio_id: second.id, price_usd_cents: 1100 });
  });

  it("quotes with the header use the subaccount's default portfolio", async () => {
    const { api } = await merchantApi({ checkoutPricePerKg: "2", apiPricePerKg: "1.5" });
    const p = await portfolio("7", "6");
    const sub = (await api("POST", "/v1/subaccounts", { name: "S", default_portfolio_id: p.id })).body;
    const headers = { "x-subaccount-id": sub.id };
    expect((await api("POST", "/v1/quotes", { amount_kg: 100 }, headers)).body).toEqual({
      amount_kg: 100,
      price_usd_cents: 600,
    });
    expect((await api("POST", "/v1/quotes", { amount_kg: 100, source: "checkout" }, headers)).body).toEqual({
      amount_kg: 100,
      price_usd_cents: 700,
    });
    expect((await api("POST", "/v1/quotes", { amount_kg: 100 })).body).toEqual({
      amount_kg: 100,
      price_usd_cents: 150,
    });
  });

  it("an unknown, deleted or another account's subaccount is 400 invalid-subaccount on every session/quote call", async () => {
    const { api, account } = await merchantApi();
    const other = await merchantApi();
    const session = (await api("POST", "/v1/checkout/sessions", sessionParams())).body;
    const foreign = (await other.api("POST", "/v1/subaccounts", { name: "Theirs" })).body;
    const deleted = (await api("POST", "/v1/subaccounts", { name: "Gone" })).body;
    expect((await api("DELETE", `/v1/subaccounts/${deleted.id}`)).status).toBe(204);

    for (const bad of [unknownId(), deleted.id, foreign.id, "x".repeat(200)]) {
      const headers = { "x-subaccount-id": bad };
      for (const res of [
        await api("POST", "/v1/checkout/sessions", sessionParams(), headers),
        await api("GET", `/v1/checkout/sessions/${session.id}`, undefined, headers),
        await api("GET", `/v1/checkout/sessions/${unknownId()}`, undefined, headers),
        await api("POST", "/v1/quotes", { amount_kg: 100 }, headers),
      ]) {
        expectProblem(res, 400, "invalid-subaccount");
        expect(res.body.title).toBe("Invalid subaccount");
      }
    }
    // Nothing was created under the rejected headers.
    expect(await t.db.prisma.checkoutSession.count({ where: { accountId: account.id } })).toBe(1);
    expect(await t.db.prisma.checkoutSession.count({ where: { accountId: other.account.id } })).toBe(0);
  });
});
