/** How long a key is remembered: a retry within this window replays, after it the key is free again. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;

/**
 * How long a request may hold its key in flight. A request that has not stored its response by
 * then is presumed dead (its process crashed before committing), and a retry may take the key
 * over. Well above the request timeout, so a live request is never overtaken in practice; and if
 * it were, it could not store its response (see IdempotencyService.complete) and rolls back.
 */
export const IDEMPOTENCY_LEASE_MS = 60_000;

/** One request's claim on a key, as the API layer presents it. */
export interface IdempotencyClaim {
  accountId: string;
  /** The subaccount the request was scoped to, or "" for the account itself. */
  scope: string;
  /** Which API the key was sent to; each API has its own key space. */
  api: string;
  key: string;
  /** A digest of everything that makes two requests "the same request" for this API. */
  requestHash: string;
}

/** A response exactly as it was sent, to be sent again on a replay. */
export interface StoredResponse {
  status: number;
  /** Headers to replay, lower-case names (content-type, location). */
  headers: Record<string, string>;
  /** The exact body text that was sent. */
  body: string;
}

export type IdempotencyState = "in_flight" | "complete";

export interface IdempotencyRecord extends IdempotencyClaim {
  /** Changes whenever a request takes the key over, so a dead request's late writes cannot land. */
  id: string;
  state: IdempotencyState;
  lockedUntil: Date | null;
  createdAt: Date;
  expiresAt: Date;
  response: StoredResponse | null;
}

/** What a request may do with its key: replay the stored response, or go ahead and run. */
export type BeginOutcome =
  | { kind: "replay"; response: StoredResponse }
  | { kind: "proceed"; record: IdempotencyRecord };
