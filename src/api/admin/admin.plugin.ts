import { timingSafeEqual } from "node:crypto";
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { isOperationName, runOperation } from "../../admin/admin.operations.js";
import { isAppError } from "../../core/errors.js";
import type { Services } from "../../core/services.js";
import type { Database } from "../../db/database.js";
import type { PrometheusMetrics } from "../../metrics/prometheus.js";
import { metricsRoutes } from "./metrics.routes.js";
import { methodNotAllowed, notFoundAsError, trackRoutes } from "../routing.js";
import { emptyFieldErrors, snakeCaseFields } from "../validation.js";

/** The error body of the admin API, which the CLI prints as-is. */
export interface AdminError {
  error: { code: string; message: string; fields?: Record<string, string[]> };
}

/** 16 MiB: what an operation's arguments may be (BODY_LIMIT_BYTES applies to the public API). */
export const ADMIN_BODY_LIMIT = 16 * 1024 * 1024;

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

const STATUS: Record<string, number> = {
  not_found: 404,
  conflict: 409,
  insufficient_credits: 409,
  unauthenticated: 401,
  forbidden: 403,
};

/** Maps anything an operation throws to an AdminError and its status. */
export function adminErrorFrom(error: unknown): { status: number; body: AdminError } {
  if (isAppError(error)) {
    return {
      status: STATUS[error.code] ?? 400,
      body: {
        error: {
          code: error.code,
          message: error.message,
          fields:
            error.details.fields &&
            (error.details.fieldsAsSent ? error.details.fields : snakeCaseFields(error.details.fields)),
        },
      },
    };
  }
  if (error instanceof z.ZodError) {
    const fields = emptyFieldErrors();
    for (const issue of error.issues) (fields[issue.path.join(".") || "args"] ??= []).push(issue.message);
    return { status: 400, body: { error: { code: "invalid_parameters", message: "Invalid arguments", fields } } };
  }
  return { status: 500, body: { error: { code: "internal_error", message: "Internal error; see the server log" } } };
}

/** The admin code for an HTTP error Fastify raises (bad JSON, 413, 415, a malformed URL...). */
const FRAMEWORK_CODES: Record<number, string> = {
  404: "not_found",
  405: "method_not_allowed",
  408: "request_timeout",
  413: "payload_too_large",
  414: "uri_too_long",
  415: "unsupported_media_type",
  431: "headers_too_large",
};

/** Any error met while answering an admin request, in the admin format (the one every answer uses). */
export function adminHttpError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  reply.header("x-request-id", request.id); // onSend hooks do not run for errors raised before routing
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) {
    request.log.error({ err: error }, "admin request failed");
    return reply.code(500).send(adminErrorFrom(error).body);
  }
  const code =
    error.code?.startsWith("FST_ERR_CTP_") && status === 400
      ? "invalid_json"
      : (FRAMEWORK_CODES[status] ?? "invalid_request");
  return reply.code(status).send({ error: { code, message: error.message } } satisfies AdminError);
}

/**
 * POST /admin/operations/:name runs one operator command, and GET /metrics (with `metrics`) is
 * Prometheus' scrape. Served only on the loopback admin listener: whoever can reach it is an
 * operator on this host (and holds ADMIN_TOKEN when set).
 */
export const adminApi: FastifyPluginAsync<{
  services: Services;
  db: Database;
  token: string | null;
  /** PUBLIC_URL, for the URLs operations print. */
  publicUrl?: string;
  metrics?: Pick<PrometheusMetrics, "scrape">;
}> = async (app, { services, db, token, publicUrl, metrics }) => {
  // Loopback alone does not stop a web page in the operator's browser: refuse any Host but a
  // loopback one (DNS rebinding), any request a browser marks with Origin, and any non-JSON POST
  // (a "simple" cross-site form post needs no preflight).
  app.addHook("onRequest", async (request, reply) => {
    const host = (request.headers.host ?? "").replace(/:\d+$/, "");
    const json = (request.headers["content-type"] ?? "").startsWith("application/json");
    if (!LOOPBACK_HOSTS.has(host) || request.headers.origin !== undefined || (request.method === "POST" && !json)) {
      return reply.code(403).send({ error: { code: "forbidden", message: "Admin API: loopback JSON requests only" } });
    }
  });

  // With ADMIN_TOKEN set, loopback is not enough: other local users must present the token too.
  if (token) {
    const expected = Buffer.from(`Bearer ${token}`);
    app.addHook("onRequest", async (request, reply) => {
      const given = Buffer.from(request.headers.authorization ?? "");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return reply
          .code(401)
          .send({ error: { code: "unauthenticated", message: "Admin token required (ADMIN_TOKEN)" } });
      }
    });
  }
  app.setErrorHandler(adminHttpError);
  app.setNotFoundHandler(notFoundAsError);
  const routes = trackRoutes(app);

  // Operators' own input may be larger than a public request (a catalogue file travels whole).
  app.post<{ Params: { name: string } }>(
    "/admin/operations/:name",
    { bodyLimit: ADMIN_BODY_LIMIT },
    async (request, reply) => {
      const { name } = request.params;
      if (!isOperationName(name)) {
        return reply.code(404).send({ error: { code: "not_found", message: `Unknown operation '${name}'` } });
      }
      try {
        return { result: await runOperation({ services, db, publicUrl }, name, request.body) };
      } catch (error) {
        const { status, body } = adminErrorFrom(error);
        if (status === 500) request.log.error({ err: error }, "admin operation failed");
        return reply.code(status).send(body);
      }
    },
  );
  app.get("/admin/healthz", async () => ({ status: "ok" }));
  if (metrics) await app.register(metricsRoutes, { metrics });
  await app.register(methodNotAllowed(routes));
};
