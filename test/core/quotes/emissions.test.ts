import { describe, expect, it } from "vitest";
import { isAppError } from "../../../src/core/errors.js";
import { Decimal } from "../../../src/core/money/money.js";
import { EMISSION_FACTORS, VEHICLE_TYPES } from "../../../src/core/quotes/emission-factors.js";
import { emissionsKg, flightFactor } from "../../../src/core/quotes/emissions.js";

/**
 * The calculators against values computed by hand from the factor table (1 mile = 1.609344 km,
 * 1 short ton = 907.18474 kg), each rounded up to a whole kilogram. If a factor is corrected, its
 * expectation here must be recomputed by hand too: that is the point.
 */

const d = (v: number | string) => new Decimal(v);
const kg = (v: Decimal) => v.toNumber();

describe("the factor table", () => {
  it("every factor is a positive decimal with a cited source and year", () => {
    const entries = [
      ...Object.values(EMISSION_FACTORS.flight),
      EMISSION_FACTORS.train,
      EMISSION_FACTORS.airFreight,
      EMISSION_FACTORS.groundFreight,
      ...VEHICLE_TYPES.map((v) => EMISSION_FACTORS.groundTransport[v]),
      EMISSION_FACTORS.officeSpace,
    ];
    expect(entries).toHaveLength(11);
    for (const f of entries) {
      expect(f.kgCo2PerUnit).toMatch(/^\d+\.\d+$/);
      expect(new Decimal(f.kgCo2PerUnit).gt(0)).toBe(true);
      expect(f.source.length).toBeGreaterThan(10);
      expect(f.year).toBeGreaterThanOrEqual(2023);
      expect(f.note.length).toBeGreaterThan(0);
    }
  });
});

describe("flight", () => {
  it("picks the band by miles: short below 300, medium below 2300, long from 2300", () => {
    expect(flightFactor(d("482.8"))).toBe(EMISSION_FACTORS.flight.shortHaul); // 299.998 mi
    expect(flightFactor(d("482.8032"))).toBe(EMISSION_FACTORS.flight.mediumHaul); // exactly 300 mi
    expect(flightFactor(d("3701.4911"))).toBe(EMISSION_FACTORS.flight.mediumHaul);
    expect(flightFactor(d("3701.4912"))).toBe(EMISSION_FACTORS.flight.longHaul); // exactly 2300 mi
  });

  it("kg = miles x the band's factor, rounded up", () => {
    expect(kg(emissionsKg.flight({ distanceKm: d(400) }))).toBe(52); // 248.548 mi x 0.207 = 51.45
    expect(kg(emissionsKg.flight({ distanceKm: d("482.8") }))).toBe(63); // 299.998 x 0.207 = 62.10
    expect(kg(emissionsKg.flight({ distanceKm: d("482.8032") }))).toBe(39); // 300 x 0.129 = 38.7
    expect(kg(emissionsKg.flight({ distanceKm: d(1000) }))).toBe(81); // 621.371 x 0.129 = 80.16
    expect(kg(emissionsKg.flight({ distanceKm: d("3701.4912") }))).toBe(375); // 2300 x 0.163 = 374.9
    expect(kg(emissionsKg.flight({ distanceKm: d(5000) }))).toBe(507); // 3106.856 x 0.163 = 506.42
    expect(kg(emissionsKg.flight({ distanceKm: d("0.001") }))).toBe(1); // any flight is at least 1 kg
  });
});

describe("the other calculators", () => {
  it("train: 100 km = 62.137 mi x 0.113 = 7.02 -> 8", () => {
    expect(kg(emissionsKg.train({ distanceKm: d(100) }))).toBe(8);
  });

  it("freight: short tons x miles x factor", () => {
    // 1000 kg = 1.10231 short tons; 1000 km = 621.371 mi; 684.944 ton-miles.
    expect(kg(emissionsKg.airFreight({ freightMassKg: d(1000), distanceKm: d(1000) }))).toBe(620); // x 0.905 = 619.87
    expect(kg(emissionsKg.groundFreight({ freightMassKg: d(1000), distanceKm: d(1000) }))).toBe(116); // x 0.168 = 115.07
    expect(kg(emissionsKg.groundFreight({ freightMassKg: d(20000), distanceKm: d(500) }))).toBe(1151); // 1150.71
  });

  it("ground transport: 100 km = 62.137 vehicle-miles x each vehicle's factor", () => {
    const by = (v: (typeof VEHICLE_TYPES)[number]) => kg(emissionsKg.groundTransport({ distanceKm: d(100) }, v));
    expect(by("passenger_car_van_or_suv")).toBe(25); // x 0.400 = 24.85
    expect(by("small_bus")).toBe(64); // x 1.021 = 63.44
    expect(by("school_bus")).toBe(91); // x 1.45857 = 90.63
    expect(by("coach_bus")).toBe(106); // x 1.70167 = 105.74
  });

  it("office space: square feet x 5.78849 kg per year", () => {
    expect(kg(emissionsKg.officeSpace({ squareFootage: d(1000) }))).toBe(5789); // 5788.49
    expect(kg(emissionsKg.officeSpace({ squareFootage: d("2500.5") }))).toBe(14475); // 14474.12
  });
});

describe("bad inputs", () => {
  const fieldsOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      if (isAppError(error) && error.code === "invalid_parameters") return Object.keys(error.details.fields ?? {});
      throw error;
    }
    throw new Error("expected invalid_parameters");
  };

  it("zero, negative, non-finite or too large inputs are refused, all named at once", () => {
    expect(fieldsOf(() => emissionsKg.flight({ distanceKm: d(0) }))).toEqual(["distanceKm"]);
    expect(fieldsOf(() => emissionsKg.train({ distanceKm: d(-1) }))).toEqual(["distanceKm"]);
    expect(fieldsOf(() => emissionsKg.train({ distanceKm: d(Number.POSITIVE_INFINITY) }))).toEqual(["distanceKm"]);
    expect(fieldsOf(() => emissionsKg.train({ distanceKm: d(1_000_001) }))).toEqual(["distanceKm"]);
    expect(fieldsOf(() => emissionsKg.airFreight({ freightMassKg: d(0), distanceKm: d(0) }))).toEqual([
      "freightMassKg",
      "distanceKm",
    ]);
    expect(fieldsOf(() => emissionsKg.officeSpace({ squareFootage: d("1e10") }))).toEqual(["squareFootage"]);
  });

  it("a result beyond the largest order (1e9 kg) blames the inputs", () => {
    // 1e9 kg x 1e6 km by air is about 5.6e11 kg CO2.
    expect(fieldsOf(() => emissionsKg.airFreight({ freightMassKg: d(1e9), distanceKm: d(1e6) }))).toEqual([
      "freightMassKg",
      "distanceKm",
    ]);
  });
});
