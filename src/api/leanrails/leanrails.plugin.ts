import "../request-context.js";
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from "fastify";
import { rateLimited, unauthenticated } from "../../core/errors.js";
import type { Services } from "../../core/services.js";
import { createHttpIdempotency, type IdempotencyPolicy } from "../idempotency/hooks.js";
import { limitSurface, type RateLimitBackend } from "../rate-limit.js";
import { methodNotAllowed, notFoundAsError, trackRoutes } from "../routing.js";
import { type ApiSurface, type IncomingRequest, pathOf } from "../surfaces.js";
import {
  isLeanRailsApiVersion,
  LATEST_LEANRAILS_API_VERSION,
  type LeanRailsApiVersion,
  servedAt,
} from "./api-versions.js";
import { checkoutSessionsRoutes } from "./checkout-sessions.routes.js";
import { LEANRAILS_API } from "./checkout-sessions.schemas.js";
import { eventsRoutes } from "./events.routes.js";
import { pricesRoutes } from "./prices.routes.js";
import { productsRoutes } from "./products.routes.js";
import type { LeanRailsRouteOptions } from "./route-options.js";
import { webhookEndpointsRoutes } from "./webhook-endpoints.routes.js";
import { API_VERSION_PARAM, leanRailsErrorHandler, parameterInvalid, rawLeanRailsError } from "./leanrails.errors.js";

export type { LeanRailsRouteOptions } from "./route-options.js";

export interface LeanRailsSurfaceOptions {
  services: Services;
  publicUrl: string;
  /** The version a request without X-API-Version gets when its account has no default (LEANRAILS_API_VERSION). */
  defaultApiVersion: LeanRailsApiVersion;
}

/** LeanRails' Idempotency-Key: required on every POST, up to 255 characters; its answers, errors included, replay. */
const LEANRAILS_IDEMPOTENCY: IdempotencyPolicy = {
  api: LEANRAILS_API,
  maxKeyLength: 255,
  required: true,
  replayClientErrors: true,
};

/** Paths only LeanRails serves (under /v1). */
export const LEANRAILS_PATHS = [
  "/v1/checkout_sessions",
  "/v1/webhook_endpoints",
  "/v1/events",
  "/v1/products",
  "/v1/prices",
] as const;

/** Paths LeanRails' later docs use that CNaught serves too: there the authorization scheme decides. */
export const SHARED_PATHS = ["/v1/checkout/sessions"] as const;

const under = (path: string, base: string) => path === base || path.startsWith(`${base}/`);

/** Whether a route or request path is one of LeanRails' own. */
export const isLeanRailsPath = (path: string) => LEANRAILS_PATHS.some((base) => under(path, base));

const isSharedPath = (path: string) => SHARED_PATHS.some((base) => under(path, base));

/** Whether the request authenticates with HTTP Basic (LeanRails' scheme). */
export const usesBasic = (headers: IncomingRequest["headers"]) => {
  const authorization = headers.authorization;
  return typeof authorization === "string" && /^basic(\s|$)/i.test(authorization);
};

/**
 * The router constraint that tells the two dialects apart on the paths both APIs serve: a
 * request authenticating with Basic derives `leanrails`, anything else `cnaught`. LeanRails'
 * routes on those paths are constrained to `leanrails`; CNaught's are unconstrained, so every
 * request that is not LeanRails' (mustMatchWhenDerived: false) still finds them.
 */
export const DIALECT_CONSTRAINT = "dialect";
const LEANRAILS_DIALECT = { [DIALECT_CONSTRAINT]: LEANRAILS_API };

type ConstraintStrategy = Parameters<FastifyInstance["addConstraintStrategy"]>[0];
type RouteStore = NonNullable<ReturnType<ReturnType<ConstraintStrategy["storage"]>["get"]>>;

function dialectStrategy(): ConstraintStrategy {
  return {
    name: DIALECT_CONSTRAINT,
    storage() {
      const handlers = new Map<string, RouteStore>();
      return {
        get: (dialect: string) => handlers.get(dialect) ?? null,
        set: (dialect: string, store: RouteStore) => {
          handlers.set(dialect, store);
        },
      };
    },
    deriveConstraint: (request: { headers: IncomingRequest["headers"] }) =>
      usesBasic(request.headers) ? LEANRAILS_API : "cnaught",
    mustMatchWhenDerived: false,
  };
}

