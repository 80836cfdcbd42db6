import type { Config } from "../config.js";
import type { Services } from "../core/services.js";
import { DELIVER_WEBHOOKS, kassaJobs, type WorkerJob } from "./jobs.js";

/** The logging a worker does: pino's (or Fastify's) logger fits. */
export interface WorkerLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Workers {
  /** Runs a job now (default: webhook delivery), or right after its current run. */
  kick(jobName?: string): void;
  /** Stops scheduling, cuts in-flight deliveries short and waits for running jobs to finish. */
  stop(): Promise<void>;
}

/**
 * Runs each job every `config.workers.intervalMs`, jittered (±25%, and a random first delay)
 * so that several instances spread out. A job never overlaps itself: the next run is scheduled
 * when the last one ends. Errors are logged, never thrown: the next run tries again. Every job
 * is safe with several instances running (row leases, SKIP LOCKED).
 */
export function startWorkers(options: {
  services: Pick<Services, "checkoutSessions" | "webhooks" | "idempotency">;
  config: Pick<Config, "workers">;
  logger: WorkerLogger;
  jobs?: WorkerJob[];
  random?: () => number;
}): Workers {
  const { services, config, logger, random = Math.random } = options;
  const jobs = options.jobs ?? kassaJobs(services);
  const interval = config.workers.intervalMs;
  const stopping = new AbortController();

  const loops = new Map(
    jobs.map((job) => {
      const state = {
        job,
        timer: undefined as NodeJS.Timeout | undefined,
        running: null as Promise<void> | null,
        again: false,
      };
      return [job.name, state];
    }),
  );
  type Loop = NonNullable<ReturnType<typeof loops.get>>;

  function schedule(loop: Loop, delay: number) {
    if (stopping.signal.aborted) return;
    clearTimeout(loop.timer);
    loop.timer = setTimeout(() => run(loop), delay);
  }

  function run(loop: Loop) {
    if (stopping.signal.aborted) return;
    if (loop.running) {
      loop.again = true;
      return;
    }
    clearTimeout(loop.timer);
    loop.running = (async () => {
      try {
        const did = await loop.job.run({ signal: stopping.signal });
        if (did) logger.info({ job: loop.job.name, ...did }, "worker job done");
      } catch (error) {
        logger.error({ err: error, job: loop.job.name }, "worker job failed");
      } finally {
        loop.running = null;
        const again = loop.again;
        loop.again = false;
        schedule(loop, again ? 0 : interval * (0.75 + random() * 0.5));
      }
    })();
  }

  for (const loop of loops.values()) schedule(loop, random() * interval);

  return {
    kick(jobName = DELIVER_WEBHOOKS) {
      const loop = loops.get(jobName);
      if (loop) run(loop);
    },
    async stop() {
      stopping.abort();
      for (const loop of loops.values()) clearTimeout(loop.timer);
      await Promise.all([...loops.values()].map((loop) => loop.running));
    },
  };
}
