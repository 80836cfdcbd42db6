import { z } from "zod";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Subaccount } from "../../core/subaccounts/subaccounts.repository.js";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { errorResponses, idempotencyErrorResponses, idParams, ProblemDetails, problem } from "./cnaught.schemas.js";
import {
  fromWireSubaccount,
  fromWireSubaccountUpdate,
  SubaccountBody,
  SubaccountList,
  SubaccountParams,
  toWireSubaccount,
  UpdateSubaccountParams,
} from "./subaccounts.schemas.js";

const tags = ["Subaccounts"];
// Subaccount management acts on the account itself; X-Subaccount-Id does not scope it.
const config = { subaccountScoped: false };

export const subaccountsRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (
  app,
  { services, publicUrl, idempotency },
) => {
  const created = (subaccount: Subaccount) => ({
    status: 201,
    headers: { location: `${publicUrl}/v1/subaccounts/${subaccount.id}` },
    body: toWireSubaccount(subaccount, publicUrl),
  });
  const wire = (subaccount: Subaccount) => toWireSubaccount(subaccount, publicUrl);

  app.post(
    "/subaccounts",
    {
      config,
      schema: {
        operationId: "CreateSubaccount",
        summary: "Create subaccount",
        tags,
        headers: idempotency.header,
        body: SubaccountParams,
        response: {
          201: SubaccountBody,
          400: errorResponses[400],
          401: errorResponses[401],
          ...idempotencyErrorResponses,
          429: errorResponses[429],
        },
      },
    },
    async (request, reply) => {
      const written = await services.subaccounts.create(
        request.principal.accountId,
        fromWireSubaccount(request.body),
        idempotency.within(request, reply, created),
      );
      return idempotency.send(request, reply, written, created);
    },
  );

  app.get(
    "/subaccounts",
    {
      config,
      schema: {
        operationId: "GetSubaccounts",
        summary: "List subaccounts",
        tags,
        response: { 200: SubaccountList, 401: errorResponses[401], 429: errorResponses[429] },
      },
    },
    async (request) => ({ data: (await services.subaccounts.list(request.principal.accountId)).map(wire) }),
  );

  app.get(
    "/subaccounts/:id",
    {
      config,
      schema: {
        operationId: "GetSubaccountById",
        summary: "Get subaccount",
        tags,
        params: idParams,
        response: { 200: SubaccountBody, 401: errorResponses[401], 404: errorResponses[404], 429: errorResponses[429] },
      },
    },
    async (request) => wire(await services.subaccounts.get(request.principal.accountId, request.params.id)),
  );

  app.put(
    "/subaccounts/:id",
    {
      config,
      schema: {
        operationId: "UpdateSubaccount",
        summary: "Update subaccount",
        description: "Replaces every property but the logo, which is kept (see the logo endpoints).",
        tags,
        params: idParams,
        body: UpdateSubaccountParams,
        response: { 200: SubaccountBody, ...errorResponses },
      },
    },
    async (request, reply) => {
      const written = await services.subaccounts.update(
        request.principal.accountId,
        request.params.id,
        fromWireSubaccountUpdate(request.body),
      );
      return idempotency.send(request, reply, written, (subaccount) => ({ status: 200, body: wire(subaccount) }));
    },
  );

  app.delete(
    "/subaccounts/:id",
    {
      config,
      schema: {
        operationId: "DeleteSubaccount",
        summary: "Delete subaccount",
        description: "Fails with 409 conflict if the subaccount has orders.",
        tags,
        params: idParams,
        response: {
          204: z.undefined().describe("Deleted"),
          401: errorResponses[401],
          404: errorResponses[404],
          409: problem(ProblemDetails, "The subaccount has orders"),
          429: errorResponses[429],
        },
      },
    },
    async (request, reply) => {
      await services.subaccounts.remove(request.principal.accountId, request.params.id);
      return reply.code(204).send();
    },
  );
};