/** The secret key a Basic Authorization header carries as its user name (the password is empty, and ignored). */
function basicUser(authorization: string | undefined): string | null {
  const match = /^basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization ?? "");
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  return user || null;
}

const API_VERSION_HEADER = "x-api-version";

const requestedVersion = (request: FastifyRequest) => {
  const raw = request.headers[API_VERSION_HEADER];
  return Array.isArray(raw) ? raw.join(", ") : raw;
};

/** U+0000, or a UTF-16 surrogate without its pair. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what it looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The wire path (`line_items[0][price_data][product]`) of the first string in a parsed request
 * part that PostgreSQL text cannot store: one containing U+0000 or an unpaired surrogate (JSON
 * allows both as escapes). Walks iteratively: a body within the size limit may nest deeply.
 */
export function unstorableTextParam(value: unknown): string | null {
  // Each field's place is kept as its parent's index and its key; a path is written only for the
  // field found (nearly every body has none, and building one per field cost more than the walk).
  const values: unknown[] = [value];
  const parents: number[] = [-1];
  const keys: string[] = [""];
  const pathAt = (index: number) => {
    const names: string[] = [];
    for (let i = index; i > 0; i = parents[i] as number) names.push(keys[i] as string);
    const [first = "", ...rest] = names.reverse();
    return first + rest.map((key) => `[${key}]`).join("");
  };
  const todo = [0];
  while (todo.length) {
    const at = todo.pop() as number;
    const current = values[at];
    if (typeof current === "string") {
      if (UNSTORABLE.test(current)) return pathAt(at);
    } else if (current !== null && typeof current === "object") {
      for (const key in current) {
        if (!Object.hasOwn(current, key)) continue;
        if (UNSTORABLE.test(key)) return pathAt(at) || key;
        todo.push(values.length);
        values.push((current as Record<string, unknown>)[key]);
        parents.push(at);
        keys.push(key);
      }
    }
  }
  return null;
}

/**
 * The LeanRails API (mounted at /v1 beside CNaught): HTTP Basic with a secret key, X-API-Version,
 * required Idempotency-Keys, X-RateLimit-* headers, LeanRails' `{"error": {…}}` body for every
 * error, and its routes. Knows the core only through Services.
 */
export const leanRailsApi: FastifyPluginAsync<LeanRailsSurfaceOptions & { rateLimits: RateLimitBackend }> = async (
  app,
  options,
) => {
  const { services, publicUrl, defaultApiVersion } = options;
  const idempotency = createHttpIdempotency(services.idempotency, LEANRAILS_IDEMPOTENCY);
  const routeOptions: LeanRailsRouteOptions = { services, publicUrl, idempotency };
  app.setErrorHandler(idempotency.errorHandler(leanRailsErrorHandler));
  // Only JSON bodies: anything else is a 415, not a string the schema then rejects.
  app.removeContentTypeParser("text/plain");
  if (!app.hasConstraintStrategy(DIALECT_CONSTRAINT)) app.addConstraintStrategy(dialectStrategy());
  // On the paths CNaught serves too, LeanRails' routes (405s included) answer Basic requests only.
  app.addHook("onRoute", (route: RouteOptions) => {
    if (isSharedPath(route.url)) route.constraints = { ...route.constraints, ...LEANRAILS_DIALECT };
  });

  const limiter = await limitSurface(app, options.rateLimits, {
    namespace: LEANRAILS_API,
    limited: rateLimited,
    headers: "x-ratelimit",
  });

  app.addHook("onRequest", async (request, reply) => {
    const requested = requestedVersion(request);
    const version = requested !== undefined && isLeanRailsApiVersion(requested) ? requested : defaultApiVersion;
    reply.header(API_VERSION_HEADER, version);
    servedAt(request, version);

    limiter.beforeAuthentication(request, reply);
    const key = basicUser(request.headers.authorization);
    const principal = key
      ? await services.apiKeys.authenticate(key, (err) => request.log.warn({ err }, "recording key use failed"))
      : null;
    if (!principal) {
      limiter.authenticationFailed(request, reply);
      throw unauthenticated();
    }
    request.principal = principal;
    // LeanRails has no subaccounts: a request acts for the whole account.
    request.scope = { accountId: principal.accountId, subaccountId: null };
    await limiter.authenticated(request, reply);

    if (requested === undefined) {
      // No version asked for: the account's default, when it has one, else the installation's.
      const accountDefault = await services.accounts.defaultApiVersion(principal.accountId, LEANRAILS_API);
      if (accountDefault !== null && isLeanRailsApiVersion(accountDefault) && accountDefault !== version) {
        reply.header(API_VERSION_HEADER, accountDefault);
        servedAt(request, accountDefault);
      }
    } else if (!isLeanRailsApiVersion(requested)) {
      throw parameterInvalid(
        API_VERSION_PARAM,
        `Invalid ${API_VERSION_PARAM}: unknown version '${requested.slice(0, 40)}' (the versions are dates such as ${defaultApiVersion}).`,
      );
    }
  });

  // Text the store cannot hold (U+0000, an unpaired UTF-16 surrogate) is refused as invalid input.
  app.addHook("preValidation", async (request) => {
    for (const part of [request.params, request.query, request.body]) {
      const param = unstorableTextParam(part);
      if (param !== null) {
        throw parameterInvalid(
          param || "body",
          `Invalid ${param || "body"}: text must be valid Unicode without NUL characters.`,
        );
      }
    }
  });

  // After auth and scope (its hooks need both); before the routes, which it equips as they register.
  idempotency.register(app);
  const routes = trackRoutes(app);
  await app.register(checkoutSessionsRoutes, { ...routeOptions, base: "/checkout_sessions", alias: false });
  await app.register(checkoutSessionsRoutes, { ...routeOptions, base: "/checkout/sessions", alias: true });
  await app.register(productsRoutes, routeOptions);
  await app.register(pricesRoutes, routeOptions);
  await app.register(webhookEndpointsRoutes, routeOptions);
  await app.register(eventsRoutes, routeOptions);
  await app.register(methodNotAllowed(routes));
  await app.register(unknownPaths);
};

