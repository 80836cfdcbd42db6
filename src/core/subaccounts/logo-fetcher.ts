import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { type NonPublicKind, nonPublicAddressKind } from "../webhooks/addresses.js";
import { describeError, guardedLookup } from "../webhooks/transport.js";
import { LOGO_CONTENT_TYPES } from "./logos.js";

/** What a logo URL gave: its bytes and the Content-Type it was served with. */
export interface LogoDownload {
  bytes: Buffer;
  contentType: string | undefined;
}

/** Downloads a logo; rejects with a `LogoDownloadError` whose message says why, for the client. */
export type LogoFetcher = (url: string) => Promise<LogoDownload>;

export class LogoDownloadError extends Error {
  override name = "LogoDownloadError";
}

export interface LogoFetchOptions {
  /** Allow logo URLs on loopback, private, link-local (…) addresses (development and tests). */
  allowPrivateUrls: boolean;
  /** The whole download, redirects included. */
  timeoutMs: number;
  /** The most bytes a logo may have; a longer answer is dropped as soon as it is known to be. */
  maxBytes: number;
  /** Redirects followed (each to an address the same rules allow); more is a refusal. */
  maxRedirects?: number;
  /** Which addresses count as non-public (tests stand in their own); nonPublicAddressKind by default. */
  addressKind?: (address: string) => NonPublicKind | null;
}

export const LOGO_MAX_REDIRECTS = 3;

const refusal = (address: string, kind: NonPublicKind) =>
  `address ${address} is ${kind}; only public addresses are allowed`;

/**
 * GETs a logo with node:http/https through the webhooks' guarded lookup, so the address actually
 * connected to is under control: outside `allowPrivateUrls`, IP literals are checked before
 * connecting, names resolve only to public addresses, and the connected socket's address is
 * checked again. Redirects (301, 302, 303, 307, 308) are followed up to `maxRedirects`, each hop
 * under the same rules; one deadline covers them all; a body over `maxBytes` is cut off.
 */
export function createLogoFetcher(options: LogoFetchOptions): LogoFetcher {
  const { allowPrivateUrls, timeoutMs, maxBytes } = options;
  const maxRedirects = options.maxRedirects ?? LOGO_MAX_REDIRECTS;
  const kindOf = options.addressKind ?? nonPublicAddressKind;
  const lookup = allowPrivateUrls ? undefined : guardedLookup(kindOf, refusal);

  return async (first) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    let url = first;
    for (let hop = 0; ; hop++) {
      const answer = await get(url, deadline);
      if (answer.kind === "logo") return answer.download;
      if (hop >= maxRedirects) throw new LogoDownloadError(`more than ${maxRedirects} redirects`);
      url = answer.location;
    }
  };

  type Answer = { kind: "logo"; download: LogoDownload } | { kind: "redirect"; location: string };

  function get(target: string, deadline: AbortSignal): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      let req: http.ClientRequest | undefined;
      const done = (error: string | null, answer?: Answer) => {
        if (settled) return;
        settled = true;
        deadline.removeEventListener("abort", onTimeout);
        req?.destroy();
        if (error !== null) reject(new LogoDownloadError(error));
        else resolve(answer!);
      };
      const onTimeout = () => done(`no answer within ${timeoutMs} ms`);

      let url: URL;
      try {
        url = new URL(target);
      } catch {
        return done("not an absolute URL");
      }
      if (url.protocol !== "http:" && url.protocol !== "https:")
        return done(`${url.protocol} is neither http nor https`);
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
      // A name no DNS could hold (`a;b.example`) is refused before any lookup is made.
      if (
        !isIP(host) &&
        !/^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?$/i.test(host)
      ) {
        return done("the host is not a valid host name");
      }
      if (!allowPrivateUrls && isIP(host)) {
        const kind = kindOf(host);
        if (kind) return done(refusal(host, kind));
      }
      if (deadline.aborted) return onTimeout();
      deadline.addEventListener("abort", onTimeout, { once: true });

      const client = url.protocol === "https:" ? https : http;
      req = client.request(
        url,
        {
          method: "GET",
          headers: {
            accept: LOGO_CONTENT_TYPES.join(", "),
            "accept-encoding": "identity",
            "user-agent": "Kassa (logo download)",
          },
          // A connection of its own: no pooled socket skips the address checks.
          agent: false,
          lookup,
        },
        (response) => {
          const status = response.statusCode ?? 0;
          const location = response.headers.location;
          if ([301, 302, 303, 307, 308].includes(status) && location) {
            let next: string;
            try {
              next = new URL(location, url).toString();
            } catch {
              return done("a redirect to an invalid URL");
            }
            return done(null, { kind: "redirect", location: next });
          }
          if (status < 200 || status > 299) return done(`the server answered HTTP ${status}`);
          const encoding = response.headers["content-encoding"];
          if (encoding && encoding.toLowerCase() !== "identity") return done(`the answer is ${encoding}-encoded`);
          const length = Number(response.headers["content-length"]);
          if (Number.isFinite(length) && length > maxBytes) return done(`the answer is larger than ${maxBytes} bytes`);
          const chunks: Buffer[] = [];
          let received = 0;
          response.on("data", (chunk: Buffer) => {
            received += chunk.length;
            if (received > maxBytes) return done(`the answer is larger than ${maxBytes} bytes`);
            chunks.push(chunk);
          });
          response.on("end", () =>
            done(null, {
              kind: "logo",
              download: { bytes: Buffer.concat(chunks), contentType: response.headers["content-type"] },
            }),
          );
          response.on("error", (error) => done(describeError(error)));
          response.on("aborted", () => done("the connection closed before the whole answer arrived"));
        },
      );
      if (!allowPrivateUrls) {
        req.on("socket", (socket) => {
          socket.once("connect", () => {
            const address = socket.remoteAddress;
            const kind = address ? kindOf(address) : "not an IP address";
            if (kind) done(refusal(address ?? "(unknown)", kind));
          });
        });
      }
      req.on("error", (error) => done(describeError(error)));
      req.end();
    });
  }
}
