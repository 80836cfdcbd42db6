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

  const changes = postgresChangeFeed(url);
  return {
    kind: "postgres",
    prisma,
    pool, // metrics
    sql: {
      query: async <R>({ text, values }: SqlStatement) =>
        (await pool.query({ name: preparedName(text), text, values })).rows as R[],
    },
    changes,
    withMigrationLock,
    migrate,
    ping: async () => void (await pool.query("SELECT 1")),
    close: async () => {
      await changes.close();
      await prisma.$disconnect();
      await pool.end().catch(() => {});
    },
  };
}

/** Prepared statements' names by text: one name per distinct statement, the same on every connection. */
const preparedNames = new Map<string, string>();
/**
 * Statement texts are fixed in the repositories (values are always parameters), so a few dozen
 * names are expected; past this many something builds texts from values, and the statements run
 * unprepared rather than fill every connection with plans.
 */
const MAX_PREPARED_STATEMENTS = 500;
const preparedName = (text: string): string | undefined => {
  let name = preparedNames.get(text);
  if (!name && preparedNames.size < MAX_PREPARED_STATEMENTS) {
    name = `kassa_${preparedNames.size}`;
    preparedNames.set(text, name);
  }
  return name;
};

/** How long a lost listening connection waits before it connects again. */
const RELISTEN_DELAY_MS = 1000;

/**
 * How often the listening connection proves it is alive, and how long it may take to answer. A
 * connection dropped silently (an idle flow forgotten by a NAT or a firewall) raises no error:
 * without this, the caches would go on trusting a feed that no longer reaches them.
 */
const HEARTBEAT = { intervalMs: 10_000, timeoutMs: 5_000 };

/**
 * LISTEN on a connection of its own (outside the pool), opened at the first `listen` and opened
 * again whenever it is lost; listeners hear `live(false)` at once on a loss, so caches that rely
 * on the feed stop trusting themselves until it is back.
 */
export function postgresChangeFeed(url: string, heartbeatTiming = HEARTBEAT): ChangeFeed & { close(): Promise<void> } {
  const channels = new Map<string, ChangeListener[]>();
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  const tell = (listening: boolean) => {
    for (const listeners of channels.values()) for (const l of listeners) l.live(listening);
  };
  const quote = (channel: string) => `"${channel.replaceAll('"', '""')}"`;

  async function connect() {
    if (closed || client) return;
    const c = new pg.Client({
      connectionString: url,
      keepAlive: true,
      connectionTimeoutMillis: heartbeatTiming.timeoutMs,
    });
    client = c;
    const lost = () => {
      if (client !== c) return;
      client = null;
      clearInterval(heartbeat);
      tell(false);
      c.end().catch(() => {});
      if (!closed) retry = setTimeout(() => void connect(), RELISTEN_DELAY_MS);
    };
    c.on("error", lost);
    c.on("end", lost);
    c.on("notification", (n) => {
      for (const l of channels.get(n.channel) ?? []) l.message(n.payload ?? "");
    });
    try {
      await c.connect();
      for (const channel of channels.keys()) await c.query(`LISTEN ${quote(channel)}`);
      if (client !== c) return;
      heartbeat = setInterval(() => {
        const late = setTimeout(lost, heartbeatTiming.timeoutMs);
        c.query("SELECT 1").then(
          () => clearTimeout(late),
          () => lost(),
        );
      }, heartbeatTiming.intervalMs);
      heartbeat.unref();
      tell(true);
    } catch {
      lost();
    }
  }

  return {
    listen(channel, listener) {
      const listeners = channels.get(channel);
      if (listeners) listeners.push(listener);
      else channels.set(channel, [listener]);
      if (client) {
        const c = client;
        c.query(`LISTEN ${quote(channel)}`).then(
          () => listener.live(true),
          () => c.emit("error", new Error("LISTEN failed")),
        );
      } else void connect();
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const c = client;
      client = null;
      clearInterval(heartbeat);
      await c?.end().catch(() => {});
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
  const unlisten: (() => Promise<void>)[] = [];
  return {
    kind: "pglite",
    pglite,
    prisma,
    sql: {
      query: async <R>(statement: SqlStatement) => (await pglite.query<R>(statement.text, statement.values)).rows,
    },
    // One process owns the store, so every change is made (and heard) by this process.
    changes: {
      listen(channel, listener) {
        void pglite
          .listen(channel, (payload) => listener.message(payload))
          .then(
            (stop) => {
              unlisten.push(stop);
              listener.live(true);
            },
            () => listener.live(false),
          );
      },
    },
    withMigrationLock,
    migrate: () => withMigrationLock(async () => applyMigrations(session, await readMigrations())),
    ping: async () => void (await pglite.query("SELECT 1")),
    close: async () => {
      await Promise.all(unlisten.map((stop) => stop().catch(() => {})));
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

export const transactorFor =
  (prisma: PrismaClient): Transactor =>
  (fn, options) =>
    prisma.$transaction(fn, options?.timeoutMs ? { timeout: options.timeoutMs } : undefined);

/** Whether a Prisma error is a unique-constraint violation (P2002). */
export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