/**
 * LeanRails' 404s. Fastify allows one not-found handler per prefix and CNaught's owns /v1, so
 * LeanRails answers unknown paths with catch-all routes, which the router tries last: below its
 * own paths for every request, and anywhere under /v1 for Basic-authenticated ones.
 */
async function unknownPaths(app: FastifyInstance) {
  const hidden = { schema: { hide: true } };
  app.all("/*", { ...hidden, constraints: LEANRAILS_DIALECT }, notFoundAsError);
  for (const base of LEANRAILS_PATHS) app.all(`${base.slice(app.prefix.length)}/*`, hidden, notFoundAsError);
}

/**
 * The LeanRails API as one of the app's surfaces: its own paths under /v1, and any /v1 request
 * that authenticates with Basic (on /v1/checkout/sessions the scheme picks the dialect).
 */
export const leanRailsSurface = (options: LeanRailsSurfaceOptions): ApiSurface => ({
  name: LEANRAILS_API,
  owns: (request) => {
    const path = pathOf(request.url);
    return isLeanRailsPath(path) || (path.startsWith("/v1/") && usesBasic(request.headers));
  },
  frameworkError: leanRailsErrorHandler,
  rawError: rawLeanRailsError,
  openapi: {
    path: "/leanrails/openapi.json",
    title: "LeanRails",
    openapi: {
      info: {
        title: "Kassa: LeanRails API",
        version: LATEST_LEANRAILS_API_VERSION,
        description:
          'The LeanRails-compatible checkout API under /v1. Authenticate with HTTP Basic: your secret key as the user name and an empty password (`curl -u "$KASSA_KEY:"`). Every POST needs an Idempotency-Key. The same checkout-session routes also answer at /v1/checkout/sessions for requests that authenticate with Basic.',
      },
      tags: [
        { name: "Checkout Sessions", description: "Hosted checkout sessions" },
        { name: "Products", description: "The catalogue's products" },
        { name: "Prices", description: "The catalogue's prices, which line items name" },
        { name: "Webhook endpoints", description: "Where the account's events are delivered" },
        { name: "Events", description: "Checkout sessions completed and expired" },
      ],
      components: { securitySchemes: { BasicAuth: { type: "http", scheme: "basic" } } },
      security: [{ BasicAuth: [] }],
    },
    covers: isLeanRailsPath,
  },
  async register(app, { rateLimits }) {
    await app.register(leanRailsApi, { prefix: "/v1", ...options, rateLimits });
  },
});
