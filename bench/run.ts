/**
 * `npm run bench`: Kassa against a minimal reference server, on a fresh PostgreSQL database.
 *
 *   npm run bench                          create, get and mixed on both servers; table + JSON
 *   npm run bench -- --duration 20 --warmup 5 --connections 32 --sessions 5000
 *   npm run bench -- --soak 300            mixed load on Kassa only for 300 s, with its RSS
 *   npm run bench -- --store embedded      Kassa alone on PGlite (no DATABASE_URL): create, get, mixed
 *   npm run bench -- --skip-build          reuse dist/ as it is
 *   npm run bench -- --keep-logs           keep the servers' request logs in bench/results/.logs
 *
 * Exits non-zero only when something broke (a non-2xx answer, a socket error, a crash); missed
 * targets are reported, not failed. See bench/README.md.
 */
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createBenchDatabase, DEFAULT_DATABASE_URL } from "./database.js";
import { mergeSlices } from "./figures.js";
import { type CpuSample, cpuBetween, describeMachine, describeRevision, rssKiB, sampleCpu } from "./machine.js";
import {
  type CompareReport,
  checkEmbeddedTargets,
  checkTargets,
  type EmbeddedReport,
  formatCompare,
  formatEmbedded,
  formatMachine,
  formatSoak,
  openchargeResult,
  type RssSample,
  type ScenarioResult,
  type SoakReport,
  scenarioResult,
  type Settings,
  writeResults,
} from "./report.js";
import { responseSigningMicros, verificationMicros } from "./opencharge.js";
import {
  EMBEDDED_SCENARIOS,
  type Figures,
  type KassaOnlyScenario,
  type LoadJob,
  type LoadMessage,
  SCENARIO_LABELS,
  SCENARIOS,
  type ScenarioName,
  type Target,
} from "./scenarios.js";
import {
  buildKassa,
  type Kassa,
  type KassaStore,
  type LogOptions,
  productionNodeFlags,
  type ServerProcess,
  setUpMerchant,
  setUpOpencharge,
  startKassa,
  startReference,
} from "./servers.js";

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, "..");
const RESULTS_DIR = path.join(BENCH_DIR, "results");
const LOG_DIR = path.join(RESULTS_DIR, ".logs");
const RSS_SAMPLE_MS = 5_000;

type StoreKind = "postgres" | "embedded";

