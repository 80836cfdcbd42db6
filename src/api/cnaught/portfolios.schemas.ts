import { z } from "zod";
import { decimalToNumber } from "../../core/money/money.js";
import type { Portfolio } from "../../core/portfolios/portfolios.repository.js";
import type { PortfolioCategoryAllocation } from "../../core/projects/projects.types.js";
import { ProjectCategoryWithProjectsSchema, toWireCategoryWithProjects } from "./projects.schemas.js";

export const PortfolioSummary = z
  .object({
    id: z.string(),
    name: z.string(),
    summary: z.string().nullable(),
    description: z.string().nullable(),
    primary_image_url: z.string().nullable(),
  })
  .meta({ id: "Portfolio" });

export const PortfolioDetail = PortfolioSummary.extend({
  checkout_price_per_kg_usd_cents: z.number().describe("Price per kg for checkout sessions, in USD cents"),
  api_price_per_kg_usd_cents: z.number().describe("Price per kg for API orders, in USD cents"),
  category_allocations: z
    .array(
      z
        .object({
          allocated_fraction: z.number().describe("Fraction of the portfolio allocated to the category (0 to 1)"),
          category: ProjectCategoryWithProjectsSchema,
        })
        .meta({ id: "PortfolioCategoryAllocation" }),
    )
    .describe("The project categories the portfolio is composed of, with the fraction allocated to each"),
}).meta({ id: "PortfolioWithPricing" });

export const PortfolioList = z.object({ data: z.array(PortfolioSummary) }).meta({ id: "PortfolioList" });

export const toWirePortfolioSummary = (p: Portfolio) => ({
  id: p.id,
  name: p.name,
  summary: p.summary,
  description: p.description,
  primary_image_url: p.primaryImageUrl,
});

export const toWirePortfolio = (p: Portfolio, allocations: PortfolioCategoryAllocation[]) => ({
  ...toWirePortfolioSummary(p),
  checkout_price_per_kg_usd_cents: decimalToNumber(p.checkoutPricePerKgUsdCents),
  api_price_per_kg_usd_cents: decimalToNumber(p.apiPricePerKgUsdCents),
  category_allocations: allocations.map((a) => ({
    allocated_fraction: decimalToNumber(a.allocatedFraction),
    category: toWireCategoryWithProjects(a.category),
  })),
});
