import { z } from "zod";
import { decimalToNumber } from "../../core/money/money.js";
import type { Portfolio } from "../../core/portfolios/portfolios.repository.js";

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
  category_allocations: z.array(
    z.object({ allocated_fraction: z.number(), category: z.record(z.string(), z.unknown()) }),
  ),
}).meta({ id: "PortfolioWithPricing" });

export const PortfolioList = z.object({ data: z.array(PortfolioSummary) }).meta({ id: "PortfolioList" });

export const toWirePortfolioSummary = (p: Portfolio) => ({
  id: p.id,
  name: p.name,
  summary: p.summary,
  description: p.description,
  primary_image_url: p.primaryImageUrl,
});

export const toWirePortfolio = (p: Portfolio) => ({
  ...toWirePortfolioSummary(p),
  checkout_price_per_kg_usd_cents: decimalToNumber(p.checkoutPricePerKgUsdCents),
  api_price_per_kg_usd_cents: decimalToNumber(p.apiPricePerKgUsdCents),
  // TODO(issue 12 item 4): the allocations from portfolio_category_allocations.
  category_allocations: [],
});
