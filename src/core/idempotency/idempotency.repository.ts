import { type Db, Prisma } from "../../db/database.js";
import type { IdempotencyClaim, IdempotencyRecord, IdempotencyState, StoredResponse } from "./idempotency.types.js";

type Row = NonNullable<Awaited<ReturnType<Db["idempotencyKey"]["findUnique"]>>>;

const toRecord = (row: Row): IdempotencyRecord => ({
  id: row.id,
  accountId: row.accountId,
  scope: row.scope,
  api: row.api,
  key: row.key,
  requestHash: row.requestHash,
  state: row.state as IdempotencyState,
  lockedUntil: row.lockedUntil,
  createdAt: row.createdAt,
  expiresAt: row.expiresAt,
  response:
    row.responseStatus === null || row.responseBody === null
      ? null
      : {
          status: row.responseStatus,
          headers: (row.responseHeaders ?? {}) as Record<string, string>,
          body: row.responseBody,
        },
});

/** Which key a row is: its primary key. */
export type KeyOf = Pick<IdempotencyRecord, "accountId" | "api" | "scope" | "key">;

/** A row as a caller saw it: which key, and the claim it held then (`id` changes on every take-over). */
export type SeenRow = KeyOf & Pick<IdempotencyRecord, "id" | "state">;

/** The primary key's constraint: an insert of a key already there fails on it. */
const KEY_CONSTRAINT = "idempotency_keys_pkey";

/** A fresh in-flight claim on a key.*/
export interface NewClaim extends IdempotencyClaim {
  id: string;
  lockedUntil: Date;
  createdAt: Date;
  expiresAt: Date;
}

/**
 * Remembered Idempotency-Keys, one row per (account, API, scope, key), the primary key. A row's
 * id changes on every take-over, so it doubles as a fencing token: statements about a claim name
 * its key and its id.
 */
