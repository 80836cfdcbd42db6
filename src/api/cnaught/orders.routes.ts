import type { FastifyError } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { forbidden, invalidPagination, invalidRequestFields, isAppError } from "../../core/errors.js";
import { decimalFromJsonNumber } from "../../core/money/money.js";
import type { OrderRequest } from "../../core/orders/orders.service.js";
import type { Order } from "../../core/orders/orders.types.js";
import { emissionsKg } from "../../core/quotes/emissions.js";
import { fieldErrorsFrom } from "../validation.js";
import { CNAUGHT_API } from "./checkout-sessions.schemas.js";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import {
  errorResponses,
  idempotencyErrorResponses,
  describedProblem,
  idParams,
  subaccountHeader,
} from "./cnaught.schemas.js";
import { OrderBody, OrderList, OrderListQuery, OrderParams, RideOrderParams, toWireOrder } from "./orders.schemas.js";

const tags = ["Orders"];

/** A list's bad query (limit, cursors) as CNaught answers it: invalid-pagination, reasons in the detail. */
function paginationError(error: FastifyError) {
  const reasons = Object.values(fieldErrorsFrom(error) ?? {}).flat();
  return invalidPagination(reasons.length ? reasons.join("; ") : error.message);
}

type OrderOptions = Omit<OrderRequest, "amountKg" | "totalPriceUsdCents">;

/** The options every order body shares, in the core's terms. */
const optionsOf = (body: {
  metadata?: string | null;
  description?: string | null;
  notification_config?: { url: string } | null;
  portfolio_id?: string | null;
}): OrderOptions => ({
  metadata: body.metadata,
  description: body.description,
  callbackUrl: body.notification_config?.url ?? null,
  portfolioId: body.portfolio_id,
});

const EXACTLY_ONE = "Exactly one of amount_kg or total_price_usd_cents must be provided";

/** CNaught's POST /orders body in the core's terms: exactly one of an amount and a budget. */
function orderRequestOf(body: { amount_kg?: number | null; total_price_usd_cents?: number | null }): OrderRequest {
  const amount = body.amount_kg ?? null;
  const budget = body.total_price_usd_cents ?? null;
  if ((amount === null) === (budget === null)) {
    throw invalidRequestFields({ amount_kg: [EXACTLY_ONE], total_price_usd_cents: [EXACTLY_ONE] });
  }
  return amount !== null
    ? { amountKg: decimalFromJsonNumber(amount) }
    : { totalPriceUsdCents: decimalFromJsonNumber(budget as number) };
}

const placeResponses = {
  201: OrderBody,
  400: errorResponses[400],
  401: errorResponses[401],
  ...idempotencyErrorResponses,
  429: errorResponses[429],
};

export const ordersRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (
  app,
  { services, publicUrl, idempotency },
) => {
  const created = (order: Order) => ({
    status: 201,
    headers: { location: `${publicUrl}/v1/orders/${order.id}` },
    body: toWireOrder(order),
  });
  const cancelled = (order: Order) => ({ status: 200, body: toWireOrder(order) });
  const headers = subaccountHeader.extend(idempotency.header.shape);

  app.post(
    "/orders",
    {
      schema: {
        operationId: "PlaceOrder",
        summary: "Create carbon credits order",
        description:
          "Places an order for carbon credits, priced at the portfolio's API price: either amount_kg, or total_price_usd_cents (the whole kilograms that budget buys). The order stays placed until it is fulfilled.",
        tags,
        headers,
        body: OrderParams,
        response: placeResponses,
      },
    },
    async (request, reply) => {
      const { amount_kg, total_price_usd_cents, ...rest } = request.body;
      const written = await services.orders.placeRequested(
        request.scope,
        { ...orderRequestOf({ amount_kg, total_price_usd_cents }), ...optionsOf(rest) },
        CNAUGHT_API,
        idempotency.within(request, reply, created),
      );
      return idempotency.send(request, reply, written, created);
    },
  );

  app.post(
    "/orders/ride",
    {
      schema: {
        operationId: "PlaceRideOrder",
        summary: "Create carbon credits order for vehicle ride",
        description:
          "[Deprecated] Use /quotes/ground-transport with passenger_car_van_or_suv as the vehicle_type to calculate ride emissions. Then pass the result to /orders to place the order.",
        deprecated: true,
        tags,
        headers,
        body: RideOrderParams,
        response: placeResponses,
      },
    },
    async (request, reply) => {
      const { distance_km, ...rest } = request.body;
      // Exactly what /quotes/ride (= ground-transport by passenger car) quotes for the distance.
      const amountKg = emissionsKg.groundTransport(
        { distanceKm: decimalFromJsonNumber(distance_km) },
        "passenger_car_van_or_suv",
      );
      const written = await services.orders.placeRequested(
        request.scope,
        { amountKg, ...optionsOf(rest) },
        CNAUGHT_API,
        idempotency.within(request, reply, created),
      );
      return idempotency.send(request, reply, written, created);
    },
  );

  app.post(
    "/orders/:id/cancel",
    {
      schema: {
        operationId: "CancelOrder",
        summary: "Cancel order",
        description:
          "Cancels a placed or fulfilled order (a fulfilled order's price is credited on the invoice). Takes no body. With X-Subaccount-Id, only cancels the order if it belongs to that subaccount. Its certificate URLs become null.",
        tags,
        headers,
        params: idParams,
        response: {
          200: OrderBody,
          400: errorResponses[400],
          401: errorResponses[401],
          403: describedProblem("Forbidden Due to Order Already Cancelled"),
          404: errorResponses[404],
          ...idempotencyErrorResponses,
          429: errorResponses[429],
        },
      },
    },
    async (request, reply) => {
      const written = await services.orders
        .cancelInScope(request.scope, request.params.id, idempotency.within(request, reply, cancelled))
        .catch((error: unknown) => {
          // CNaught answers cancelling a cancelled order with 403 forbidden.
          if (isAppError(error) && error.code === "invalid_state") throw forbidden(error.message);
          throw error;
        });
      return idempotency.send(request, reply, written, cancelled);
    },
  );
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
