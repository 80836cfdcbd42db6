import { expect } from "vitest";
import type { apiClient } from "../../helpers/app.js";

/** Shared assertions for the CNaught API tests (not a test file itself). */

export type ApiResponse = Awaited<ReturnType<ReturnType<typeof apiClient>>>;

export const ERROR_BASE = "https://api.cnaught.com/v1/errors/";

export const UNAUTHORIZED_BODY = { title: "Authorization has been denied for this request", status: 401 };

/** UTC, six fractional digits: 2022-07-31T18:00:00.000000Z */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A valid checkout session request; override what a test is about. */
export const sessionParams = (overrides: Record<string, unknown> = {}) => ({
  amount_kg: 100,
  success_url: "https://shop.example/ok?session_id={CHECKOUT_SESSION_ID}",
  cancel_url: "https://shop.example/cancel",
  ...overrides,
});

/** A problem+json answer with the given status and `type` slug, carrying the request's id. */
export function expectProblem(res: ApiResponse, status: number, slug: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: ERROR_BASE + slug, status });
  expect(typeof res.body.title).toBe("string");
  expect(res.body.title.length).toBeGreaterThan(0);
  expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
}

/** A 400 invalid-parameters problem whose `errors` map names exactly `fields`, each with reasons. */
export function expectInvalid(res: ApiResponse, ...fields: string[]) {
  expectProblem(res, 400, "invalid-parameters");
  expect(res.body.title).toBe("Your request parameters didn't validate");
  expect(Object.keys(res.body.errors ?? {}).sort()).toEqual([...fields].sort());
  for (const field of fields) {
    expect(res.body.errors[field].length).toBeGreaterThan(0);
    for (const reason of res.body.errors[field]) expect(typeof reason).toBe("string");
  }
}

/** The exact CNaught 401: no type, no request_id, nothing else. */
export function expectUnauthorized(res: ApiResponse) {
  expect(res.status).toBe(401);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(res.text)).toStrictEqual(UNAUTHORIZED_BODY);
  expect(res.headers.get("x-request-id")).toBeTruthy();
}

/**
 * A response body with request_id dropped and the given ids replaced by a placeholder, so the
 * answer for one id can be compared with the answer for another.
 */
export function normalised(res: ApiResponse, ...ids: string[]) {
  let text = JSON.stringify({ ...res.body, request_id: undefined });
  for (const id of ids) text = text.replaceAll(id, "<id>");
  return { status: res.status, contentType: res.headers.get("content-type"), body: JSON.parse(text) };
}

/** An id of CNaught's shape that no test ever creates. */
export const unknownId = (length = 10) => `${"Zz".repeat(length).slice(0, length - 1)}0`;

// The catalogue fixture (test/helpers/catalogue.ts) as CNaught's wire shows it, written out by hand
// from CNaught's Project / ProjectCategoryWithProjects (cnaught-more.md §5): optional fields absent
// when the catalogue has no value, credit_issuances only on GET /v1/projects/{id}.

/** The Ridge project: every optional field. */
export const RIDGE_WIRE = {
  id: "tprjRidge",
  name: "Test Ridge Reforestation (fictional)",
  type: "Reforestation",
  activity_types: ["Afforestation", "Reforestation"],
  developer: "Example Forestry Cooperative (fictional)",
  registry_name: "Example Registry",
  registry_id: "EX-1001",
  registry_url: "https://registry.example/projects/EX-1001",
  summary: "Native trees on former pasture.",
  description: "A fictional reforestation project used by Kassa's tests.",
  location_name: "Example Ridge, Nowhere",
  location_latitude: 12.5,
  location_longitude: -45.25,
  primary_image_url: "https://images.example/ridge.jpg",
  un_sdg_goals: [13, 15],
  methodology: "EX-AR-001",
  verifier: "Example Verification Ltd",
  permanence: "40+ years",
  lifetime: { start_year: 2015, end_year: 2055 },
  impact_type: "removal",
  due_diligence: "Site visits and satellite checks.",
  beyond_carbon: "Habitat for birds.",
  risk_of_reversal: "Low: fire breaks and a buffer pool.",
  third_party_labels: ["Example Label"],
  notable_buyers: [
    { name: "Example Corp", logo_url: "https://images.example/corp.png", logo_alt_text: "Example Corp logo" },
  ],
  due_diligence_figure: {
    description: "Canopy cover over time",
    image_url: "https://images.example/canopy.png",
    image_alt_text: "A chart of canopy cover",
  },
  news_articles: [
    {
      title: "Trees return to Example Ridge",
      url: "https://news.example/ridge",
      author: "A. Writer",
      published_on: "2024-03-01",
      cnaught_take: "A fair account.",
    },
  ],
};

/** The Valley project: the required fields only. */
export const VALLEY_WIRE = {
  id: "tprjValley",
  name: "Test Valley Mangroves (fictional)",
  type: "Blue carbon",
  un_sdg_goals: [14],
};

export const MEADOW_WIRE = {
  id: "tprjMeadow",
  name: "Test Meadow Soil Carbon (fictional)",
  type: "Soil carbon",
  developer: "Example Soil Partners (fictional)",
  registry_url: "https://registry.example/projects/EX-2002",
  un_sdg_goals: [2, 13],
};

export const FORESTRY_WIRE = {
  id: "tcatForestry",
  name: "Test Forestry (fictional)",
  description: "Trees planted and protected.",
  primary_image_url: "https://images.example/forestry.jpg",
  projects: [RIDGE_WIRE, VALLEY_WIRE],
};

/** A category without description or image: those keys are absent. */
export const SOIL_WIRE = { id: "tcatSoil", name: "Test Soil Carbon (fictional)", projects: [MEADOW_WIRE] };
