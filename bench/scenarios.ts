/**
 * What the load child (load.ts) is asked to do and what it answers, shared by run.ts and load.ts.
 * Both servers (Kassa and the reference) serve the same two routes, so one request set fits both.
 */

export type ScenarioName = "create" | "get" | "mixed" | "leanrails-create";

/** Scenarios only Kassa serves (the reference server has no Opencharge). */
export type KassaOnlyScenario = "opencharge-create";

export const SCENARIOS: readonly ScenarioName[] = ["create", "get", "mixed", "leanrails-create"];

/** What `--store embedded` measures (Kassa alone on PGlite). */
export type EmbeddedScenarioName = "create" | "get" | "mixed";

export const EMBEDDED_SCENARIOS: readonly EmbeddedScenarioName[] = ["create", "get", "mixed"];

export const SCENARIO_LABELS: Record<ScenarioName, string> = {
  create: "POST /v1/checkout/sessions (fresh Idempotency-Key)",
  get: "GET /v1/checkout/sessions/{id} (random pre-created id)",
  mixed: "1 create : 10 polls",
  "leanrails-create": "POST /v1/checkout_sessions, two line items, Basic auth (reference: its one-row insert)",
};

export const LEANRAILS_SESSIONS_PATH = "/v1/checkout_sessions";

/** A LeanRails create as seed 003 has it: two EUR line items priced inline. */
export const LEANRAILS_CREATE_BODY = JSON.stringify({
  mode: "payment",
  line_items: [
    { quantity: 2, price_data: { currency: "eur", product: "T-shirt", unit_amount: 2000 } },
    { quantity: 1, price_data: { currency: "eur", product: "Mug", unit_amount: 850 } },
  ],
  success_url: "https://example.com/ok?session={CHECKOUT_SESSION_ID}",
  cancel_url: "https://example.com/cancel",
});

export const SESSIONS_PATH = "/v1/checkout/sessions";

/** 100 kg at the bench portfolio's 2 cents/kg: 200 cents, above Kassa's 50-cent minimum. */
export const CREATE_BODY = JSON.stringify({
  amount_kg: 100,
  success_url: "https://example.com/ok",
  cancel_url: "https://example.com/cancel",
});

/** Polls per create in the mixed scenario. */
export const POLLS_PER_CREATE = 10;

export interface Target {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Sent with every request (Kassa: the bench key; the reference ignores it). */
  authorization: string;
  /**
   * The LeanRails dialect's authorization (HTTP Basic with the same key); absent on the
   * reference, whose leanrails-create is its one-row insert, the floor a create can reach.
   */
  leanrailsAuthorization?: string;
}

/** Pre-creates `count` sessions through the API and answers their ids. */
export interface SeedJob {
  kind: "seed";
  target: Target;
  count: number;
  connections: number;
}

/** A warm-up (not counted), then `durationS` seconds of one scenario. */
export interface RunJob {
  kind: "run";
  target: Target;
  scenario: ScenarioName | KassaOnlyScenario;
  /** Existing session ids the polls pick from at random. */
  ids: string[];
  connections: number;
  warmupS: number;
  durationS: number;
  /** Answer autocannon's raw result too (its latency histogram encoded), so slices can be merged (run.ts). */
  raw?: boolean;
}

export type LoadJob = SeedJob | RunJob;

export interface Figures {
  requests: number;
  durationS: number;
  rps: number;
  /** Latency in milliseconds (autocannon's histogram: whole milliseconds). */
  p50: number;
  p99: number;
  max: number;
  /** non2xx + socketErrors */
  errors: number;
  non2xx: number;
  /** Connection errors, timeouts included. */
  socketErrors: number;
  statusCodes: Record<string, number>;
  /**
   * CPU time per request over the measured time (compare runs on Linux; absent elsewhere and in
   * older results), in µs: the server's process (all its threads) and every local PostgreSQL
   * process (null when none is visible). What each server costs the machine, not guessed.
   */
  cpuUsPerRequest?: { server: number | null; postgres: number | null };
}

export type LoadMessage =
  | { type: "measuring" }
  | { type: "figures"; figures: Figures; raw?: unknown }
  | { type: "seeded"; ids: string[]; figures: Figures }
  | { type: "failed"; message: string };
