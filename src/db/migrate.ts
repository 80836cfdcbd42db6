import { createHash, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Applies prisma/migrations/<stamp>_<name>/migration.sql in order and records each in
 * `_prisma_migrations` exactly as Prisma Migrate does (same table, same checksum: the SHA-256 of
 * the file), so `prisma migrate deploy` agrees with a database we migrated and vice versa.
 * Our own runner exists because the Prisma CLI needs a native engine that cannot be fetched here.
 */

/** The little a migration needs from a connection; implemented for pg and PGlite in database.ts. */
export interface SqlSession {
  /** Runs one or more statements without parameters. */
  exec(sql: string): Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/** prisma/migrations of the package this file belongs to, from src/db or from the compiled dist/src/db. */
function findMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "prisma", "migrations"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("prisma/migrations not found above src/db");
    dir = parent;
  }
  return path.join(dir, "prisma", "migrations");
}

export const MIGRATIONS_DIR = findMigrationsDir();

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** An arbitrary constant: the advisory lock every instance takes while migrating and seeding. */
export const MIGRATION_LOCK_KEY = 7_274_810_531;

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

/**
 * Applies every pending migration, each in its own transaction together with its record.
 * The caller holds the migration lock (see Database.migrate). Returns the names applied.
 */
export async function applyMigrations(db: SqlSession, migrations: Migration[]): Promise<string[]> {
  await db.exec(CREATE_MIGRATIONS_TABLE);
  const applied = await db.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
    `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
  );
  const byName = new Map(applied.map((row) => [row.migration_name, row]));
  const done: string[] = [];
  for (const migration of migrations) {
    const row = byName.get(migration.name);
    if (row) {
      if (!row.finished_at) {
        throw new MigrationError(
          `Migration ${migration.name} started but never finished; resolve it before starting Kassa`,
        );
      }
      if (row.checksum !== migration.checksum) {
        throw new MigrationError(`Migration ${migration.name} was modified after it was applied (checksum mismatch)`);
      }
      continue;
    }
    await db.exec("BEGIN");
    try {
      await db.exec(migration.sql);
      await db.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), now(), 1)`,
        [randomUUID(), migration.checksum, migration.name],
      );
      await db.exec("COMMIT");
    } catch (error) {
      await db.exec("ROLLBACK");
      throw new MigrationError(`Migration ${migration.name} failed: ${(error as Error).message}`);
    }
    done.push(migration.name);
  }
  return done;
}
