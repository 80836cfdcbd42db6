import type { Db } from "../../db/database.js";
import { newId } from "../ids.js";

/** A notification to send, written in the same transaction as the state change and its event. */
export interface NewDelivery {
  accountId: string;
  eventId: string;
  subjectType: string;
  subjectId: string;
  url: string;
  /** The exact body sent (and signed) on every attempt. */
  payload: string;
  /** When the first attempt is due (normally now). */
  nextAttemptAt: Date;
  /** The registered endpoint it goes to (signed with that endpoint's secret); none: the account's secret. */
  endpointId?: string | null;
  /** Its signature scheme; "standard-webhooks" when not given. */
  signature?: string;
}

export type DeliveryStatus = "pending" | "succeeded" | "failed";
export type AttemptOutcome = "succeeded" | "failed" | "gave_up";
/** An attempt as stored: recorded in flight at its claim, then settled or, its worker gone, unknown. */
export type StoredAttemptOutcome = AttemptOutcome | "in_flight" | "unknown";

/** What an attempt left in flight says once its delivery is claimed again. */
export const UNKNOWN_ATTEMPT_ERROR =
  "outcome unknown: the worker stopped (a crash?) before recording it, and its lease ran out";

/** A delivery a worker holds the lease on, to attempt once. */
export interface ClaimedDelivery {
  id: string;
  accountId: string;
  url: string;
  payload: string;
  /** This attempt's number (the claim counted it). */
  attempt: number;
  createdAt: Date;
  /** The lease this worker set; settling the attempt requires it to be unchanged. */
  lockedUntil: Date;
}

/** How an attempt ended and what becomes of its delivery. */
export interface SettledAttempt {
  attempt: number;
  startedAt: Date;
  durationMs: number;
  responseStatus: number | null;
  error: string | null;
  outcome: AttemptOutcome;
  /** When the next attempt is due; null when the delivery is finished. */
  nextAttemptAt: Date | null;
  /** The time the delivery finished (succeeded or gave up). */
  completedAt: Date | null;
}

export interface AccountSecrets {
  id: string;
  webhookSecret: string | null;
  previousWebhookSecret: string | null;
  previousWebhookSecretExpiresAt: Date | null;
}

const SECRET_FIELDS = {
  id: true,
  webhookSecret: true,
  previousWebhookSecret: true,
  previousWebhookSecretExpiresAt: true,
} as const;

