import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { Config } from "../config.js";
import { Prisma, PrismaClient } from "../generated/prisma/client.js";
import { applyMigrations, MIGRATION_LOCK_KEY, readMigrations, type SqlSession } from "./migrate.js";

/** What repositories run queries on: the client itself or an open transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;
export { Prisma, PrismaClient };

export interface Database {
  readonly kind: "postgres" | "pglite";
  /** The embedded engine itself, on the PGlite store (tests dump it to clone databases). */
  readonly pglite?: PGlite;
  readonly prisma: PrismaClient;
  /**
   * Runs `fn` while holding the cluster-wide migration lock (a PostgreSQL advisory lock), so
   * that several instances starting at once migrate and seed one after another.
   */
  withMigrationLock<T>(fn: () => Promise<T>): Promise<T>;
  /** Applies pending migrations under the lock; returns the names applied. */
  migrate(): Promise<string[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where the data lives: the config's store, or (tests) an in-memory PGlite, optionally started
 * from a dump of another (`loadDataDir`) so each test file need not run initdb and migrations.
 */
export type StoreConfig = Config["store"] | { kind: "pglite"; dataDir: null; loadDataDir?: Blob | File };

export function openDatabase(store: StoreConfig): Promise<Database> {
  if (store.kind === "postgres") return openPostgres(store.url, store.poolSize);
  return openPglite(store.dataDir, "loadDataDir" in store ? store.loadDataDir : undefined);
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });

  /**
   * The advisory lock lives on a connection of its own, outside the pool, so the work done under
   * it (migrations, seeding through Prisma) never waits for a pool slot the lock is holding.
   */
  const withMigrationLock = async <T>(fn: () => Promise<T>): Promise<T> => {
    const lockClient = new pg.Client({ connectionString: url });
    lockClient.on("error", () => {});
    await lockClient.connect();
    try {
      await lockClient.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
      return await fn();
    } finally {
      // Ending the session releases the lock as well; unlock first to be explicit.
      await lockClient.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
      await lockClient.end().catch(() => {});
    }
  };

  const migrate = () =>
    withMigrationLock(async () => {
      const client = await pool.connect();
      try {
        const session: SqlSession = {
          exec: async (sql) => void (await client.query(sql)),
          query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
        };
        return await applyMigrations(session, await readMigrations());
      } finally {
        client.release();
      }
    });

  return {
    kind: "postgres",
    prisma,
    withMigrationLock,
    migrate,
    ping: async () => void (await pool.query("SELECT 1")),
    close: async () => {
      await prisma.$disconnect();
      await pool.end().catch(() => {});
    },
  };
}

export class StoreInUseError extends Error {
  override name = "StoreInUseError";
}

async function openPglite(dataDir: string | null, loadDataDir?: Blob): Promise<Database> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const releaseLock = dataDir ? await lockDataDir(dataDir) : async () => {};
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dataDir ? path.join(dataDir, "pgdata") : undefined, { loadDataDir });
  } catch (error) {
    await releaseLock();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  const session: SqlSession = {
    exec: async (sql) => void (await pglite.exec(sql)),
    query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
  };
  // One process owns the folder (see lockDataDir), so the lock only needs to order this process.
  let queue: Promise<unknown> = Promise.resolve();
  const withMigrationLock = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };
  return {
    kind: "pglite",
    pglite,
    prisma,
    withMigrationLock,
    migrate: () => withMigrationLock(async () => applyMigrations(session, await readMigrations())),
    ping: async () => void (await pglite.query("SELECT 1")),
    close: async () => {
      await prisma.$disconnect();
      await pglite.close();
      await releaseLock();
    },
  };
}

/**
 * PGlite is one in-process PostgreSQL: two processes opening the same folder would corrupt it.
 * A pid file marks the owner; a stale one (its process gone) is taken over.
 */
async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockPath = path.join(dataDir, "kassa.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockPath, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt(await readFile(lockPath, "utf8").catch(() => ""), 10);
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new StoreInUseError(
          `The embedded store in ${dataDir} is in use by process ${owner}. PGlite allows one process; ` +
            "the kassa CLI reaches a running server through its admin API instead.",
        );
      }
      await rm(lockPath, { force: true });
    }
  }
  throw new StoreInUseError(`Could not lock the embedded store in ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs `fn` in one database transaction; services receive this instead of the client.
 * `timeoutMs`: how long the transaction may stay open before it is rolled back (Prisma's default 5 s).
 */
export type Transactor = <T>(
  fn: (tx: Prisma.TransactionClient) => Promise<T>,
  options?: { timeoutMs?: number },
) => Promise<T>;

/**
 * Work an adapter adds to a write's own transaction (storing the idempotent response), so that
 * it commits or rolls back together with the objects the write created.
 */
export type WithinTransaction<T> = (tx: Db, result: T) => Promise<void>;

export const transactorFor =
  (prisma: PrismaClient): Transactor =>
  (fn, options) =>
    prisma.$transaction(fn, options?.timeoutMs ? { timeout: options.timeoutMs } : undefined);

/** Whether a Prisma error is a unique-constraint violation (P2002). */
export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
