/**
 * The emission factors behind CNaught's typed quotes (POST /v1/quotes/flight, /train, ...), in one
 * table an operator can read and check. CNaught publishes none of its own (see the README,
 * "Typed quotes"); Kassa uses published US figures, since CNaught prices in USD for US buyers.
 *
 * Every factor is kg of CO2 per unit as its source states it, in the source's own units (miles,
 * short tons, square feet); the calculators (emissions.ts) convert kilometres and kilograms
 * exactly. Where a source gives CO2, CH4 and N2O separately, only CO2 is used: for these modes
 * the other two add about 1% (a quote's result is rounded up to a whole kilogram anyway).
 *
 * HOW SURE WE ARE: the figures below were written down from the publications named, to the best
 * of our knowledge, without a copy of each table at hand when this file was written. Each entry
 * says how sure we are. An operator who needs audit-grade numbers should check each one against
 * the cited table (and may replace it: the tests compute their expectations from this table).
 */

export interface EmissionFactor {
  /** kg CO2 per `unit`, as decimal text (never a binary float). */
  readonly kgCo2PerUnit: string;
  readonly unit: string;
  readonly source: string;
  readonly year: number;
  /** How sure we are of the exact figure, and any assumption made. */
  readonly note: string;
}

const EPA_HUB_2024 = "US EPA, GHG Emission Factors Hub (2024)";

export const EMISSION_FACTORS = {
  /** POST /quotes/flight: distance bands of the source, by great-circle distance in miles. */
  flight: {
    shortHaul: {
      kgCo2PerUnit: "0.207",
      unit: "passenger-mile (flights under 300 miles)",
      source: `${EPA_HUB_2024}, Table 10, Air Travel - Short Haul (< 300 miles)`,
      year: 2024,
      note: "Recalled from the 2024 hub; check against Table 10.",
    },
    mediumHaul: {
      kgCo2PerUnit: "0.129",
      unit: "passenger-mile (flights of 300 to 2,300 miles)",
      source: `${EPA_HUB_2024}, Table 10, Air Travel - Medium Haul (>= 300 miles, < 2300 miles)`,
      year: 2024,
      note: "Recalled from the 2024 hub; check against Table 10.",
    },
    longHaul: {
      kgCo2PerUnit: "0.163",
      unit: "passenger-mile (flights of 2,300 miles or more)",
      source: `${EPA_HUB_2024}, Table 10, Air Travel - Long Haul (>= 2300 miles)`,
      year: 2024,
      note: "Recalled from the 2024 hub; check against Table 10.",
    },
  },
  /** POST /quotes/train: one passenger. */
  train: {
    kgCo2PerUnit: "0.113",
    unit: "passenger-mile",
    source: `${EPA_HUB_2024}, Table 10, Intercity Rail - National Average`,
    year: 2024,
    note: "Less sure of this figure than of the air travel ones; check against Table 10.",
  },
  /** POST /quotes/air-freight. */
  airFreight: {
    kgCo2PerUnit: "0.905",
    unit: "short ton-mile",
    source: `${EPA_HUB_2024}, Table 9 (upstream transportation), Aircraft`,
    year: 2024,
    note: "Recalled from the 2024 hub; check against Table 9.",
  },
  /** POST /quotes/ground-freight: by road. */
  groundFreight: {
    kgCo2PerUnit: "0.168",
    unit: "short ton-mile",
    source: `${EPA_HUB_2024}, Table 9 (upstream transportation), Medium- and Heavy-Duty Truck`,
    year: 2024,
    note: "Recalled from the 2024 hub; check against Table 9.",
  },
  /** POST /quotes/ground-transport (and the deprecated ride quote and ride order): one vehicle's trip. */
  groundTransport: {
    passenger_car_van_or_suv: {
      kgCo2PerUnit: "0.400",
      unit: "vehicle-mile",
      source:
        "US EPA, Greenhouse Gas Emissions from a Typical Passenger Vehicle (EPA-420-F-23-014, 2023): about 400 grams of CO2 per mile, cars and light trucks together",
      year: 2023,
      note: "The fact sheet states 'about 400 grams'; its figure is itself rounded.",
    },
    small_bus: {
      kgCo2PerUnit: "1.021",
      unit: "vehicle-mile",
      source: `${EPA_HUB_2024}, Table 2, Diesel Fuel: 10.21 kg CO2 per gallon; at 10 miles per gallon`,
      year: 2024,
      note: "10.21 kg CO2/gallon is the hub's diesel figure. The 10 mpg of a small (cutaway) bus is Kassa's assumption, not a published figure.",
    },
    school_bus: {
      kgCo2PerUnit: "1.45857",
      unit: "vehicle-mile",
      source: `${EPA_HUB_2024}, Table 2, Diesel Fuel: 10.21 kg CO2 per gallon; at 7 miles per gallon`,
      year: 2024,
      note: "10.21 / 7, rounded to 5 decimals. The 7 mpg of a diesel school bus is Kassa's assumption, not a published figure.",
    },
    coach_bus: {
      kgCo2PerUnit: "1.70167",
      unit: "vehicle-mile",
      source: `${EPA_HUB_2024}, Table 2, Diesel Fuel: 10.21 kg CO2 per gallon; at 6 miles per gallon`,
      year: 2024,
      note: "10.21 / 6, rounded to 5 decimals. The 6 mpg of a motorcoach is Kassa's assumption, not a published figure.",
    },
  },
  /** POST /quotes/office-space: one year of an office's energy use. */
  officeSpace: {
    kgCo2PerUnit: "5.78849",
    unit: "square foot, one year",
    source:
      "US EPA ENERGY STAR Portfolio Manager Technical Reference, U.S. Energy Use Intensity by Property Type (2023; CBECS 2018): Office, median site EUI 52.9 kBtu/ft2; times US EPA eGRID2022 US average CO2 output rate, 823.1 lb/MWh",
    year: 2023,
    note: "52.9 kBtu = 15.504 kWh (3.412 kBtu/kWh) x 0.37335 kg/kWh (823.1 lb/MWh), rounded to 5 decimals. Treats all site energy as grid electricity (Kassa's assumption; an office heated by gas emits somewhat less). Fairly sure of 52.9; less sure of 823.1: check against eGRID2022.",
  },
} as const satisfies Record<string, EmissionFactor | Record<string, EmissionFactor>>;

/** The vehicle types of a ground-transport quote, as CNaught names them. */
export const VEHICLE_TYPES = ["passenger_car_van_or_suv", "small_bus", "school_bus", "coach_bus"] as const;
export type VehicleType = (typeof VEHICLE_TYPES)[number];
