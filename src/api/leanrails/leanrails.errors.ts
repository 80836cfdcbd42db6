import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { type AppError, type ErrorCode, isAppError } from "../../core/errors.js";
import { type IssueLike, phrase } from "../validation.js";

/** LeanRails' error types (leanrails.md, "Errors"). */
export type LeanRailsErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "rate_limit_error"
  | "payment_error"
  | "api_error";

/** The `error` member of every LeanRails error body. */
export interface LeanRailsErrorDetail {
  type: LeanRailsErrorType;
  code: string;
  message: string;
  param: string | null;
  doc_url: string;
}

export const DOC_BASE = "https://docs.leanrails.com";
export const docUrl = (code: string) =>
  code === "rate_limit_exceeded" ? `${DOC_BASE}/guides/rate-limiting` : `${DOC_BASE}/errors/${code}`;

export const INVALID_API_KEY_MESSAGE = "Invalid API key provided.";

/** The wire names of the headers LeanRails errors name in `param`. */
export const IDEMPOTENCY_KEY_PARAM = "Idempotency-Key";
export const API_VERSION_PARAM = "X-API-Version";

/**
 * An error worded by the LeanRails adapter itself (a rule only its wire has: `price` ids, one
 * currency per session, `expires_at`'s window), with the param as the client sent it.
 */
export class LeanRailsError extends Error {
  override name = "LeanRailsError";
  constructor(
    readonly status: number,
    readonly type: LeanRailsErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export const parameterInvalid = (param: string, message: string) =>
  new LeanRailsError(400, "invalid_request_error", "parameter_invalid", message, param);

export const parameterMissing = (param: string, message = `Missing required param: ${param}.`) =>
  new LeanRailsError(400, "invalid_request_error", "parameter_missing", message, param);

/** The canonical spelling of a header LeanRails errors name (a Map: a path may be any text, `constructor` too). */
const HEADER_PARAMS = new Map([
  ["idempotency-key", IDEMPOTENCY_KEY_PARAM],
  ["x-api-version", API_VERSION_PARAM],
]);

/** A dotted wire path in LeanRails' (Stripe's) notation: `line_items.0.quantity` -> `line_items[0][quantity]`. */
export function wireParam(path: string): string {
  const header = HEADER_PARAMS.get(path.toLowerCase());
  if (header) return header;
  const [head, ...rest] = path.split(".");
  return `${head}${rest.map((segment) => `[${segment}]`).join("")}`;
}

/** What LeanRails calls a core field when its name there is not simply the snake_case path. */
const CORE_FIELDS = new Map([["amountTotal", "line_items"]]);
const snake = (path: string) => path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const coreParam = (path: string) =>
  CORE_FIELDS.get(path) ??
  wireParam(snake(path.replace(/^lineItems\.(\d+)\.amount$/, "lineItems.$1.priceData.unitAmount")));

/** A reason that reads after the field's name ("must be …") as a sentence naming it. */
const sentence = (param: string, reason: string) =>
  /^[a-z]/.test(reason) ? `Invalid ${param}: ${reason}.` : reason.replace(/([^.])$/, "$1.");

interface CodeMapping {
  status: number;
  type: LeanRailsErrorType;
  code: string;
  param?: (e: AppError) => string | null;
  message?: (e: AppError) => string;
}

/** The resource and id a core not_found names (`Could not find checkout session 'cs_1'`). */
function missingResource(e: AppError): string {
  const id = /'([^']*)'$/.exec(e.message)?.[1] ?? "";
  return `No such ${e.details.resource ?? "object"}: '${id}'`;
}

