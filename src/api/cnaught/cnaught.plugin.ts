import "../request-context.js";
import type { FastifyPluginAsync } from "fastify";
import { type FieldErrors, invalidRequestFields, rateLimited, unauthenticated } from "../../core/errors.js";
import type { Services } from "../../core/services.js";
import { createHttpIdempotency, type HttpIdempotency, type IdempotencyPolicy } from "../idempotency/hooks.js";
import { limitSurface, type RateLimitBackend } from "../rate-limit.js";
import { methodNotAllowed, notFoundAsError, trackRoutes } from "../routing.js";
import { emptyFieldErrors, unstorableFieldErrors } from "../validation.js";
import { type ApiSurface, pathOf } from "../surfaces.js";
import { checkoutSessionsRoutes } from "./checkout-sessions.routes.js";
import { CNAUGHT_API } from "./checkout-sessions.schemas.js";
import { cnaughtErrorHandler, rawProblem } from "./cnaught.errors.js";
import { PROBLEM_CONTENT_TYPE } from "../problem.js";
import { impactRoutes } from "./impact.routes.js";
import { ordersRoutes } from "./orders.routes.js";
import { portfoliosRoutes } from "./portfolios.routes.js";
import { projectsRoutes } from "./projects.routes.js";
import { quotesRoutes } from "./quotes.routes.js";
import { logoFilesRoutes, subaccountLogoRoutes } from "./logos.routes.js";
import { subaccountsRoutes } from "./subaccounts.routes.js";

export interface CnaughtRouteOptions {
  services: Services;
  publicUrl: string;
  /** Idempotency-Key on POSTs: routes declare `idempotency.header` and pass `idempotency.within` to writes. */
  idempotency: HttpIdempotency;
}

/** CNaught's Idempotency-Key: optional, up to 512 characters; a failed request does not use up its key. */
const CNAUGHT_IDEMPOTENCY: IdempotencyPolicy = { api: CNAUGHT_API, maxKeyLength: 512, required: false };

declare module "fastify" {
  interface FastifyContextConfig {
    /** false for routes that X-Subaccount-Id does not scope (subaccount management). */
    subaccountScoped?: boolean;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The CNaught API (mounted at /v1): Bearer-key auth, X-Subaccount-Id scoping, CNaught's
 * problem+json for every error, and its routes. Knows the core only through Services.
 */
export const cnaughtApi: FastifyPluginAsync<
  Omit<CnaughtRouteOptions, "idempotency"> & { rateLimits: RateLimitBackend }
> = async (app, options) => {
  const { services, publicUrl } = options;
  const idempotency = createHttpIdempotency(services.idempotency, CNAUGHT_IDEMPOTENCY);
  // Not `options` itself: it carries this plugin's prefix, which children would add again.
  const routeOptions: CnaughtRouteOptions = { services, publicUrl, idempotency };
  app.setErrorHandler(idempotency.errorHandler(cnaughtErrorHandler));
  app.setNotFoundHandler(notFoundAsError);
  // Only JSON bodies: anything else is a 415, not a string the schema then rejects.
  app.removeContentTypeParser("text/plain");

  // Per key after authentication (429 rate-limited), and per address on failed authentications.
  const limiter = await limitSurface(app, options.rateLimits, { namespace: "cnaught", limited: rateLimited });

  app.addHook("onRequest", async (request, reply) => {
    limiter.beforeAuthentication(request);
    const match = BEARER.exec(request.headers.authorization ?? "");
    const principal = match?.[1]
      ? await services.apiKeys.authenticate(match[1], (err) => request.log.warn({ err }, "recording key use failed"))
      : null;
    if (!principal) {
      limiter.authenticationFailed(request);
      throw unauthenticated();
    }
    request.principal = principal;
    await limiter.authenticated(request, reply);
  });

  // No text column can store U+0000 or a lone surrogate: refuse them as invalid input rather than fail
  // in the store or keep something else than was acknowledged.
  app.addHook("preValidation", async (request) => {
    const fields: FieldErrors = Object.assign(
      emptyFieldErrors(),
      unstorableFieldErrors(request.params, "params"),
      unstorableFieldErrors(request.query, "query"),
      // (An uploaded logo's bytes are no text.)
      Buffer.isBuffer(request.body) ? null : unstorableFieldErrors(request.body, "body"),
    );
    if (Object.keys(fields).length) throw invalidRequestFields(fields);
  });

  app.addHook("preHandler", async (request) => {
    if (request.routeOptions.config.subaccountScoped === false) {
      request.scope = { accountId: request.principal.accountId, subaccountId: null };
      return;
    }
    const header = request.headers["x-subaccount-id"];
    request.scope = await services.subaccounts.scopeFor(
      request.principal.accountId,
      typeof header === "string" ? header : undefined,
    );
  });

  // After auth and scope (its hooks need both); before the routes, which it equips as they register.
  idempotency.register(app);
  const routes = trackRoutes(app);
  await app.register(checkoutSessionsRoutes, routeOptions);
  await app.register(ordersRoutes, routeOptions);
  await app.register(portfoliosRoutes, routeOptions);
  await app.register(projectsRoutes, routeOptions);
  await app.register(quotesRoutes, routeOptions);
  await app.register(subaccountsRoutes, routeOptions);
  await app.register(subaccountLogoRoutes, routeOptions);
  await app.register(impactRoutes, routeOptions);
  await app.register(methodNotAllowed(routes));
};

/** The CNaught API as one of the app's surfaces: everything under /v1 (LeanRails' dialect aside). */
export const cnaughtSurface = (options: Omit<CnaughtRouteOptions, "idempotency">): ApiSurface => ({
  name: CNAUGHT_API,
  owns: (request) => pathOf(request.url).startsWith("/v1/"),
  frameworkError: cnaughtErrorHandler,
  rawError: (status, detail) => ({
    contentType: PROBLEM_CONTENT_TYPE,
    body: JSON.stringify(rawProblem(status, detail)),
  }),
  async register(app, { rateLimits }) {
    await app.register(cnaughtApi, { prefix: "/v1", ...options, rateLimits });
    // The logos subaccounts show, re-hosted: public, outside /v1 (a browser loads them).
    await app.register(logoFilesRoutes, { services: options.services });
  },
});
