/** The bench's results: their JSON shape, the targets, the printed tables and the result files. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Machine } from "./machine.js";
import {
  EMBEDDED_SCENARIOS,
  type EmbeddedScenarioName,
  type Figures,
  SCENARIO_LABELS,
  SCENARIOS,
  type ScenarioName,
} from "./scenarios.js";

export interface Settings {
  connections: number;
  durationS: number;
  warmupS: number;
  seedSessions: number;
  /**
   * Each compared scenario's measured time is cut into this many slices, taken by the two servers
   * in turn (ABBA…) and merged per server (absent from older results: one window each).
   */
  slices?: number;
  /** Kassa's DATABASE_POOL_SIZE (the reference's too); null on the embedded store, which has no pool. */
  databasePoolSize: number | null;
  /** Where Kassa kept its data (absent from results written before the embedded store was measured: postgres). */
  store?: "postgres" | "embedded";
  /** The Node flags both servers ran with: those of `npm run start:prod` (absent from older results: none). */
  nodeFlags?: string[];
}

interface Common {
  startedAt: string;
  finishedAt: string;
  revision: { commit: string | null; srcDirty: boolean | null };
  machine: Machine;
  settings: Settings;
  /** 1-minute load average at the start and the end (the bench's own load included): other work skews the figures. */
  loadAverage: { start: number; end: number };
}

export interface ScenarioResult {
  description: string;
  kassa: Figures;
  reference: Figures;
  /** Kassa's figure divided by the reference's (null when the reference's is 0). */
  ratio: { rps: number | null; p99: number | null };
}

export interface TargetCheck {
  name: string;
  /** The measured value, in the unit of `threshold`. */
  value: number | null;
  threshold: string;
  pass: boolean;
}

/** The signed Opencharge create on Kassa, beside CNaught's create, and what its signature checks cost. */
export interface OpenchargeResult {
  description: string;
  kassa: Figures;
  /** Its req/s over CNaught's create's. */
  ratioToCnaughtCreate: number | null;
  /** The server's two verifications of one create (request and order), in-process, median. */
  verifyMicrosPerCreate: number;
  /** Signing its answer (X-OC-Signature), in-process, median. */
  signMicrosPerAnswer: number;
  /**
   * Those verifications at the measured rate: cores busy verifying (1 = one core's whole time).
   * Node serves on one thread, so this is also their share of the server's time per create.
   */
  verifyCores: number;
  /** The same for signing the answers. */
  signCores: number;
}

export function openchargeResult(
  kassa: Figures,
  cnaughtCreate: Figures,
  verifyMicros: number,
  signMicros: number,
): OpenchargeResult {
  return {
    signMicrosPerAnswer: signMicros,
    description: "POST /opencharge/checkout/create (order and request signed afresh, secp256k1)",
    kassa,
    ratioToCnaughtCreate: ratio(kassa.rps, cnaughtCreate.rps),
    verifyMicrosPerCreate: verifyMicros,
    verifyCores: Math.round(((verifyMicros * kassa.rps) / 1e6) * 1000) / 1000,
    signCores: Math.round(((signMicros * kassa.rps) / 1e6) * 1000) / 1000,
  };
}

export interface CompareReport extends Common {
  kind: "compare";
  scenarios: Record<ScenarioName, ScenarioResult>;
  /** Kassa only (absent from results written before Opencharge). */
  opencharge?: OpenchargeResult;
  targets: TargetCheck[];
  /** Non-2xx answers and socket errors over all measured runs (must be 0). */
  errors: number;
}

/** Kassa alone on the embedded store (PGlite in its process): no reference applies. */
export interface EmbeddedReport extends Common {
  kind: "embedded";
  scenarios: Record<EmbeddedScenarioName, { description: string; kassa: Figures }>;
  targets: TargetCheck[];
  errors: number;
}

export interface RssSample {
  atS: number;
  rssMiB: number;
}

export interface SoakReport extends Common {
  kind: "soak";
  soak: {
    scenario: "mixed";
    figures: Figures;
    /** Kassa's resident set size: after the warm-up, after the load, and the highest sample. */
    rssMiB: { start: number | null; end: number | null; peak: number | null };
    samples: RssSample[];
  };
  errors: number;
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : null);

export function scenarioResult(scenario: ScenarioName, kassa: Figures, reference: Figures): ScenarioResult {
  return {
    description: SCENARIO_LABELS[scenario],
    kassa,
    reference,
    ratio: { rps: ratio(kassa.rps, reference.rps), p99: ratio(kassa.p99, reference.p99) },
  };
}

/**
 * The targets (issue 13), as ratios to the reference measured in the same run: create (fresh
 * Idempotency-Key) >= 0.8x its insert, LeanRails' create with two line items >= 0.7x, GET >= 0.9x
 * its select, and Kassa's p99 at most 1.5x the reference's in every scenario.
 */
