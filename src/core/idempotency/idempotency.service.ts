import type { Db } from "../../db/database.js";
import { idempotencyChangedPayload, idempotencyConcurrentRequests } from "../errors.js";
import { newId } from "../ids.js";
import { addHours, type Clock } from "../time.js";
import type { IdempotencyRepository, NewClaim } from "./idempotency.repository.js";
import {
  type BeginOutcome,
  IDEMPOTENCY_KEY_TTL_HOURS,
  IDEMPOTENCY_LEASE_MS,
  type IdempotencyClaim,
  type IdempotencyRecord,
  type StoredResponse,
} from "./idempotency.types.js";

/** How many times begin() looks again when the key changes between its statements (a release, a take-over). */
const BEGIN_ATTEMPTS = 5;

/** How many expired keys one prune statement deletes. */
const PRUNE_BATCH = 1000;

/**
 * Idempotency keys, for any API: the API layer decides what a key is, how long it may be and
 * what makes two requests the same (the request hash); this decides, exactly and under
 * concurrency, whether a request runs, replays a stored response or is refused.
 *
 * The two phases:
 * 1. begin() claims the key in its own short statement (an insert the unique index arbitrates),
 *    so concurrent requests with one key see each other at once.
 * 2. complete() stores the response inside the write's own transaction, so the objects the
 *    request created and the response that reports them commit together or not at all.
 */
