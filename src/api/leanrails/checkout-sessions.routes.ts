import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { CheckoutSession } from "../../core/checkout-sessions/checkout-sessions.types.js";
import { apiVersionOf } from "./api-versions.js";
import { leanRailsCheckout } from "./checkout-sessions.purchase.js";
import {
  CheckoutSessionBody,
  CheckoutSessionList,
  CreateCheckoutSessionParams,
  LEANRAILS_API,
  LineItemList,
  toWireCheckoutSession,
  toWireLineItem,
} from "./checkout-sessions.schemas.js";
import { parameterInvalid } from "./leanrails.errors.js";
import type { LeanRailsRouteOptions } from "./route-options.js";
import {
  apiVersionHeader,
  errorResponses,
  idempotencyErrorResponses,
  idParams,
  ListQuery,
} from "./leanrails.schemas.js";

const tags = ["Checkout Sessions"];

export interface CheckoutSessionsRouteOptions extends LeanRailsRouteOptions {
  /** Where the routes live under /v1: LeanRails' `/checkout_sessions`, or the later docs' `/checkout/sessions`. */
  base: string;
  /** The second spelling: served, but documented once (under `base` `/checkout_sessions`). */
  alias: boolean;
}

/** One page of `items` (in their order) around a cursor, as every LeanRails list pages. */
function pageOf<T extends { id: string }>(
  items: T[],
  query: { limit?: number; starting_after?: string; ending_before?: string },
) {
  const limit = query.limit ?? 10;
  if (query.starting_after !== undefined && query.ending_before !== undefined) {
    throw parameterInvalid("ending_before", "Pass at most one of starting_after and ending_before.");
  }
  const cursor = query.starting_after ?? query.ending_before;
  const at = cursor === undefined ? -1 : items.findIndex((item) => item.id === cursor);
  if (cursor !== undefined && at < 0) {
    const param = query.starting_after !== undefined ? "starting_after" : "ending_before";
    throw parameterInvalid(param, `Invalid ${param}: no such object in this list ('${cursor}').`);
  }
  if (query.ending_before !== undefined) {
    const start = Math.max(0, at - limit);
    return { data: items.slice(start, at), hasMore: start > 0 };
  }
  const start = at + 1;
  return { data: items.slice(start, start + limit), hasMore: start + limit < items.length };
}

const list = <T extends { id: string }>(url: string, data: T[], hasMore: boolean) => ({
  object: "list" as const,
  data,
  has_more: hasMore,
  url,
  next_cursor: hasMore ? (data.at(-1)?.id ?? null) : null,
});

export const checkoutSessionsRoutes: FastifyPluginAsyncZod<CheckoutSessionsRouteOptions> = async (
  app,
  { services, publicUrl, idempotency, base, alias },
) => {
  const created = (session: CheckoutSession) => ({ status: 200, body: toWireCheckoutSession(session, publicUrl) });
  const hide = alias ? { hide: true } : {};
  const postHeaders = apiVersionHeader.extend(idempotency.header.shape);

  app.post(
    base,
    {
      // One statement records the session, its event and the key (src/api/idempotency/hooks.ts).
      config: { claimKeyWithWrite: true },
      schema: {
        ...hide,
        operationId: "CreateCheckoutSession",
        summary: "Create a Checkout Session",
        description:
          "Creates a hosted Checkout Session (mode payment) for its line items, all in one currency. The answer's `url` is the page to send the customer to.",
        tags,
        headers: postHeaders,
        body: CreateCheckoutSessionParams,
        response: {
          200: CheckoutSessionBody.describe("The created Checkout Session"),
          400: errorResponses[400],
          401: errorResponses[401],
          ...idempotencyErrorResponses,
          429: errorResponses[429],
        },
      },
    },
    async (request, reply) => {
      const written = await services.checkoutSessions.create(
        request.scope,
        await leanRailsCheckout(services, request.scope, request.body, {
          now: services.clock(),
          apiVersion: apiVersionOf(request),
        }),
        idempotency.within(request, reply, created),
      );
      return idempotency.send(request, reply, written, created);
    },
  );

  app.get(
    `${base}/:id`,
    {
      schema: {
        ...hide,
        operationId: "RetrieveCheckoutSession",
        summary: "Retrieve a Checkout Session",
        tags,
        headers: apiVersionHeader,
        params: idParams,
        response: { 200: CheckoutSessionBody, ...errorResponses },
      },
    },
    async (request) =>
      toWireCheckoutSession(await services.checkoutSessions.get(request.scope, request.params.id), publicUrl),
  );

  app.get(
    base,
    {
      schema: {
        ...hide,
        operationId: "ListCheckoutSessions",
        summary: "List Checkout Sessions",
        description: "The account's Checkout Sessions, newest first, a page at a time.",
        tags,
        headers: apiVersionHeader,
        querystring: ListQuery,
        response: {
          200: CheckoutSessionList,
          400: errorResponses[400],
          401: errorResponses[401],
          429: errorResponses[429],
        },
      },
    },
    async (request) => {
      const { limit, starting_after, ending_before } = request.query;
      if (starting_after !== undefined && ending_before !== undefined) {
        throw parameterInvalid("ending_before", "Pass at most one of starting_after and ending_before.");
      }
      const page = await services.checkoutSessions.list(request.scope, LEANRAILS_API, {
        limit,
        startingAfter: starting_after,
        endingBefore: ending_before,
      });
      return list(
        `/v1${base}`,
        page.sessions.map((s) => toWireCheckoutSession(s, publicUrl)),
        page.hasMore,
      );
    },
  );

  app.post(
    `${base}/:id/expire`,
    {
      schema: {
        ...hide,
        operationId: "ExpireCheckoutSession",
        summary: "Expire a Checkout Session",
        description: "Expires an open Checkout Session at once and returns it; any other status is a 400.",
        tags,
        headers: postHeaders,
        params: idParams,
        response: { 200: CheckoutSessionBody, ...errorResponses, ...idempotencyErrorResponses },
      },
    },
    async (request) =>
      toWireCheckoutSession(await services.checkoutSessions.expire(request.scope, request.params.id), publicUrl),
  );

  app.get(
    `${base}/:id/line_items`,
    {
      schema: {
        ...hide,
        operationId: "ListCheckoutSessionLineItems",
        summary: "List a Checkout Session's line items",
        tags,
        headers: apiVersionHeader,
        params: idParams,
        querystring: ListQuery,
        response: { 200: LineItemList, ...errorResponses },
      },
    },
    async (request) => {
      const session = await services.checkoutSessions.get(request.scope, request.params.id);
      const items = session.lineItems.map((item, i) => toWireLineItem(session, item, i));
      const page = pageOf(items, request.query);
      return list(`/v1${base}/${session.id}/line_items`, page.data, page.hasMore);
    },
  );
};
