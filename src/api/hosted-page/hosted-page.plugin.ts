import type { FastifyPluginAsync } from "fastify";
import { rateLimited } from "../../core/errors.js";
import type { Services } from "../../core/services.js";
import { SETTING_KEYS } from "../../core/settings/settings.service.js";
import { limitPerAddress, type RateLimitBackend } from "../rate-limit.js";
import { methodNotAllowed, notFoundAsError, trackRoutes } from "../routing.js";
import { STYLESHEET } from "./assets.js";
import { createCsrf } from "./csrf.js";
import { type ApiSurface, pathOf } from "../surfaces.js";
import { errorPageFor, HTML, hostedPageErrorHandler, hostedPageFrameworkError } from "./hosted-page.errors.js";
import { hostedPageRoutes } from "./hosted-page.routes.js";
import { applySecurityHeaders, securityHeaders, servedOverHttps } from "./security-headers.js";

export interface HostedPageOptions {
  services: Services;
  publicUrl: string;
  /** CHECKOUT_PAGE_SECRET; when null, a secret generated once and kept in the store (shared by every instance). */
  secret: string | null;
  /** The app's rate-limit store; its `limits.pay` bounds card-form submissions per client address. */
  rateLimits: RateLimitBackend;
}

/** A card form needs a few hundred bytes; anything near this is not one. */
const FORM_BODY_LIMIT = 8 * 1024;

/** Loads once; a failure (store briefly down) is retried by the next caller instead of being cached. */
function once(load: () => Promise<string>): () => Promise<string> {
  let pending: Promise<string> | null = null;
  return () =>
    (pending ??= load().catch((error) => {
      pending = null;
      throw error;
    }));
}

/**
 * The hosted checkout page (mounted at /pay): server-rendered HTML, no scripts, a CSRF token on
 * its form, strict security headers on every response, HTML error pages. Knows the core only
 * through Services.
 */
export const hostedPage: FastifyPluginAsync<HostedPageOptions> = async (app, options) => {
  const { services, publicUrl } = options;
  const configured = options.secret;
  const secret = configured
    ? async () => configured
    : once(() => services.settings.installationSecret(SETTING_KEYS.checkoutPageSecret));
  const https = servedOverHttps(publicUrl);
  const csrf = createCsrf(secret, { secureCookie: https });
  const headers = securityHeaders(https);

  app.setErrorHandler(hostedPageErrorHandler);
  app.setNotFoundHandler(notFoundAsError);
  app.addHook("onSend", async (_request, reply) => applySecurityHeaders(reply, headers));

  // Only regular web forms, parsed into their first value per name (no prototype keys).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string", bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      const fields: Record<string, string> = Object.create(null);
      for (const [name, value] of new URLSearchParams(body as string)) if (!(name in fields)) fields[name] = value;
      done(null, fields);
    },
  );

  const routes = trackRoutes(app);
  app.get("/assets/:file", { schema: { hide: true } }, async (request, reply) => {
    const { file } = request.params as { file: string };
    if (file !== STYLESHEET.file) return notFoundAsError(request, reply);
    reply.header("cache-control", "public, max-age=31536000, immutable").header("etag", STYLESHEET.etag);
    if (request.headers["if-none-match"] === STYLESHEET.etag) return reply.code(304).send();
    return reply.type("text/css; charset=utf-8").send(STYLESHEET.body);
  });
  // Card testing spreads over many sessions (each stops after 10 attempts): count submissions per
  // client address too, before anything is parsed or looked up.
  const limitPayments = await limitPerAddress(app, options.rateLimits, {
    namespace: "pay",
    ...options.rateLimits.limits.pay,
    limited: rateLimited,
  });
  await app.register(hostedPageRoutes, { services, csrf, limitPayments, publicUrl });
  await app.register(methodNotAllowed(routes));
};

/** The hosted page as one of the app's surfaces: /pay, HTML for people. */
export const hostedPageSurface = (options: Omit<HostedPageOptions, "rateLimits">): ApiSurface => ({
  name: "hosted-page",
  owns: (request) => pathOf(request.url).startsWith("/pay/"),
  frameworkError: (error, request, reply) => hostedPageFrameworkError(error, request, reply, options.publicUrl),
  rawError: (status) => ({ contentType: HTML, body: errorPageFor(status) }),
  async register(app, { rateLimits }) {
    await app.register(hostedPage, { prefix: "/pay", ...options, rateLimits });
  },
});
