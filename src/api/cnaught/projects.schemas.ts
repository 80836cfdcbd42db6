import { z } from "zod";
import { decimalToNumber } from "../../core/money/money.js";
import type {
  CreditIssuance,
  Project,
  ProjectCategoryWithProjects,
  ProjectWithIssuances,
} from "../../core/projects/projects.types.js";

// CNaught's Project objects (cnaught-more.md §5): required fields always present, optional ones
// left out when the catalogue has no value (never null). Embedded projects (in portfolios'
// category allocations, categories, order allocations and impact data) have no credit_issuances.

const optionalText = (what: string) => z.string().optional().describe(what);

export const ProjectSchema = z
  .object({
    id: z.string().describe("Identifier of the project"),
    name: z.string().describe("Name of the project"),
    type: z.string().describe("Type of the project"),
    activity_types: z.array(z.string()).optional().describe("Activities the project carries out"),
    developer: optionalText("Developer of the project"),
    registry_name: optionalText("Registry the project's credits are issued on"),
    registry_id: optionalText("The project's id at its registry"),
    registry_url: optionalText("The project's page at its registry"),
    summary: optionalText("Short summary of the project"),
    description: optionalText("Description of the project"),
    location_name: optionalText("Where the project is"),
    location_latitude: z.number().optional().describe("Latitude of the project"),
    location_longitude: z.number().optional().describe("Longitude of the project"),
    primary_image_url: optionalText("URL of the project's main image"),
    un_sdg_goals: z.array(z.number()).describe("UN Sustainable Development Goals the project supports"),
    methodology: optionalText("Methodology the project's credits are certified under"),
    verifier: optionalText("Verifier of the project"),
    permanence: optionalText("Permanence of the project's carbon storage"),
    lifetime: z
      .object({ start_year: z.number().optional(), end_year: z.number().optional() })
      .optional()
      .describe("Years the project runs"),
    impact_type: optionalText("Kind of impact: reduction or removal"),
    due_diligence: optionalText("Due diligence done on the project"),
    beyond_carbon: optionalText("Benefits beyond carbon"),
    risk_of_reversal: optionalText("Risk that the stored carbon is released"),
    third_party_labels: z.array(z.string()).optional().describe("Third-party labels the project holds"),
    notable_buyers: z
      .array(z.object({ name: z.string(), logo_url: z.string(), logo_alt_text: z.string().optional() }))
      .optional()
      .describe("Notable buyers of the project's credits"),
    due_diligence_figure: z
      .object({ description: z.string(), image_url: z.string(), image_alt_text: z.string().optional() })
      .optional()
      .describe("A figure from the due diligence"),
    news_articles: z
      .array(
        z.object({
          title: z.string(),
          url: z.string(),
          author: z.string(),
          published_on: z.string(),
          cnaught_take: z.string().optional(),
        }),
      )
      .optional()
      .describe("News articles about the project"),
  })
  .meta({ id: "Project" });

export const ProjectWithCreditIssuancesSchema = ProjectSchema.extend({
  credit_issuances: z
    .array(
      z.object({
        vintage_year: z.number().int().describe("Vintage year of the credits"),
        total_amount: z.number().describe("Credits issued for the vintage (tonnes CO2e)"),
      }),
    )
    .describe("Credits issued to the project, by vintage year"),
}).meta({ id: "ProjectWithCreditIssuances" });

export const ProjectCategoryWithProjectsSchema = z
  .object({
    id: z.string().describe("Identifier of the category"),
    name: z.string().describe("Name of the category"),
    description: z.string().optional().describe("Description of the category"),
    primary_image_url: z.string().optional().describe("URL of the category's main image"),
    projects: z.array(ProjectSchema).describe("The category's projects"),
  })
  .meta({ id: "ProjectCategoryWithProjects" });

export type ProjectWire = z.infer<typeof ProjectSchema>;

/** Drops the keys whose value is undefined, so optional fields are absent rather than null. */
function present<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/** Reads only what a project shows (not its position), so the catalogue file renders with it too. */
export function toWireProject(p: Pick<Project, "id" | "name" | "type" | "unSdgGoals" | "details">): ProjectWire {
  const d = p.details;
  return present({
    id: p.id,
    name: p.name,
    type: p.type,
    activity_types: d.activityTypes,
    developer: d.developer,
    registry_name: d.registryName,
    registry_id: d.registryId,
    registry_url: d.registryUrl,
    summary: d.summary,
    description: d.description,
    location_name: d.locationName,
    location_latitude: d.locationLatitude,
    location_longitude: d.locationLongitude,
    primary_image_url: d.primaryImageUrl,
    un_sdg_goals: p.unSdgGoals,
    methodology: d.methodology,
    verifier: d.verifier,
    permanence: d.permanence,
    lifetime: d.lifetime && present({ start_year: d.lifetime.startYear, end_year: d.lifetime.endYear }),
    impact_type: d.impactType,
    due_diligence: d.dueDiligence,
    beyond_carbon: d.beyondCarbon,
    risk_of_reversal: d.riskOfReversal,
    third_party_labels: d.thirdPartyLabels,
    notable_buyers: d.notableBuyers?.map((b) =>
      present({ name: b.name, logo_url: b.logoUrl, logo_alt_text: b.logoAltText }),
    ),
    due_diligence_figure:
      d.dueDiligenceFigure &&
      present({
        description: d.dueDiligenceFigure.description,
        image_url: d.dueDiligenceFigure.imageUrl,
        image_alt_text: d.dueDiligenceFigure.imageAltText,
      }),
    news_articles: d.newsArticles?.map((a) =>
      present({ title: a.title, url: a.url, author: a.author, published_on: a.publishedOn, cnaught_take: a.take }),
    ),
  });
}

const toWireIssuance = (i: CreditIssuance) => ({
  vintage_year: i.vintageYear,
  total_amount: decimalToNumber(i.totalAmount),
});

export const toWireProjectWithIssuances = (p: ProjectWithIssuances) => ({
  ...toWireProject(p),
  credit_issuances: p.creditIssuances.map(toWireIssuance),
});

export const toWireCategoryWithProjects = (c: ProjectCategoryWithProjects) =>
  present({
    id: c.id,
    name: c.name,
    description: c.description ?? undefined,
    primary_image_url: c.primaryImageUrl ?? undefined,
    projects: c.projects.map(toWireProject),
  });
