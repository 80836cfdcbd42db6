import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { CheckoutSession } from "../../core/checkout-sessions/checkout-sessions.types.js";
import { decimalFromJsonNumber } from "../../core/money/money.js";
import type { CnaughtRouteOptions } from "./cnaught.plugin.js";
import { errorResponses, idempotencyErrorResponses, idParams, subaccountHeader } from "./cnaught.schemas.js";
import { cnaughtPurchase } from "./checkout-sessions.purchase.js";
import { CheckoutSessionBody, CheckoutSessionParams, toWireCheckoutSession } from "./checkout-sessions.schemas.js";

const tags = ["Checkout Sessions"];

export const checkoutSessionsRoutes: FastifyPluginAsyncZod<CnaughtRouteOptions> = async (
  app,
  { services, publicUrl, idempotency },
) => {
  const created = (session: CheckoutSession) => ({
    status: 201,
    headers: { location: `${publicUrl}/v1/checkout/sessions/${session.id}` },
    body: toWireCheckoutSession(session, publicUrl),
  });

  app.post(
    "/checkout/sessions",
    {
      // One statement records the session, its event and the key (src/api/idempotency.ts).
      config: { claimKeyWithWrite: true },
      schema: {
        operationId: "CreateCheckoutSession",
        summary: "Create Checkout Session",
        description:
          "Creates a Checkout Session that, when completed, will result in an order for the specified amount of carbon credits (in kilograms). The total price must be at least $0.50.",
        tags,
        headers: subaccountHeader.extend(idempotency.header.shape),
        body: CheckoutSessionParams,
        response: {
          201: CheckoutSessionBody.describe("Checkout Session"),
          400: errorResponses[400],
          401: errorResponses[401],
          ...idempotencyErrorResponses,
          429: errorResponses[429],
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const written = await services.checkoutSessions.create(
        request.scope,
        await cnaughtPurchase(services, request.scope, {
          amountKg: decimalFromJsonNumber(body.amount_kg),
          portfolioId: body.portfolio_id,
          successUrl: body.success_url,
          cancelUrl: body.cancel_url,
          description: body.description,
          notificationUrl: body.notification_config?.url ?? null,
        }),
        idempotency.within(request, reply, created),
      );
      return idempotency.send(request, reply, written, created);
    },
  );

  app.get(
    "/checkout/sessions/:id",
    {
      schema: {
        operationId: "GetCheckoutSessionById",
        summary: "Get Checkout Session",
        description: "Returns the Checkout Session with the given id",
        tags,
        headers: subaccountHeader,
        params: idParams,
        response: { 200: CheckoutSessionBody, ...errorResponses },
      },
    },
    async (request) =>
      toWireCheckoutSession(await services.checkoutSessions.get(request.scope, request.params.id), publicUrl),
  );
};
