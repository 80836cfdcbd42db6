import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from "fastify";

const METHODS: HTTPMethods[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

/** Not-found handler that hands a 404 to the surface's own error handler, so it speaks its format. */
export function notFoundAsError(request: FastifyRequest, _reply: FastifyReply): never {
  throw httpError(404, `No route ${request.method} ${request.url.split("?")[0]}`);
}

/**
 * Records every route registered below `app` (url -> methods). Call before registering routes;
 * pass the result to methodNotAllowed after them.
 */
export function trackRoutes(app: FastifyInstance): Map<string, Set<string>> {
  const routes = new Map<string, Set<string>>();
  app.addHook("onRoute", (route) => {
    const methods = routes.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) methods.add(m);
    routes.set(route.url, methods);
  });
  return routes;
}

/**
 * Answers a known path with an unsupported method with 405 and an Allow header (instead of
 * Fastify's 404), through the surface's error handler.
 */
export const methodNotAllowed =
  (routes: Map<string, Set<string>>): FastifyPluginAsync =>
  async (app) => {
    for (const [url, methods] of [...routes]) {
      const missing = METHODS.filter((m) => !methods.has(m));
      if (!missing.length) continue;
      const allow = [...methods].join(", ");
      app.route({
        method: missing,
        url: url.slice(app.prefix.length) || "/",
        schema: { hide: true },
        config: { subaccountScoped: false },
        handler: async (request, reply) => {
          reply.header("allow", allow);
          throw httpError(405, `Method ${request.method} is not allowed on ${url}; allowed: ${allow}`);
        },
      });
    }
  };
