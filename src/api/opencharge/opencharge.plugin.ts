/**
 * The Opencharge API (mounted at OPENCHARGE_BASE_PATH, /opencharge by default; off while no
 * OPENCHARGE_OCID is set): Kassa as a payment gateway. Its own error format for everything on its
 * paths; bodies kept as raw bytes, since the request signature covers them exactly; every answer
 * (errors included, but not those raised before routing) signed with Kassa's response-signature
 * headers over the bytes sent.
 *
 *   GET  <base>/metadata.json    Kassa's metadata document (config signed by Kassa's key)
 *   GET  <base>/capabilities     the capabilities offered to the (signed) caller
 *   POST <base>/checkout/create  seed 002: a signed order becomes a hosted checkout session
 */
import "../request-context.js";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { checkoutPagePath, type CheckoutSession } from "../../core/checkout-sessions/checkout-sessions.types.js";
import { isAppError, rateLimited } from "../../core/errors.js";
import type { Services } from "../../core/services.js";
import type { StoredResponse, WithinWrite } from "../../core/idempotency/idempotency.types.js";
import { limitSurface, type RateLimitBackend } from "../rate-limit.js";
import { methodNotAllowed, notFoundAsError, trackRoutes } from "../routing.js";
import { type ApiSurface, pathOf } from "../surfaces.js";
import { unstorableFieldErrors } from "../validation.js";
import { createRequestAuth } from "./auth.js";
import { signedResponseHeaders, unixSeconds } from "./headers.js";
import { OpenchargeError, ocError, openchargeErrorHandler, openchargeRawError } from "./opencharge.errors.js";
import type { Participant } from "./opencharge.repository.js";
import type { OpenchargeRuntime } from "./opencharge.js";
import {
  CAPABILITIES,
  checkoutCreateRequestDocument,
  errorResponses,
  OpenchargeCapabilities,
  OpenchargeCheckoutCreateResponse,
  OpenchargeMetadata,
  signedJson,
  signedRequestHeaders,
} from "./opencharge.schemas.js";
import {
  createRequestSchema,
  fieldDetails,
  newOpenchargeSession,
  type Order,
  orderLineItems,
  orderSchema,
  wireFields,
} from "./order.js";
import { signConfig, verifyOrderSignature } from "./signing.js";

export interface OpenchargeOptions {
  services: Services;
  /** The adapter's runtime (identity, tables), built with the services (src/composition.ts). */
  opencharge: OpenchargeRuntime;
  publicUrl: string;
}

