import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { errorResponses, subaccountHeader } from "./cnaught.schemas.js";
import {
  ImpactData,
  ImpactDataQuery,
  ImpactHostedPageConfig,
  parseIsoInstant,
  toWireHostedPageConfig,
  toWireImpact,
} from "./impact.schemas.js";

const tags = ["Climate Impact"];
const response = (body: typeof ImpactData | typeof ImpactHostedPageConfig) => ({
  200: body,
  400: errorResponses[400],
  401: errorResponses[401],
  429: errorResponses[429],
});

/** (The query schema has checked the text already.) */
const instant = (text: string | undefined) => (text === undefined ? null : parseIsoInstant(text));

export const impactRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (app, { services, publicUrl }) => {
  app.get(
    "/impact/data",
    {
      schema: {
        operationId: "GetImpactData",
        summary: "Get climate impact data",
        description:
          "The total climate impact of the account's carbon credit purchases (or a subaccount's, with X-Subaccount-Id): the kg of its fulfilled orders, by project category and project with their vintages, and what that is equivalent to. This is what the public impact page shows. `from` and `to` bound the time the orders were fulfilled (from inclusive, to exclusive).",
        tags,
        headers: subaccountHeader,
        querystring: ImpactDataQuery,
        response: response(ImpactData),
      },
    },
    async (request) =>
      toWireImpact(
        await services.impact.data(request.scope, {
          from: instant(request.query.from),
          to: instant(request.query.to),
        }),
        publicUrl,
      ),
  );

  app.get(
    "/impact/hosted-page-config",
    {
      schema: {
        operationId: "GetImpactHostedPageConfig",
        summary: "Get climate impact hosted page configuration",
        description:
          "Whether the public impact page of the account (or of the subaccount, with X-Subaccount-Id) is on, its URL and the equivalents it shows. Operators turn pages on with `kassa impact enable`.",
        tags,
        headers: subaccountHeader,
        response: response(ImpactHostedPageConfig),
      },
    },
    async (request) => toWireHostedPageConfig(await services.impact.pageFor(request.scope), publicUrl),
  );
};