export function createIdempotencyRepository(db: Db) {
  return {
    /**
     * Inserts the claim unless the key exists (one statement, so two racing requests cannot both
     * insert: the unique index decides). Returns whether this claim is now the key's row.
     */
    async insertIfAbsent(claim: NewClaim, tx: Db = db): Promise<boolean> {
      const inserted = await tx.$queryRaw<{ id: string }[]>`
        INSERT INTO idempotency_keys
          (id, account_id, scope, api, key, request_hash, state, locked_until, created_at, expires_at)
        VALUES (${claim.id}, ${claim.accountId}, ${claim.scope}, ${claim.api}, ${claim.key}, ${claim.requestHash},
          'in_flight', ${claim.lockedUntil}::timestamptz, ${claim.createdAt}::timestamptz,
          ${claim.expiresAt}::timestamptz)
        ON CONFLICT (account_id, api, scope, key) DO NOTHING
        RETURNING id`;
      return inserted.length > 0;
    },

    /** Whether a statement failed because it inserted a key that was already there (see insertCompleteStatement). */
    isKeyTaken(error: unknown): boolean {
      const e = error as { code?: unknown; constraint?: unknown } | null;
      return e?.code === "23505" && e.constraint === KEY_CONSTRAINT;
    },

    async find(
      where: Pick<IdempotencyClaim, "accountId" | "api" | "scope" | "key">,
      tx: Db = db,
    ): Promise<IdempotencyRecord | null> {
      const { accountId, api, scope, key } = where; // exactly the unique key's fields: Prisma rejects others
      const row = await tx.idempotencyKey.findUnique({
        where: { accountId_api_scope_key: { accountId, api, scope, key } },
      });
      return row ? toRecord(row) : null;
    },

    /**
     * Replaces the row `seen` with a fresh claim, only if it is still exactly what the caller saw
     * (same id, same state): a compare-and-swap, so of several requests taking over one key, one wins.
     */
    async replace(seen: SeenRow, claim: NewClaim, tx: Db = db): Promise<boolean> {
      const { count } = await tx.idempotencyKey.updateMany({
        where: { ...keyOf(seen), id: seen.id, state: seen.state },
        data: {
          id: claim.id,
          requestHash: claim.requestHash,
          state: "in_flight",
          lockedUntil: claim.lockedUntil,
          responseStatus: null,
          responseHeaders: Prisma.DbNull,
          responseBody: null,
          createdAt: claim.createdAt,
          expiresAt: claim.expiresAt,
        },
      });
      return count > 0;
    },

    /**
     * in_flight -> complete with the response, as SQL for a write's own statement: returns the
     * row's id, or no row when `claim` is no longer in flight (taken over by a retry).
     */
    completeStatement: (claim: SeenRow, response: StoredResponse) => Prisma.sql`
      UPDATE idempotency_keys
      SET state = 'complete', locked_until = NULL, response_status = ${response.status},
        response_headers = ${JSON.stringify(response.headers)}::jsonb, response_body = ${response.body}
      WHERE account_id = ${claim.accountId} AND api = ${claim.api} AND scope = ${claim.scope} AND key = ${claim.key}
        AND id = ${claim.id} AND state = 'in_flight'
      RETURNING id`,

    /**
     * The key, recorded complete with the response, as SQL for the write's own statement when the
     * key is claimed by the write itself (no in-flight phase). Returns the row's id. A key already
     * there fails the statement (`isKeyTaken` says so: the primary key decides, a concurrent
     * claimant is waited for), rolling back all of it: a plain insert costs the database less than
     * an `ON CONFLICT` one, and the conflict is the rare case (a retry).
     * `ifAbsent`: returns no row instead of failing (for a statement in a transaction, which a
     * failure would abort).
     */
    insertCompleteStatement: (claim: NewClaim, response: StoredResponse, options: { ifAbsent?: boolean } = {}) =>
      Prisma.sql`
      INSERT INTO idempotency_keys (id, account_id, scope, api, key, request_hash, state, locked_until,
        response_status, response_headers, response_body, created_at, expires_at)
      VALUES (${claim.id}, ${claim.accountId}, ${claim.scope}, ${claim.api}, ${claim.key}, ${claim.requestHash},
        'complete', NULL, ${response.status}, ${JSON.stringify(response.headers)}::jsonb, ${response.body},
        ${claim.createdAt}::timestamptz, ${claim.expiresAt}::timestamptz)
      ${options.ifAbsent ? Prisma.sql`ON CONFLICT (account_id, api, scope, key) DO NOTHING` : Prisma.empty}
      RETURNING id`,

    /** Runs a statement above on its own or in `tx`; whether it returned its row. */
    async run(statement: Prisma.Sql, tx: Db = db): Promise<boolean> {
      return (await tx.$queryRaw<{ id: string }[]>(statement)).length > 0;
    },

    /** Deletes the row `seen` if it is still exactly what the caller saw (an abandoned key, in the way). */
    async deleteIfUnchanged(seen: SeenRow, tx: Db = db): Promise<boolean> {
      const { count } = await tx.idempotencyKey.deleteMany({
        where: { ...keyOf(seen), id: seen.id, state: seen.state },
      });
      return count > 0;
    },

    /** Forgets an in-flight claim (its request failed); a completed or taken-over key is left alone. */
    async deleteInFlight(claim: KeyOf & Pick<IdempotencyRecord, "id">, tx: Db = db): Promise<boolean> {
      const { count } = await tx.idempotencyKey.deleteMany({
        where: { ...keyOf(claim), id: claim.id, state: "in_flight" },
      });
      return count > 0;
    },

    /**
     * Deletes up to `limit` keys past their expiry that no live request holds. Returns how many;
     * callers loop until it is below `limit`, so no single statement runs long. Ordered by the
     * expiry so that the plan walks its index from the oldest key and stops, whatever the
     * statistics say: without them (the embedded store never analyzes) a LIMIT alone was
     * planned as a scan of the whole table, every second.
     */
    async deleteExpired(now: Date, limit: number, tx: Db = db): Promise<number> {
      return tx.$executeRaw`
        DELETE FROM idempotency_keys WHERE (account_id, api, scope, key) IN (
          SELECT account_id, api, scope, key FROM idempotency_keys
          WHERE expires_at <= ${now}::timestamptz
            AND (state = 'complete' OR locked_until IS NULL OR locked_until <= ${now}::timestamptz)
          ORDER BY expires_at
          LIMIT ${limit}
        )`;
    },
  };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;

const keyOf = (row: KeyOf): KeyOf => ({ accountId: row.accountId, api: row.api, scope: row.scope, key: row.key });
