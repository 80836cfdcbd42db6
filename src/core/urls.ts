import { isIP } from "node:net";
import { SESSION_ID_TEMPLATE } from "./checkout-sessions/checkout-sessions.types.js";
import { nonPublicAddressKind } from "./webhooks/addresses.js";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
/** `{CHECKOUT_SESSION_ID}` as URL parsing leaves it in a host name (lower-cased). */
const SESSION_ID_TEMPLATE_IN_HOST = SESSION_ID_TEMPLATE.toLowerCase();

/**
 * Why a customer-facing redirect URL is unacceptable, or null when it is fine: it must be
 * absolute https, or plain http on localhost/127.0.0.1 so local development works. Without
 * `allowLocal` (production), a host on the customer's own machine or network (localhost, a
 * loopback or private IP literal) is refused, over https too.
 */
export function redirectUrlProblem(value: string, options: { allowLocal?: boolean } = {}): string | null {
  const key = `${options.allowLocal === false ? "0" : "1"}${value}`;
  const known = checkedRedirects.get(key);
  if (known !== undefined) return known;
  const problem = redirectProblem(value, options);
  if (checkedRedirects.size >= CHECKED_REDIRECTS_MAX) checkedRedirects.clear();
  checkedRedirects.set(key, problem);
  return problem;
}

/**
 * Verdicts on recent redirect URLs. A shop sends the same few success and cancel URLs with
 * every session, and each is checked by the session's API and again by the core: parsing them
 * anew each time was a visible part of a create's CPU. Bounded: emptied when full.
 */
const checkedRedirects = new Map<string, string | null>();
const CHECKED_REDIRECTS_MAX = 1024;

function redirectProblem(value: string, options: { allowLocal?: boolean }): string | null {
  // URL parsing forgives surrounding spaces and strips tabs/newlines; a stored redirect target
  // must be exactly what is followed, so refuse them instead.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what it refuses
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return "must not contain whitespace or control characters";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL";
  }
  // WHATWG parsing lets `;`, `,`, `'`, `{`… through in host names; no real host has them, and they
  // would end up in the hosted page's Content-Security-Policy (form-action) as text.
  const host = url.hostname.replaceAll(SESSION_ID_TEMPLATE_IN_HOST, "id"); // the template may name a subdomain
  if (!/^([a-z0-9_-]+\.)*[a-z0-9_-]+\.?$|^\[[0-9a-f:.]+\]$/i.test(host)) return "must have a valid host name";
  if (options.allowLocal === false) {
    return privateHostProblem(value) ?? (url.protocol === "https:" ? null : "must be an https URL");
  }
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname)) return null;
  return "must be an https URL (http is allowed only for localhost and 127.0.0.1)";
}

/** Why a public https resource URL (a logo, an image) is unacceptable, or null. */
export function httpsUrlProblem(value: string): string | null {
  try {
    return new URL(value).protocol === "https:" ? null : "must be an https URL";
  } catch {
    return "must be an absolute https URL";
  }
}

/** Why a server-to-server URL (notification callback, logo) is unacceptable, or null. */
export function httpUrlProblem(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? null : "must be an http or https URL";
  } catch {
    return "must be an absolute URL";
  }
}

/**
 * Why a server-to-server URL names a host the server itself or its network answers for
 * (`localhost`, a loopback or private IP literal), or null. Names are checked again against
 * what they resolve to when the request is made (src/core/webhooks/transport.ts).
 */
export function privateHostProblem(value: string): string | null {
  let host: string;
  try {
    host = new URL(value).hostname
      .replace(/^\[(.*)\]$/, "$1")
      .replace(/\.$/, "")
      .toLowerCase();
  } catch {
    return null;
  }
  if (host === "localhost" || host.endsWith(".localhost")) return "must not point at localhost";
  const kind = isIP(host) ? nonPublicAddressKind(host) : null;
  return kind ? `must not point at a ${kind} address (${host})` : null;
}
