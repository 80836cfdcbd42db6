import { z } from "zod";
import { EQUIVALENT_KEYS, type EquivalentKey } from "../../core/impact/equivalents.js";
import { type Impact, type ImpactPage, impactPagePath } from "../../core/impact/impact.types.js";
import { decimalToNumber } from "../../core/money/money.js";
import { logoPath } from "../../core/subaccounts/logos.js";
import { formatNullableTimestamp, formatTimestamp } from "../../core/time.js";
import { ProjectSchema, toWireProject } from "./projects.schemas.js";

// CNaught's climate impact objects (cnaught-more.md §6): ImpactData for GET /impact/data and
// ImpactHostedPageConfig for GET /impact/hosted-page-config, as the SDK's models name them.

/** The equivalents' names on the wire (the SDK's ImpactEquivalents), by the core's names. */
export const WIRE_EQUIVALENTS: Readonly<Record<EquivalentKey, string>> = {
  carsOffTheRoad: "cars_off_the_road",
  treesPlanted: "trees_planted",
  homesAnnualEnergyUsage: "homes_annual_energy_usage",
  flightsLaxToNyc: "flights_lax_to_nyc",
};

/** The core's name of a wire equivalent, or undefined. */
export const equivalentFromWire = (name: string): EquivalentKey | undefined =>
  EQUIVALENT_KEYS.find((key) => WIRE_EQUIVALENTS[key] === name);

const WireEquivalentName = z.enum(EQUIVALENT_KEYS.map((k) => WIRE_EQUIVALENTS[k]) as [string, ...string[]]);

// ---------------------------------------------------------------------------------------------
// from / to: ISO 8601 instants

/**
 * A date (midnight UTC) or a date and time with `Z` or an offset, seconds and fraction optional:
 * `2024-01-01`, `2024-01-01T00:00:00.000Z` (what the SDK sends: Date.toISOString()),
 * `2024-01-01T02:00+02:00`. A space where the offset's sign should be is read as `+`: an
 * unencoded `+` in a query string arrives as a space.
 */
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+\- ])(\d{2}):?(\d{2})))?$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/**
 * The instant an ISO 8601 text names (fractions past milliseconds dropped), or null when it names
 * none, or one outside the years 1 to 9999 in UTC.
 */
export function parseIsoInstant(text: string): Date | null {
  const m = ISO_INSTANT.exec(text);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  const [offsetHours, offsetMinutes] = [Number(m[10] ?? 0), Number(m[11] ?? 0)];
  const daysInMonth = month === 2 && !isLeap(year) ? 28 : DAYS_IN_MONTH[month - 1];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > (daysInMonth ?? 0)) return null;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC, which reads years 0-99 as 1900-1999
  date.setUTCHours(hour, minute, second, ms);
  const sign = m[9] === "-" ? -1 : 1;
  const instant = new Date(date.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
  // An offset can carry 0001-01-01 into year 0, which PostgreSQL has not; or 9999 into 10000.
  const utcYear = instant.getUTCFullYear();
  return utcYear >= 1 && utcYear <= 9999 ? instant : null;
}

const isoInstant = (what: string) =>
  z
    .string()
    .refine((text) => parseIsoInstant(text) !== null, {
      message: "must be a date in ISO 8601 format, such as 2024-01-01 or 2024-01-01T00:00:00.000Z",
    })
    .optional()
    .describe(what)
    .meta({ examples: ["2024-01-01T00:00:00.000Z"] });

export const ImpactDataQuery = z.object({
  from: isoInstant(
    "Counts orders fulfilled at or after this time (ISO 8601). Defaults to when the account or subaccount was created.",
  ),
  to: isoInstant("Counts orders fulfilled before this time (ISO 8601). Defaults to now."),
});

// ---------------------------------------------------------------------------------------------
// ImpactData

const kg = (what: string) => z.number().describe(what);

