/**
 * The closed set of errors the core can raise. Each API adapter maps every code once to its own
 * wire format and status (see src/api/<vendor>/<vendor>.errors.ts); nothing else reaches a client.
 */
export const ErrorCodes = {
  invalid_parameters: "invalid_parameters",
  invalid_pagination: "invalid_pagination",
  invalid_subaccount: "invalid_subaccount",
  not_found: "not_found",
  forbidden: "forbidden",
  unauthenticated: "unauthenticated",
  conflict: "conflict",
  /** The object is not in a state that allows this (paying an expired session, cancelling a fulfilled order). */
  invalid_state: "invalid_state",
  /** The catalogue has too few credits left to fulfil an order (by its portfolio or an explicit allocation). */
  insufficient_credits: "insufficient_credits",
  idempotency_key_too_long: "idempotency_key_too_long",
  idempotency_key_required: "idempotency_key_required",
  idempotency_changed_payload: "idempotency_changed_payload",
  idempotency_concurrent_requests: "idempotency_concurrent_requests",
  rate_limited: "rate_limited",
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** Field name -> reasons, as the CNaught `errors` map and most validation formats want it. */
export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: {
      fields?: FieldErrors;
      /** The fields are named as the request named them (an adapter's own checks), not by core paths. */
      fieldsAsSent?: boolean;
      resource?: string;
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(message);
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

export const invalidParameters = (fields: FieldErrors, message = "Your request parameters didn't validate") =>
  new AppError("invalid_parameters", message, { fields });

export const invalidParameter = (field: string, reason: string) => invalidParameters({ [field]: [reason] });

/** Invalid input found by an adapter, its fields named as the request named them (already in wire terms). */
export const invalidRequestFields = (fields: FieldErrors, message = "Your request parameters didn't validate") =>
  new AppError("invalid_parameters", message, { fields, fieldsAsSent: true });

export const invalidPagination = (reason: string) => new AppError("invalid_pagination", reason);

export const invalidSubaccount = (id: string) =>
  new AppError("invalid_subaccount", `Subaccount '${id}' does not exist or does not belong to this account`);

/** Also the answer for another tenant's object: its existence is not revealed. */
export const notFound = (resource: string, id: string) =>
  new AppError("not_found", `Could not find ${resource.replaceAll("_", " ")} '${id}'`, { resource });

export const unauthenticated = () => new AppError("unauthenticated", "Authorization has been denied for this request");

export const conflict = (message: string) => new AppError("conflict", message);

export const invalidState = (message: string) => new AppError("invalid_state", message);

export const insufficientCredits = (message: string) => new AppError("insufficient_credits", message);

export const idempotencyKeyTooLong = (max: number) =>
  new AppError("idempotency_key_too_long", `The Idempotency-Key header must be at most ${max} characters`);

export const idempotencyKeyRequired = () =>
  new AppError("idempotency_key_required", "An Idempotency-Key header is required on this request");

export const idempotencyChangedPayload = () =>
  new AppError(
    "idempotency_changed_payload",
    "This Idempotency-Key was already used with a different request; use a new key for a new request",
  );

export const idempotencyConcurrentRequests = () =>
  new AppError(
    "idempotency_concurrent_requests",
    "A request with this Idempotency-Key is still being processed; retry after it has finished",
  );

export const rateLimited = (retryAfterSeconds: number) =>
  new AppError("rate_limited", `Too many requests; retry after ${retryAfterSeconds} seconds`, { retryAfterSeconds });

export const forbidden = (message: string) => new AppError("forbidden", message);
