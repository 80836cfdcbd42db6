import { expect } from "vitest";
import type { apiClient } from "../../helpers/app.js";

/** Shared assertions for the CNaught API tests (not a test file itself). */

export type ApiResponse = Awaited<ReturnType<ReturnType<typeof apiClient>>>;

export const ERROR_BASE = "https://api.cnaught.com/v1/errors/";

export const UNAUTHORIZED_BODY = { title: "Authorization has been denied for this request", status: 401 };

/** UTC, six fractional digits: 2022-07-31T18:00:00.000000Z */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A valid checkout session request; override what a test is about. */
export const sessionParams = (overrides: Record<string, unknown> = {}) => ({
  amount_kg: 100,
  success_url: "https://shop.example/ok?session_id={CHECKOUT_SESSION_ID}",
  cancel_url: "https://shop.example/cancel",
  ...overrides,
});

/** A problem+json answer with the given status and `type` slug, carrying the request's id. */
export function expectProblem(res: ApiResponse, status: number, slug: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: ERROR_BASE + slug, status });
  expect(typeof res.body.title).toBe("string");
  expect(res.body.title.length).toBeGreaterThan(0);
  expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
}

/** A 400 invalid-parameters problem whose `errors` map names exactly `fields`, each with reasons. */
export function expectInvalid(res: ApiResponse, ...fields: string[]) {
  expectProblem(res, 400, "invalid-parameters");
  expect(res.body.title).toBe("Your request parameters didn't validate");
  expect(Object.keys(res.body.errors ?? {}).sort()).toEqual([...fields].sort());
  for (const field of fields) {
    expect(res.body.errors[field].length).toBeGreaterThan(0);
    for (const reason of res.body.errors[field]) expect(typeof reason).toBe("string");
  }
}

/** The exact CNaught 401: no type, no request_id, nothing else. */
export function expectUnauthorized(res: ApiResponse) {
  expect(res.status).toBe(401);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(res.text)).toStrictEqual(UNAUTHORIZED_BODY);
  expect(res.headers.get("x-request-id")).toBeTruthy();
}

/**
 * A response body with request_id dropped and the given ids replaced by a placeholder, so the
 * answer for one id can be compared with the answer for another.
 */
export function normalised(res: ApiResponse, ...ids: string[]) {
  let text = JSON.stringify({ ...res.body, request_id: undefined });
  for (const id of ids) text = text.replaceAll(id, "<id>");
  return { status: res.status, contentType: res.headers.get("content-type"), body: JSON.parse(text) };
}

/** An id of CNaught's shape that no test ever creates. */
export const unknownId = (length = 10) => `${"Zz".repeat(length).slice(0, length - 1)}0`;
