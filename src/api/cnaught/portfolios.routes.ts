import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { notFound } from "../../core/errors.js";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { errorResponses, idParams } from "./cnaught.schemas.js";
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
        response: { 200: PortfolioList, 401: errorResponses[401] },
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
        params: idParams,
        response: { 200: PortfolioDetail, 401: errorResponses[401], 404: errorResponses[404] },
      },
    },
    async (request) => {
      const portfolio = await services.portfolios.get(request.params.id);
      if (!portfolio) throw notFound("portfolio", request.params.id);
      return toWirePortfolio(portfolio);
    },
  );
};
