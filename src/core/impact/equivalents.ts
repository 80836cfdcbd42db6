import { Decimal } from "../money/money.js";
import { EMISSION_FACTORS } from "../quotes/emission-factors.js";

/**
 * What retired credits are "equivalent to" on an impact report (GET /v1/impact/data, the public
 * impact page): the four equivalents CNaught names, each computed as the report's total kg of
 * CO2e divided by the kg of CO2e of one unit of the equivalent, from one table an operator can
 * read and check. CNaught does not document its formulas (cnaught-more.md §6.1); Kassa uses the
 * US EPA's Greenhouse Gas Equivalencies Calculator, whose "Calculations and References" page
 * gives each figure with its derivation.
 *
 * HOW SURE WE ARE: no copy of the calculator's page was at hand when this table was written; the
 * figures are written from memory of the calculator's revisions of 2023 and 2024 and are TO BE
 * CHECKED against https://www.epa.gov/energy/greenhouse-gas-equivalencies-calculator-calculations-and-references
 * (each entry's `note` says how sure we are). The flight is not one of the calculator's
 * equivalents: it is Kassa's own flight quote (the long-haul factor in quotes/emission-factors.ts)
 * over the great-circle distance from LAX to JFK. The tests compute their expectations from
 * this table, so correcting a figure here corrects every answer.
 */

/** The equivalents, in the order a report lists them. */
export const EQUIVALENT_KEYS = ["carsOffTheRoad", "treesPlanted", "homesAnnualEnergyUsage", "flightsLaxToNyc"] as const;
export type EquivalentKey = (typeof EQUIVALENT_KEYS)[number];

export const isEquivalentKey = (key: string): key is EquivalentKey =>
  (EQUIVALENT_KEYS as readonly string[]).includes(key);

export interface EquivalenceFactor {
  /** kg CO2e that one unit of the equivalent stands for, as decimal text (never a binary float). */
  readonly kgCo2ePerUnit: string;
  /** What one unit is, as people read it on the page ("car off the road for a year"). */
  readonly unit: string;
  /** The same, counted: "cars off the road for a year". */
  readonly units: string;
  readonly source: string;
  readonly year: number;
  /** How sure we are of the figure, and any assumption made. */
  readonly note: string;
}

const EPA_EQUIVALENCIES =
  "US EPA, Greenhouse Gas Equivalencies Calculator, Calculations and References (https://www.epa.gov/energy/greenhouse-gas-equivalencies-calculator-calculations-and-references)";

/** Great-circle distance LAX to JFK, statute miles (US DOT BTS airport-pair distance). */
export const LAX_TO_JFK_MILES = "2475";

export const EQUIVALENCE_FACTORS: Readonly<Record<EquivalentKey, EquivalenceFactor>> = {
  carsOffTheRoad: {
    kgCo2ePerUnit: "4600",
    unit: "car off the road for a year",
    units: "cars off the road for a year",
    source: `${EPA_EQUIVALENCIES}, "Passenger vehicles per year": 4.6 metric tons CO2E/vehicle/year`,
    year: 2024,
    note: "TO BE CHECKED: written from memory; 4.6 t has been the calculator's figure across recent revisions. (EPA's separate page 'Greenhouse Gas Emissions from a Typical Passenger Vehicle' now says about 4.7 t of CO2 a year.)",
  },
  treesPlanted: {
    kgCo2ePerUnit: "60",
    unit: "tree seedling grown for 10 years",
    units: "tree seedlings grown for 10 years",
    source: `${EPA_EQUIVALENCIES}, "Number of urban tree seedlings grown for 10 years": 0.060 metric ton CO2 per urban tree planted`,
    year: 2024,
    note: "TO BE CHECKED: written from memory; fairly sure of 0.060 t (the calculator's unrounded figure is about 0.0605).",
  },
  homesAnnualEnergyUsage: {
    kgCo2ePerUnit: "7480",
    unit: "home's energy use for a year",
    units: "homes' energy use for a year",
    source: `${EPA_EQUIVALENCIES}, "Homes' energy use for one year": 7.48 metric tons CO2 per home per year`,
    year: 2024,
    note: "TO BE CHECKED: written from memory, the least sure figure of the four (the calculator revises it with each eGRID and RECS release; earlier revisions gave about 7.9 to 8.3 t).",
  },
  flightsLaxToNyc: {
    kgCo2ePerUnit: new Decimal(LAX_TO_JFK_MILES).times(EMISSION_FACTORS.flight.longHaul.kgCo2PerUnit).toFixed(),
    unit: "one-way flight from Los Angeles to New York",
    units: "one-way flights from Los Angeles to New York",
    source: `${LAX_TO_JFK_MILES} miles (LAX to JFK, great-circle) x ${EMISSION_FACTORS.flight.longHaul.kgCo2PerUnit} kg CO2 per passenger-mile (${EMISSION_FACTORS.flight.longHaul.source})`,
    year: EMISSION_FACTORS.flight.longHaul.year,
    note: "Not one of the EPA calculator's equivalents: Kassa's own flight quote for one passenger over that distance, unrounded. TO BE CHECKED: the long-haul factor is itself written from memory (see quotes/emission-factors.ts), and so is the 2,475-mile distance.",
  },
};

/** Equivalents are rounded half up to this many decimal places (0.01 of a car, a tree, ...). */
export const EQUIVALENT_DECIMALS = 2;

/** How many of each equivalent `totalKg` of CO2e is, each rounded half up to EQUIVALENT_DECIMALS. */
export function equivalentsOf(totalKg: Decimal): Record<EquivalentKey, Decimal> {
  return Object.fromEntries(
    EQUIVALENT_KEYS.map((key) => [
      key,
      totalKg.div(EQUIVALENCE_FACTORS[key].kgCo2ePerUnit).toDecimalPlaces(EQUIVALENT_DECIMALS, Decimal.ROUND_HALF_UP),
    ]),
  ) as Record<EquivalentKey, Decimal>;
}