export function checkTargets(scenarios: Record<ScenarioName, ScenarioResult>): TargetCheck[] {
  const rpsTarget = (scenario: ScenarioName, min: number): TargetCheck => {
    const value = scenarios[scenario].ratio.rps;
    return {
      name: `${scenario} rps vs reference`,
      value,
      threshold: `>= ${min}x`,
      pass: value !== null && value >= min,
    };
  };
  return [
    rpsTarget("create", 0.8),
    rpsTarget("leanrails-create", 0.7),
    rpsTarget("get", 0.9),
    ...SCENARIOS.map((scenario) => {
      const { kassa, reference } = scenarios[scenario];
      // autocannon counts whole milliseconds: a reference p99 of 0 ms is taken as 1 ms.
      const value = ratio(kassa.p99, Math.max(reference.p99, 1));
      return {
        name: `${scenario} p99 vs reference`,
        value,
        threshold: "<= 1.5x",
        pass: value !== null && value <= 1.5,
      };
    }),
  ];
}

/** The embedded store's target: a create answered within 100 ms at the 99th percentile (32 connections). */
export const EMBEDDED_CREATE_P99_MS = 100;

export function checkEmbeddedTargets(scenarios: EmbeddedReport["scenarios"]): TargetCheck[] {
  const value = scenarios.create.kassa.p99;
  return [
    {
      name: "create p99 (embedded)",
      value,
      threshold: `< ${EMBEDDED_CREATE_P99_MS} ms`,
      pass: value < EMBEDDED_CREATE_P99_MS,
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Printing

const fixed = (n: number | null, digits: number) => (n === null ? "n/a" : n.toFixed(digits));
const ms = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function figuresRow(scenario: string, server: string, f: Figures): string[] {
  return [scenario, server, f.rps.toFixed(1), ms(f.p50), ms(f.p99), ms(f.max), String(f.errors)];
}

/** A compared row: the figures, then CPU per request of the server and of PostgreSQL. */
function compareRow(scenario: string, server: string, f: Figures): string[] {
  const us = (n: number | null | undefined) => (n === null || n === undefined ? "n/a" : String(n));
  return [...figuresRow(scenario, server, f), us(f.cpuUsPerRequest?.server), us(f.cpuUsPerRequest?.postgres)];
}

/** `a` over `b`, as the table prints ratios; blank when either is unknown. */
const cpuRatio = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || b === 0 ? "" : `${(a / b).toFixed(2)}x`;

function formatTargets(targets: TargetCheck[]): string[] {
  const width = Math.max(...targets.map((t) => t.name.length));
  return targets.map(
    (t) =>
      `  ${t.pass ? "PASS" : "MISS"}  ${t.name.padEnd(width)}  ${t.threshold.padEnd(9)} measured ${
        t.threshold.endsWith("x") ? `${fixed(t.value, 2)}x` : `${t.value === null ? "n/a" : ms(t.value)} ms`
      }`,
  );
}

export function formatMachine(report: Pick<Common, "machine" | "revision">): string {
  const m = report.machine;
  const revision = report.revision.commit
    ? `${report.revision.commit.slice(0, 12)}${report.revision.srcDirty ? " (src/ has uncommitted changes)" : ""}`
    : "unknown";
  return [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; Node ${m.node}; ${m.postgres.startsWith("PGlite") ? "" : "PostgreSQL "}${m.postgres}; ${m.os}`,
    `Kassa at ${revision}`,
  ].join("\n");
}

function formatLoadAverage(report: Common): string {
  const { start, end } = report.loadAverage;
  const flags = report.settings.nodeFlags?.length ? report.settings.nodeFlags.join(" ") : "none";
  return [
    `Load average (1 min): ${start.toFixed(2)} at the start, ${end.toFixed(2)} at the end (the bench's own included)`,
    `Node flags (npm run start:prod's): ${flags}`,
  ].join("\n");
}

export function formatCompare(report: CompareReport): string {
  const s = report.settings;
  const rows: string[][] = [
    ["scenario", "server", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "cpu µs/req", "pg µs/req"],
  ];
  for (const scenario of SCENARIOS) {
    const r = report.scenarios[scenario];
    rows.push(compareRow(scenario, "kassa", r.kassa));
    rows.push(compareRow("", "reference", r.reference));
    rows.push([
      ...["", "kassa/reference", `${fixed(r.ratio.rps, 2)}x`, "", `${fixed(r.ratio.p99, 2)}x`, "", ""],
      cpuRatio(r.kassa.cpuUsPerRequest?.server, r.reference.cpuUsPerRequest?.server),
      cpuRatio(r.kassa.cpuUsPerRequest?.postgres, r.reference.cpuUsPerRequest?.postgres),
    ]);
  }
  const targets = formatTargets(report.targets);
  const oc = report.opencharge;
  if (oc) {
    rows.push(figuresRow("oc-create", "kassa", oc.kassa));
    rows.push(["", "oc/cnaught create", `${fixed(oc.ratioToCnaughtCreate, 2)}x`, "", "", "", ""]);
  }
  const ocLines = oc
    ? [
        `  oc-create ${oc.description}`,
        `Opencharge: the server's two secp256k1 verifications take ${oc.verifyMicrosPerCreate} µs per create ` +
          `(in-process, median), signing the answer ${oc.signMicrosPerAnswer} µs; at ${oc.kassa.rps.toFixed(1)} req/s ` +
          `they fill ${fixed(oc.verifyCores * 100, 0)}% and ${fixed(oc.signCores * 100, 0)}% of one core ` +
          `(of the server's one event loop: its time per create is 1/rps)`,
      ]
    : [];
  return [
    formatMachine(report),
    formatLoadAverage(report),
    `Load: autocannon, ${s.connections} connections, ${s.durationS} s per scenario after a ${s.warmupS} s warm-up` +
      (s.slices && s.slices > 1
        ? ` (in ${s.slices} slices of ${s.durationS / s.slices} s, the servers taking turns ABBA…, 1 s warm-up after the first)`
        : "") +
      `; ${s.seedSessions} pre-created sessions polled at random; pool ${s.databasePoolSize} connections`,
    ...SCENARIOS.map((scenario) => `  ${scenario.padEnd(16)} ${SCENARIO_LABELS[scenario]}`),
    ...ocLines.slice(0, 1),
    "",
    table(rows),
    ...ocLines.slice(1),
    "",
    "Targets",
    ...targets,
  ].join("\n");
}

export function formatEmbedded(report: EmbeddedReport): string {
  const s = report.settings;
  const rows: string[][] = [["scenario", "server", "req/s", "p50 ms", "p99 ms", "max ms", "errors"]];
  for (const scenario of EMBEDDED_SCENARIOS) rows.push(figuresRow(scenario, "kassa", report.scenarios[scenario].kassa));
  return [
    formatMachine(report),
    formatLoadAverage(report),
    `Store: embedded (PGlite in Kassa's process, no DATABASE_URL); no reference: absolute figures`,
    `Load: autocannon, ${s.connections} connections, ${s.durationS} s per scenario after a ${s.warmupS} s warm-up; ` +
      `${s.seedSessions} pre-created sessions polled at random`,
    ...EMBEDDED_SCENARIOS.map((scenario) => `  ${scenario.padEnd(16)} ${SCENARIO_LABELS[scenario]}`),
    "",
    table(rows),
    "",
    "Targets",
    ...formatTargets(report.targets),
  ].join("\n");
}

export function formatSoak(report: SoakReport): string {
  const { figures: f, rssMiB, samples } = report.soak;
  const mib = (n: number | null) => (n === null ? "n/a" : `${n.toFixed(1)} MiB`);
  return [
    formatMachine(report),
    formatLoadAverage(report),
    `Soak: Kassa only${report.settings.store === "embedded" ? " on the embedded store" : ""}, mixed load (${SCENARIO_LABELS.mixed}), ${report.settings.connections} connections, ` +
      `${report.settings.durationS} s after a ${report.settings.warmupS} s warm-up`,
    "",
    table([["scenario", "server", "req/s", "p50 ms", "p99 ms", "max ms", "errors"], figuresRow("mixed", "kassa", f)]),
    "",
    `RSS (VmRSS of the Kassa process, sampled every 5 s; ${samples.length} samples): ` +
      `start ${mib(rssMiB.start)}, end ${mib(rssMiB.end)}, peak ${mib(rssMiB.peak)}`,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Files

/**
 * `<stamp><suffix>.json` and `latest<suffix>.json` in `dir`, pretty-printed for diffs; the suffix
 * is "" for a comparison, "-embedded" for the embedded store, "-soak" (or "-embedded-soak") for a
 * soak. Answers the paths.
 */
export function writeResults(
  dir: string,
  stamp: string,
  report: CompareReport | EmbeddedReport | SoakReport,
): string[] {
  mkdirSync(dir, { recursive: true });
  const embedded = report.kind === "embedded" || report.settings.store === "embedded";
  const suffix = `${embedded ? "-embedded" : ""}${report.kind === "soak" ? "-soak" : ""}`;
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const files = [path.join(dir, `${stamp}${suffix}.json`), path.join(dir, `latest${suffix}.json`)];
  for (const file of files) writeFileSync(file, text);
  return files;
}
