import dns from "node:dns";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { performance } from "node:perf_hooks";
import { type NonPublicKind, nonPublicAddressKind, refusedAddressMessage } from "./addresses.js";

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Aborts the request (the worker is shutting down). */
  signal?: AbortSignal;
}

/** What one POST came to. Never a throw: every way of failing is an `error` text to record. */
export interface WebhookResponse {
  /** The receiver's status code, or null when no response arrived. */
  status: number | null;
  durationMs: number;
  error: string | null;
  /** The request was aborted by its signal, not failed by the receiver. */
  aborted: boolean;
  /** The start of the response body (up to RESPONSE_BODY_CAP_BYTES), for schemes whose answer says more than its status. */
  body?: string;
}

export type WebhookTransport = (request: WebhookRequest) => Promise<WebhookResponse>;

export interface TransportOptions {
  /** Allow receivers on loopback, private, link-local (…) addresses. */
  allowPrivateUrls: boolean;
  /** Connecting and receiving the response, together. */
  timeoutMs: number;
}

/** How much of a response body is read (and kept, for a scheme's judge) before the connection is dropped. */
export const RESPONSE_BODY_CAP_BYTES = 4096;

export class RefusedAddress extends Error {}

/**
 * Resolves like dns.lookup but keeps only public addresses, so the socket can only connect to
 * one of them: a name cannot point the request at the host's own network, whatever its DNS says.
 * `kindOf` and `message` are the rules and the wording (logos reuse it with their own).
 */
export function guardedLookup(
  kindOf: (address: string) => NonPublicKind | null = nonPublicAddressKind,
  message: (address: string, kind: NonPublicKind) => string = refusedAddressMessage,
): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, "", 0);
      const allowed = addresses.filter((a) => !kindOf(a.address));
      if (allowed.length === 0) {
        const first = addresses[0];
        const refusal = first ? message(first.address, kindOf(first.address)!) : `${hostname} did not resolve`;
        return callback(new RefusedAddress(refusal), "", 0);
      }
      if (options.all) return callback(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

const publicOnlyLookup = guardedLookup();

/** A readable cause for a socket error (a failed happy-eyeballs connect is an AggregateError without a message). */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && !error.message) {
    return error.errors.map(describeError).join("; ") || "connection failed";
  }
  if (error instanceof Error) return error.message || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}

/**
 * POSTs with node:http/https rather than fetch, so the address actually connected to is under
 * our control: names resolve through `publicOnlyLookup`, IP literals are checked before
 * connecting, and the connected socket's address is checked again. Redirects are not followed.
 */
export function createHttpTransport(options: TransportOptions): WebhookTransport {
  const { allowPrivateUrls, timeoutMs } = options;
  return (request) =>
    new Promise<WebhookResponse>((resolve) => {
      const started = performance.now();
      let settled = false;
      let status: number | null = null;
      const chunks: Buffer[] = [];
      let req: http.ClientRequest | undefined;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error: string | null, aborted = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener("abort", onAbort);
        req?.destroy();
        const body = Buffer.concat(chunks).subarray(0, RESPONSE_BODY_CAP_BYTES).toString("utf8");
        resolve({ status, durationMs: Math.round(performance.now() - started), error, aborted, body });
      };
      const onAbort = () => finish("aborted: the worker is shutting down", true);

      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return finish("not an absolute URL");
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") return finish(`unsupported protocol ${url.protocol}`);
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
      if (!allowPrivateUrls && isIP(host)) {
        const kind = nonPublicAddressKind(host);
        if (kind) return finish(refusedAddressMessage(host, kind));
      }
      if (request.signal?.aborted) return onAbort();
      request.signal?.addEventListener("abort", onAbort, { once: true });

      const client = url.protocol === "https:" ? https : http;
      req = client.request(
        url,
        {
          method: "POST",
          headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
          // A connection of its own: no pooled socket outlives the attempt or skips the address checks.
          agent: false,
          lookup: allowPrivateUrls ? undefined : publicOnlyLookup,
        },
        (response) => {
          status = response.statusCode ?? null;
          let received = 0;
          response.on("data", (chunk: Buffer) => {
            received += chunk.length;
            if (received - chunk.length < RESPONSE_BODY_CAP_BYTES) chunks.push(chunk);
            // Read a little so small answers complete normally (and a judge can read them), then hang up.
            if (received > RESPONSE_BODY_CAP_BYTES) finish(null);
          });
          response.on("end", () => finish(null));
          response.on("error", () => finish(null));
          response.on("aborted", () => finish(null));
        },
      );
      if (!allowPrivateUrls) {
        req.on("socket", (socket) => {
          socket.once("connect", () => {
            const address = socket.remoteAddress;
            const kind = address ? nonPublicAddressKind(address) : "not an IP address";
            if (kind) finish(refusedAddressMessage(address ?? "(unknown)", kind));
          });
        });
      }
      req.on("error", (error) => finish(describeError(error)));
      timer = setTimeout(() => {
        // Headers already in: the receiver has answered; a slow body does not undo that.
        finish(status === null ? `no response within ${timeoutMs} ms` : null);
      }, timeoutMs);
      req.end(request.body);
    });
}
