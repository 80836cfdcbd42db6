import { toWireProject } from "../api/cnaught/projects.schemas.js";
import { z } from "zod";
import { invalidRequestFields, isAppError } from "../core/errors.js";
import { decimalFromJsonNumber, decimalToNumber } from "../core/money/money.js";
import type { Catalogue, ProjectDetails } from "../core/projects/projects.types.js";
import { emptyFieldErrors, snakeCasePath, unstorableFieldErrors } from "../api/validation.js";

/**
 * The catalogue file operators load with `kassa catalog import FILE.json` and get from
 * `kassa catalog export`: snake_case JSON whose names mirror CNaught's wire (a project is written
 * as GET /v1/projects/{id} shows it, its issuances adding `serial_prefix`), so a project copied
 * from CNaught's API reads as one. Strict: a misspelt key is refused, not ignored. Values are
 * checked by the core (src/core/projects/catalogue-rules.ts); its problems are named here by
 * their path in the file.
 */

const text = z.string();
const optionalText = text.optional();
const year = z.number();

const IssuanceFile = z.strictObject({
  vintage_year: year,
  /** Tonnes CO2e (one credit each). */
  total_amount: z.number(),
  serial_prefix: text.nullable().optional(),
});

const ProjectFile = z.strictObject({
  id: text,
  category_id: text.nullable(),
  name: text,
  type: text,
  un_sdg_goals: z.array(z.number()),
  activity_types: z.array(text).optional(),
  developer: optionalText,
  registry_name: optionalText,
  registry_id: optionalText,
  registry_url: optionalText,
  summary: optionalText,
  description: optionalText,
  location_name: optionalText,
  location_latitude: z.number().optional(),
  location_longitude: z.number().optional(),
  primary_image_url: optionalText,
  methodology: optionalText,
  verifier: optionalText,
  permanence: optionalText,
  lifetime: z.strictObject({ start_year: year.optional(), end_year: year.optional() }).optional(),
  impact_type: optionalText,
  due_diligence: optionalText,
  beyond_carbon: optionalText,
  risk_of_reversal: optionalText,
  third_party_labels: z.array(text).optional(),
  notable_buyers: z.array(z.strictObject({ name: text, logo_url: text, logo_alt_text: optionalText })).optional(),
  due_diligence_figure: z.strictObject({ description: text, image_url: text, image_alt_text: optionalText }).optional(),
  news_articles: z
    .array(z.strictObject({ title: text, url: text, author: text, published_on: text, cnaught_take: optionalText }))
    .optional(),
  credit_issuances: z.array(IssuanceFile).default([]),
});

export const CatalogueFile = z.strictObject({
  categories: z
    .array(
      z.strictObject({
        id: text,
        name: text,
        description: text.nullable().optional(),
        primary_image_url: text.nullable().optional(),
      }),
    )
    .default([]),
  projects: z.array(ProjectFile).default([]),
  portfolios: z
    .array(
      z.strictObject({
        id: text,
        summary: text.nullable().optional(),
        description: text.nullable().optional(),
        primary_image_url: text.nullable().optional(),
        category_allocations: z.array(z.strictObject({ category_id: text, allocated_fraction: z.number() })).optional(),
      }),
    )
    .default([]),
});

export type CatalogueFile = z.input<typeof CatalogueFile>;
type ParsedFile = z.output<typeof CatalogueFile>;
type ProjectFile = z.output<typeof ProjectFile>;

/** Drops the keys whose value is undefined (absent from the file stays absent in the store). */
function defined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function detailsFrom(p: ProjectFile): ProjectDetails {
  return defined({
    activityTypes: p.activity_types,
    developer: p.developer,
    registryName: p.registry_name,
    registryId: p.registry_id,
    registryUrl: p.registry_url,
    summary: p.summary,
    description: p.description,
    locationName: p.location_name,
    locationLatitude: p.location_latitude,
    locationLongitude: p.location_longitude,
    primaryImageUrl: p.primary_image_url,
    methodology: p.methodology,
    verifier: p.verifier,
    permanence: p.permanence,
    lifetime: p.lifetime && defined({ startYear: p.lifetime.start_year, endYear: p.lifetime.end_year }),
    impactType: p.impact_type,
    dueDiligence: p.due_diligence,
    beyondCarbon: p.beyond_carbon,
    riskOfReversal: p.risk_of_reversal,
    thirdPartyLabels: p.third_party_labels,
    notableBuyers: p.notable_buyers?.map((b) =>
      defined({ name: b.name, logoUrl: b.logo_url, logoAltText: b.logo_alt_text }),
    ),
    dueDiligenceFigure:
      p.due_diligence_figure &&
      defined({
        description: p.due_diligence_figure.description,
        imageUrl: p.due_diligence_figure.image_url,
        imageAltText: p.due_diligence_figure.image_alt_text,
      }),
    newsArticles: p.news_articles?.map((a) =>
      defined({ title: a.title, url: a.url, author: a.author, publishedOn: a.published_on, take: a.cnaught_take }),
    ),
  });
}

