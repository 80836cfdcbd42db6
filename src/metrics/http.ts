import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Metrics } from "./metrics.js";

/** The label of every request no route matched (unknown paths): one label, whatever the URL. */
export const UNMATCHED_ROUTE = "unmatched";

/** The header a replayed idempotent response carries (every API's wire contract says so). */
const REPLAY_HEADER = "x-idempotent-replay";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Counts every answered request of `app` (call on the root instance, before the routes): method,
 * the matched route's pattern (`/pay/:id`, never the raw URL, so label values stay bounded),
 * status code and time taken. Answers that mean something to on-call are counted by what they
 * say on the wire, which any rewrite of the code behind them keeps: a 429 is a rate-limited
 * request, `X-Idempotent-Replay: true` an idempotent replay, labelled with the surface that owns
 * the request as `surfaceOf` tells (by path and, on paths two APIs share, authorization scheme).
 */
export function countRequests(app: FastifyInstance, metrics: Metrics, surfaceOf: (request: FastifyRequest) => string) {
  app.addHook("onResponse", async (request, reply) => {
    const status = reply.statusCode;
    metrics.httpRequest({
      method: METHODS.has(request.method) ? request.method : "other",
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      statusCode: status,
      seconds: reply.elapsedTime / 1000,
    });
    if (status === 429) metrics.rateLimited(surfaceOf(request));
    if (reply.getHeader(REPLAY_HEADER) === "true") metrics.idempotentReplay(surfaceOf(request));
  });
}
