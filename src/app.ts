import type { IncomingMessage, ServerResponse } from "node:http";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from "fastify";
import { validatorCompiler } from "fastify-type-provider-zod";
import { adminApi, adminHttpError } from "./api/admin/admin.plugin.js";
import { certificatesSurface } from "./api/certificates/certificates.plugin.js";
import { cnaughtSurface } from "./api/cnaught/cnaught.plugin.js";
import { registerDocs } from "./api/docs.js";
import { hostedPageSurface } from "./api/hosted-page/hosted-page.plugin.js";
import { impactPageSurface } from "./api/impact-page/impact-page.plugin.js";
import { leanRailsSurface } from "./api/leanrails/leanrails.plugin.js";
import { openchargeSurface } from "./api/opencharge/opencharge.plugin.js";
import { opsRoutes } from "./api/ops/ops.routes.js";
import { HTTP_CLIENT_ERRORS, PROBLEM_CONTENT_TYPE, sendProblem } from "./api/problem.js";
import { compiledSerializerCompiler } from "./api/serialization.js";
import { openRateLimitBackend } from "./api/rate-limit.js";
import { serverLimitOptions } from "./api/server-limits.js";
import { notFoundAsError } from "./api/routing.js";
import { type ApiSurface, surfaceOf } from "./api/surfaces.js";
import type { Config } from "./config.js";
import { createKassaServices, openchargeOf } from "./composition.js";
import type { Services } from "./core/services.js";
import type { Database } from "./db/database.js";
import { AccessLogController, childLoggerFactory, genReqId } from "./logger.js";
import { countRequests } from "./metrics/http.js"; // metrics
import type { PrometheusMetrics } from "./metrics/prometheus.js"; // metrics

export interface AppOptions {
  config: Config;
  db: Database;
  services?: Services;
  logger?: FastifyServerOptions["logger"];
  metrics?: PrometheusMetrics; // metrics: counted by services and the public app, served by the admin app
}

function baseOptions(
  config: Config,
  logger: FastifyServerOptions["logger"],
  surfaces: readonly ApiSurface[] = [],
): FastifyServerOptions {
  return {
    logger: logger ?? false,
    genReqId,
    childLoggerFactory,
    bodyLimit: config.bodyLimitBytes,
    ...serverLimitOptions(config.limits, surfaces),
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    // One access line per request, not Fastify's two (src/logger.ts).
    logController: new AccessLogController(),
    forceCloseConnections: "idle",
    // Errors raised before routing (a malformed URL such as /v1/%FF) still answer in the format
    // of the surface the path belongs to.
    frameworkErrors: (error, request, reply) => {
      reply.header("x-request-id", request.id); // onSend hooks do not run on this path
      const surface = surfaceOf(surfaces, request);
      if (surface) return surface.frameworkError(error, request, reply);
      return sendProblem(reply, {
        type: "about:blank",
        title: HTTP_CLIENT_ERRORS[400]!.title,
        status: 400,
        detail: error.message,
        request_id: request.id,
      });
    },
  };
}

/** Echo the request id on every response so callers can quote it. */
function echoRequestId(app: FastifyInstance) {
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
}

/**
 * What Node would answer bare (a body-less 417 for an unmet Expect, a body-less 400 for a request
 * without Host) is answered in the format of the surface the request was meant for.
 */
function answerUnmetRequirements(app: FastifyInstance, surfaces: readonly ApiSurface[]) {
  app.server.on("checkExpectation", (request: IncomingMessage, response: ServerResponse) => {
    const detail = "Only 'Expect: 100-continue' is supported";
    const surface = surfaceOf(surfaces, { url: request.url ?? "/", headers: request.headers });
    const answer = surface?.rawError?.(417, detail) ?? {
      contentType: PROBLEM_CONTENT_TYPE,
      body: JSON.stringify({ type: "about:blank", title: "Expectation Failed", status: 417, detail }),
    };
    response
      .writeHead(417, {
        "content-type": answer.contentType,
        "content-length": Buffer.byteLength(answer.body),
        connection: "close",
      })
      .end(answer.body);
  });
  app.addHook("onRequest", async (request) => {
    if (!request.headers.host) {
      throw Object.assign(new Error("A Host header is required"), { statusCode: 400, code: "FST_ERR_MISSING_HOST" });
    }
  });
}

/** The public surfaces, in the order a request is matched against them before routing. */
export const publicSurfaces = (config: Config, services: Services): ApiSurface[] => {
  const opencharge = openchargeOf(services);
  return [
    // Before CNaught's: on /v1 it owns its own paths and every Basic-authenticated request.
    leanRailsSurface({ services, publicUrl: config.publicUrl, defaultApiVersion: config.leanrails.defaultApiVersion }),
    cnaughtSurface({ services, publicUrl: config.publicUrl }),
    hostedPageSurface({ services, publicUrl: config.publicUrl, secret: config.checkoutPage.secret }),
    certificatesSurface({ services, publicUrl: config.publicUrl }),
    impactPageSurface({ services, publicUrl: config.publicUrl }),
    // Off while no OPENCHARGE_OCID is configured: its paths are then nobody's.
    ...(opencharge?.enabled ? [openchargeSurface({ services, opencharge, publicUrl: config.publicUrl })] : []),
  ];
};

/**
 * The public application: the vendor APIs, the docs and the health routes. Tests call this and
 * then `app.inject` or `app.listen`; src/server.ts adds the logger, listening and shutdown.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, db } = options;
  const services = options.services ?? createKassaServices(db, undefined, config, options.metrics);
  const surfaces = publicSurfaces(config, services);
  const app = Fastify(baseOptions(config, options.logger, surfaces));
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(compiledSerializerCompiler);
  echoRequestId(app);
  answerUnmetRequirements(app, surfaces);
  if (options.metrics)
    countRequests(app, options.metrics, (request) =>
      // The surface that owns it (Basic on /v1/checkout/sessions is LeanRails'): "hosted_page", ...
      (surfaceOf(surfaces, request)?.name ?? "other").replaceAll("-", "_"),
    ); // metrics

  // Outside any API surface (docs, health, unknown paths): plain problem+json.
  app.setNotFoundHandler(notFoundAsError);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, "unhandled error");
    const title = HTTP_CLIENT_ERRORS[status]?.title ?? "Internal server error";
    return sendProblem(reply, { type: "about:blank", title, status, request_id: request.id });
  });

  await registerDocs(app, config.publicUrl, surfaces);
  await app.register(opsRoutes, { db });
  const rateLimits = await openRateLimitBackend(config.limits, app.log);
  app.addHook("onClose", async () => {
    await services.apiKeys.settle(); // last-use writes finish before the store closes
    await rateLimits.close();
  });
  for (const surface of surfaces) await surface.register(app, { rateLimits });
  return app;
}

/**
 * The operators' app: the admin API the `kassa` CLI calls, served on a loopback-only listener
 * (see src/server.ts), never on the public port.
 */
export async function buildAdminApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, db } = options;
  const services = options.services ?? createKassaServices(db, undefined, config, options.metrics);
  const app = Fastify({ ...baseOptions(config, options.logger), frameworkErrors: adminHttpError });
  echoRequestId(app);
  await app.register(adminApi, {
    services,
    db,
    token: config.admin.token,
    publicUrl: config.publicUrl,
    metrics: options.metrics, // metrics
  });
  return app;
}