function toCatalogue(file: ParsedFile): Catalogue {
  return {
    categories: file.categories.map((c) => ({
      id: c.id,
      name: c.name,
      description: c.description ?? null,
      primaryImageUrl: c.primary_image_url ?? null,
    })),
    projects: file.projects.map((p) => ({
      id: p.id,
      categoryId: p.category_id,
      name: p.name,
      type: p.type,
      unSdgGoals: p.un_sdg_goals,
      details: detailsFrom(p),
      creditIssuances: p.credit_issuances.map((i) => ({
        vintageYear: i.vintage_year,
        totalAmount: decimalFromJsonNumber(i.total_amount),
        serialPrefix: i.serial_prefix ?? null,
      })),
    })),
    portfolios: file.portfolios.map((p) =>
      defined({
        id: p.id,
        summary: p.summary,
        description: p.description,
        primaryImageUrl: p.primary_image_url,
        categoryAllocations: p.category_allocations?.map((a) => ({
          categoryId: a.category_id,
          allocatedFraction: decimalFromJsonNumber(a.allocated_fraction),
        })),
      }),
    ),
  };
}

/**
 * A file's text (or its parsed JSON) as a catalogue, or an invalid_parameters error naming each
 * bad entry by its path in the file (`projects.2.credit_issuances.0.total_amount`).
 */
export function parseCatalogueFile(input: unknown): Catalogue {
  let json = input;
  if (typeof input === "string") {
    try {
      json = JSON.parse(input);
    } catch (error) {
      throw invalidRequestFields({ catalogue: [`is not JSON: ${(error as Error).message}`] }, INVALID_FILE);
    }
  }
  const unstorable = unstorableFieldErrors(json, "catalogue");
  if (unstorable) throw invalidRequestFields(unstorable, INVALID_FILE);
  const parsed = CatalogueFile.safeParse(json);
  if (!parsed.success) {
    const fields = emptyFieldErrors();
    for (const issue of parsed.error.issues) {
      const path = issue.path.join(".");
      if (issue.code === "unrecognized_keys") {
        for (const key of issue.keys) (fields[path ? `${path}.${key}` : key] ??= []).push("is not a known field");
      } else (fields[path || "catalogue"] ??= []).push(issue.message);
    }
    throw invalidRequestFields(fields, INVALID_FILE);
  }
  return toCatalogue(parsed.data);
}

const INVALID_FILE = "The catalogue file did not validate; nothing was imported";

/** A core path of the catalogue (`projects.0.details.newsArticles.1.take`) as the file names it. */
export function filePath(corePath: string): string {
  return snakeCasePath(corePath.replace(/\.details\./, ".").replace(/(newsArticles\.\d+)\.take$/, "$1.cnaughtTake"));
}

/** Runs an import, naming the core's problems by their path in the file. */
export async function withFilePaths<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (
      isAppError(error) &&
      error.code === "invalid_parameters" &&
      error.details.fields &&
      !error.details.fieldsAsSent
    ) {
      const fields = emptyFieldErrors();
      for (const [path, reasons] of Object.entries(error.details.fields))
        (fields[filePath(path)] ??= []).push(...reasons);
      throw invalidRequestFields(fields, error.message);
    }
    throw error;
  }
}

/** A catalogue as the file shows it; importing it again changes nothing. */
export function toCatalogueFile(catalogue: Catalogue) {
  return {
    categories: catalogue.categories.map((c) => ({
      id: c.id,
      name: c.name,
      description: c.description,
      primary_image_url: c.primaryImageUrl,
    })),
    // The file names a project's fields as CNaught's wire does: the same rendering, plus what only the file has.
    projects: catalogue.projects.map((p) =>
      defined({
        category_id: p.categoryId,
        ...toWireProject(p),
        credit_issuances: p.creditIssuances.map((i) => ({
          vintage_year: i.vintageYear,
          total_amount: decimalToNumber(i.totalAmount),
          serial_prefix: i.serialPrefix,
        })),
      }),
    ),
    portfolios: catalogue.portfolios.map((p) => ({
      id: p.id,
      summary: p.summary ?? null,
      description: p.description ?? null,
      primary_image_url: p.primaryImageUrl ?? null,
      category_allocations: (p.categoryAllocations ?? []).map((a) => ({
        category_id: a.categoryId,
        allocated_fraction: decimalToNumber(a.allocatedFraction),
      })),
    })),
  };
}
