import { expect } from "vitest";
import type { ApiResponse } from "../cnaught/support.js";
import { ERROR_BASE } from "../cnaught/support.js";

/** Shared pieces of the idempotency tests (not a test file itself). */

/** Rate limiting off: these tests fire bursts on purpose, and limits are tested elsewhere. */
export const NO_RATE_LIMIT = { RATE_LIMIT_MAX: "0" };

let counter = 0;
/** A key no other test uses. */
export const newKey = (label = "key") => `${label}-${process.pid}-${Date.now()}-${++counter}`;

export const withKey = (key: string, headers: Record<string, string> = {}) => ({ "idempotency-key": key, ...headers });

export const isReplay = (res: ApiResponse) => res.headers.get("x-idempotent-replay") === "true";

/** `replay` is `original` sent again: same status, bytes, content type and Location, marked as a replay. */
export function expectReplayOf(replay: ApiResponse, original: ApiResponse) {
  expect(replay.status, replay.text).toBe(original.status);
  expect(replay.text).toBe(original.text);
  expect(replay.headers.get("content-type")).toBe(original.headers.get("content-type"));
  expect(replay.headers.get("location")).toBe(original.headers.get("location"));
  expect(replay.headers.get("x-idempotent-replay")).toBe("true");
  expect(original.headers.get("x-idempotent-replay")).toBeNull();
}

/** A CNaught problem for one of the idempotency errors (status and type URI). */
export function expectIdempotencyProblem(res: ApiResponse, status: number, slug: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: ERROR_BASE + slug, status });
  expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
  expect(isReplay(res)).toBe(false);
}

/**
 * The answers to N requests sent at once with one key: exactly one ran (no replay header); every
 * other one is that answer replayed or a 409 idempotency-concurrent-requests. Returns the original.
 */
export function expectOneOriginal(responses: ApiResponse[], status = 201): ApiResponse {
  const originals = responses.filter((r) => r.status === status && !isReplay(r));
  expect(originals, JSON.stringify(responses.map((r) => [r.status, r.text]))).toHaveLength(1);
  const original = originals[0]!;
  for (const res of responses) {
    if (res === original) continue;
    if (res.status === 409) expectIdempotencyProblem(res, 409, "idempotency-concurrent-requests");
    else expectReplayOf(res, original);
  }
  return original;
}
