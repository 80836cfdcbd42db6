import type { FastifyReply } from "fastify";

/**
 * What a CSP source may be: scheme, a host of letters, digits, dots and dashes (or an IPv6
 * literal), an optional port. URL parsing lets `;`, `,`, quotes and the like through in host
 * names; in a header they would end the directive or the policy and start the sender's own.
 */
const CSP_SAFE_ORIGIN = /^https?:\/\/(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

/** Origins of the URLs a page's forms may end up at (the session's stored redirect targets). */
export function originsOf(urls: readonly string[]): string[] {
  const origins = new Set<string>();
  for (const url of urls) {
    try {
      const { protocol, origin } = new URL(url);
      if ((protocol === "https:" || protocol === "http:") && CSP_SAFE_ORIGIN.test(origin)) origins.add(origin);
    } catch {
      // Not a URL: nothing to allow.
    }
  }
  return [...origins];
}

/**
 * The page's Content-Security-Policy: no scripts at all, styles from here, images from here and
 * from `imageOrigins` (PUBLIC_URL's, where logos are re-hosted), and forms posting only here.
 * `formTargets` are the origins the session may redirect to: Chromium applies form-action to the
 * redirect that answers a form POST, so without them the 303 to success_url would be blocked.
 */
export function contentSecurityPolicy(
  formTargets: readonly string[] = [],
  imageOrigins: readonly string[] = [],
): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    `img-src ${["'self'", ...imageOrigins, "data:"].join(" ")}`,
    `form-action ${["'self'", ...formTargets].join(" ")}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}

/** Whether the page is served over https (the scheme of PUBLIC_URL, in whatever case it was written). */
export const servedOverHttps = (publicUrl: string) => /^https:/i.test(publicUrl);

/** Headers every hosted-page response carries, unless the handler set its own value. */
export function securityHeaders(https: boolean): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "cross-origin-opener-policy": "same-origin",
    ...(https ? { "strict-transport-security": "max-age=31536000" } : {}),
  };
}

export function applySecurityHeaders(reply: FastifyReply, headers: Record<string, string>) {
  for (const [name, value] of Object.entries(headers)) {
    if (!reply.hasHeader(name)) reply.header(name, value);
  }
}
