import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, isAppError } from "../../core/errors.js";
import { applySecurityHeaders, securityHeaders, servedOverHttps } from "../hosted-page/security-headers.js";
import { errorPage } from "./impact-page.views.js";

export const HTML = "text/html; charset=utf-8";

/** The page reads and never writes: of the core's codes only these can reach it; any other is a 400. */
const STATUS: Partial<Record<ErrorCode, number>> = { not_found: 404, rate_limited: 429, invalid_parameters: 400 };

const NOT_FOUND = {
  title: "Impact page not found",
  message: "There is no public impact page at this address. Check the link, or ask whoever shared it.",
};

/** What a visitor reads for each status; never internals. */
const PAGES: Record<number, { title: string; message: string }> = {
  400: { title: "Bad request", message: "The page could not understand this request." },
  404: NOT_FOUND,
  405: { title: "Method not allowed", message: "This page can only be read." },
  // A slug longer than any route parameter may be: to a visitor, just a bad link.
  414: NOT_FOUND,
  429: { title: "Too many requests", message: "Please wait a moment and try again." },
  431: { title: "Request too large", message: "The request carried more data than this page needs." },
  500: { title: "Something went wrong", message: "The impact page could not be shown. Please try again in a moment." },
};

export const sendPage = (reply: FastifyReply, status: number, body: string) => reply.code(status).type(HTML).send(body);

export function errorPageFor(status: number): string {
  const page = PAGES[status] ?? PAGES[400]!;
  return errorPage(page.title, page.message);
}

/** Anything thrown on the impact page: an HTML page with a 4xx, or a bare 500 logged in full. */
export function impactPageErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  let status: number;
  if (isAppError(error)) {
    status = STATUS[error.code] ?? 400;
    if (error.details.retryAfterSeconds !== undefined)
      reply.header("retry-after", String(error.details.retryAfterSeconds));
  } else {
    status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  }
  if (status === 500) request.log.error({ err: error }, "unhandled error on the impact page");
  reply.header("cache-control", "no-store");
  return sendPage(reply, status, errorPageFor(status));
}

/** Errors raised before routing (a malformed path under /impact/): the same page and headers. */
export function impactPageFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
  publicUrl: string,
) {
  applySecurityHeaders(reply, securityHeaders(servedOverHttps(publicUrl)));
  return impactPageErrorHandler(error, request, reply);
}
