import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    // `*.redis.test.ts` need a Redis server: they run when REDIS_URL names one (.ci/run sets it),
    // as DATABASE_URL chooses PostgreSQL; `npm test` on a bare machine needs no server at all.
    // `*.postgres.test.ts` (the fault harness: real server processes on one database) need a
    // PostgreSQL server the same way: they run when DATABASE_URL names one.
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.REDIS_URL ? [] : ["test/**/*.redis.test.ts"]),
      ...(process.env.DATABASE_URL ? [] : ["test/**/*.postgres.test.ts"]),
    ],
    // Each file gets its own database (a PostgreSQL database, or an in-memory PGlite), so files
    // run in parallel; PGlite and the spawned servers are CPU-heavy on a 2-core machine.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ["test/helpers/global-setup.ts"],
  },
});
