import type { TestApp } from "../../helpers/app.js";
import { createMerchantApi } from "../../helpers/app.js";

/** A merchant with a session created through the CNaught API, as a shop would. */
export async function createSession(
  t: Pick<TestApp, "services" | "url">,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const merchant = await createMerchantApi(t);
  const res = await merchant.api(
    "POST",
    "/v1/checkout/sessions",
    {
      amount_kg: 100,
      success_url: "https://shop.example/thanks?session={CHECKOUT_SESSION_ID}",
      cancel_url: "https://shop.example/cart",
      ...params,
    },
    headers,
  );
  if (res.status !== 201) throw new Error(`creating a session: ${res.status} ${res.text}`);
  return { merchant, session: res.body as { id: string; checkout_url: string; [k: string]: unknown } };
}

export interface PageResponse {
  status: number;
  headers: Headers;
  html: string;
}

async function page(response: Response): Promise<PageResponse> {
  return { status: response.status, headers: response.headers, html: await response.text() };
}

/** GET the hosted page like a browser; returns the page and the CSRF cookie and token it handed out. */
export async function openPage(baseUrl: string, id: string, cookie?: string) {
  const response = await fetch(`${baseUrl}/pay/${encodeURIComponent(id)}`, {
    headers: cookie ? { cookie } : {},
  });
  const result = await page(response);
  const setCookie = response.headers.get("set-cookie");
  const issued = setCookie ? /^(kassa_csrf=[^;]+)/.exec(setCookie)?.[1] : undefined;
  return {
    ...result,
    setCookie,
    cookie: issued ?? cookie,
    csrf: /name="csrf_token" value="([^"]*)"/.exec(result.html)?.[1],
  };
}

export const GOOD_CARD = { card_number: "4242 4242 4242 4242", expiry: "12 / 34", cvc: "123", name: "Ada Lovelace" };

/** POST the card form (urlencoded) without following redirects. */
export async function submit(
  baseUrl: string,
  id: string,
  fields: Record<string, string>,
  opts: { cookie?: string; headers?: Record<string, string> } = {},
): Promise<PageResponse> {
  const response = await fetch(`${baseUrl}/pay/${encodeURIComponent(id)}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(opts.cookie ? { cookie: opts.cookie } : {}),
      ...opts.headers,
    },
    body: new URLSearchParams(fields).toString(),
  });
  return page(response);
}

/** Opens the page and submits `fields` with its cookie and token, as a browser would. */
export async function pay(baseUrl: string, id: string, fields: Record<string, string> = GOOD_CARD) {
  const opened = await openPage(baseUrl, id);
  if (!opened.csrf || !opened.cookie) throw new Error(`no form on the page (status ${opened.status})`);
  return submit(baseUrl, id, { ...fields, csrf_token: opened.csrf }, { cookie: opened.cookie });
}

/** The text of the element with this id (first match), tags stripped; undefined when absent. */
export function textOf(html: string, id: string): string | undefined {
  const match = new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(html);
  return match?.[2]?.replace(/<[^>]+>/g, "").trim();
}

/** The attributes of the <input> with this id, as a map. */
export function inputAttributes(html: string, id: string): Record<string, string> | undefined {
  const tag = new RegExp(`<input[^>]*\\bid="${id}"[^>]*>`).exec(html)?.[0];
  if (!tag) return undefined;
  const attrs: Record<string, string> = {};
  for (const m of tag.matchAll(/\s([a-z-]+)(?:="([^"]*)")?/g)) attrs[m[1]!] = m[2] ?? "";
  return attrs;
}
