import type { FastifyReply } from "fastify";
import type { StoredResponse } from "../../core/idempotency/idempotency.types.js";

/** What a route answers: the status, headers and body its serializer turns into bytes. */
export interface RouteResponse {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Marks a response sent again from its stored bytes. */
export const REPLAY_HEADER = "x-idempotent-replay";

/** Response headers a replay sends again, besides the status and body. */
export const REPLAYED_HEADERS = ["content-type", "location"] as const;

/** Sends a RouteResponse through the route's own serializer. */
export const sendResponse = (reply: FastifyReply, response: RouteResponse) =>
  reply
    .code(response.status)
    .headers(response.headers ?? {})
    .send(response.body);

/** Sends a stored response byte for byte: the replay of an earlier request, or this request's own. */
export const sendStored = (reply: FastifyReply, response: StoredResponse, replay: boolean) => {
  reply.code(response.status).headers(response.headers);
  if (replay) reply.header(REPLAY_HEADER, "true");
  return reply.send(response.body);
};

/**
 * The response exactly as sendResponse would send it: the body through the route's serializer
 * for that status (the same function Fastify applies), so storing it renders it once and the
 * stored bytes are what the client gets, now and on every replay.
 */
export function storedResponse(reply: FastifyReply, response: RouteResponse): StoredResponse {
  const previous = reply.statusCode;
  let body: string;
  try {
    reply.code(response.status);
    const serialized = reply.serialize(response.body);
    body = typeof serialized === "string" ? serialized : Buffer.from(serialized as Uint8Array).toString("utf8");
  } finally {
    reply.code(previous);
  }
  const headers: Record<string, string> = { "content-type": JSON_CONTENT_TYPE };
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name.toLowerCase()] = value;
  return { status: response.status, headers, body };
}

/** The headers of a response being sent that a replay would send again. */
export function replayedHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  return headers;
}
