import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";
import type { Config } from "../config.js";
import { Prisma, PrismaClient } from "../generated/prisma/client.js";
import { openPglite } from "./embedded-store.js";
import { openPostgres } from "./postgres-store.js";

export { StoreInUseError } from "./embedded-store.js";
export { postgresChangeFeed } from "./change-feed.js";

/** What repositories run queries on: the client itself or an open transaction. */
export type Db = PrismaClient | Prisma.TransactionClient;
export { Prisma, PrismaClient };

/**
 * One SQL statement with positional parameters ($1, $2…), such as `Prisma.sql` builds (its
 * `text` and `values`). Statements run through `Sql` are prepared on PostgreSQL: parsed and
 * planned once per connection and text, not on every request.
 */
export interface SqlStatement {
  text: string;
  values: unknown[];
}

/**
 * SQL beside Prisma, for the hot paths (creating and reading sessions, authenticating keys):
 * the driver itself, without the query builder's cost per call. Repositories still own every
 * statement; outside a transaction they may use this, inside one they use the Prisma client.
 * Rows come back as the driver parses them: numeric as string, timestamptz as Date, json as values.
 */
export interface Sql {
  query<R>(statement: SqlStatement): Promise<R[]>;
}

/** Hears a NOTIFY channel: `message` for each payload, `live(false)` whenever some may have been missed. */
export interface ChangeListener {
  message(payload: string): void;
  /** true once listening; false when the connection is lost (until it is back, and `live(true)` again). */
  live(listening: boolean): void;
}

/** PostgreSQL LISTEN/NOTIFY: how one instance tells the others that something they cache changed. */
export interface ChangeFeed {
  listen(channel: string, listener: ChangeListener): void;
}

export interface Database {
  readonly kind: "postgres" | "pglite";
  /** The embedded engine itself, on the PGlite store (tests dump it to clone databases). */
  readonly pglite?: PGlite;
  readonly prisma: PrismaClient;
  readonly sql: Sql;
  readonly changes: ChangeFeed;
  readonly pool?: Pick<pg.Pool, "totalCount" | "idleCount" | "waitingCount" | "options">; // metrics: PostgreSQL only
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

/**
 * Runs `fn` in one database transaction; services receive this instead of the client.
 * `timeoutMs`: how long the transaction may stay open before it is rolled back (Prisma's default 5 s).
 */
export type Transactor = <T>(
  fn: (tx: Prisma.TransactionClient) => Promise<T>,
  options?: { timeoutMs?: number },
) => Promise<T>;

export const transactorFor =
  (prisma: PrismaClient): Transactor =>
  (fn, options) =>
    prisma.$transaction(fn, options?.timeoutMs ? { timeout: options.timeoutMs } : undefined);

/** Whether a Prisma error is a unique-constraint violation (P2002). */
export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