/** Every core error code, mapped once to LeanRails' status, type and code. */
const CODES: Record<ErrorCode, CodeMapping> = {
  invalid_parameters: { status: 400, type: "invalid_request_error", code: "parameter_invalid" },
  invalid_pagination: {
    status: 400,
    type: "invalid_request_error",
    code: "parameter_invalid",
    param: (e) => /'(limit|starting_after|ending_before)'/.exec(e.message)?.[1] ?? null,
  },
  invalid_subaccount: { status: 400, type: "invalid_request_error", code: "parameter_invalid" },
  not_found: {
    status: 404,
    type: "invalid_request_error",
    code: "resource_missing",
    param: () => "id",
    message: missingResource,
  },
  forbidden: { status: 403, type: "invalid_request_error", code: "permission_denied" },
  unauthenticated: {
    status: 401,
    type: "authentication_error",
    code: "authentication_failed",
    message: () => INVALID_API_KEY_MESSAGE,
  },
  conflict: { status: 409, type: "invalid_request_error", code: "resource_conflict" },
  invalid_state: { status: 400, type: "invalid_request_error", code: "invalid_state" },
  insufficient_credits: { status: 409, type: "invalid_request_error", code: "insufficient_credits" },
  idempotency_key_too_long: {
    status: 400,
    type: "invalid_request_error",
    code: "parameter_invalid",
    param: () => IDEMPOTENCY_KEY_PARAM,
  },
  idempotency_key_required: {
    status: 400,
    type: "invalid_request_error",
    code: "parameter_missing",
    param: () => IDEMPOTENCY_KEY_PARAM,
    message: () => `Missing required header: ${IDEMPOTENCY_KEY_PARAM}. Every POST request must carry one.`,
  },
  idempotency_changed_payload: {
    status: 422,
    type: "invalid_request_error",
    code: "idempotency_key_reuse",
    param: () => IDEMPOTENCY_KEY_PARAM,
  },
  idempotency_concurrent_requests: {
    status: 409,
    type: "invalid_request_error",
    code: "idempotency_key_in_use",
    param: () => IDEMPOTENCY_KEY_PARAM,
  },
  rate_limited: { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded" },
};

function fromAppError(error: AppError): { status: number; detail: LeanRailsErrorDetail } {
  const mapping = CODES[error.code];
  const fields = Object.entries(error.details.fields ?? {});
  let param = mapping.param?.(error) ?? null;
  let message = mapping.message?.(error) ?? error.message;
  const [first] = fields;
  if (first) {
    const [path, reasons] = first;
    param = coreParam(path);
    message = sentence(param, reasons[0] ?? "is invalid");
  }
  return {
    status: mapping.status,
    detail: { type: mapping.type, code: mapping.code, message, param, doc_url: docUrl(mapping.code) },
  };
}

/** The value at `segments` in the part of the request that failed validation (undefined when absent). */
function valueAt(request: FastifyRequest, context: string | undefined, segments: string[]): unknown {
  const parts: Record<string, unknown> = {
    body: request.body,
    querystring: request.query,
    params: request.params,
    headers: request.headers,
  };
  let value = parts[context ?? ""];
  for (const segment of segments) {
    if (value === null || typeof value !== "object") return undefined;
    if (!Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** The schema's first complaint about a request, as LeanRails words it. */
function fromValidation(error: FastifyError, request: FastifyRequest): LeanRailsError | null {
  if (!hasZodFastifySchemaValidationErrors(error)) return null;
  const issue = (error.validation as unknown as IssueLike[])[0];
  if (!issue) return null;
  const segments = issue.instancePath.split("/").filter(Boolean);
  if (issue.keyword === "unrecognized_keys") segments.push(...((issue.params.keys as string[]) ?? []).slice(0, 1));
  const path = segments.join(".") || (error.validationContext === "body" ? "body" : (error.validationContext ?? ""));
  const param = wireParam(path);
  const reason = phrase(issue);
  const absent =
    issue.keyword !== "unrecognized_keys" && valueAt(request, error.validationContext, segments) === undefined;
  if (reason === "is required" || absent) return parameterMissing(param);
  if (issue.keyword === "unrecognized_keys") return parameterInvalid(param, `Received unknown parameter: ${param}.`);
  return parameterInvalid(param, sentence(param, reason));
}

/** Codes for the HTTP-level refusals Fastify raises itself. */
const HTTP_CODES: Record<number, string> = {
  400: "parameter_invalid",
  404: "resource_missing",
  405: "method_not_allowed",
  406: "not_acceptable",
  408: "request_timeout",
  413: "request_too_large",
  414: "request_uri_too_long",
  415: "unsupported_media_type",
  431: "request_headers_too_large",
};

const httpCode = (status: number) =>
  HTTP_CODES[status] ?? (STATUS_CODES[status] ?? "client_error").toLowerCase().replace(/[^a-z0-9]+/g, "_");

function fromHttpError(error: FastifyError, request: FastifyRequest): LeanRailsError | null {
  const status = error.statusCode ?? 500;
  if (status < 400 || status >= 500) return null;
  const path = request.url.split("?", 1)[0];
  const message =
    status === 404
      ? `Unrecognized request URL (${request.method}: ${path}).`
      : error.code === "FST_ERR_CTP_EMPTY_JSON_BODY"
        ? "The request body must not be empty when Content-Type is application/json."
        : (status === 400 && /^FST_ERR_CTP_|^FST_ERR_BAD_JSON/.test(error.code ?? "")) || error instanceof SyntaxError
          ? `Invalid request body: ${error.message}`
          : error.message;
  return new LeanRailsError(status, "invalid_request_error", httpCode(status), message, null);
}

/** An error answered below the app (Node's parser refused the request), as LeanRails' body. */
export const rawLeanRailsError = (status: number, detail: string) => ({
  contentType: "application/json; charset=utf-8",
  body: JSON.stringify({
    error: {
      type: "invalid_request_error",
      code: httpCode(status),
      message: detail,
      param: null,
      doc_url: docUrl(httpCode(status)),
    } satisfies LeanRailsErrorDetail,
  }),
});

export const sendLeanRailsError = (
  reply: FastifyReply,
  status: number,
  detail: LeanRailsErrorDetail,
  headers: Record<string, string> = {},
) =>
  reply
    .code(status)
    .headers(headers)
    .type("application/json; charset=utf-8")
    .send(JSON.stringify({ error: detail }));

const detailOf = (error: LeanRailsError): LeanRailsErrorDetail => ({
  type: error.type,
  code: error.code,
  message: error.message,
  param: error.param,
  doc_url: docUrl(error.code),
});

/**
 * Turns anything thrown on the LeanRails surface into `{"error": {type, code, message, param,
 * doc_url}}` with LeanRails' status; unknown errors are logged in full and answered as a bare
 * api_error without internals.
 */
export function leanRailsErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof LeanRailsError) return sendLeanRailsError(reply, error.status, detailOf(error));
  if (isAppError(error)) {
    const { status, detail } = fromAppError(error);
    const { retryAfterSeconds } = error.details;
    const headers: Record<string, string> = retryAfterSeconds ? { "retry-after": String(retryAfterSeconds) } : {};
    if (status === 401) headers["www-authenticate"] = 'Basic realm="LeanRails"';
    return sendLeanRailsError(reply, status, detail, headers);
  }
  const known = fromValidation(error, request) ?? fromHttpError(error, request);
  if (known) return sendLeanRailsError(reply, known.status, detailOf(known));

  request.log.error({ err: error }, "unhandled error");
  return sendLeanRailsError(reply, 500, {
    type: "api_error",
    code: "internal_error",
    message: "An unexpected error occurred on our side. Retry the request; if it keeps failing, contact us.",
    param: null,
    doc_url: docUrl("internal_error"),
  });
}
