import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type {
  CreatedWebhookEndpoint,
  WebhookEndpoint,
} from "../../core/webhook-endpoints/webhook-endpoints.service.js";
import { LEANRAILS_API } from "./events.schemas.js";
import { fromWireListQuery, IdParams, ListQuery, listOf } from "./list-params.js";
import type { LeanRailsRouteOptions } from "./route-options.js";
import {
  CreateWebhookEndpointParams,
  fromWireEndpointChanges,
  fromWireNewEndpoint,
  toWireEndpoint,
  UpdateWebhookEndpointParams,
  WebhookEndpointList,
  WebhookEndpointWire,
} from "./webhook-endpoints.schemas.js";

const tags = ["Webhook endpoints"];

/**
 * LeanRails' webhook endpoints: register a receiver (its whsec_ secret shown in full only in the
 * answer to the create), read it (secret masked), change it, list them. Errors are the core's
 * AppErrors, worded by the LeanRails plugin's error handler.
 */
export const webhookEndpointsRoutes: FastifyPluginAsyncZod<LeanRailsRouteOptions> = async (
  app,
  { services, idempotency },
) => {
  const created = (endpoint: CreatedWebhookEndpoint) => ({ status: 200, body: toWireEndpoint(endpoint) });
  const updated = (endpoint: WebhookEndpoint) => ({ status: 200, body: toWireEndpoint(endpoint) });

  app.post(
    "/webhook_endpoints",
    {
      schema: {
        operationId: "CreateWebhookEndpoint",
        summary: "Create a webhook endpoint",
        tags,
        headers: idempotency.header,
        body: CreateWebhookEndpointParams,
        response: { 200: WebhookEndpointWire },
      },
    },
    async (request, reply) => {
      const written = await services.webhookEndpoints.create(
        request.principal.accountId,
        LEANRAILS_API,
        fromWireNewEndpoint(request.body),
        idempotency.within(request, reply, created),
      );
      return idempotency.send(request, reply, written, created);
    },
  );

  app.get(
    "/webhook_endpoints",
    {
      schema: {
        operationId: "ListWebhookEndpoints",
        summary: "List webhook endpoints",
        tags,
        querystring: ListQuery,
        response: { 200: WebhookEndpointList },
      },
    },
    async (request) => {
      const page = await services.webhookEndpoints.list(
        request.principal.accountId,
        LEANRAILS_API,
        fromWireListQuery(request.query),
      );
      return listOf(page.endpoints.map(toWireEndpoint), page.hasMore, "/v1/webhook_endpoints");
    },
  );

  app.get(
    "/webhook_endpoints/:id",
    {
      schema: {
        operationId: "GetWebhookEndpoint",
        summary: "Retrieve a webhook endpoint",
        tags,
        params: IdParams,
        response: { 200: WebhookEndpointWire },
      },
    },
    async (request) =>
      toWireEndpoint(
        await services.webhookEndpoints.get(request.principal.accountId, LEANRAILS_API, request.params.id),
      ),
  );

  app.post(
    "/webhook_endpoints/:id",
    {
      schema: {
        operationId: "UpdateWebhookEndpoint",
        summary: "Update a webhook endpoint",
        tags,
        headers: idempotency.header,
        params: IdParams,
        body: UpdateWebhookEndpointParams,
        response: { 200: WebhookEndpointWire },
      },
    },
    async (request, reply) => {
      const written = await services.webhookEndpoints.update(
        request.principal.accountId,
        LEANRAILS_API,
        request.params.id,
        fromWireEndpointChanges(request.body),
        idempotency.within(request, reply, updated),
      );
      return idempotency.send(request, reply, written, updated);
    },
  );
};
