import { randomUUID } from "node:crypto";
import {
  type FastifyBaseLogger,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from "fastify";
import { type ChildLoggerOptions, type Logger, symbols as pinoSymbols } from "pino";
import type { Config } from "./config.js";

/** Paths pino blanks out wherever they appear in a log line. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  "*.secret",
  "*.apiKey",
  "*.api_key",
  "*.password",
  "*.card_number",
  "*.cardNumber",
  // The hosted page's card form and CardDetails, should anything ever log them.
  "*.cvc",
  "card.number",
  "*.card.number",
  "req.body.card_number",
  "req.body.cvc",
  "*.webhook_secret",
];

/** Query parameters whose values are secrets, whatever the route (a key sent as ?api_key=...). */
const SECRET_PARAMETER = /key|token|secret|passw|auth|sig|credential|cvc|card/i;
/** An API key, wherever in the URL it was pasted. */
const API_KEY = /\b(sk_(?:test|live)_)[A-Za-z0-9]+/g;

function parameterName(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replaceAll("+", " "));
  } catch {
    return encoded;
  }
}

/**
 * A request URL fit for the log: the values of secret-looking query parameters and any API key
 * replaced by "[redacted]", names and everything else kept, so the line still says what was asked.
 * Kassa refuses keys in the query string, but a client that sends one has still sent it.
 */
export function redactUrl(url: string): string {
  const redacted = url.replace(API_KEY, "$1[redacted]");
  const q = redacted.indexOf("?");
  if (q < 0) return redacted;
  const query = redacted
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq < 0 ? pair : pair.slice(0, eq);
      return eq >= 0 && SECRET_PARAMETER.test(parameterName(name)) ? `${name}=[redacted]` : pair;
    });
  return `${redacted.slice(0, q)}?${query.join("&")}`;
}

/** Fastify's request serializer, with the URL redacted. */
function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    version: request.headers?.["accept-version"] as string | undefined,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

export function loggerOptions(config: Pick<Config, "logLevel">): FastifyServerOptions["logger"] {
  return {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: { req: serializeRequest },
  };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Honours a caller's X-Request-Id when it is a sane token (so ids can be traced across services)
 * and makes one otherwise; the id is echoed on every response.
 */
export function genReqId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers["x-request-id"];
  return typeof given === "string" && REQUEST_ID.test(given) ? given : `req_${randomUUID().replaceAll("-", "")}`;
}

/**
 * Fastify's per-request child logger (bound to the request id), made without pino's redaction
 * pass over the bindings. With wildcard paths (`*.secret`) pino runs every binding through the
 * redactor, which copies it: about 2.5 KB of garbage per request for a string that no path can
 * match (paths name fields of objects). Bindings that are all strings or numbers are written as
 * pino would write them (JSON); anything else goes through `child` as before.
 */
export function childLoggerFactory(
  this: unknown,
  logger: FastifyBaseLogger,
  bindings: Record<string, unknown>,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  const values = Object.entries(bindings);
  const plain = values.every(([, v]) => typeof v === "string" || (typeof v === "number" && Number.isFinite(v)));
  const chindings = pinoSymbols.chindingsSym;
  if (!plain || typeof (logger as unknown as Record<symbol, unknown>)[chindings] !== "string") {
    return logger.child(bindings, options);
  }
  const child = logger.child({}, options) as unknown as Record<symbol, string>;
  for (const [key, value] of values) child[chindings] += `,${JSON.stringify(key)}:${JSON.stringify(value)}`;
  return child as unknown as FastifyBaseLogger;
}

/**
 * One access line per request: "request completed" (or "request errored") at info, with the
 * request, the response and the time taken; "incoming request" only at debug, to find requests
 * that never finish. Fastify's default writes both at info: on a busy server half of the logging
 * cost (a tenth of a simple request's CPU in the profile) for nothing an operator needs.
 */
export class AccessLogController extends LogController {
  /**
   * The server's logger without the redaction pass, for the "request completed" line only. That
   * line holds what the serializers build (method, the URL with its secrets already replaced,
   * host, addresses; the status; the time), where no redacted path can occur, and redaction's
   * walk over it cost more than the rest of the line (about 9 µs in 12, on every request). The
   * request id is written first, where the request's own logger puts it. Every other line, an
   * errored request's included, goes through the redacting logger.
   */
  readonly #plain = new WeakMap<FastifyBaseLogger, FastifyBaseLogger>();

  override incomingRequest(request: FastifyRequest) {
    request.log.debug({ req: request }, "incoming request");
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, "request errored");
    else if (typeof (reply.log as Partial<Logger>).isLevelEnabled !== "function") {
      // Not pino (an app built with logging off gets Fastify's no-op logger): nothing to bypass.
      reply.log.info(line, "request completed");
    } else if ((reply.log as Logger).isLevelEnabled("info")) {
      this.#plainLogger(request.server.log).info({ reqId: request.id, ...line }, "request completed");
    }
  }

  #plainLogger(server: FastifyBaseLogger): FastifyBaseLogger {
    let plain = this.#plain.get(server);
    if (!plain) {
      plain = server.child({}, { redact: { paths: [] } } as ChildLoggerOptions);
      this.#plain.set(server, plain);
    }
    return plain;
  }
}
