import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type AppError, type ErrorCode, type FieldErrors, isAppError } from "../../core/errors.js";
import { HTTP_CLIENT_ERRORS, type Problem, sendProblem } from "../problem.js";
import { fieldErrorsFrom, snakeCasePath } from "../validation.js";

/** CNaught's problem `type` URIs are identifiers; its client matches them verbatim. */
export const CNAUGHT_ERROR_BASE = "https://api.cnaught.com/v1/errors/";
export const problemType = (slug: string) => CNAUGHT_ERROR_BASE + slug;

/** The exact 401 body CNaught sends: no type, no extension members. */
export const UNAUTHORIZED_BODY = { title: "Authorization has been denied for this request", status: 401 } as const;

/** Every core error code, mapped once to CNaught's status, slug and title. */
const CODES: Record<ErrorCode, { status: number; slug: string; title: (e: AppError) => string }> = {
  invalid_parameters: {
    status: 400,
    slug: "invalid-parameters",
    title: () => "Your request parameters didn't validate",
  },
  invalid_pagination: { status: 400, slug: "invalid-pagination", title: () => "Invalid pagination parameters" },
  invalid_subaccount: { status: 400, slug: "invalid-subaccount", title: () => "Invalid subaccount" },
  not_found: {
    status: 404,
    slug: "not-found",
    title: (e) => `Could not find ${(e.details.resource ?? "resource").replaceAll("_", " ")}`,
  },
  forbidden: { status: 403, slug: "forbidden", title: () => "Forbidden" },
  unauthenticated: { status: 401, slug: "unauthorized", title: () => UNAUTHORIZED_BODY.title },
  conflict: { status: 409, slug: "conflict", title: () => "Conflict" },
  invalid_state: { status: 409, slug: "invalid-state", title: () => "Invalid state" },
  // Raised by fulfilment, an operator's command; no CNaught route fulfils.
  insufficient_credits: { status: 409, slug: "insufficient-credits", title: () => "Not enough credits" },
  idempotency_key_too_long: { status: 400, slug: "idempotency-key-too-long", title: () => "Idempotency key too long" },
  // CNaught never requires a key; the code exists for APIs that do (LeanRails).
  idempotency_key_required: { status: 400, slug: "idempotency-key-required", title: () => "Idempotency key required" },
  idempotency_changed_payload: {
    status: 422,
    slug: "idempotency-changed-payload",
    title: () => "Idempotency key reused with a different request",
  },
  idempotency_concurrent_requests: {
    status: 409,
    slug: "idempotency-concurrent-requests",
    title: () => "Concurrent requests with one idempotency key",
  },
  rate_limited: { status: 429, slug: "rate-limited", title: () => "Too many requests" },
};

/** Core field paths whose CNaught name is not simply their snake_case. */
const WIRE_FIELDS: Readonly<Record<string, string>> = {
  notificationUrl: "notification_config.url",
  callbackUrl: "notification_config.url",
};

const wireField = (path: string) => (Object.hasOwn(WIRE_FIELDS, path) ? WIRE_FIELDS[path]! : snakeCasePath(path));

/**
 * The core's field errors in CNaught's words: keyed by the wire field, each reason a sentence
 * naming it ("'amount_kg' must be greater than 0"); a reason that is already a sentence stays.
 */
export function wordFields(fields: FieldErrors): FieldErrors {
  const worded: FieldErrors = Object.create(null); // field names may be any text a client sent
  for (const [path, reasons] of Object.entries(fields)) {
    const field = wireField(path);
    (worded[field] ??= []).push(...reasons.map((r) => (/^[a-z]/.test(r) ? `'${field}' ${r}` : r)));
  }
  return worded;
}

export function problemFromAppError(error: AppError): Problem {
  const mapping = CODES[error.code];
  if (error.code === "unauthenticated") return { ...UNAUTHORIZED_BODY };
  const problem: Problem = { type: problemType(mapping.slug), title: mapping.title(error), status: mapping.status };
  if (error.code !== "invalid_parameters") problem.detail = error.message;
  if (error.details.fields) {
    problem.errors = error.details.fieldsAsSent ? error.details.fields : wordFields(error.details.fields);
  }
  return problem;
}

/**
 * A client error Fastify raises that HTTP_CLIENT_ERRORS does not name (414 for a path parameter
 * over the router's 100 characters, e.g. /v1/checkout/sessions/<101 chars>): answered with its
 * own status and standard title, never as a 500.
 */
function otherClientError(status: number): { slug: string; title: string } | undefined {
  const title = status >= 400 && status < 500 ? STATUS_CODES[status] : undefined;
  return title ? { slug: title.toLowerCase().replace(/[^a-z0-9]+/g, "-"), title } : undefined;
}

/** A client error raised below the app (Node's parser), with no request to quote. */
export function rawProblem(status: number, detail: string): Problem {
  const known = HTTP_CLIENT_ERRORS[status] ?? otherClientError(status) ?? { slug: "bad-request", title: "Bad request" };
  return { type: problemType(known.slug), title: known.title, status, detail };
}

/** Turns anything thrown on the CNaught surface into CNaught's problem+json; never leaks internals. */
export function cnaughtErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const withId = (problem: Problem) => (problem.status === 401 ? problem : { ...problem, request_id: request.id });

  if (isAppError(error)) {
    const { retryAfterSeconds } = error.details;
    const headers: Record<string, string> = retryAfterSeconds ? { "retry-after": String(retryAfterSeconds) } : {};
    return sendProblem(reply, withId(problemFromAppError(error)), headers);
  }

  const fields = fieldErrorsFrom(error);
  if (fields) {
    return sendProblem(
      reply,
      withId({
        type: problemType("invalid-parameters"),
        title: HTTP_CLIENT_ERRORS[400]!.title,
        status: 400,
        errors: fields,
      }),
    );
  }

  const status = error.statusCode ?? 500;
  const known = HTTP_CLIENT_ERRORS[status] ?? otherClientError(status);
  if (status >= 400 && status < 500 && known) {
    const problem: Problem = { type: problemType(known.slug), title: known.title, status, detail: error.message };
    // Malformed JSON, a bad URL and the like: keep the errors map the client expects.
    if (status === 400) problem.errors = { [error.code === "FST_ERR_BAD_URL" ? "path" : "body"]: [error.message] };
    return sendProblem(reply, withId(problem));
  }

  request.log.error({ err: error }, "unhandled error");
  return sendProblem(
    reply,
    withId({ type: problemType("internal-error"), title: "Internal server error", status: 500 }),
  );
}