export const openchargeApi: FastifyPluginAsync<OpenchargeOptions & { rateLimits: RateLimitBackend }> = async (
  app,
  { services, opencharge, publicUrl, rateLimits },
) => {
  const { repository, config } = opencharge;
  const identity = await opencharge.identity(); // the key and account exist before the first request
  const checkRequest = createRequestAuth({ repository, clock: services.clock });
  // Per caller OCID once authenticated (RATE_LIMIT_*), and per client address on failed
  // authentications (AUTH_FAILURE_LIMIT_*): a signature check is CPU work worth bounding.
  const limiter = await limitSurface(app, rateLimits, { namespace: "opencharge", limited: rateLimited });

  /** The signed request's caller, counted against the limits. */
  async function authenticate(request: FastifyRequest, reply: FastifyReply, rawBody: Buffer | null) {
    limiter.beforeAuthentication(request);
    let caller: Participant;
    try {
      caller = await checkRequest(request, rawBody);
    } catch (error) {
      if (error instanceof OpenchargeError && error.statusCode === 401) limiter.authenticationFailed(request);
      throw error;
    }
    request.principal = { accountId: identity.accountId, keyId: `opencharge:${caller.ocid}` };
    await limiter.authenticated(request, reply);
    return caller;
  }

  app.setErrorHandler(openchargeErrorHandler);
  app.setNotFoundHandler(notFoundAsError);
  // The signature covers the body's exact bytes: keep them, parse JSON only once the caller is known.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  // For the same reason the routes' schemas (opencharge.schemas.ts) are not Fastify's to check
  // before the handler runs: the handlers check headers and body with those very zod schemas,
  // after the signature. The schemas give the OpenAPI document.
  app.setValidatorCompiler(() => () => true);

  // Every answer on the surface, errors included, carries X-OC-ID, X-OC-Timestamp and
  // X-OC-Signature over its status and exactly the bytes sent (answers are always strings here).
  app.addHook("onSend", async (_request, reply, payload) => {
    if (typeof payload === "string" || Buffer.isBuffer(payload)) {
      const headers = signedResponseHeaders(
        { ocid: identity.ocid, status: reply.statusCode, body: payload },
        identity.key,
        {
          now: services.clock(),
        },
      );
      reply.headers({ ...headers });
    }
    return payload;
  });

  /** Sends `payload` as JSON (signed by the onSend hook). */
  const sendSigned = (reply: FastifyReply, status: number, payload: unknown) =>
    reply.code(status).type("application/json; charset=utf-8").send(JSON.stringify(payload));

  const metadataConfig = {
    publicKey: identity.publicKey,
    endpoint: `${publicUrl}${config.basePath}`,
    capabilities: [...CAPABILITIES],
    settlement: { currencies: config.currencies, accepts: [] as number[] },
  };
  const metadata = {
    opencharge: "0.1",
    name: config.name,
    description: "Hosted checkout by Kassa (Opencharge payment gateway)",
    config: metadataConfig,
    kyc: [],
    signature: signConfig(metadataConfig, identity.key),
  };

  const routes = trackRoutes(app);
  const tags = ["Opencharge"];
  app.get(
    "/metadata.json",
    {
      schema: {
        operationId: "getMetadata",
        summary: "Kassa's metadata document",
        description:
          "Public (no signature): Kassa's key, endpoint, capabilities and settlement, its config signed by Kassa's key.",
        tags,
        response: { 200: signedJson(OpenchargeMetadata, "The metadata document") },
      },
    },
    async (_request, reply) => sendSigned(reply, 200, metadata),
  );

  app.get(
    "/capabilities",
    {
      schema: {
        operationId: "getCapabilities",
        summary: "Capabilities offered to the caller",
        tags,
        headers: signedRequestHeaders,
        response: {
          200: signedJson(OpenchargeCapabilities, "The capabilities Kassa serves"),
          401: errorResponses[401],
          429: errorResponses[429],
        },
      },
    },
    async (request, reply) => {
      const caller = await authenticate(request, reply, null);
      return sendSigned(reply, 200, { ocid: identity.ocid, caller: caller.ocid, capabilities: [...CAPABILITIES] });
    },
  );

  app.post(
    "/checkout/create",
    {
      schema: {
        operationId: "createCheckout",
        summary: "Create checkout session",
        description:
          "A merchant gateway (X-OC-ID) forwards an order signed by its merchant (merchantOcid); Kassa answers the hosted page's URL. The same order id from the same merchant answers the same session.",
        tags,
        headers: signedRequestHeaders,
        body: checkoutCreateRequestDocument,
        response: {
          200: signedJson(OpenchargeCheckoutCreateResponse, "Checkout session created (or the order's existing one)"),
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : null;
      const gateway = await authenticate(request, reply, raw);
      const parsedBody = parseJson(raw);
      // No text column keeps U+0000 or a lone surrogate: refused as input, not failed in the store.
      const unstorable = unstorableFieldErrors(parsedBody, "body");
      if (unstorable)
        throw ocError("INVALID_REQUEST", "The body holds characters that cannot be stored", { fields: unstorable });
      const shape = createRequestSchema.safeParse(parsedBody);
      if (!shape.success)
        throw ocError("INVALID_REQUEST", "The request body is not a checkout request", fieldDetails(shape.error, ""));
      const body = shape.data;
      const merchantOcid = String(body.merchantOcid);
      const orderShape = orderSchema.safeParse(body.order);
      if (!orderShape.success)
        throw ocError("INVALID_ORDER", "The order is not valid", fieldDetails(orderShape.error, "order"));
      const order: Order = orderShape.data;
      if (String(order.ocid) !== merchantOcid) {
        throw ocError("INVALID_ORDER", "order.ocid is not merchantOcid", {
          fields: { "order.ocid": ["must equal merchantOcid"] },
        });
      }
      const merchant = await repository.findParticipant(merchantOcid);
      if (!merchant)
        throw ocError("UNKNOWN_OCID", `Merchant ${merchantOcid} is not a known participant`, { merchantOcid });
      const signed = verifyOrderSignature(body.order, body.signature, merchant.publicKey);
      if (!signed.ok) {
        // 400, not 401: the caller authenticated; the order it forwards is what fails (seed 002's sample).
        throw new OpenchargeError("INVALID_SIGNATURE", "Order signature invalid", undefined, 400);
      }
      const now = services.clock();
      const lineItems = orderLineItems(order, now, identity.ocid);
      const input = newOpenchargeSession({ request: body, order, lineItems, gatewayOcid: gateway.ocid, now });
      const scope = { accountId: identity.accountId, subaccountId: merchant.subaccountId };

      // The order's row goes in the session's own statement: a second create of it inserts nothing
      // and is answered with the first one's session.
      const sameOrder: WithinWrite<CheckoutSession> = {
        inTransaction: async () => {
          throw new Error("opencharge sessions are created in one statement");
        },
        statement: (session) => ({
          sql: repository.claimOrderSql({
            merchantOcid,
            orderId: order.id,
            gatewayOcid: gateway.ocid,
            sessionId: session.id,
            at: now,
          }),
          refused: async (): Promise<"retry" | StoredResponse> => {
            const existing = await repository.sessionOfOrder(merchantOcid, order.id);
            return existing ? { status: 200, headers: {}, body: existing } : "retry";
          },
        }),
      };
      let session: CheckoutSession;
      try {
        const written = await services.checkoutSessions.create(scope, input, sameOrder);
        session =
          written.kind === "written"
            ? written.result
            : await services.checkoutSessions.get(
                { accountId: identity.accountId, subaccountId: null },
                written.response.body,
              );
      } catch (error) {
        if (isAppError(error) && error.code === "invalid_parameters") {
          const fields = wireFields(error.details.fields ?? {});
          const code = Object.keys(fields).some((f) => f.startsWith("urls.")) ? "INVALID_REQUEST" : "INVALID_ORDER";
          throw ocError(code, error.message, { fields });
        }
        throw error;
      }
      return sendSigned(reply, 200, {
        checkout_url: `${publicUrl}${checkoutPagePath(session.id)}`,
        session_id: session.id,
        expires_at: unixSeconds(session.expiresAt),
      });
    },
  );

  await app.register(methodNotAllowed(routes));
};

function parseJson(raw: Buffer | null): unknown {
  if (!raw || raw.length === 0) throw ocError("INVALID_REQUEST", "The request has no body");
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw ocError("INVALID_REQUEST", "The request body is not valid JSON");
  }
}

/** The Opencharge API as one of the app's surfaces: everything under its base path. */
export const openchargeSurface = (options: OpenchargeOptions): ApiSurface => {
  const base = options.opencharge.config.basePath;
  return {
    name: "opencharge",
    owns: (request) => {
      const path = pathOf(request.url);
      return path === base || path.startsWith(`${base}/`);
    },
    frameworkError: openchargeErrorHandler,
    rawError: openchargeRawError,
    openapi: {
      path: `${base}/openapi.json`,
      title: "Opencharge",
      openapi: {
        info: {
          title: "Kassa: Opencharge payment gateway API",
          version: "0.1.0",
          description: `Kassa as an Opencharge payment gateway, under ${base} (on while OPENCHARGE_OCID is set). Signed calls carry X-OC-ID, X-OC-Timestamp, X-OC-Nonce and X-OC-Signature: secp256k1 ECDSA over SHA-256 of \`ocid\\ntimestamp\\nnonce\\nMETHOD\\npath\\nhex(sha256(raw body))\` (the path as sent, ${base} and query included), by the key Kassa's operator registered for the caller's OCID. Every answer is signed by Kassa (its key is in metadata.json). Errors are \`{"error": {"code", "message", "details"?}}\`.`,
        },
        tags: [{ name: "Opencharge", description: "The payment gateway's endpoints" }],
        components: { securitySchemes: {} },
        security: [],
      },
      covers: (url) => url === base || url.startsWith(`${base}/`),
    },
    async register(app, { rateLimits }) {
      await app.register(openchargeApi, { prefix: base, ...options, rateLimits });
    },
  };
};
