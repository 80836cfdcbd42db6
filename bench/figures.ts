/** A load run's figures, from autocannon's result or merged from slices of one (run.ts measures in slices). */
import autocannon from "autocannon";
import type { Figures } from "./scenarios.js";

export function figuresOf(result: autocannon.Result, durationS: number = result.duration): Figures {
  const statusCodes: Record<string, number> = {};
  // Present at run time, missing from @types/autocannon 7.
  const stats = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [code, { count }] of Object.entries(stats)) statusCodes[code] = Number(count);
  const requests = result.requests.total;
  return {
    requests,
    durationS,
    rps: durationS > 0 ? Math.round((requests / durationS) * 10) / 10 : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.non2xx + result.errors,
    non2xx: result.non2xx,
    socketErrors: result.errors,
    statusCodes,
  };
}

/**
 * Slices of one scenario on one server (each a run with `raw`) as one measurement: requests and
 * durations summed, percentiles from the slices' latency histograms merged (not averaged).
 */
export function mergeSlices(raws: unknown[]): Figures {
  const durationS = raws.reduce<number>((sum, raw) => sum + (raw as { duration: number }).duration, 0);
  const merged = (
    autocannon as unknown as { aggregateResult(results: unknown[], opts: { url: string }): autocannon.Result }
  ).aggregateResult(raws, { url: "http://127.0.0.1" }); // the options are only checked (a URL is required);
  return figuresOf(merged, Math.round(durationS * 100) / 100);
}
