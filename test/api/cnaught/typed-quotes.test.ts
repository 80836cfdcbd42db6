import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decimal } from "../../../src/core/money/money.js";
import { createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { type ApiResponse, expectInvalid, expectProblem, expectUnauthorized, unknownId } from "./support.js";

/**
 * The typed quotes (cnaught-more.md §2), through a client written from that page: POST
 * /v1/quotes/<kind> with the kind's fields and BaseQuoteParams, answering {amount_kg, price_usd_cents}.
 * Amounts are the hand-computed ones of test/core/quotes/emissions.test.ts.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

function quoteClient(key: string | null) {
  return async (kind: string, body: Record<string, unknown>, subaccountId?: string): Promise<ApiResponse> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key) headers.authorization = `Bearer ${key}`;
    if (subaccountId) headers["x-subaccount-id"] = subaccountId;
    const response = await fetch(`${t.url}/v1/quotes/${kind}`, { method: "POST", headers, body: JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null, text };
  };
}

/** A merchant whose default portfolio costs 1.5 cents/kg by API and 2 by checkout. */
async function merchant() {
  const m = await createMerchantApi(t, { apiPricePerKg: "1.5", checkoutPricePerKg: "2" });
  return { ...m, quote: quoteClient(m.key) };
}

describe(`typed quotes (${storeKind})`, () => {
  it("each kind turns its inputs into whole kg and prices them at the API price (or checkout's)", async () => {
    const { quote } = await merchant();
    const cases: [string, Record<string, unknown>, number][] = [
      ["flight", { distance_km: 1000 }, 81],
      ["train", { distance_km: 100 }, 8],
      ["air-freight", { freight_mass_kg: 1000, distance_km: 1000 }, 620],
      ["ground-freight", { freight_mass_kg: 1000, distance_km: 1000 }, 116],
      ["ground-transport", { distance_km: 100, vehicle_type: "passenger_car_van_or_suv" }, 25],
      ["ground-transport", { distance_km: 100, vehicle_type: "small_bus" }, 64],
      ["ground-transport", { distance_km: 100, vehicle_type: "school_bus" }, 91],
      ["ground-transport", { distance_km: 100, vehicle_type: "coach_bus" }, 106],
      ["office-space", { square_footage: 1000 }, 5789],
      ["ride", { distance_km: 100 }, 25],
    ];
    for (const [kind, body, kg] of cases) {
      const api = await quote(kind, body);
      expect(api.status, `${kind}: ${api.text}`).toBe(200);
      expect(api.body).toStrictEqual({ amount_kg: kg, price_usd_cents: Math.ceil(kg * 1.5) });
      const checkout = await quote(kind, { ...body, source: "checkout" });
      expect(checkout.body).toStrictEqual({ amount_kg: kg, price_usd_cents: kg * 2 });
      const explicit = await quote(kind, { ...body, source: "api", portfolio_id: null });
      expect(explicit.body).toStrictEqual(api.body);
    }
  });

  it("the ride quote is the passenger-car ground-transport quote", async () => {
    const { quote } = await merchant();
    for (const distance of [1, 37.5, 812]) {
      const ride = await quote("ride", { distance_km: distance });
      const car = await quote("ground-transport", { distance_km: distance, vehicle_type: "passenger_car_van_or_suv" });
      expect(ride.status).toBe(200);
      expect(ride.body).toEqual(car.body);
    }
  });

  it("prices from the portfolio named or the subaccount's default; an unknown X-Subaccount-Id is invalid-subaccount", async () => {
    const { quote, api } = await merchant();
    const dear = await t.services.portfolios.create({
      name: "Dear",
      checkoutPricePerKgUsdCents: new Decimal("10"),
      apiPricePerKgUsdCents: new Decimal("4"),
    });
    expect((await quote("train", { distance_km: 100, portfolio_id: dear.id })).body).toEqual({
      amount_kg: 8,
      price_usd_cents: 32,
    });
    const sub = (await api("POST", "/v1/subaccounts", { name: "Travel", default_portfolio_id: dear.id })).body;
    expect((await quote("train", { distance_km: 100 }, sub.id)).body).toEqual({ amount_kg: 8, price_usd_cents: 32 });
    expectProblem(await quote("train", { distance_km: 100 }, unknownId(8)), 400, "invalid-subaccount");
    expectInvalid(await quote("train", { distance_km: 100, portfolio_id: "NoSuchPortfolio" }), "portfolio_id");
  });

  it("refuses missing, non-positive or mistyped inputs with invalid-parameters naming the wire fields", async () => {
    const { quote } = await merchant();
    expectInvalid(await quote("flight", {}), "distance_km");
    expectInvalid(await quote("flight", { distance_km: 0 }), "distance_km");
    expectInvalid(await quote("train", { distance_km: -3 }), "distance_km");
    expectInvalid(await quote("train", { distance_km: "100" }), "distance_km");
    expectInvalid(await quote("air-freight", { distance_km: 10 }), "freight_mass_kg");
    expectInvalid(
      await quote("ground-freight", { freight_mass_kg: 0, distance_km: 0 }),
      "freight_mass_kg",
      "distance_km",
    );
    expectInvalid(await quote("ground-transport", { distance_km: 10 }), "vehicle_type");
    expectInvalid(await quote("ground-transport", { distance_km: 10, vehicle_type: "tractor" }), "vehicle_type");
    expectInvalid(await quote("office-space", { square_footage: 0 }), "square_footage");
    expectInvalid(await quote("flight", { distance_km: 10, source: "dashboard" }), "source");
    expectInvalid(
      await quote("air-freight", { freight_mass_kg: 1_000_000_000, distance_km: 1_000_000 }),
      "freight_mass_kg",
      "distance_km",
    );
  });

  it("needs a key", async () => {
    expectUnauthorized(await quoteClient(null)("flight", { distance_km: 100 }));
  });
});
