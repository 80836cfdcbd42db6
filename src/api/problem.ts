import type { FastifyReply } from "fastify";

/** RFC 9457 problem details (application/problem+json). */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8";

/** Sends a problem already serialised, so no route's response schema applies to it. */
export function sendProblem(reply: FastifyReply, problem: Problem, headers: Record<string, string> = {}) {
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/** The Fastify errors that are the client's fault, by status, with a title for each. */
export const HTTP_CLIENT_ERRORS: Record<number, { slug: string; title: string }> = {
  400: { slug: "invalid-parameters", title: "Your request parameters didn't validate" },
  404: { slug: "not-found", title: "Not found" },
  405: { slug: "method-not-allowed", title: "Method not allowed" },
  406: { slug: "not-acceptable", title: "Not acceptable" },
  408: { slug: "request-timeout", title: "Request timeout" },
  413: { slug: "payload-too-large", title: "Request body too large" },
  415: { slug: "unsupported-media-type", title: "Unsupported media type" },
  429: { slug: "rate-limited", title: "Too many requests" },
  431: { slug: "headers-too-large", title: "Request headers too large" },
};
