import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Price } from "../../core/catalog/catalog.types.js";
import {
  fromWireNewPrice,
  fromWirePriceChanges,
  PriceCreateParams,
  PriceList,
  PriceListQuery,
  PriceObject,
  PriceUpdateParams,
  toWirePrice,
} from "./prices.schemas.js";
import { idParams } from "./leanrails.schemas.js";
import { listBody } from "./products.schemas.js";
import type { LeanRailsRouteOptions } from "./route-options.js";

const tags = ["Prices"];

const rendered = (price: Price) => ({ status: 200, body: toWirePrice(price) });

/** The catalogue's prices (Stripe's shapes), which `line_items[].price` names. */
export const pricesRoutes: FastifyPluginAsyncZod<LeanRailsRouteOptions> = async (app, { services, idempotency }) => {
  app.post(
    "/prices",
    {
      schema: {
        operationId: "CreatePrice",
        summary: "Create a price",
        tags,
        headers: idempotency.header,
        body: PriceCreateParams,
        response: { 200: PriceObject },
      },
    },
    async (request, reply) => {
      const written = await services.catalog.createPrice(
        request.principal.accountId,
        fromWireNewPrice(request.body),
        idempotency.within(request, reply, rendered),
      );
      return idempotency.send(request, reply, written, rendered);
    },
  );

  app.get(
    "/prices/:id",
    {
      schema: {
        operationId: "RetrievePrice",
        summary: "Retrieve a price",
        tags,
        params: idParams,
        response: { 200: PriceObject },
      },
    },
    async (request) => toWirePrice(await services.catalog.getPrice(request.principal.accountId, request.params.id)),
  );

  app.get(
    "/prices",
    {
      schema: {
        operationId: "ListPrices",
        summary: "List prices, newest first",
        tags,
        querystring: PriceListQuery,
        response: { 200: PriceList },
      },
    },
    async (request) => {
      const { active, product, type, limit, starting_after, ending_before } = request.query;
      const page = await services.catalog.listPrices(
        request.principal.accountId,
        { active, productId: product, type },
        { limit, startingAfter: starting_after, endingBefore: ending_before },
      );
      return listBody("/v1/prices", page.prices, page.hasMore, toWirePrice);
    },
  );

  app.post(
    "/prices/:id",
    {
      schema: {
        operationId: "UpdatePrice",
        summary: "Update a price",
        tags,
        headers: idempotency.header,
        params: idParams,
        body: PriceUpdateParams,
        response: { 200: PriceObject },
      },
    },
    async (request, reply) => {
      const written = await services.catalog.updatePrice(
        request.principal.accountId,
        request.params.id,
        fromWirePriceChanges(request.body),
        idempotency.within(request, reply, rendered),
      );
      return idempotency.send(request, reply, written, rendered);
    },
  );
};
