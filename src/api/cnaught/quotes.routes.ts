import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { decimalFromJsonNumber, decimalToNumber } from "../../core/money/money.js";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { amountKg, errorResponses, idempotencyErrorResponses, subaccountHeader } from "./cnaught.schemas.js";

const QuoteParams = z
  .object({
    amount_kg: amountKg,
    portfolio_id: z.string().max(64).nullish(),
    source: z.enum(["api", "checkout"]).nullish().describe("Which price to quote: API orders (default) or checkout"),
  })
  .meta({ id: "QuoteParams" });

const Quote = z.object({ amount_kg: z.number(), price_usd_cents: z.number().int() }).meta({ id: "Quote" });

// A quote writes nothing: with an Idempotency-Key its answer is stored after the handler, in its own statement.
export const quotesRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (app, { services, idempotency }) => {
  app.post(
    "/quotes",
    {
      schema: {
        operationId: "GetPriceQuote",
        summary: "Get a price quote",
        tags: ["Quotes"],
        headers: subaccountHeader.extend(idempotency.header.shape),
        body: QuoteParams,
        response: {
          200: Quote,
          400: errorResponses[400],
          401: errorResponses[401],
          ...idempotencyErrorResponses,
          429: errorResponses[429],
        },
      },
    },
    async (request) => {
      const amount = decimalFromJsonNumber(request.body.amount_kg);
      const quote = await services.portfolios.quote(request.scope, {
        amountKg: amount,
        portfolioId: request.body.portfolio_id,
        source: request.body.source ?? "api",
      });
      return { amount_kg: decimalToNumber(amount), price_usd_cents: quote.priceUsdCents };
    },
  );
};
