import { afterEach, describe, expect, it } from "vitest";
import type { WorkerJob } from "../../src/workers/jobs.js";
import { startWorkers } from "../../src/workers/workers.js";
import { sleep, waitFor } from "../helpers/processes.js";

/** Services are not used when every job is given; the scheduling is what is under test. */
const noServices = {} as Parameters<typeof startWorkers>[0]["services"];

function recordingLogger() {
  const lines: Array<{ level: string; obj: object; msg: string }> = [];
  return {
    lines,
    info: (obj: object, msg: string) => lines.push({ level: "info", obj, msg }),
    error: (obj: object, msg: string) => lines.push({ level: "error", obj, msg }),
  };
}

const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.stop()));
});

function start(jobs: WorkerJob[], intervalMs: number, random?: () => number) {
  const logger = recordingLogger();
  const workers = startWorkers({
    services: noServices,
    config: { workers: { enabled: true, intervalMs } },
    logger,
    jobs,
    random,
  });
  running.push(workers);
  return { workers, logger };
}

describe("background workers", () => {
  it("run each job again and again, never overlapping itself", async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const slow: WorkerJob = {
      name: "slow",
      async run() {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await sleep(30);
        active -= 1;
        runs += 1;
        return undefined;
      },
    };
    const { workers } = start([slow], 10);
    for (let i = 0; i < 5; i++) workers.kick("slow");
    await waitFor(() => runs >= 4, 30_000, "four runs");
    expect(maxActive).toBe(1);
  });

  it("a failing job is logged with its name and runs again; other jobs carry on", async () => {
    let failures = 0;
    let others = 0;
    const { logger } = start(
      [
        {
          name: "broken",
          async run() {
            failures += 1;
            throw new Error("database is on fire");
          },
        },
        {
          name: "fine",
          async run() {
            others += 1;
            return { done: 1 };
          },
        },
      ],
      10,
    );
    await waitFor(() => failures >= 3 && others >= 3, 30_000, "both jobs to run repeatedly");
    const errors = logger.lines.filter((l) => l.level === "error");
    expect(errors[0]).toMatchObject({ msg: "worker job failed", obj: { job: "broken" } });
    expect((errors[0]!.obj as { err: Error }).err.message).toBe("database is on fire");
    expect(logger.lines.find((l) => l.level === "info")).toMatchObject({ obj: { job: "fine", done: 1 } });
  });

  it("kick runs a job now instead of at its next tick", async () => {
    let runs = 0;
    // A minute between runs (and the whole minute before the first one): only a kick runs it.
    const { workers } = start(
      [
        {
          name: "deliver-webhooks",
          async run() {
            runs += 1;
            return undefined;
          },
        },
      ],
      60_000,
      () => 1,
    );
    expect(runs).toBe(0);
    workers.kick();
    await waitFor(() => runs === 1, 30_000, "the kicked run");
    workers.kick();
    await waitFor(() => runs === 2, 30_000, "the second kicked run");
  });

  it("stop aborts the running job's signal, waits for it, and nothing runs afterwards", async () => {
    let runs = 0;
    let sawAbort = false;
    let started = false;
    const { workers } = start(
      [
        {
          name: "long",
          async run({ signal }) {
            started = true;
            runs += 1;
            await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
            sawAbort = signal.aborted;
            return undefined;
          },
        },
      ],
      10,
    );
    await waitFor(() => started, 30_000, "the job to start");
    await workers.stop();
    expect(sawAbort).toBe(true);
    workers.kick("long");
    await sleep(50);
    expect(runs).toBe(1);
  });
});
