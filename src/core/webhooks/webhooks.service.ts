import { setMaxListeners } from "node:events";
import type { Transactor } from "../../db/database.js";
import { type Metrics, noMetrics } from "../../metrics/metrics.js";
import { notFound } from "../errors.js";
import { addHours, type Clock } from "../time.js";
import {
  newWebhookSecret,
  type ResponseJudges,
  type RetrySchedule,
  type RetrySchedules,
  STANDARD_WEBHOOKS,
  type WebhookSigners,
  webhookHeaders,
} from "./signing.js";
import type { WebhookTransport } from "./transport.js";
import type {
  AccountSecrets,
  AttemptOutcome,
  ClaimedDelivery,
  DeliveryWithAttempts,
  WebhooksRepository,
} from "./webhooks.repository.js";

/** The webhook part of the configuration (config.webhooks). */
export interface WebhookSettings {
  allowPrivateUrls: boolean;
  timeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  secretRotationHours: number;
}

/** A delivery is retried until a 2xx or until this long after it was written. */
export const GIVE_UP_AFTER_HOURS = 24;

/** How many deliveries one `deliverDue` claims when not told. */
export const DEFAULT_DELIVERY_BATCH = 20;

/**
 * Margin of a worker's lease over the request timeout, for the writes around the request. The
 * lease must outlast an attempt, or a second worker could take the delivery while it is in flight.
 */
const LEASE_MARGIN_MS = 60_000;

