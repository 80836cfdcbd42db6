import type { Services } from "../../src/core/services.js";
import type { WorkerJob } from "../../src/workers/jobs.js";
import { startWorkers, type Workers } from "../../src/workers/workers.js";

export interface TestWorkers extends Workers {
  /** What the workers logged as errors (a test can assert there were none). */
  errors: Array<{ obj: object; msg: string }>;
}

const started = new Set<TestWorkers>();

/**
 * Kassa's background workers (session expiry, webhook delivery) for a startTestApp instance
 * (`startTestWorkers(t)`) or any services, every `intervalMs` (default 20). Stop them with
 * `stop()` or `stopTestWorkers()`.
 */
export function startTestWorkers(
  t: { services: Pick<Services, "checkoutSessions" | "webhooks" | "idempotency"> },
  opts: { intervalMs?: number; jobs?: WorkerJob[] } = {},
): TestWorkers {
  const errors: TestWorkers["errors"] = [];
  const workers = startWorkers({
    services: t.services,
    config: { workers: { enabled: true, intervalMs: opts.intervalMs ?? 20 } },
    logger: { info: () => {}, error: (obj, msg) => errors.push({ obj, msg }) },
    jobs: opts.jobs,
  });
  const handle: TestWorkers = {
    errors,
    kick: workers.kick,
    stop: async () => {
      started.delete(handle);
      await workers.stop();
    },
  };
  started.add(handle);
  return handle;
}

/** For `afterAll`/`afterEach`: stops every worker a test started and did not stop. */
export async function stopTestWorkers(): Promise<void> {
  await Promise.all([...started].map((w) => w.stop()));
}
