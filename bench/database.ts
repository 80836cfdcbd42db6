/** A fresh PostgreSQL database for one bench run, dropped at the end. */
import pg from "pg";

export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres";

export interface BenchDatabase {
  name: string;
  /** DATABASE_URL of the fresh database, for the servers. */
  url: string;
  /** `SHOW server_version` */
  serverVersion: string;
  /**
   * Brings the database to the same state before every measured window: VACUUM (ANALYZE) of
   * every table (what autovacuum would otherwise start in the middle of the next window, because
   * of the rows the previous one wrote) and a CHECKPOINT (resetting checkpoint_timeout, so no
   * timed checkpoint falls inside a window of 25 s). Without it the server measured right after
   * a seeding or another server's window paid for what that one left behind. Answers what was
   * done; a step the role may not run (CHECKPOINT needs a superuser or pg_checkpoint) is
   * skipped and reported as such.
   */
  settle(): Promise<string[]>;
  drop(): Promise<void>;
}

/** Creates `kassa_bench_<pid>` on the server `adminUrl` points at (any database there will do). */
export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const name = `kassa_bench_${process.pid}`;
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const serverVersion = await admin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
    const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
    return rows[0]?.server_version ?? "unknown";
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    serverVersion,
    async settle() {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      const done: string[] = [];
      try {
        for (const statement of ["VACUUM (ANALYZE)", "CHECKPOINT"]) {
          try {
            await client.query(statement);
            done.push(statement);
          } catch (error) {
            done.push(`${statement} skipped: ${(error as Error).message}`);
          }
        }
      } finally {
        await client.end();
      }
      return done;
    },
    async drop() {
      if (dropped) return;
      dropped = true;
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
