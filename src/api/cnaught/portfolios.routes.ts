import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { errorResponses, idParams, subaccountHeader } from "./cnaught.schemas.js";
import { PortfolioDetail, PortfolioList, toWirePortfolio, toWirePortfolioSummary } from "./portfolios.schemas.js";

const tags = ["Portfolios"];

export const portfoliosRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (app, { services }) => {
  app.get(
    "/portfolios",
    {
      schema: {
        operationId: "GetPortfolios",
        summary: "List portfolios",
        tags,
        headers: subaccountHeader,
        response: { 200: PortfolioList, 400: errorResponses[400], 401: errorResponses[401], 429: errorResponses[429] },
      },
    },
    async () => ({ data: (await services.portfolios.list()).map(toWirePortfolioSummary) }),
  );

  app.get(
    "/portfolios/:id",
    {
      schema: {
        operationId: "GetPortfolioDetails",
        summary: "Get portfolio",
        tags,
        headers: subaccountHeader,
        params: idParams,
        response: { 200: PortfolioDetail, ...errorResponses },
      },
    },
    async (request) => {
      // The allocations are read only here: purchases price from the portfolio row alone.
      const [portfolio, allocations] = await Promise.all([
        services.portfolios.get(request.params.id),
        services.projects.allocationsFor(request.params.id),
      ]);
      return toWirePortfolio(portfolio, allocations);
    },
  );
};