interface Options {
  settings: Omit<Settings, "databasePoolSize" | "store">;
  store: StoreKind;
  soakS: number | null;
  skipBuild: boolean;
  keepLogs: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string", default: "20" },
      warmup: { type: "string", default: "5" },
      connections: { type: "string", default: "32" },
      sessions: { type: "string", default: "5000" },
      slices: { type: "string", default: "4" },
      soak: { type: "string" },
      store: { type: "string", default: "postgres" },
      "skip-build": { type: "boolean", default: false },
      "keep-logs": { type: "boolean", default: false },
    },
    strict: true,
  });
  const count = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min} (got ${text})`);
    return n;
  };
  const soakS = values.soak === undefined ? null : count("soak", values.soak, 1);
  if (values.store !== "postgres" && values.store !== "embedded") {
    throw new Error(`--store must be postgres or embedded (got ${values.store})`);
  }
  return {
    store: values.store,
    settings: {
      connections: count("connections", values.connections, 1),
      durationS: soakS ?? count("duration", values.duration, 1),
      warmupS: count("warmup", values.warmup, 0),
      seedSessions: count("sessions", values.sessions, 1),
      slices: count("slices", values.slices, 1),
    },
    soakS,
    skipBuild: values["skip-build"],
    keepLogs: values["keep-logs"],
  };
}

const loadAverage = () => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;

const say = (line: string) => process.stdout.write(`· ${line}\n`);

function assertAlive(server: ServerProcess): void {
  if (server.exited) {
    throw new Error(`${server.name} exited during the run (${JSON.stringify(server.exited)}); see ${LOG_DIR}`);
  }
}

/** Runs one job in a forked load.ts; `onMeasuring` fires when its warm-up is over. */
function runLoad(
  job: LoadJob,
  onMeasuring?: () => void,
): Promise<Extract<LoadMessage, { type: "figures" | "seeded" }>> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(BENCH_DIR, "load.ts"), [], {
      cwd: ROOT,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let answer: Extract<LoadMessage, { type: "figures" | "seeded" }> | null = null;
    let failure: string | null = null;
    child.on("message", (message: LoadMessage) => {
      if (message.type === "measuring") onMeasuring?.();
      else if (message.type === "failed") failure = message.message;
      else answer = message;
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (answer) resolve(answer);
      else reject(new Error(`load generator failed: ${failure ?? `exit ${code ?? signal}`}`));
    });
    child.send(job);
  });
}

async function seed(server: ServerProcess, target: Target, settings: Options["settings"]): Promise<string[]> {
  say(`${server.name}: pre-creating ${settings.seedSessions} sessions through the API`);
  const answer = await runLoad({
    kind: "seed",
    target,
    count: settings.seedSessions,
    connections: settings.connections,
  });
  assertAlive(server);
  if (answer.type !== "seeded" || answer.figures.errors > 0 || answer.ids.length !== settings.seedSessions) {
    const codes = JSON.stringify(answer.figures.statusCodes);
    throw new Error(`${server.name}: pre-creating sessions failed (${answer.figures.errors} errors, status ${codes})`);
  }
  return answer.ids;
}

/**
 * One scenario on one server: its figures, the CPU its measured time cost (the server's and
 * PostgreSQL's), and with `raw` autocannon's raw result (a slice, merged later).
 * `onMeasuring` fires when the warm-up is over.
 */
async function measure(
  server: ServerProcess,
  target: Target,
  ids: string[],
  scenario: ScenarioName | KassaOnlyScenario,
  settings: Pick<Options["settings"], "connections" | "warmupS" | "durationS">,
  { onMeasuring, raw = false }: { onMeasuring?: () => void; raw?: boolean } = {},
): Promise<{ figures: Figures; raw?: unknown; cpu: ReturnType<typeof cpuBetween> }> {
  say(`${server.name}: ${scenario}, ${settings.warmupS} s warm-up + ${settings.durationS} s`);
  let before: CpuSample | null = null;
  const answer = await runLoad(
    {
      kind: "run",
      target,
      scenario,
      ids,
      connections: settings.connections,
      warmupS: settings.warmupS,
      durationS: settings.durationS,
      raw,
    },
    () => {
      before = sampleCpu(server.pid);
      onMeasuring?.();
    },
  );
  const cpu = before ? cpuBetween(before, sampleCpu(server.pid)) : { serverMs: null, postgresMs: null };
  assertAlive(server);
  const f = answer.figures;
  say(`${server.name}: ${scenario}: ${f.rps.toFixed(1)} req/s, p99 ${f.p99} ms, ${f.errors} errors`);
  return { figures: f, raw: answer.type === "figures" ? answer.raw : undefined, cpu };
}

/** CPU ms over requests, as µs per request (null when unknown). */
const perRequestUs = (ms: number | null, requests: number) =>
  ms === null || requests === 0 ? null : Math.round((ms * 1000) / requests);

/** The warm-up before each slice after a server's first (the full warm-up): it has been idle while the other ran. */
const SLICE_WARMUP_S = 1;

/**
 * One scenario on both servers, its measured time cut into `slices` slices taken in turn, in
 * the order ABBA ABBA… (A first on even scenarios, B on odd ones): a drift in the machine's
 * speed during the scenario then falls on both alike, where two back-to-back 20 s windows let
 * one server have the quiet half. Each server's slices are merged into one measurement
 * (requests and time summed, latency histograms merged).
 */
/** A server under load: the process, how to reach it, the sessions it polls. */
interface Loaded {
  server: ServerProcess;
  target: Target;
  ids: string[];
}

async function measurePair(
  servers: Record<"kassa" | "reference", Loaded>,
  scenario: ScenarioName,
  settings: Settings,
  referenceFirst: boolean,
  settle: () => Promise<void>,
): Promise<{ kassa: Figures; reference: Figures }> {
  const slices = settings.slices ?? 1;
  const sliceS = settings.durationS / slices;
  const raws: Record<"kassa" | "reference", unknown[]> = { kassa: [], reference: [] };
  const cpu = {
    kassa: { serverMs: 0 as number | null, postgresMs: 0 as number | null, requests: 0 },
    reference: { serverMs: 0 as number | null, postgresMs: 0 as number | null, requests: 0 },
  };
  const add = (sum: number | null, ms: number | null) => (sum === null || ms === null ? null : sum + ms);
  const [a, b] = referenceFirst ? (["reference", "kassa"] as const) : (["kassa", "reference"] as const);
  await settle();
  for (let i = 0; i < slices; i++) {
    for (const who of i % 2 === 0 ? [a, b] : [b, a]) {
      const { server, target, ids } = servers[who];
      const warmupS = raws[who].length === 0 ? settings.warmupS : Math.min(SLICE_WARMUP_S, settings.warmupS);
      const slice = await measure(
        server,
        target,
        ids,
        scenario,
        { ...settings, warmupS, durationS: sliceS },
        { raw: true },
      );
      raws[who].push(slice.raw);
      cpu[who].serverMs = add(cpu[who].serverMs, slice.cpu.serverMs);
      cpu[who].postgresMs = add(cpu[who].postgresMs, slice.cpu.postgresMs);
      cpu[who].requests += slice.figures.requests;
    }
  }
  const merged = { kassa: mergeSlices(raws.kassa), reference: mergeSlices(raws.reference) };
  for (const who of ["kassa", "reference"] as const) {
    merged[who].cpuUsPerRequest = {
      server: perRequestUs(cpu[who].serverMs, cpu[who].requests),
      postgres: perRequestUs(cpu[who].postgresMs, cpu[who].requests),
    };
  }
  for (const who of ["kassa", "reference"] as const) {
    const f = merged[who];
    say(`${who}: ${scenario} over ${slices} slices: ${f.rps.toFixed(1)} req/s, p99 ${f.p99} ms, ${f.errors} errors`);
  }
  return merged;
}

/** The embedded store's engine, as the machine line names it: `PGlite <version>`. */
function pgliteVersion(): string {
  const manifest = path.join(ROOT, "node_modules", "@electric-sql", "pglite", "package.json");
  return `PGlite ${(JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version}`;
}

/** Where this run's Kassa keeps its data, made fresh for the run and removed at its end. */
interface RunStore {
  store: KassaStore;
  /** What the machine line names: PostgreSQL's server_version, or the PGlite version. */
  engine: string;
  label: string;
  /** Run before each measured window: the database brought to the same state (see BenchDatabase.settle). */
  settle(): Promise<void>;
  remove(): Promise<void>;
}

async function openRunStore(kind: StoreKind): Promise<RunStore> {
  if (kind === "embedded") {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "kassa-bench-"));
    return {
      store: { kind: "embedded", dataDir },
      engine: pgliteVersion(),
      label: `embedded store in ${dataDir}`,
      // PGlite lives inside Kassa's process: nothing outside it can vacuum it; no other server shares it.
      settle: async () => {},
      remove: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const db = await createBenchDatabase(process.env.DATABASE_URL || DEFAULT_DATABASE_URL);
  let warnedSettle = false;
  return {
    store: { kind: "postgres", url: db.url },
    engine: db.serverVersion,
    label: `database ${db.name}`,
    settle: async () => {
      const done = await db.settle();
      const skipped = done.filter((step) => step.includes("skipped"));
      if (skipped.length > 0 && !warnedSettle) say(`settling the database: ${skipped.join("; ")}`);
      warnedSettle = true;
    },
    remove: () => db.drop(),
  };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const stamp = `${startedAt.toISOString().slice(0, 19).replaceAll(":", "-")}Z`;
  const logs: LogOptions = { dir: LOG_DIR, keepStdout: options.keepLogs, stamp };
  const running: ServerProcess[] = [];

  const runStore = await openRunStore(options.store);
  let cleaning: Promise<void> | null = null;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await Promise.allSettled(running.map((server) => server.stop()));
      await runStore.remove();
    })());
  process.once("SIGINT", () => {
    void cleanUp().finally(() => process.exit(130));
  });

  try {
    const loadAverageStart = loadAverage();
    const common = {
      revision: describeRevision(ROOT),
      machine: describeMachine(runStore.engine),
    };
    process.stdout.write(`${formatMachine(common)}\n`);
    say(runStore.label);
    if (!options.skipBuild) {
      say("building Kassa (npm run build)");
      buildKassa(ROOT);
    }
    say(
      `starting Kassa (node ${[...productionNodeFlags(ROOT), "dist/src/server.js"].join(" ")}${options.store === "embedded" ? ", no DATABASE_URL" : ""})`,
    );
    const kassa = await startKassa(ROOT, runStore.store, logs);
    running.push(kassa.server);
    const apiKey = await setUpMerchant(ROOT, kassa);
    const kassaTarget: Target = {
      url: kassa.server.url,
      authorization: `Bearer ${apiKey}`,
      leanrailsAuthorization: `Basic ${Buffer.from(`${apiKey}:`).toString("base64")}`,
    };
    const settings: Settings = {
      ...options.settings,
      databasePoolSize: kassa.poolSize,
      store: options.store,
      nodeFlags: productionNodeFlags(ROOT),
    };
    const kassaIds = await seed(kassa.server, kassaTarget, settings);
    const finished = (extra: { loadAverageEnd: number }) => ({
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      ...common,
      loadAverage: { start: loadAverageStart, end: extra.loadAverageEnd },
      settings,
    });
    const written = (files: string[], text: string) =>
      process.stdout.write(`\n${text}\n\nWritten: ${files.map((f) => path.relative(ROOT, f)).join(", ")}\n`);

    if (options.soakS !== null) {
      await runStore.settle();
      const soak = await soakRun(kassa, kassaTarget, kassaIds, settings);
      const report: SoakReport = {
        kind: "soak",
        ...finished({ loadAverageEnd: loadAverage() }),
        soak,
        errors: soak.figures.errors,
      };
      await cleanUp();
      written(writeResults(RESULTS_DIR, stamp, report), formatSoak(report));
      return finish(report.errors);
    }

    if (options.store === "embedded") {
      const scenarios = {} as EmbeddedReport["scenarios"];
      for (const scenario of EMBEDDED_SCENARIOS) {
        const { figures: kassaFigures } = await measure(kassa.server, kassaTarget, kassaIds, scenario, settings);
        scenarios[scenario] = { description: SCENARIO_LABELS[scenario], kassa: kassaFigures };
      }
      const loadAverageEnd = loadAverage();
      await cleanUp();
      const report: EmbeddedReport = {
        kind: "embedded",
        ...finished({ loadAverageEnd }),
        scenarios,
        targets: checkEmbeddedTargets(scenarios),
        errors: EMBEDDED_SCENARIOS.reduce((sum, s) => sum + scenarios[s].kassa.errors, 0),
      };
      written(writeResults(RESULTS_DIR, stamp, report), formatEmbedded(report));
      return finish(report.errors);
    }

    if (runStore.store.kind !== "postgres" || kassa.poolSize === null) {
      throw new Error("the reference needs PostgreSQL");
    }
    // The reference runs beside Kassa (each idle while the other is loaded), so that every
    // scenario is measured on both in turns (measurePair): a change in the machine's other load
    // then hits both alike instead of whichever server's turn it was.
    say("starting the reference server (bench/reference-server.ts)");
    const reference = await startReference(ROOT, runStore.store.url, kassa.poolSize, logs);
    running.push(reference);
    const referenceTarget: Target = { url: reference.url, authorization: kassaTarget.authorization };
    const referenceIds = await seed(reference, referenceTarget, settings);
    const scenarios = {} as Record<ScenarioName, ScenarioResult>;
    const pair = {
      kassa: { server: kassa.server, target: kassaTarget, ids: kassaIds },
      reference: { server: reference, target: referenceTarget, ids: referenceIds },
    };
    for (const [i, scenario] of SCENARIOS.entries()) {
      // Which goes first alternates, so neither is always the one measured later.
      const figures = await measurePair(pair, scenario, settings, i % 2 === 1, () => runStore.settle());
      scenarios[scenario] = scenarioResult(scenario, figures.kassa, figures.reference);
    }
    say("kassa: registering the Opencharge participants (kassa opencharge participants add)");
    await setUpOpencharge(ROOT, kassa);
    await runStore.settle();
    const { figures: openchargeFigures } = await measure(kassa.server, kassaTarget, [], "opencharge-create", settings);
    await Promise.all([kassa.server.stop(), reference.stop()]);
    say("measuring the server's secp256k1 verification in-process");
    const verifyMicros = verificationMicros();
    const signMicros = responseSigningMicros();
    const loadAverageEnd = loadAverage();
    await cleanUp();

    const report: CompareReport = {
      kind: "compare",
      ...finished({ loadAverageEnd }),
      scenarios,
      opencharge: openchargeResult(openchargeFigures, scenarios.create.kassa, verifyMicros, signMicros),
      targets: checkTargets(scenarios),
      errors:
        SCENARIOS.reduce((sum, s) => sum + scenarios[s].kassa.errors + scenarios[s].reference.errors, 0) +
        openchargeFigures.errors,
    };
    written(writeResults(RESULTS_DIR, stamp, report), formatCompare(report));
    return finish(report.errors);
  } finally {
    await cleanUp();
  }
}

/**
 * The mixed load on Kassa alone for the soak's duration, its resident memory sampled every 5 s
 * from the end of the warm-up: the first sample is the start, the last the end.
 */
async function soakRun(kassa: Kassa, target: Target, ids: string[], settings: Settings): Promise<SoakReport["soak"]> {
  const samples: RssSample[] = [];
  let t0 = 0;
  const sample = () => {
    const kib = rssKiB(kassa.server.pid);
    if (kib !== null) {
      samples.push({ atS: Math.round((Date.now() - t0) / 100) / 10, rssMiB: Math.round((kib / 1024) * 10) / 10 });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const { figures } = await measure(kassa.server, target, ids, "mixed", settings, {
    onMeasuring: () => {
      t0 = Date.now();
      sample();
      timer = setInterval(sample, RSS_SAMPLE_MS);
    },
  }).finally(() => clearInterval(timer));
  sample();
  return {
    scenario: "mixed",
    figures,
    rssMiB: {
      start: samples[0]?.rssMiB ?? null,
      end: samples.at(-1)?.rssMiB ?? null,
      peak: samples.length > 0 ? Math.max(...samples.map((s) => s.rssMiB)) : null,
    },
    samples,
  };
}

function finish(errors: number): number {
  if (errors === 0) return 0;
  process.stderr.write(
    `bench: ${errors} requests failed (non-2xx or socket errors); see the status codes in the JSON\n`,
  );
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
