import type { Decimal } from "../money/money.js";

/**
 * The carbon-credit catalogue: categories of projects, projects with their credit issuances, and
 * the allocations that tie portfolios to categories and fulfilled orders to projects. Rows live in
 * migration `20261130500000_projects`; an API adapter renders these in its own wire shape.
 */

/** A project's optional descriptive fields, stored as one JSON object (camelCase keys). */
export interface ProjectDetails {
  activityTypes?: string[];
  developer?: string;
  registryName?: string;
  registryId?: string;
  registryUrl?: string;
  summary?: string;
  description?: string;
  locationName?: string;
  locationLatitude?: number;
  locationLongitude?: number;
  primaryImageUrl?: string;
  methodology?: string;
  verifier?: string;
  permanence?: string;
  lifetime?: { startYear?: number; endYear?: number };
  impactType?: string;
  dueDiligence?: string;
  beyondCarbon?: string;
  riskOfReversal?: string;
  thirdPartyLabels?: string[];
  notableBuyers?: { name: string; logoUrl: string; logoAltText?: string }[];
  dueDiligenceFigure?: { description: string; imageUrl: string; imageAltText?: string };
  /** `take` is the catalogue editor's own comment on the article. */
  newsArticles?: { title: string; url: string; author: string; publishedOn: string; take?: string }[];
}

export interface Project {
  id: string;
  categoryId: string | null;
  name: string;
  type: string;
  unSdgGoals: number[];
  details: ProjectDetails;
  /** Order within its category. */
  position: number;
}

/** Credits a registry issued to a project for one vintage (one credit is one tonne CO2e). */
export interface CreditIssuance {
  projectId: string;
  vintageYear: number;
  /** Whole credits (tonnes). */
  totalAmount: Decimal;
  serialPrefix: string | null;
  /** How much of the issuance orders have retired, in kg. */
  retiredKg: Decimal;
}

export interface ProjectWithIssuances extends Project {
  creditIssuances: CreditIssuance[];
}

export interface ProjectCategory {
  id: string;
  name: string;
  description: string | null;
  primaryImageUrl: string | null;
}

export interface ProjectCategoryWithProjects extends ProjectCategory {
  /** Its projects in `position` order. */
  projects: Project[];
}

/** A portfolio's share in one category; a portfolio's fractions sum to 1. */
export interface PortfolioCategoryAllocation {
  allocatedFraction: Decimal;
  category: ProjectCategoryWithProjects;
}

/** One retirement at a registry: the serial numbers retired and the registry's page for it. */
export interface Retirement {
  serialNumberRange?: string;
  url?: string;
}

/** What a fulfilled order retired from one project. */
export interface OrderProjectAllocation {
  project: Project;
  amountKg: Decimal;
  /** The vintages the kg were drawn from, oldest first. */
  vintageYears: number[];
  retirements: Retirement[];
}

/**
 * The catalogue as operators load and read it (`kassa catalog import` / `export`): categories,
 * projects with their issuances, and portfolios' descriptions and category allocations. An import
 * adds and updates (never deletes); a portfolio's allocations, when given, replace its own.
 */
export interface Catalogue {
  categories: ProjectCategory[];
  projects: CatalogueProject[];
  portfolios: CataloguePortfolio[];
}

export interface CatalogueProject {
  id: string;
  categoryId: string | null;
  name: string;
  type: string;
  unSdgGoals: number[];
  details: ProjectDetails;
  /** Upserted by vintage year; how much is retired is the store's, never the file's. */
  creditIssuances: { vintageYear: number; totalAmount: Decimal; serialPrefix: string | null }[];
}

/** A portfolio that already exists (prices are set with `kassa portfolios create`); what is absent is kept. */
export interface CataloguePortfolio {
  id: string;
  summary?: string | null;
  description?: string | null;
  primaryImageUrl?: string | null;
  /** Replaces the portfolio's allocations: empty, or fractions in (0, 1] summing to exactly 1. */
  categoryAllocations?: { categoryId: string; allocatedFraction: Decimal }[];
}

/** What an import found in the file and how much of it changed the store. */
export type CatalogueImportResult = Record<
  "categories" | "projects" | "creditIssuances" | "portfolios",
  { total: number; changed: number }
>;