export function createIdempotencyService(deps: {
  keys: IdempotencyRepository;
  clock: Clock;
  leaseMs?: number;
  ttlHours?: number;
}) {
  const { keys, clock } = deps;
  const leaseMs = deps.leaseMs ?? IDEMPOTENCY_LEASE_MS;
  const ttlHours = deps.ttlHours ?? IDEMPOTENCY_KEY_TTL_HOURS;

  const newClaim = (claim: IdempotencyClaim, now: Date): NewClaim => ({
    accountId: claim.accountId,
    scope: claim.scope,
    api: claim.api,
    key: claim.key,
    requestHash: claim.requestHash,
    id: newId.idempotencyKey(),
    lockedUntil: new Date(now.getTime() + leaseMs),
    createdAt: now,
    expiresAt: addHours(now, ttlHours),
  });

  const proceed = (claim: NewClaim): BeginOutcome => ({
    kind: "proceed",
    record: { ...claim, state: "in_flight", response: null },
  });

  /**
   * A key nobody holds any more, treated as absent: past its expiry, or in flight for a request
   * whose lease has passed (it died before committing, so it left nothing behind).
   */
  const isAbandoned = (record: IdempotencyRecord, now: Date) =>
    record.expiresAt <= now ||
    (record.state === "in_flight" && (record.lockedUntil === null || record.lockedUntil <= now));

  /**
   * What an existing row means for a request bringing `claim`: the key is free after all (it was
   * abandoned and is now deleted, or another request changed it: look again), or its stored
   * response is to be replayed; or it throws idempotency_changed_payload (another request's
   * key) or idempotency_concurrent_requests (its request is still running).
   */
  async function judge(
    existing: IdempotencyRecord | null,
    claim: IdempotencyClaim,
    now: Date,
    takeOver: (existing: IdempotencyRecord) => Promise<boolean>,
  ): Promise<{ kind: "free" } | { kind: "replay"; response: StoredResponse } | { kind: "taken" }> {
    if (!existing) return { kind: "free" }; // released between our statements: look again
    if (isAbandoned(existing, now)) return (await takeOver(existing)) ? { kind: "taken" } : { kind: "free" };
    if (existing.requestHash !== claim.requestHash) throw idempotencyChangedPayload();
    if (existing.state === "complete" && existing.response) return { kind: "replay", response: existing.response };
    throw idempotencyConcurrentRequests();
  }

  return {
    /**
     * Claims `claim.key` for this request, or says why not. Throws idempotency_changed_payload
     * when the key was used for a different request, idempotency_concurrent_requests while
     * another request holds it.
     */
    async begin(claim: IdempotencyClaim): Promise<BeginOutcome> {
      for (let attempt = 0; attempt < BEGIN_ATTEMPTS; attempt++) {
        const now = clock();
        const fresh = newClaim(claim, now);
        if (await keys.insertIfAbsent(fresh)) return proceed(fresh);
        const verdict = await judge(await keys.find(claim), claim, now, (existing) => keys.replace(existing, fresh));
        if (verdict.kind === "taken") return proceed(fresh);
        if (verdict.kind === "replay") return verdict;
      }
      // The key kept changing between our statements: other requests are racing for it.
      throw idempotencyConcurrentRequests();
    },

    /**
     * Stores the request's response. Pass the write's transaction (`tx`) so that the response
     * commits with what the request created; without one it is its own statement (for requests
     * that write nothing). Throws idempotency_concurrent_requests when the request no longer holds
     * the key (its lease passed and a retry took the key over): the write's transaction then rolls
     * back, and only the retry's result stands.
     */
    async complete(record: IdempotencyRecord, response: StoredResponse, tx?: Db): Promise<void> {
      if (!(await keys.run(keys.completeStatement(record, response), tx))) throw idempotencyConcurrentRequests();
    },

    /**
     * complete() as SQL for a write made in one statement (see WithinWrite): it returns no row
     * when the request no longer holds the key, and the write then does not happen.
     */
    completion: (record: IdempotencyRecord, response: StoredResponse) => keys.completeStatement(record, response),

    /**
     * The other way to use a key, for writes made in one statement: no claim beforehand; the
     * write itself records the key, complete with its response (see WithinWrite). Concurrent
     * requests with one key are ordered by the primary key: the second waits for the first to
     * commit and then finds its response. `sql` fails its statement when the key is there
     * (`isTaken(error)` says so); `run` returns false instead. `refused` then says what the key
     * holds: it replays (returns the stored response), throws changed_payload or
     * concurrent_requests, or returns "retry" when the row in the way was abandoned and is gone.
     */
    claimWithWrite(claim: IdempotencyClaim, response: StoredResponse) {
      const fresh = newClaim(claim, clock());
      return {
        sql: keys.insertCompleteStatement(fresh, response),
        isTaken: (error: unknown) => keys.isKeyTaken(error),
        /** Runs the statement on its own (or in `tx`): whether it recorded the key (false: it was there). */
        run: (tx?: Db) => keys.run(keys.insertCompleteStatement(fresh, response, { ifAbsent: true }), tx),
        /** In `tx` when the write's transaction is still open (the embedded store runs one at a time). */
        refused: async (tx?: Db): Promise<"retry" | { kind: "replay"; response: StoredResponse }> => {
          const verdict = await judge(await keys.find(claim, tx), claim, clock(), (existing) =>
            keys.deleteIfUnchanged(existing, tx),
          );
          return verdict.kind === "replay" ? verdict : "retry";
        },
      };
    },

    /** The stored response for a request that brings `claim` again, if there is one (else null). */
    async replayFor(claim: IdempotencyClaim): Promise<StoredResponse | null> {
      const verdict = await judge(await keys.find(claim), claim, clock(), async () => false);
      return verdict.kind === "replay" ? verdict.response : null;
    },

    /**
     * Forgets the claim of a request that failed, so the key can be used again (after fixing
     * the request). A key already completed, or taken over by a retry, is left as it is.
     */
    async release(record: IdempotencyRecord): Promise<void> {
      await keys.deleteInFlight(record);
    },

    /** Deletes keys past their expiry (kept `ttlHours`); returns how many. For the background workers. */
    async prune(now: Date = clock()): Promise<number> {
      let total = 0;
      for (;;) {
        const deleted = await keys.deleteExpired(now, PRUNE_BATCH);
        total += deleted;
        if (deleted < PRUNE_BATCH) return total;
      }
    },
  };
}

export type IdempotencyService = ReturnType<typeof createIdempotencyService>;
