import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, isAppError } from "../../core/errors.js";
import { errorPage } from "./hosted-page.views.js";
import { applySecurityHeaders, securityHeaders, servedOverHttps } from "./security-headers.js";

export const HTML = "text/html; charset=utf-8";

/** Every core error code, mapped once to the status the hosted page answers with. */
const STATUS: Record<ErrorCode, number> = {
  invalid_parameters: 400,
  invalid_pagination: 400,
  invalid_subaccount: 400,
  not_found: 404,
  forbidden: 403,
  unauthenticated: 401,
  conflict: 409,
  invalid_state: 409,
  insufficient_credits: 409,
  idempotency_key_too_long: 400,
  idempotency_key_required: 400,
  idempotency_changed_payload: 422,
  idempotency_concurrent_requests: 409,
  rate_limited: 429,
};

const NOT_FOUND_PAGE = {
  title: "Checkout not found",
  message: "This checkout link is not valid. Check the link, or return to the shop and start again.",
};

/** What the customer reads for each status; never internals. */
const PAGES: Record<number, { title: string; message: string }> = {
  400: { title: "Bad request", message: "The page could not understand this request." },
  403: { title: "Forbidden", message: "This request is not allowed." },
  404: NOT_FOUND_PAGE,
  405: { title: "Method not allowed", message: "This page cannot be used that way." },
  // An id longer than any route parameter may be: to the customer, just a bad link.
  414: NOT_FOUND_PAGE,
  409: { title: "Checkout unavailable", message: "This checkout can no longer be paid." },
  413: { title: "Request too large", message: "The form sent more data than a card payment needs." },
  415: { title: "Unsupported request", message: "The payment form must be sent as a regular web form." },
  417: { title: "Bad request", message: "The page could not understand this request." },
  429: { title: "Too many requests", message: "Please wait a moment and try again." },
  431: { title: "Request too large", message: "The request carried more data than a checkout needs." },
  500: { title: "Something went wrong", message: "The checkout could not be shown. Please try again in a moment." },
};

export function sendPage(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).type(HTML).send(body);
}

/** Turns anything thrown on the hosted page into an HTML page with a 4xx, or a bare 500 logged in full. */
export function hostedPageErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let status: number;
  if (isAppError(error)) {
    status = STATUS[error.code];
    if (error.details.retryAfterSeconds !== undefined)
      reply.header("retry-after", String(error.details.retryAfterSeconds));
  } else {
    status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  }
  if (status === 500) request.log.error({ err: error }, "unhandled error on the hosted page");
  return sendPage(reply, status, errorPageFor(status));
}

/** The customer's page for an error status. */
export function errorPageFor(status: number): string {
  const page = PAGES[status] ?? PAGES[400]!;
  return errorPage(page.title, page.message);
}

/**
 * Errors Fastify raises before routing (a malformed or over-long path under /pay/): the same
 * HTML page and headers, set here because the plugin's hooks do not run on that path.
 */
export function hostedPageFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string,
) {
  applySecurityHeaders(reply, securityHeaders(servedOverHttps(publicUrl)));
  return hostedPageErrorHandler(error, request, reply);
}
