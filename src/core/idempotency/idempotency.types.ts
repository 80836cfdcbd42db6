import type { Db, Prisma } from "../../db/database.js";

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

/**
 * How a write records its Idempotency-Key with what it creates, so the objects and the response
 * that reports them commit together or not at all. An API adapter makes one for a request that
 * brought a key (it knows how to render the response); the core's services take it as data.
 */
export interface WithinWrite<T> {
  /**
   * For a write made in a transaction: stores the response for `result` in `tx`. When the key
   * turns out to hold another request's response already, it throws KeyAnswered, which rolls the
   * transaction back; `writeInTransaction` turns that into a replay.
   */
  inTransaction(tx: Db, result: T): Promise<void>;
  /**
   * For a write made in one statement: SQL to run first as a CTE, the write going ahead only if
   * it returns a row. The SQL may instead fail the statement when the key is taken: `isRefusal`
   * recognises that failure, which is then treated as no row. When it returns none, `refused`
   * says why: "retry" (the way is clear now), or the stored response to replay; or it throws
   * (changed payload, concurrent request).
   */
  statement(result: T): {
    sql: Prisma.Sql;
    isRefusal?(error: unknown): boolean;
    refused(): Promise<"retry" | StoredResponse>;
  };
}

/** What a write with an idempotency record came to: its own result, or the stored response of the key's first request. */
export type Written<T> = { kind: "written"; result: T } | { kind: "replay"; response: StoredResponse };

/** Rolls back a write whose key was answered already; never leaves the core (see writeInTransaction). */
export class KeyAnswered extends Error {
  override name = "KeyAnswered";
  constructor(readonly response: StoredResponse) {
    super("idempotency key already answered");
  }
}

/** Runs `write` in a transaction; a write whose key was answered already rolls back and replays. */
export async function writeInTransaction<T>(
  transaction: <R>(fn: (tx: Db) => Promise<R>) => Promise<R>,
  write: (tx: Db) => Promise<T>,
): Promise<Written<T>> {
  try {
    return { kind: "written", result: await transaction(write) };
  } catch (error) {
    if (error instanceof KeyAnswered) return { kind: "replay", response: error.response };
    throw error;
  }
}
