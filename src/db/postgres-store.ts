import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { postgresChangeFeed } from "./change-feed.js";
import type { Database, SqlStatement } from "./database.js";
import { applyMigrations, MIGRATION_LOCK_KEY, readMigrations, type SqlSession } from "./migrate.js";

/** The PostgreSQL store: a `pg` pool under Prisma's adapter, prepared statements for `sql`, an advisory migration lock. */
export async function openPostgres(url: string, poolSize: number): Promise<Database> {
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
        (await pool.query({ name: preparedName(text), text, values: values.map(driverValue) })).rows as R[],
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

/**
 * A statement parameter as the driver is given it: a time as ISO 8601 text (every time column is
 * timestamptz, so the instant is the same), which costs less than `pg` formatting the Date itself
 * in local time (a tenth of a create's parameters' cost); anything else as it is.
 */
const driverValue = (value: unknown) => (value instanceof Date ? value.toISOString() : value);

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
