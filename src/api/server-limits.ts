import { type Server, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyHttpOptions } from "fastify";
import type { Config } from "../config.js";
import { PROBLEM_CONTENT_TYPE } from "./problem.js";
import { type ApiSurface, type RawError, surfaceOf } from "./surfaces.js";

/**
 * The HTTP server's own limits (header size, slow clients, idle connections) and its answers to
 * what Node's parser refuses before Fastify sees a request, in the format of the surface the
 * request was meant for.
 */

type Limits = Config["limits"];

/** The request line and headers of what the parser received, as far as they can be read. */
function readRawRequest(packet: unknown): { url: string; headers: Record<string, string> } | null {
  if (!Buffer.isBuffer(packet)) return null;
  const text = packet.toString("latin1");
  const [requestLine, ...headerLines] = text.split("\r\n\r\n", 1)[0]!.split("\r\n");
  const target = /^[A-Za-z]+ (\S+) HTTP\/\d\.\d$/.exec(requestLine ?? "")?.[1];
  if (!target?.startsWith("/")) return null;
  const headers: Record<string, string> = Object.create(null);
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { url: target, headers };
}

/** about:blank problem+json: the answer where no surface owns the request. */
const plainProblem = (status: number, detail: string): RawError => ({
  contentType: PROBLEM_CONTENT_TYPE,
  body: JSON.stringify({ type: "about:blank", title: STATUS_CODES[status], status, detail }),
});

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (a header block over
 * MAX_HEADER_BYTES: 431; headers or body not received in time: 408; anything unparsable, a NUL or
 * bare CR in a header, conflicting Content-Length and Transfer-Encoding: 400) in the format of the
 * surface its path belongs to, as far as the bytes received tell, then closes the connection.
 */
function answerClientError(surfaces: readonly ApiSurface[]) {
  return (error: Error & { code?: string; rawPacket?: unknown }, socket: Socket) => {
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const detail =
      status === 431
        ? "The request's header block is larger than this server accepts"
        : status === 408
          ? "The request was not received in time"
          : "The request could not be parsed as HTTP";
    const request = readRawRequest(error.rawPacket);
    const surface = request ? surfaceOf(surfaces, request) : undefined;
    const answer = surface?.rawError?.(status, detail) ?? plainProblem(status, detail);
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: ${answer.contentType}\r\n` +
          `Content-Length: ${Buffer.byteLength(answer.body)}\r\n\r\n${answer.body}`,
      );
    }
    socket.destroy(error);
  };
}

/**
 * The Fastify server options that bound what one connection can hold: the header block's size
 * (431 past it), the time to receive the headers (slowloris) and the whole request, and how
 * long an idle keep-alive connection stays open. A request without a Host header reaches the
 * app (which refuses it in the surface's format) instead of Node's bare 400.
 */
export function serverLimitOptions(
  limits: Limits,
  surfaces: readonly ApiSurface[] = [],
): Partial<FastifyHttpOptions<Server>> {
  return {
    requestTimeout: limits.requestTimeoutMs,
    // A connection on which nothing moves for as long as a whole request may take (a client that
    // stopped reading its response, a body stalled midway) is closed. Idle keep-alive connections
    // are governed by keepAliveTimeout instead.
    connectionTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      maxHeaderSize: limits.maxHeaderBytes,
      // Node checks these two timeouts on a timer; the default 30 s period would let a stalled
      // connection live far past them.
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      requireHostHeader: false,
    },
    clientErrorHandler: answerClientError(surfaces),
  };
}
