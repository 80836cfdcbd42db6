import type { OpenchargeRuntime } from "../api/opencharge/opencharge.js";
import type { Services } from "../core/services.js";
import { DEFAULT_DELIVERY_BATCH } from "../core/webhooks/webhooks.service.js";

/** What a job may use of its run: the worker's stop signal, to cut long work short. */
export interface JobContext {
  signal: AbortSignal;
}

/** A piece of periodic background work. Each run is finished before the next one starts. */
export interface WorkerJob {
  name: string;
  /** Returns what it did (logged when not empty) or nothing. */
  run(ctx: JobContext): Promise<Record<string, number> | undefined>;
}

export const DELIVER_WEBHOOKS = "deliver-webhooks";

/** How many rounds one run of the delivery job claims at most before yielding to the timer. */
const MAX_DELIVERY_ROUNDS = 50;

/** Records the expiry of open sessions past expires_on (state and checkout_session.expired event). */
export const expireSessionsJob = (services: Pick<Services, "checkoutSessions">): WorkerJob => ({
  name: "expire-sessions",
  async run() {
    const expired = await services.checkoutSessions.expireDue();
    return expired ? { expired } : undefined;
  },
});

/**
 * Delivers due webhooks, batch after batch while batches come back full (more are waiting),
 * bounded so that a receiver failing instantly with a tiny retry delay cannot keep it spinning.
 */
export const deliverWebhooksJob = (services: Pick<Services, "webhooks">): WorkerJob => ({
  name: DELIVER_WEBHOOKS,
  async run({ signal }) {
    const total = { claimed: 0, succeeded: 0, failed: 0, gave_up: 0, lost: 0 };
    for (let round = 0; round < MAX_DELIVERY_ROUNDS && !signal.aborted; round++) {
      const s = await services.webhooks.deliverDue({ limit: DEFAULT_DELIVERY_BATCH, signal });
      total.claimed += s.claimed;
      total.succeeded += s.succeeded;
      total.failed += s.failed;
      total.gave_up += s.gaveUp;
      total.lost += s.lost;
      if (s.claimed < DEFAULT_DELIVERY_BATCH) break;
    }
    return total.claimed ? total : undefined;
  },
});

/** Deletes Idempotency-Keys past their 24 hours. */
export const pruneIdempotencyKeysJob = (services: Pick<Services, "idempotency">): WorkerJob => ({
  name: "prune-idempotency-keys",
  async run() {
    const pruned = await services.idempotency.prune();
    return pruned ? { pruned } : undefined;
  },
});

/** Forgets Opencharge request nonces whose timestamp has left the ±300 s window. */
export const pruneOpenchargeNoncesJob = (
  services: Pick<Services, "clock"> & { opencharge: Pick<OpenchargeRuntime, "repository"> },
): WorkerJob => ({
  name: "prune-opencharge-nonces",
  async run() {
    const pruned = await services.opencharge.repository.pruneNonces(services.clock());
    return pruned ? { pruned } : undefined;
  },
});

/** Kassa's background work. Add a job here and every instance runs it. */
export const kassaJobs = (
  services: Pick<Services, "checkoutSessions" | "webhooks" | "idempotency"> &
    Partial<Pick<Services, "clock">> & { opencharge?: Pick<OpenchargeRuntime, "repository" | "enabled"> },
): WorkerJob[] => [
  expireSessionsJob(services),
  deliverWebhooksJob(services),
  pruneIdempotencyKeysJob(services),
  ...(services.opencharge?.enabled && services.clock
    ? [pruneOpenchargeNoncesJob({ clock: services.clock, opencharge: services.opencharge })]
    : []),
];
