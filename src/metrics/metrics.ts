/**
 * What Kassa counts, as typed calls: the core and the HTTP layer say what happened, and the
 * implementation (src/metrics/prometheus.ts) decides how it is exposed. This file imports nothing,
 * so the core can depend on the interface without knowing prom-client.
 *
 * A business event is counted once the change it counts has committed: a write that rolls back,
 * or a request answered from a stored response, counts nothing. Counts are per instance (each
 * process has its own); Prometheus sums them across instances.
 */
export interface Metrics {
  /** A checkout session was created (its row and event committed). `api`: the session's `api`. */
  sessionCreated(api: string): void;
  /** A checkout session was paid and completed (the payment's transaction committed). */
  sessionCompleted(api: string): void;
  /** `count` sessions of `api` were recorded as expired (one batch's transaction committed). */
  sessionsExpired(api: string, count: number): void;
  /** A charge was declined (or refused after too many attempts); `code` is a DeclineCode. */
  paymentDeclined(api: string, code: string): void;
  /** One webhook delivery attempt ended and was recorded (`lost`: its lease had been taken over). */
  deliveryAttempt(outcome: DeliveryAttemptOutcome): void;
  /** A request was answered with the stored response of an earlier one (Idempotency-Key). */
  idempotentReplay(api: string): void;
  /** A request was refused with 429 by one of the surface's rate limits. */
  rateLimited(surface: string): void;
  /** One HTTP request of the public app was answered. `route`: the route's pattern, never the raw URL. */
  httpRequest(request: HttpRequestSample): void;
}

export type DeliveryAttemptOutcome = "succeeded" | "failed" | "gave_up" | "lost";

export interface HttpRequestSample {
  method: string;
  route: string;
  statusCode: number;
  seconds: number;
}

/** Counts nothing: the default wherever no metrics are wired (tests, the CLI). */
export const noMetrics: Metrics = {
  sessionCreated() {},
  sessionCompleted() {},
  sessionsExpired() {},
  paymentDeclined() {},
  deliveryAttempt() {},
  idempotentReplay() {},
  rateLimited() {},
  httpRequest() {},
};

/** What the checkout-sessions service counts. */
export type SessionMetrics = Pick<
  Metrics,
  "sessionCreated" | "sessionCompleted" | "sessionsExpired" | "paymentDeclined"
>;

/** Counts a created session (its statement committed); returns it unchanged. */
export function countCreated<S extends { api: string }>(metrics: SessionMetrics, session: S): S {
  metrics.sessionCreated(session.api);
  return session;
}

/** Counts a payment's outcome (after its transaction committed); returns it unchanged. */
export function countPayment<O extends { outcome: string; session: { api: string }; code?: string }>(
  metrics: SessionMetrics,
  outcome: O,
): O {
  if (outcome.outcome === "paid") metrics.sessionCompleted(outcome.session.api);
  else if (outcome.outcome === "declined") metrics.paymentDeclined(outcome.session.api, outcome.code ?? "unknown");
  return outcome;
}

/** Counts a committed batch of expired sessions per `api`; returns how many there were. */
export function countExpired(metrics: SessionMetrics, sessions: readonly { api: string }[]): number {
  const perApi = new Map<string, number>();
  for (const { api } of sessions) perApi.set(api, (perApi.get(api) ?? 0) + 1);
  for (const [api, count] of perApi) metrics.sessionsExpired(api, count);
  return sessions.length;
}
