import { z } from "zod";
import { LEANRAILS_API_VERSIONS } from "./api-versions.js";
import { DOC_BASE } from "./leanrails.errors.js";

/**
 * Schemas shared by every LeanRails route: headers, the error body, list envelopes. Component
 * names start with `LeanRails` so they never collide with another API's in the shared registry.
 */

export const apiVersionHeader = z.object({
  "x-api-version": z
    .string()
    .optional()
    .describe(
      `The API version for this request (${LEANRAILS_API_VERSIONS.join(", ")}); defaults to the installation's. Echoed on every response.`,
    ),
});

export const idParams = z.object({ id: z.string().min(1).max(255) });

/** `limit`, `starting_after`, `ending_before`, as every LeanRails list takes them. */
export const ListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional().describe("How many objects to return (1-100, default 10)"),
  starting_after: z.string().min(1).max(255).optional().describe("An object id: return the objects after it"),
  ending_before: z.string().min(1).max(255).optional().describe("An object id: return the objects before it"),
});

/** A list envelope around `item`: `{object: "list", data, has_more, url, next_cursor}`. */
export const listOf = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      object: z.literal("list"),
      data: z.array(item),
      has_more: z.boolean(),
      url: z.string(),
      next_cursor: z
        .string()
        .nullable()
        .describe("The id to pass as starting_after for the next page; null on the last"),
    })
    .meta({ id });

export const ErrorBody = z
  .object({
    error: z.object({
      type: z.enum(["invalid_request_error", "authentication_error", "rate_limit_error", "payment_error", "api_error"]),
      code: z.string(),
      message: z.string(),
      param: z.string().nullable().describe("The parameter (or header) the error is about, or null"),
      doc_url: z.string().describe(`${DOC_BASE}/errors/<code>`),
    }),
  })
  .meta({ id: "LeanRailsError" });

const error = (description: string) => ({ description, content: { "application/json": { schema: ErrorBody } } });

/** Error responses for the OpenAPI document (bodies are sent pre-serialised by the error handler). */
export const errorResponses = {
  400: error("Invalid request (parameter_invalid, parameter_missing)"),
  401: error("Invalid API key (authentication_failed)"),
  404: error("No such object (resource_missing)"),
  429: error("Too many requests (rate_limit_exceeded; see Retry-After)"),
} as const;

/** What a POST may also answer because of its Idempotency-Key. */
export const idempotencyErrorResponses = {
  409: error("A request with this Idempotency-Key is still in flight (idempotency_key_in_use)"),
  422: error("This Idempotency-Key was used with other parameters (idempotency_key_reuse)"),
} as const;