export const ImpactEquivalents = z
  .object({
    cars_off_the_road: z.number().describe("Passenger cars driven for one year that emit as much"),
    trees_planted: z.number().describe("Tree seedlings grown for 10 years that take up as much"),
    homes_annual_energy_usage: z.number().describe("Homes' energy use for one year that emits as much"),
    flights_lax_to_nyc: z.number().describe("One-way passenger flights from Los Angeles to New York that emit as much"),
  })
  .describe("What the total is equivalent to (US EPA factors; see the README), rounded to 2 decimal places")
  .meta({ id: "ImpactEquivalents" });

export const ImpactData = z
  .object({
    name: z.string().nullable().describe("Name of the account or subaccount"),
    logo_url: z.string().nullable().describe("URL of the subaccount's logo, if any"),
    total_offset_kgs: kg("Carbon credits retired in the period (fulfilled orders), in kg CO2e"),
    equivalents: ImpactEquivalents,
    since_date: z.string().describe("Start of the period: `from`, else when the account or subaccount was created"),
    to_date: z.string().nullable().describe("End of the period: `to`, else null (up to now)"),
    categories: z
      .array(
        z
          .object({
            category: z
              .object({
                name: z.string().describe("Name of the category"),
                // Required in SDK 3.1's ImpactCategory: "" when the category has none.
                description: z.string().describe("Description of the category; empty when it has none"),
              })
              .meta({ id: "ImpactCategory" }),
            offset_kgs: kg("Credits retired from the category's projects, in kg CO2e"),
            projects: z
              .array(
                z
                  .object({
                    project: ProjectSchema,
                    offset_kgs: kg("Credits retired from the project, in kg CO2e"),
                    vintages: z.string().describe('Vintage years of those credits, comma-separated ("2019, 2020")'),
                  })
                  .meta({ id: "ImpactProjectUsage" }),
              )
              .describe("The category's projects, most kg first"),
          })
          .meta({ id: "ImpactCategoryUsage" }),
      )
      .describe("Credits retired by project category, most kg first"),
  })
  .meta({ id: "ImpactData" });

export const toWireImpact = (impact: Impact, publicUrl: string): z.infer<typeof ImpactData> => ({
  name: impact.name,
  logo_url: impact.logoId ? publicUrl + logoPath(impact.logoId) : null,
  total_offset_kgs: decimalToNumber(impact.totalKg),
  equivalents: {
    cars_off_the_road: decimalToNumber(impact.equivalents.carsOffTheRoad),
    trees_planted: decimalToNumber(impact.equivalents.treesPlanted),
    homes_annual_energy_usage: decimalToNumber(impact.equivalents.homesAnnualEnergyUsage),
    flights_lax_to_nyc: decimalToNumber(impact.equivalents.flightsLaxToNyc),
  },
  since_date: formatTimestamp(impact.since),
  to_date: formatNullableTimestamp(impact.to),
  categories: impact.categories.map((c) => ({
    category: { name: c.category.name, description: c.category.description ?? "" },
    offset_kgs: decimalToNumber(c.offsetKg),
    projects: c.projects.map((p) => ({
      project: toWireProject(p.project),
      offset_kgs: decimalToNumber(p.offsetKg),
      vintages: p.vintageYears.join(", "),
    })),
  })),
});

// ---------------------------------------------------------------------------------------------
// ImpactHostedPageConfig

export const ImpactHostedPageConfig = z
  .object({
    enabled: z.boolean().describe("Whether the public impact page is on"),
    url: z.string().describe("The public impact page's URL (kept while it is off); empty when no page was ever set up"),
    enabled_equivalents: z.array(WireEquivalentName).describe("The equivalents the page shows, in order"),
  })
  .meta({ id: "ImpactHostedPageConfig" });

export const impactPageUrl = (publicUrl: string, slug: string) => publicUrl + impactPagePath(slug);

export const toWireHostedPageConfig = (
  page: ImpactPage | null,
  publicUrl: string,
): z.infer<typeof ImpactHostedPageConfig> =>
  page
    ? {
        enabled: page.enabled,
        url: impactPageUrl(publicUrl, page.slug),
        enabled_equivalents: page.equivalents.map((k) => WIRE_EQUIVALENTS[k]),
      }
    : { enabled: false, url: "", enabled_equivalents: [] };
