import type { FastifyPluginAsync } from "fastify";
import { rateLimited } from "../../core/errors.js";
import { PUBLIC_PAGE_TTL_SECONDS } from "../../core/impact/impact.service.js";
import type { Services } from "../../core/services.js";
import { logoPath } from "../../core/subaccounts/logos.js";
import {
  applySecurityHeaders,
  contentSecurityPolicy,
  originsOf,
  securityHeaders,
  servedOverHttps,
} from "../hosted-page/security-headers.js";
import { limitPerAddress, type RateLimitBackend } from "../rate-limit.js";
import { methodNotAllowed, notFoundAsError, trackRoutes } from "../routing.js";
import { type ApiSurface, pathOf } from "../surfaces.js";
import { IMPACT_STYLESHEET } from "./assets.js";
import {
  errorPageFor,
  HTML,
  impactPageErrorHandler,
  impactPageFrameworkError,
  sendPage,
} from "./impact-page.errors.js";
import { impactPage } from "./impact-page.views.js";

export interface ImpactPageOptions {
  services: Services;
  /** Where re-hosted logos are served. */
  publicUrl: string;
  rateLimits: RateLimitBackend;
}

/**
 * Readers may see a page up to this old; a page turned off stays in caches at most this long.
 * Kassa keeps the page's report in memory as long (the core's PUBLIC_PAGE_TTL_SECONDS).
 */
const PAGE_CACHE = `public, max-age=${PUBLIC_PAGE_TTL_SECONDS}`;

/**
 * The public impact pages (mounted at /impact): /impact/<slug> shows an account's or a
 * subaccount's retired credits, the equivalents chosen for its page and a chart by category,
 * server-rendered, without scripts, under the hosted page's security headers (its CSP letting
 * images come from PUBLIC_URL, where logos are). A page that is off, or was never set up, is a
 * 404. Every request counts against its client address (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS,
 * the per-key limit of the APIs), before anything is looked up.
 */
export const impactPages: FastifyPluginAsync<ImpactPageOptions> = async (app, options) => {
  const { services, publicUrl } = options;
  const https = servedOverHttps(publicUrl);
  const headers = {
    ...securityHeaders(https),
    "content-security-policy": contentSecurityPolicy([], originsOf([publicUrl])),
  };

  app.setErrorHandler(impactPageErrorHandler);
  app.setNotFoundHandler(notFoundAsError);
  app.addHook("onSend", async (_request, reply) => applySecurityHeaders(reply, headers));
  // Nothing here takes a body.
  app.removeAllContentTypeParsers();

  const limit = await limitPerAddress(app, options.rateLimits, {
    namespace: "impact",
    ...options.rateLimits.limits.rateLimit,
    limited: rateLimited,
  });

  const routes = trackRoutes(app);
  app.get("/assets/:file", { schema: { hide: true } }, async (request, reply) => {
    const { file } = request.params as { file: string };
    if (file !== IMPACT_STYLESHEET.file) return notFoundAsError(request, reply);
    reply.header("cache-control", "public, max-age=31536000, immutable").header("etag", IMPACT_STYLESHEET.etag);
    if (request.headers["if-none-match"] === IMPACT_STYLESHEET.etag) return reply.code(304).send();
    return reply.type("text/css; charset=utf-8").send(IMPACT_STYLESHEET.body);
  });

  app.get<{ Params: { slug: string } }>(
    "/:slug",
    { schema: { hide: true }, onRequest: limit },
    async (request, reply) => {
      const { page, impact } = await services.impact.publicPage(request.params.slug);
      reply.header("cache-control", PAGE_CACHE);
      const logoUrl = impact.logoId ? publicUrl + logoPath(impact.logoId) : null;
      return sendPage(reply, 200, impactPage({ impact, logoUrl, equivalents: page.equivalents }));
    },
  );
  await app.register(methodNotAllowed(routes));
};

/** The impact pages as one of the app's surfaces: /impact, HTML for people. */
export const impactPageSurface = (options: Omit<ImpactPageOptions, "rateLimits">): ApiSurface => ({
  name: "impact-page",
  owns: (request) => pathOf(request.url).startsWith("/impact/"),
  frameworkError: (error, request, reply) => impactPageFrameworkError(error, request, reply, options.publicUrl),
  rawError: (status) => ({ contentType: HTML, body: errorPageFor(status) }),
  async register(app, { rateLimits }) {
    await app.register(impactPages, { prefix: "/impact", ...options, rateLimits });
  },
});