/** The webhook outbox: deliveries, their attempts, and the accounts' signing secrets. */
export function createWebhooksRepository(db: Db) {
  return {
    /** Returns the delivery id, which is also the `webhook-id` every attempt carries. */
    async enqueue(delivery: NewDelivery, tx: Db = db): Promise<string> {
      const id = newId.webhookDelivery();
      await tx.webhookDelivery.create({ data: { id, ...delivery } });
      return id;
    },

    /**
     * Takes up to `limit` due deliveries that no live lease holds, sets this worker's lease,
     * counts the attempt and records it as in flight, in one statement: every attempt counted is
     * on record before its request is sent. An attempt these deliveries still have in flight
     * (its worker died; the lease ran out) is marked unknown. SKIP LOCKED lets several instances
     * claim side by side without waiting on or taking each other's rows.
     */
    async claimDue(now: Date, lockedUntil: Date, limit: number, tx: Db = db): Promise<ClaimedDelivery[]> {
      const attemptIds = JSON.stringify(Array.from({ length: limit }, () => newId.webhookAttempt()));
      const rows = await tx.$queryRaw<
        { id: string; account_id: string; url: string; payload: string; attempt_count: number; created_at: Date }[]
      >`
        WITH claimed AS (
          UPDATE webhook_deliveries SET locked_until = ${lockedUntil}, attempt_count = attempt_count + 1
          WHERE id IN (
            SELECT id FROM webhook_deliveries
            WHERE status = 'pending' AND next_attempt_at <= ${now}
              AND (locked_until IS NULL OR locked_until <= ${now})
            ORDER BY next_attempt_at
            LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
          )
          RETURNING id, account_id, url, payload, attempt_count, created_at
        ),
        unfinished AS (
          UPDATE webhook_attempts a SET outcome = 'unknown', error = ${UNKNOWN_ATTEMPT_ERROR}
          FROM claimed c WHERE a.delivery_id = c.id AND a.outcome = 'in_flight'
        ),
        started AS (
          INSERT INTO webhook_attempts (id, delivery_id, attempt, started_at, outcome)
          SELECT ${attemptIds}::jsonb ->> (row_number() OVER (ORDER BY c.id) - 1)::int, c.id, c.attempt_count,
                 ${now}, 'in_flight'
          FROM claimed c
        )
        SELECT id, account_id, url, payload, attempt_count, created_at FROM claimed`;
      return rows.map((r) => ({
        id: r.id,
        accountId: r.account_id,
        url: r.url,
        payload: r.payload,
        attempt: Number(r.attempt_count),
        createdAt: new Date(r.created_at),
        lockedUntil,
      }));
    },

    /**
     * Settles the attempt (recorded in flight by the claim) and moves the delivery on, only while this worker's lease is still the
     * delivery's (fencing): a worker whose lease ran out and was taken over records nothing.
     * Returns whether it was recorded. Call inside a transaction.
     */
    async settleAttempt(claim: Pick<ClaimedDelivery, "id" | "lockedUntil">, a: SettledAttempt, tx: Db = db) {
      const status: DeliveryStatus =
        a.outcome === "succeeded" ? "succeeded" : a.outcome === "gave_up" ? "failed" : "pending";
      const { count } = await tx.webhookDelivery.updateMany({
        where: { id: claim.id, status: "pending", lockedUntil: claim.lockedUntil },
        data: {
          status,
          lockedUntil: null,
          completedAt: a.completedAt,
          ...(a.nextAttemptAt ? { nextAttemptAt: a.nextAttemptAt } : {}),
        },
      });
      if (count === 0) return false;
      // The attempt recorded in flight at the claim (the lease, still ours, kept it so).
      await tx.webhookAttempt.updateMany({
        where: { deliveryId: claim.id, attempt: a.attempt },
        data: {
          startedAt: a.startedAt,
          durationMs: a.durationMs,
          responseStatus: a.responseStatus,
          error: a.error,
          outcome: a.outcome,
          nextAttemptAt: a.nextAttemptAt,
        },
      });
      return true;
    },

    /**
     * How many deliveries are pending (not yet delivered, nor given up) and when the oldest of
     * them was written; read on every metrics scrape. Both go through the (status, next_attempt_at)
     * index, so they read the pending rows only: the backlog, not the table.
     */
    async backlog(tx: Db = db): Promise<{ pending: number; oldestCreatedAt: Date | null }> {
      const found = await tx.webhookDelivery.aggregate({
        where: { status: "pending" },
        _count: { _all: true },
        _min: { createdAt: true },
      });
      return { pending: found._count._all, oldestCreatedAt: found._min.createdAt };
    },

    /** Deliveries with their attempts and event type, newest first. */
    list(
      filter: { accountId?: string; subjectType?: string; subjectId?: string; endpointId?: string },
      limit: number,
      tx: Db = db,
    ) {
      return tx.webhookDelivery.findMany({
        where: filter,
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: limit,
        include: { attempts: { orderBy: { attempt: "asc" } }, event: { select: { type: true } } },
      });
    },

    /**
     * How each delivery is signed: its scheme, and the secret of the endpoint it goes to (null
     * for a delivery without one, signed with its account's secrets).
     */
    async signingOf(
      deliveryIds: readonly string[],
      tx: Db = db,
    ): Promise<Map<string, { signature: string; endpointSecret: string | null }>> {
      const rows = await tx.webhookDelivery.findMany({
        where: { id: { in: [...deliveryIds] } },
        select: { id: true, signature: true, endpoint: { select: { secret: true } } },
      });
      return new Map(rows.map((r) => [r.id, { signature: r.signature, endpointSecret: r.endpoint?.secret ?? null }]));
    },

    findSecrets(accountIds: readonly string[], tx: Db = db): Promise<AccountSecrets[]> {
      return tx.account.findMany({ where: { id: { in: [...accountIds] } }, select: SECRET_FIELDS });
    },

    /** Sets the account's first secret; a concurrent first setter wins and this one changes nothing. */
    async setSecretIfMissing(accountId: string, secret: string, tx: Db = db): Promise<void> {
      await tx.account.updateMany({ where: { id: accountId, webhookSecret: null }, data: { webhookSecret: secret } });
    },

    /**
     * Makes `secret` current and keeps the old one signing until `previousExpiresAt`, in one
     * statement (the right-hand sides read the row as it was). Null when the account does not exist.
     */
    async rotateSecret(
      accountId: string,
      secret: string,
      previousExpiresAt: Date,
      tx: Db = db,
    ): Promise<AccountSecrets | null> {
      const rows = await tx.$queryRaw<
        {
          id: string;
          webhook_secret: string | null;
          previous_webhook_secret: string | null;
          previous_webhook_secret_expires_at: Date | null;
        }[]
      >`
        UPDATE accounts SET
          previous_webhook_secret = webhook_secret,
          previous_webhook_secret_expires_at = CASE WHEN webhook_secret IS NULL THEN NULL ELSE ${previousExpiresAt}::timestamptz END,
          webhook_secret = ${secret}
        WHERE id = ${accountId}
        RETURNING id, webhook_secret, previous_webhook_secret, previous_webhook_secret_expires_at`;
      const row = rows[0];
      if (!row) return null;
      return {
        id: row.id,
        webhookSecret: row.webhook_secret,
        previousWebhookSecret: row.previous_webhook_secret,
        previousWebhookSecretExpiresAt: row.previous_webhook_secret_expires_at
          ? new Date(row.previous_webhook_secret_expires_at)
          : null,
      };
    },
  };
}

export type WebhooksRepository = ReturnType<typeof createWebhooksRepository>;
export type DeliveryWithAttempts = Awaited<ReturnType<WebhooksRepository["list"]>>[number];
