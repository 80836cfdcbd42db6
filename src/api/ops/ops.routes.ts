import type { FastifyPluginAsync } from "fastify";
import type { Database } from "../../db/database.js";

/** Liveness and readiness for load balancers and orchestrators; no auth, no docs clutter. */
export const opsRoutes: FastifyPluginAsync<{ db: Pick<Database, "ping"> }> = async (app, { db }) => {
  app.get("/healthz", { schema: { hide: true }, logLevel: "warn" }, async () => ({ status: "ok" }));

  app.get("/readyz", { schema: { hide: true }, logLevel: "warn" }, async (request, reply) => {
    try {
      await db.ping();
      return { status: "ok", database: "ok" };
    } catch (error) {
      request.log.warn({ err: error }, "readiness check failed: database unreachable");
      return reply.code(503).send({ status: "unavailable", database: "unreachable" });
    }
  });
};
