import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { createMerchant, type TestApp } from "../../helpers/app.js";

/**
 * A LeanRails client as a merchant would write it from the vendor's docs (leanrails.md, seed
 * 003): HTTP Basic with the secret key as user name and an empty password, JSON bodies, and an
 * Idempotency-Key on every POST. Not the server's schemas: what the docs promise.
 */
export interface LeanRailsResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface CallOptions {
  body?: unknown;
  /** The POST's Idempotency-Key: a fresh one by default; null sends none. */
  idempotencyKey?: string | null;
  headers?: Record<string, string>;
}

export const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString("base64")}`;

export function leanRailsClient(baseUrl: string, key: string | null) {
  return async (method: string, path: string, options: CallOptions = {}): Promise<LeanRailsResponse> => {
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = basic(key);
    if (method === "POST" && options.idempotencyKey !== null) {
      headers["idempotency-key"] = options.idempotencyKey ?? randomUUID();
    }
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(baseUrl + path, {
      method,
      headers: { ...headers, ...options.headers },
      body:
        options.body === undefined
          ? undefined
          : typeof options.body === "string"
            ? options.body
            : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    return { status: response.status, headers: response.headers, body, text };
  };
}

export type LeanRailsClient = ReturnType<typeof leanRailsClient>;

/** A new merchant with a LeanRails client holding its secret key. */
export async function leanRailsMerchant(t: Pick<TestApp, "services" | "url">) {
  const merchant = await createMerchant(t.services);
  return { ...merchant, lr: leanRailsClient(t.url, merchant.key) };
}

/** Two EUR items: 2 × T-shirt at 20.00 and 1 × Mug at 8.50. */
export const twoEuroItems = () => [
  { quantity: 2, price_data: { currency: "eur", product: "T-shirt", unit_amount: 2000, tax_behavior: "inclusive" } },
  { quantity: 1, price_data: { currency: "eur", product: "Mug", unit_amount: 850 } },
];

/** A valid create request; override what a test is about. */
export const sessionParams = (overrides: Record<string, unknown> = {}) => ({
  mode: "payment",
  line_items: twoEuroItems(),
  success_url: "https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}",
  cancel_url: "https://shop.example/cart",
  ...overrides,
});

/** Every field of seed 003's response object. */
export const SESSION_FIELDS = [
  "id",
  "object",
  "mode",
  "status",
  "payment_status",
  "ui_mode",
  "customer_creation",
  "billing_address_collection",
  "expires_at",
  "metadata",
  "livemode",
  "created",
  "url",
  "client_secret",
  "success_url",
  "cancel_url",
  "customer",
  "customer_email",
  "customer_details",
  "payment_intent",
  "currency",
  "amount_subtotal",
  "amount_total",
  "total_details",
  "client_reference_id",
].sort();

/** A LeanRails error: `{"error": {type, code, message, param, doc_url}}` and nothing else. */
export function expectError(
  res: LeanRailsResponse,
  status: number,
  expected: { type?: string; code: string; param?: string | null },
) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(["error"]);
  const error = res.body.error;
  expect(Object.keys(error).sort()).toEqual(["code", "doc_url", "message", "param", "type"]);
  expect(error.type).toBe(expected.type ?? "invalid_request_error");
  expect(error.code).toBe(expected.code);
  expect(typeof error.message).toBe("string");
  expect(error.message.length).toBeGreaterThan(0);
  if (expected.param !== undefined) expect(error.param).toBe(expected.param);
  expect(error.doc_url).toBe(
    expected.code === "rate_limit_exceeded"
      ? "https://docs.leanrails.com/guides/rate-limiting"
      : `https://docs.leanrails.com/errors/${expected.code}`,
  );
}
