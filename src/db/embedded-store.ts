import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.js";
import type { Database } from "./database.js";
import { applyMigrations, readMigrations, type SqlSession } from "./migrate.js";
import { preparedStatements } from "./pglite-statements.js";

/** The embedded store: PGlite (PostgreSQL in WebAssembly) in this process, one process per folder. */
export class StoreInUseError extends Error {
  override name = "StoreInUseError";
}

export async function openPglite(dataDir: string | null, loadDataDir?: Blob): Promise<Database> {
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
    sql: preparedStatements(pglite),
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
