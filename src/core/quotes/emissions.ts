import { type FieldErrors, invalidParameters } from "../errors.js";
import { Decimal } from "../money/money.js";
import { AMOUNT_KG_MAX } from "../portfolios/pricing.js";
import { EMISSION_FACTORS, type EmissionFactor, type VehicleType } from "./emission-factors.js";

/**
 * The typed quotes' calculators: inputs in kilometres and kilograms, turned into the factors'
 * units exactly, times the factor (emission-factors.ts), rounded UP to a whole kilogram, so an
 * order for the quoted amount covers at least the emissions computed (CNaught's orders are in
 * whole kilograms; its own example app rounds emissions up too).
 */

/** Exact conversions (international mile, US short ton). */
export const KM_PER_MILE = new Decimal("1.609344");
export const KG_PER_SHORT_TON = new Decimal("907.18474");

/** Bounds on inputs: a longest trip of a million km (25 times round the Earth), a billion kg or sq ft. */
export const MAX_DISTANCE_KM = new Decimal("1000000");
export const MAX_MASS_KG = new Decimal("1000000000");
export const MAX_SQUARE_FOOTAGE = new Decimal("1000000000");

/** The flight bands' limits, in miles, as the source draws them. */
const SHORT_HAUL_BELOW_MILES = new Decimal(300);
const LONG_HAUL_FROM_MILES = new Decimal(2300);

const factor = (f: EmissionFactor) => new Decimal(f.kgCo2PerUnit);
const miles = (km: Decimal) => km.div(KM_PER_MILE);
const shortTons = (kg: Decimal) => kg.div(KG_PER_SHORT_TON);

type Inputs = Record<string, Decimal>;

/** Checks each input (finite, > 0, at most its bound), reporting all at once under core field names. */
function check(inputs: Inputs, bounds: Record<string, Decimal>) {
  const fields: FieldErrors = {};
  for (const [field, value] of Object.entries(inputs)) {
    const max = bounds[field]!;
    if (!value.isFinite()) fields[field] = ["must be a finite number"];
    else if (value.lte(0)) fields[field] = ["must be greater than 0"];
    else if (value.gt(max)) fields[field] = [`must be at most ${max.toFixed()}`];
  }
  if (Object.keys(fields).length) throw invalidParameters(fields);
}

/** Whole kilograms, rounded up; refused (blaming the inputs) beyond the largest amount an order may have. */
function wholeKg(kg: Decimal, inputs: Inputs): Decimal {
  const whole = kg.toDecimalPlaces(0, Decimal.ROUND_CEIL);
  if (whole.gt(AMOUNT_KG_MAX)) {
    const reason = `gives more than ${AMOUNT_KG_MAX.toFixed()} kg of CO2e, the most one quote may cover`;
    throw invalidParameters(Object.fromEntries(Object.keys(inputs).map((f) => [f, [reason]])));
  }
  return whole;
}

/** The factor for a flight of `distanceKm`, by the source's distance bands. */
export function flightFactor(distanceKm: Decimal): EmissionFactor {
  const m = miles(distanceKm);
  if (m.lt(SHORT_HAUL_BELOW_MILES)) return EMISSION_FACTORS.flight.shortHaul;
  if (m.lt(LONG_HAUL_FROM_MILES)) return EMISSION_FACTORS.flight.mediumHaul;
  return EMISSION_FACTORS.flight.longHaul;
}

export const emissionsKg = {
  /** One passenger's flight. */
  flight(input: { distanceKm: Decimal }): Decimal {
    check(input, { distanceKm: MAX_DISTANCE_KM });
    return wholeKg(miles(input.distanceKm).times(factor(flightFactor(input.distanceKm))), input);
  },
  /** One passenger's train journey. */
  train(input: { distanceKm: Decimal }): Decimal {
    check(input, { distanceKm: MAX_DISTANCE_KM });
    return wholeKg(miles(input.distanceKm).times(factor(EMISSION_FACTORS.train)), input);
  },
  airFreight(input: { freightMassKg: Decimal; distanceKm: Decimal }): Decimal {
    check(input, { freightMassKg: MAX_MASS_KG, distanceKm: MAX_DISTANCE_KM });
    const tonMiles = shortTons(input.freightMassKg).times(miles(input.distanceKm));
    return wholeKg(tonMiles.times(factor(EMISSION_FACTORS.airFreight)), input);
  },
  groundFreight(input: { freightMassKg: Decimal; distanceKm: Decimal }): Decimal {
    check(input, { freightMassKg: MAX_MASS_KG, distanceKm: MAX_DISTANCE_KM });
    const tonMiles = shortTons(input.freightMassKg).times(miles(input.distanceKm));
    return wholeKg(tonMiles.times(factor(EMISSION_FACTORS.groundFreight)), input);
  },
  /** One vehicle's trip (the whole vehicle, not one passenger). */
  groundTransport(input: { distanceKm: Decimal }, vehicleType: VehicleType): Decimal {
    check(input, { distanceKm: MAX_DISTANCE_KM });
    return wholeKg(miles(input.distanceKm).times(factor(EMISSION_FACTORS.groundTransport[vehicleType])), input);
  },
  /** One year of an office of that floor area. */
  officeSpace(input: { squareFootage: Decimal }): Decimal {
    check(input, { squareFootage: MAX_SQUARE_FOOTAGE });
    return wholeKg(input.squareFootage.times(factor(EMISSION_FACTORS.officeSpace)), input);
  },
};
