/**
 * Opencharge's error format, `{"error": {"code", "message", "details"?}}`, for everything on its
 * paths: its own refusals, the core's AppErrors, Fastify's (malformed or oversized bodies, unknown
 * paths, methods) and errors raised before routing. Nothing answers 500 with internals: an
 * unexpected error is logged in full and answered as INTERNAL_ERROR without them.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type AppError, isAppError } from "../../core/errors.js";

/** The protocol's codes (shared/design/opencharge.md) and the few Kassa adds for generic HTTP failures. */
export const OPENCHARGE_ERRORS = {
  INVALID_SIGNATURE: 401,
  TIMESTAMP_EXPIRED: 401,
  NONCE_REUSED: 401,
  UNKNOWN_OCID: 401,
  INVALID_REQUEST: 400,
  INVALID_ORDER: 400,
  ISSUER_NOT_ACCEPTED: 400,
  CAPABILITY_NOT_SUPPORTED: 400,
  SESSION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  SESSION_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type OpenchargeErrorCode = keyof typeof OPENCHARGE_ERRORS;

export class OpenchargeError extends Error {
  override name = "OpenchargeError";
  readonly statusCode: number;
  constructor(
    readonly code: OpenchargeErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    status?: number,
  ) {
    super(message);
    this.statusCode = status ?? OPENCHARGE_ERRORS[code];
  }
}

export const ocError = (code: OpenchargeErrorCode, message: string, details?: Record<string, unknown>) =>
  new OpenchargeError(code, message, details);

export interface OpenchargeErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export function sendOpenchargeError(reply: FastifyReply, error: OpenchargeError) {
  const body: OpenchargeErrorBody = {
    error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
  };
  return reply
    .code(error.statusCode)
    .header("content-type", "application/json; charset=utf-8")
    .send(JSON.stringify(body));
}

function fromAppError(error: AppError): OpenchargeError {
  switch (error.code) {
    case "invalid_parameters":
      return new OpenchargeError(
        "INVALID_ORDER",
        error.message,
        error.details.fields ? { fields: error.details.fields } : undefined,
      );
    case "not_found":
      return ocError("SESSION_NOT_FOUND", error.message);
    case "rate_limited":
      return ocError("RATE_LIMITED", error.message);
    case "invalid_state":
      return ocError("SESSION_EXPIRED", error.message);
    default:
      return new OpenchargeError("INVALID_REQUEST", error.message, undefined, 400);
  }
}

/** Fastify's own errors (FST_ERR_*) and HTTP errors thrown by shared code (404, 405) in Opencharge's codes. */
function fromHttpError(error: FastifyError): OpenchargeError | null {
  const status = error.statusCode;
  if (!status || status < 400 || status >= 500) return null;
  switch (status) {
    case 404:
      return ocError("NOT_FOUND", error.message);
    case 405:
      return ocError("METHOD_NOT_ALLOWED", error.message);
    case 413:
      return ocError("PAYLOAD_TOO_LARGE", "The request body is too large");
    case 415:
      return ocError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json");
    case 429:
      return ocError("RATE_LIMITED", error.message);
    default:
      return new OpenchargeError(
        "INVALID_REQUEST",
        error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError
          ? "The request body is not valid JSON"
          : error.message,
        undefined,
        400,
      );
  }
}

/** The surface's one error handler: every error on its paths, in its format. */
export function openchargeErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  let answer: OpenchargeError | null = null;
  if (error instanceof OpenchargeError) answer = error;
  else if (isAppError(error)) answer = fromAppError(error);
  else answer = fromHttpError(error as FastifyError);
  if (!answer) {
    request.log.error({ err: error }, "opencharge: unhandled error");
    answer = ocError("INTERNAL_ERROR", "Internal error");
  }
  if (answer.code === "RATE_LIMITED" && isAppError(error) && error.details.retryAfterSeconds) {
    reply.header("retry-after", String(error.details.retryAfterSeconds));
  }
  return sendOpenchargeError(reply, answer);
}

/** The code of an HTTP status answered from below the app (Node's parser refused the request). */
const RAW_CODES: Record<number, OpenchargeErrorCode> = {
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
};

/** An error written straight to the socket, in Opencharge's format (ApiSurface.rawError). */
export function openchargeRawError(status: number, detail: string): { contentType: string; body: string } {
  const code = RAW_CODES[status] ?? (status >= 500 ? "INTERNAL_ERROR" : "INVALID_REQUEST");
  const body: OpenchargeErrorBody = { error: { code, message: detail } };
  return { contentType: "application/json; charset=utf-8", body: JSON.stringify(body) };
}
