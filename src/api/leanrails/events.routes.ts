import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { EventList, LeanRailsEventWire, leanRailsEvents, toWireEvent } from "./events.schemas.js";
import { fromWireListQuery, IdParams, ListQuery, listOf } from "./list-params.js";
import type { LeanRailsRouteOptions } from "./route-options.js";

const tags = ["Events"];

/**
 * LeanRails' events (checkout.session.completed and .expired of the account's LeanRails
 * sessions), rendered as they were delivered to its webhook endpoints.
 */
export const eventsRoutes: FastifyPluginAsyncZod<LeanRailsRouteOptions> = async (app, { services, publicUrl }) => {
  app.get(
    "/events/:id",
    {
      schema: {
        operationId: "GetEvent",
        summary: "Retrieve an event",
        tags,
        params: IdParams,
        response: { 200: LeanRailsEventWire },
      },
    },
    async (request) =>
      toWireEvent(
        await services.events.getSessionEvent(leanRailsEvents(request.principal.accountId), request.params.id),
        publicUrl,
      ),
  );

  app.get(
    "/events",
    {
      schema: {
        operationId: "ListEvents",
        summary: "List events, newest first",
        tags,
        querystring: ListQuery,
        response: { 200: EventList },
      },
    },
    async (request) => {
      const page = await services.events.listSessionEvents(
        leanRailsEvents(request.principal.accountId),
        fromWireListQuery(request.query),
      );
      return listOf(
        page.events.map((e) => toWireEvent(e, publicUrl)),
        page.hasMore,
        "/v1/events",
      );
    },
  );
};
