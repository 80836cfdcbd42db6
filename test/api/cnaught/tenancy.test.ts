import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type createMerchant, createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { expectProblem, normalised, sessionParams, unknownId } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const merchantApi = (opts: Parameters<typeof createMerchant>[1] = {}) => createMerchantApi(t, opts);

describe(`another account's objects are not found (${storeKind})`, () => {
  it("another account's checkout session is 404, answered exactly like an id that does not exist", async () => {
    const owner = await merchantApi();
    const stranger = await merchantApi();
    const session = (await owner.api("POST", "/v1/checkout/sessions", sessionParams())).body;
    const missing = unknownId(session.id.length);

    const foreign = await stranger.api("GET", `/v1/checkout/sessions/${session.id}`);
    const absent = await stranger.api("GET", `/v1/checkout/sessions/${missing}`);
    expectProblem(foreign, 404, "not-found");
    expect(normalised(foreign, session.id)).toEqual(normalised(absent, missing));
    // Nothing about the session leaks.
    expect(foreign.text).not.toContain(session.success_url);
    expect(foreign.text).not.toContain(owner.account.id);

    // The owner still sees it.
    expect((await owner.api("GET", `/v1/checkout/sessions/${session.id}`)).status).toBe(200);
  });

  it("another account's subaccount is 404 for GET, PUT and DELETE, exactly like an unknown id, and is left untouched", async () => {
    const owner = await merchantApi();
    const stranger = await merchantApi();
    const sub = (await owner.api("POST", "/v1/subaccounts", { name: "Owner's", email: "o@example.com" })).body;
    const missing = unknownId(sub.id.length);

    for (const [method, body] of [
      ["GET", undefined],
      ["PUT", { name: "Hijacked" }],
      ["DELETE", undefined],
    ] as const) {
      const foreign = await stranger.api(method, `/v1/subaccounts/${sub.id}`, body);
      const absent = await stranger.api(method, `/v1/subaccounts/${missing}`, body);
      expectProblem(foreign, 404, "not-found");
      expect(normalised(foreign, sub.id)).toEqual(normalised(absent, missing));
    }
    expect((await owner.api("GET", `/v1/subaccounts/${sub.id}`)).body).toEqual(sub);
  });

  it("lists show only the caller's own subaccounts", async () => {
    const a = await merchantApi();
    const b = await merchantApi();
    const mine = (await a.api("POST", "/v1/subaccounts", { name: "A's" })).body;
    const theirs = (await b.api("POST", "/v1/subaccounts", { name: "B's" })).body;
    expect((await a.api("GET", "/v1/subaccounts")).body).toEqual({ data: [mine] });
    expect((await b.api("GET", "/v1/subaccounts")).body).toEqual({ data: [theirs] });
  });

  it("another account's subaccount in X-Subaccount-Id is rejected exactly like an unknown one", async () => {
    const owner = await merchantApi();
    const stranger = await merchantApi();
    const sub = (await owner.api("POST", "/v1/subaccounts", { name: "Owner's" })).body;
    const missing = unknownId(sub.id.length);
    const foreign = await stranger.api("POST", "/v1/checkout/sessions", sessionParams(), { "x-subaccount-id": sub.id });
    const absent = await stranger.api("POST", "/v1/checkout/sessions", sessionParams(), { "x-subaccount-id": missing });
    expectProblem(foreign, 400, "invalid-subaccount");
    expect(normalised(foreign, sub.id)).toEqual(normalised(absent, missing));
  });

  it("a session created under someone else's subaccount cannot be read through one's own", async () => {
    const owner = await merchantApi();
    const stranger = await merchantApi();
    const ownerSub = (await owner.api("POST", "/v1/subaccounts", { name: "O" })).body;
    const strangerSub = (await stranger.api("POST", "/v1/subaccounts", { name: "S" })).body;
    const session = (
      await owner.api("POST", "/v1/checkout/sessions", sessionParams(), { "x-subaccount-id": ownerSub.id })
    ).body;
    const res = await stranger.api("GET", `/v1/checkout/sessions/${session.id}`, undefined, {
      "x-subaccount-id": strangerSub.id,
    });
    expectProblem(res, 404, "not-found");
  });
});

describe(`subaccount scope (${storeKind})`, () => {
  it("a session of one subaccount is 404 under another subaccount of the same account, exactly like a missing id", async () => {
    const { api } = await merchantApi();
    const s1 = (await api("POST", "/v1/subaccounts", { name: "One" })).body;
    const s2 = (await api("POST", "/v1/subaccounts", { name: "Two" })).body;
    const session = (await api("POST", "/v1/checkout/sessions", sessionParams(), { "x-subaccount-id": s1.id })).body;
    expect(session.subaccount_id).toBe(s1.id);
    const missing = unknownId(session.id.length);

    const outOfScope = await api("GET", `/v1/checkout/sessions/${session.id}`, undefined, { "x-subaccount-id": s2.id });
    const absent = await api("GET", `/v1/checkout/sessions/${missing}`, undefined, { "x-subaccount-id": s2.id });
    expectProblem(outOfScope, 404, "not-found");
    expect(normalised(outOfScope, session.id)).toEqual(normalised(absent, missing));

    expect(
      (await api("GET", `/v1/checkout/sessions/${session.id}`, undefined, { "x-subaccount-id": s1.id })).status,
    ).toBe(200);
  });

  it("an account-level session is 404 when read under a subaccount", async () => {
    const { api } = await merchantApi();
    const sub = (await api("POST", "/v1/subaccounts", { name: "Sub" })).body;
    const session = (await api("POST", "/v1/checkout/sessions", sessionParams())).body;
    expect(session.subaccount_id).toBeNull();
    const missing = unknownId(session.id.length);
    const outOfScope = await api("GET", `/v1/checkout/sessions/${session.id}`, undefined, {
      "x-subaccount-id": sub.id,
    });
    const absent = await api("GET", `/v1/checkout/sessions/${missing}`, undefined, { "x-subaccount-id": sub.id });
    expectProblem(outOfScope, 404, "not-found");
    expect(normalised(outOfScope, session.id)).toEqual(normalised(absent, missing));
  });

  it("without the header the account sees its subaccounts' sessions, even after the subaccount is deleted", async () => {
    const { api } = await merchantApi();
    const sub = (await api("POST", "/v1/subaccounts", { name: "Sub" })).body;
    const session = (await api("POST", "/v1/checkout/sessions", sessionParams(), { "x-subaccount-id": sub.id })).body;
    const read = await api("GET", `/v1/checkout/sessions/${session.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(session);

    expect((await api("DELETE", `/v1/subaccounts/${sub.id}`)).status).toBe(204);
    const afterDelete = await api("GET", `/v1/checkout/sessions/${session.id}`);
    expect(afterDelete.status).toBe(200);
    expect(afterDelete.body.subaccount_id).toBe(sub.id);
  });
});
