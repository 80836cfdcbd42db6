import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Product } from "../../core/catalog/catalog.types.js";
import { idParams } from "./leanrails.schemas.js";
import {
  fromWireProductChanges,
  fromWireProductFields,
  listBody,
  ProductCreateParams,
  ProductList,
  ProductListQuery,
  ProductObject,
  ProductUpdateParams,
  toWireProduct,
  unitAmountOf,
} from "./products.schemas.js";
import type { LeanRailsRouteOptions } from "./route-options.js";

const tags = ["Products"];

const rendered = (product: Product) => ({ status: 200, body: toWireProduct(product) });

/** The catalogue's products (Stripe's shapes). Errors are core AppErrors; the surface's handler words them. */
export const productsRoutes: FastifyPluginAsyncZod<LeanRailsRouteOptions> = async (app, { services, idempotency }) => {
  app.post(
    "/products",
    {
      schema: {
        operationId: "CreateProduct",
        summary: "Create a product",
        tags,
        headers: idempotency.header,
        body: ProductCreateParams,
        response: { 200: ProductObject },
      },
    },
    async (request, reply) => {
      const { default_price_data: priceData, ...fields } = request.body;
      const written = await services.catalog.createProduct(
        request.principal.accountId,
        {
          ...fromWireProductFields(fields),
          defaultPriceData: priceData && {
            currency: priceData.currency,
            unitAmount: unitAmountOf(priceData),
            taxBehavior: priceData.tax_behavior,
            recurring: priceData.recurring,
          },
        },
        idempotency.within(request, reply, rendered),
      );
      return idempotency.send(request, reply, written, rendered);
    },
  );

  app.get(
    "/products/:id",
    {
      schema: {
        operationId: "RetrieveProduct",
        summary: "Retrieve a product",
        tags,
        params: idParams,
        response: { 200: ProductObject },
      },
    },
    async (request) => toWireProduct(await services.catalog.getProduct(request.principal.accountId, request.params.id)),
  );

  app.get(
    "/products",
    {
      schema: {
        operationId: "ListProducts",
        summary: "List products, newest first",
        tags,
        querystring: ProductListQuery,
        response: { 200: ProductList },
      },
    },
    async (request) => {
      const { active, limit, starting_after, ending_before } = request.query;
      const page = await services.catalog.listProducts(
        request.principal.accountId,
        { active },
        { limit, startingAfter: starting_after, endingBefore: ending_before },
      );
      return listBody("/v1/products", page.products, page.hasMore, toWireProduct);
    },
  );

  app.post(
    "/products/:id",
    {
      schema: {
        operationId: "UpdateProduct",
        summary: "Update a product",
        tags,
        headers: idempotency.header,
        params: idParams,
        body: ProductUpdateParams,
        response: { 200: ProductObject },
      },
    },
    async (request, reply) => {
      const written = await services.catalog.updateProduct(
        request.principal.accountId,
        request.params.id,
        fromWireProductChanges(request.body),
        idempotency.within(request, reply, rendered),
      );
      return idempotency.send(request, reply, written, rendered);
    },
  );
};