export interface WebhookSecretView {
  accountId: string;
  secret: string;
  /** The secret before the last rotation, while it still signs (both signatures are sent). */
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

export interface DeliverySummary {
  claimed: number;
  succeeded: number;
  failed: number;
  gaveUp: number;
  /** Attempts whose lease had been taken over before they were recorded (a stalled worker). */
  lost: number;
}

/**
 * The next attempt's delay: exponential in the attempt number, with full jitter, never sooner
 * than `retryBaseMs` and never more than `retryMaxMs`. Attempt n waits a uniform random time in
 * [base, min(max, base * 2^n)], so deliveries that failed together do not retry together.
 */
export function retryDelayMs(
  attempt: number,
  settings: Pick<WebhookSettings, "retryBaseMs" | "retryMaxMs">,
  random = Math.random,
) {
  const base = Math.min(settings.retryBaseMs, settings.retryMaxMs);
  const ceiling = Math.min(settings.retryMaxMs, base * 2 ** Math.min(attempt, 40));
  return Math.round(base + random() * (ceiling - base));
}

/** What a receiver's answer means by default: a 2xx is delivered, anything else is worth retrying. */
function verdict(status: number | null, error: string | null): string | null {
  if (error) return error;
  if (status !== null && status >= 200 && status < 300) return null;
  if (status !== null && status >= 300 && status < 400)
    return `receiver answered ${status}; redirects are not followed`;
  return `receiver answered ${status ?? "nothing"}`;
}

/**
 * A signal of the batch's own that follows `stop`: each attempt listens on it, and the shared stop
 * signal gets one listener per batch, removed when the batch ends. (An attempt each on the stop
 * signal made more than ten listeners on it, and Node warned of a leak.)
 */
function batchSignal(stop: AbortSignal | undefined, attempts: number) {
  if (!stop) return null;
  const controller = new AbortController();
  setMaxListeners(Math.max(attempts, 10), controller.signal);
  const abort = () => controller.abort(stop.reason);
  if (stop.aborted) abort();
  else stop.addEventListener("abort", abort, { once: true });
  return { signal: controller.signal, release: () => stop.removeEventListener("abort", abort) };
}

export function createWebhooksService(deps: {
  webhooks: WebhooksRepository;
  transaction: Transactor;
  clock: Clock;
  transport: WebhookTransport;
  settings: Omit<WebhookSettings, "allowPrivateUrls">;
  /** The APIs' own signature schemes, by the name outbox rows give (standard-webhooks is built in). */
  signers: WebhookSigners;
  random?: () => number;
  /** Counts each attempt's outcome once it is recorded. */
  metrics?: Pick<Metrics, "deliveryAttempt">;
  /** Schemes whose receivers answer more than a status (delivered, retry, or refused for good). */
  judges?: ResponseJudges;
  /** Schemes whose APIs document their own retry timetable. */
  schedules?: RetrySchedules;
}) {
  const { webhooks, transaction, clock, transport, settings, random = Math.random, metrics = noMetrics } = deps;
  const signers: WebhookSigners = { [STANDARD_WEBHOOKS]: webhookHeaders, ...deps.signers };
  const judges: ResponseJudges = deps.judges ?? {};
  const schedules: RetrySchedules = deps.schedules ?? {};
  const leaseMs = settings.timeoutMs + LEASE_MARGIN_MS;

  /** The secret before the last rotation while it still signs (until it expires), else null. */
  const livePrevious = (a: AccountSecrets, now: Date): string | null =>
    a.previousWebhookSecret && a.previousWebhookSecretExpiresAt && a.previousWebhookSecretExpiresAt > now
      ? a.previousWebhookSecret
      : null;

  /** The secrets an attempt is signed with now: the current one, and the previous one until it expires. */
  const signingSecrets = (a: AccountSecrets, now: Date): string[] =>
    [a.webhookSecret, livePrevious(a, now)].filter((s): s is string => !!s);

  /** The accounts' secrets, creating the first one of any account that has none yet. */
  async function secretsOf(accountIds: string[]): Promise<Map<string, AccountSecrets>> {
    let rows = await webhooks.findSecrets(accountIds);
    const missing = rows.filter((r) => !r.webhookSecret);
    if (missing.length) {
      for (const r of missing) await webhooks.setSecretIfMissing(r.id, newWebhookSecret());
      rows = await webhooks.findSecrets(accountIds);
    }
    return new Map(rows.map((r) => [r.id, r]));
  }

  /**
   * How an attempt is signed, by the delivery's scheme: with its endpoint's secret, or with its
   * account's secrets when it has no endpoint. `headers` answers why not, as text, when it cannot
   * sign (no signer knows the scheme, or the signer failed): the attempt fails without sending,
   * and is retried like any failure. A signer may load what it signs with (a key kept in the store).
   */
  interface Signing {
    scheme: string;
    headers(at: Date): Promise<Record<string, string> | string>;
  }

  function signingFor(
    delivery: ClaimedDelivery,
    how: { signature: string; endpointSecret: string | null } | undefined,
    account: AccountSecrets | undefined,
  ): Signing {
    const scheme = how?.signature ?? STANDARD_WEBHOOKS;
    const signer = signers[scheme];
    if (!how?.endpointSecret && !account)
      throw new Error(`account ${delivery.accountId} of delivery ${delivery.id} is missing`);
    return {
      scheme,
      async headers(at) {
        if (!signer) return "no signer for this delivery's signature scheme";
        try {
          return await signer({
            webhookId: delivery.id,
            url: delivery.url,
            timestamp: at,
            body: delivery.payload,
            secrets: how?.endpointSecret ? [how.endpointSecret] : signingSecrets(account!, at),
          });
        } catch (error) {
          return `signing failed: ${error instanceof Error ? error.message : String(error)}`;
        }
      },
    };
  }

  /** One attempt: send, then record it and move the delivery on (fenced on the lease). */
  async function attempt(delivery: ClaimedDelivery, signing: Signing, signal?: AbortSignal) {
    const startedAt = clock();
    const headers = await signing.headers(startedAt);
    const response =
      typeof headers === "string"
        ? { status: null, durationMs: 0, error: headers, aborted: false, body: "" }
        : await transport({ url: delivery.url, headers, body: delivery.payload, signal });
    const now = clock();
    // A scheme's judge reads an answer the transport received; errors and non-answers are the default's.
    const judge = judges[signing.scheme];
    const judged =
      judge && response.status !== null && !response.error
        ? judge({ status: response.status, body: response.body ?? "" })
        : { problem: verdict(response.status, response.error), final: false };
    const problem = judged?.problem ?? null;
    const retry = nextRetry(delivery, schedules[signing.scheme], now);
    let outcome: AttemptOutcome;
    let nextAttemptAt: Date | null = null;
    if (!problem) outcome = "succeeded";
    else if (response.aborted) {
      // Cut short by a shutdown, not by the receiver: due again at once, for whichever worker is up.
      outcome = "failed";
      nextAttemptAt = now;
    } else if (judged?.final || retry === null) outcome = "gave_up";
    else {
      outcome = "failed";
      nextAttemptAt = retry;
    }
    const recorded = await transaction((tx) =>
      webhooks.settleAttempt(
        delivery,
        {
          attempt: delivery.attempt,
          startedAt,
          durationMs: response.durationMs,
          responseStatus: response.status,
          error: problem,
          outcome,
          nextAttemptAt,
          completedAt: outcome === "failed" ? null : now,
        },
        tx,
      ),
    );
    return recorded ? outcome : "lost";
  }

  /**
   * When a failed attempt is next tried, or null to give up: by the scheme's timetable (the first
   * time on it after both this attempt's number and now), else with backoff until 24 h after the
   * delivery was written (the last try falling on that deadline itself).
   */
  function nextRetry(delivery: ClaimedDelivery, schedule: RetrySchedule | undefined, now: Date): Date | null {
    const written = delivery.createdAt.getTime();
    if (schedule) {
      const due = schedule.retryAfterMs.slice(delivery.attempt - 1).find((after) => written + after > now.getTime());
      return due === undefined ? null : new Date(written + due + Math.round(random() * due * 0.1));
    }
    const deadline = addHours(delivery.createdAt, GIVE_UP_AFTER_HOURS);
    if (now >= deadline) return null;
    const next = now.getTime() + retryDelayMs(delivery.attempt, settings, random);
    return new Date(Math.min(next, deadline.getTime()));
  }

  return {
    /**
     * The account's signing secret, created on first need. With `rotate`, a new one replaces it
     * and the old one keeps signing (a second signature) for config secretRotationHours.
     */
    async secret(accountId: string, opts: { rotate?: boolean } = {}): Promise<WebhookSecretView> {
      const now = clock();
      const row = opts.rotate
        ? await webhooks.rotateSecret(accountId, newWebhookSecret(), addHours(now, settings.secretRotationHours))
        : (await secretsOf([accountId])).get(accountId);
      if (!row?.webhookSecret) throw notFound("account", accountId);
      const previousSecret = livePrevious(row, now);
      return {
        accountId,
        secret: row.webhookSecret,
        previousSecret,
        previousSecretExpiresAt: previousSecret ? row.previousWebhookSecretExpiresAt : null,
      };
    },

    /** Deliveries and their attempts, newest first, for operators. */
    deliveries(
      filter: { orderId?: string; accountId?: string; endpointId?: string; limit?: number } = {},
    ): Promise<DeliveryWithAttempts[]> {
      return webhooks.list(
        {
          ...(filter.accountId ? { accountId: filter.accountId } : {}),
          ...(filter.orderId ? { subjectType: "order", subjectId: filter.orderId } : {}),
          ...(filter.endpointId ? { endpointId: filter.endpointId } : {}),
        },
        filter.limit ?? 50,
      );
    },

    /**
     * Claims up to `limit` due deliveries under a lease and attempts each once, side by side.
     * Every attempt is recorded; a failure is retried later with backoff, until 24 h have passed.
     */
    async deliverDue(opts: { limit?: number; signal?: AbortSignal } = {}): Promise<DeliverySummary> {
      const now = clock();
      const claimed = await webhooks.claimDue(
        now,
        new Date(now.getTime() + leaseMs),
        opts.limit ?? DEFAULT_DELIVERY_BATCH,
      );
      const summary: DeliverySummary = { claimed: claimed.length, succeeded: 0, failed: 0, gaveUp: 0, lost: 0 };
      if (claimed.length === 0) return summary;
      const signing = await webhooks.signingOf(claimed.map((d) => d.id));
      const signedByAccount = claimed.filter((d) => !signing.get(d.id)?.endpointSecret);
      const secrets = await secretsOf([...new Set(signedByAccount.map((d) => d.accountId))]);
      const batch = batchSignal(opts.signal, claimed.length);
      const outcomes = await Promise.all(
        claimed.map((d) => attempt(d, signingFor(d, signing.get(d.id), secrets.get(d.accountId)), batch?.signal)),
      ).finally(() => batch?.release());
      for (const outcome of outcomes) {
        metrics.deliveryAttempt(outcome);
        if (outcome === "succeeded") summary.succeeded += 1;
        else if (outcome === "gave_up") summary.gaveUp += 1;
        else if (outcome === "lost") summary.lost += 1;
        else summary.failed += 1;
      }
      return summary;
    },
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
