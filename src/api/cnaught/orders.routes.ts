import type { FastifyError } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { invalidPagination } from "../../core/errors.js";
import { fieldErrorsFrom } from "../validation.js";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { errorResponses, idParams, subaccountHeader } from "./cnaught.schemas.js";
import { OrderBody, OrderList, OrderListQuery, toWireOrder } from "./orders.schemas.js";

const tags = ["Orders"];

/** A list's bad query (limit, cursors) as CNaught answers it: invalid-pagination, reasons in the detail. */
function paginationError(error: FastifyError) {
  const reasons = Object.values(fieldErrorsFrom(error) ?? {}).flat();
  return invalidPagination(reasons.length ? reasons.join("; ") : error.message);
}

export const ordersRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (app, { services }) => {
  app.get(
    "/orders/:id",
    {
      schema: {
        operationId: "GetOrderById",
        summary: "Get order",
        description: "Returns the order with the given id",
        tags,
        headers: subaccountHeader,
        params: idParams,
        response: { 200: OrderBody, ...errorResponses },
      },
    },
    async (request) => toWireOrder(await services.orders.get(request.scope, request.params.id)),
  );

  app.get(
    "/orders",
    {
      // The handler answers a bad query itself, as invalid-pagination rather than invalid-parameters.
      attachValidation: true,
      schema: {
        operationId: "ListOrders",
        summary: "List orders",
        description:
          "Returns the orders of the caller (or of the subaccount named by X-Subaccount-Id), newest first, a page at a time. Pass at most one of starting_after and ending_before.",
        tags,
        headers: subaccountHeader,
        querystring: OrderListQuery,
        response: { 200: OrderList, 400: errorResponses[400], 401: errorResponses[401], 429: errorResponses[429] },
      },
    },
    async (request) => {
      if (request.validationError) throw paginationError(request.validationError as FastifyError);
      const { limit, starting_after, ending_before } = request.query;
      const orders = await services.orders.list(request.scope, {
        limit,
        startingAfter: starting_after,
        endingBefore: ending_before,
      });
      return { data: orders.map(toWireOrder) };
    },
  );
};
