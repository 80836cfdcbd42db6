import { z } from "zod";
import { CNAUGHT_ERROR_BASE } from "./cnaught.errors.js";

/** Schemas shared by every CNaught route: headers, problem bodies, list envelopes. */

export const subaccountHeader = z.object({
  // Any value is looked up: an unknown one (empty, too long) is invalid-subaccount, not a schema error.
  "x-subaccount-id": z
    .string()
    .optional()
    .describe("If present, scopes the operation to the subaccount with given id."),
});

export const idParams = z.object({ id: z.string().min(1).max(64) });

export const ProblemDetails = z
  .object({
    type: z.string().describe(`URI that identifies the problem type, under ${CNAUGHT_ERROR_BASE}`),
    title: z.string().describe("Short, human-readable summary of the problem"),
    status: z.number().int().describe("HTTP status code of the error"),
    detail: z.string().optional().describe("Longer, human-readable description of the problem"),
    request_id: z.string().optional().describe("The request's id, as echoed in X-Request-Id"),
  })
  .meta({ id: "ProblemDetails" });

export const BadRequestProblemDetails = ProblemDetails.extend({
  errors: z
    .record(z.string(), z.array(z.string()))
    .nullable()
    .optional()
    .describe("Invalid properties object where each property is the key, mapped to a list of reasons"),
}).meta({ id: "BadRequestProblemDetails" });

export const UnauthorizedProblem = z
  .object({ title: z.string(), status: z.number().int() })
  .meta({ id: "UnauthorizedProblemDetails" });

export const problem = (schema: z.ZodType, description: string) => ({
  description,
  content: { "application/problem+json": { schema } },
});

/** A problem response (no field map) with a description of its own, for the OpenAPI document. */
export const describedProblem = (description: string) => problem(ProblemDetails, description);

/** Error responses for the OpenAPI document (bodies are sent pre-serialised by the error handler). */
export const errorResponses = {
  400: problem(BadRequestProblemDetails, "Bad Request"),
  401: problem(UnauthorizedProblem, "Request Unauthorized"),
  404: problem(ProblemDetails, "Not Found"),
  429: problem(ProblemDetails, "Too Many Requests (see Retry-After)"),
} as const;

/** What a POST may also answer because of its Idempotency-Key. */
export const idempotencyErrorResponses = {
  409: problem(ProblemDetails, "A request with this Idempotency-Key is still in flight"),
  422: problem(ProblemDetails, "This Idempotency-Key was used with a different request"),
} as const;

/** A JSON number that is also checked to be finite (the core turns it into an exact decimal). */
export const amountKg = z
  .number()
  .describe("Amount of carbon credits, in kilograms")
  .meta({ examples: [100] });
