import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const CSRF_COOKIE = "kassa_csrf";
export const CSRF_FIELD = "csrf_token";

/** 32 random bytes, base64url: what the cookie holds. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;
/** Cookies beyond this many of our name are not looked at (a flood from a sibling subdomain). */
const MAX_CANDIDATES = 4;

/** The well-formed values of our cookie in a Cookie header, in the order the browser sent them. */
export function csrfCookieValues(header: string | undefined): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== CSRF_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (COOKIE_VALUE.test(value)) values.push(value);
    if (values.length === MAX_CANDIDATES) break;
  }
  return values;
}

/**
 * Double-submit CSRF protection bound to the server's secret: the browser holds a random
 * HttpOnly cookie, and each form carries HMAC(secret, cookie + session id). A cross-site page
 * can neither read the cookie nor compute the token, and a cookie planted from a sibling
 * subdomain is useless without the secret.
 */
export function createCsrf(secret: () => Promise<string>, options: { secureCookie: boolean }) {
  const tokenFor = async (cookie: string, sessionId: string) =>
    createHmac("sha256", await secret())
      .update(`${cookie}.${sessionId}`)
      .digest("base64url");

  return {
    newCookieValue: () => randomBytes(32).toString("base64url"),
    /** Session-lifetime cookie, sent back only to the hosted page's own paths. */
    setCookieHeader: (value: string) =>
      `${CSRF_COOKIE}=${value}; Path=/pay; HttpOnly; SameSite=Lax${options.secureCookie ? "; Secure" : ""}`,
    tokenFor,
    /** Whether `token` was issued for one of the cookies the browser sent, for this session. */
    async verify(cookies: string[], sessionId: string, token: string | undefined): Promise<boolean> {
      if (!token || cookies.length === 0) return false;
      const given = Buffer.from(token);
      let ok = false;
      for (const cookie of cookies) {
        const expected = Buffer.from(await tokenFor(cookie, sessionId));
        if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
      }
      return ok;
    },
  };
}

export type Csrf = ReturnType<typeof createCsrf>;
