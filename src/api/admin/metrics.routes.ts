import type { FastifyPluginAsync } from "fastify";
import type { PrometheusMetrics } from "../../metrics/prometheus.js";

/**
 * GET /metrics: Prometheus' text format. Registered inside the admin API, so only the loopback
 * admin listener serves it, behind the admin API's guards (loopback Host, no browser Origin,
 * ADMIN_TOKEN when set); the public listener answers 404.
 */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Pick<PrometheusMetrics, "scrape"> }> = async (
  app,
  { metrics },
) => {
  app.get("/metrics", { logLevel: "warn" }, async (request, reply) => {
    const { contentType, body, errors } = await metrics.scrape();
    for (const err of errors) request.log.warn({ err }, "metrics: a gauge could not be read from the store (NaN)");
    return reply.type(contentType).send(body);
  });
};
