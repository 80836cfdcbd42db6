import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite, type PGliteInterface } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";
import {
  applyMigrations,
  type Migration,
  MIGRATIONS_DIR,
  MigrationError,
  readMigrations,
  type SqlSession,
} from "../../src/db/migrate.js";

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  applied_steps_count: number;
}

/** Creating a PGlite instance takes a second or two, more on a busy machine. */
const PGLITE_TIMEOUT = 60_000;

let migrations: Migration[];

beforeAll(async () => {
  migrations = await readMigrations();
  // A runner test with nothing to run would prove little.
  expect(migrations.length).toBeGreaterThan(0);
});

describe("applyMigrations", { timeout: PGLITE_TIMEOUT }, () => {
  let empty: PGlite;
  let pglite: PGliteInterface;
  let session: SqlSession;
  const recorded = () =>
    session.query<MigrationRow>(`SELECT * FROM "_prisma_migrations" ORDER BY migration_name, started_at`);
  const tableExists = async (name: string) =>
    (await session.query<{ found: string | null }>("SELECT to_regclass($1)::text AS found", [`public.${name}`]))[0]
      ?.found != null;

  beforeAll(async () => {
    empty = await PGlite.create(); // no dataDir: in memory; never written to
  }, PGLITE_TIMEOUT);

  afterAll(async () => {
    await empty.close();
  });

  beforeEach(async () => {
    // A fresh in-memory database per test; cloning an empty instance is quicker than creating one.
    pglite = await empty.clone();
    session = {
      exec: async (sql) => void (await pglite.exec(sql)),
      query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
    };
  }, PGLITE_TIMEOUT);

  afterEach(async () => {
    await pglite.close();
  });

  test("applies every migration once and records it as Prisma Migrate does", async () => {
    const applied = await applyMigrations(session, migrations);
    expect(applied).toEqual(migrations.map((m) => m.name));

    const rows = await recorded();
    expect(rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));
    for (const row of rows) {
      // The checksum is the SHA-256 of migration.sql as it is on disk, computed here independently.
      const sql = await readFile(path.join(MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    // And the migrations really ran: every table they create exists.
    for (const table of createdTables(migrations)) expect(await tableExists(table), table).toBe(true);
  });

  test("a second run applies nothing and records nothing", async () => {
    await applyMigrations(session, migrations);
    const before = await recorded();

    expect(await applyMigrations(session, migrations)).toEqual([]);
    expect(await recorded()).toEqual(before);
  });

  test("applies only the migrations that are new", async () => {
    const extra: Migration = sqlMigration("29990101000000_add_probe", 'CREATE TABLE "probe" ("id" TEXT PRIMARY KEY);');
    await applyMigrations(session, migrations);

    expect(await applyMigrations(session, [...migrations, extra])).toEqual([extra.name]);
    expect(await tableExists("probe")).toBe(true);
    expect((await recorded()).map((r) => r.migration_name)).toEqual([...migrations.map((m) => m.name), extra.name]);
  });

  test("refuses to run when an applied migration's file has changed since", async () => {
    await applyMigrations(session, migrations);
    const [first, ...rest] = migrations as [Migration, ...Migration[]];
    const edited = sqlMigration(first.name, `${first.sql}\n-- edited after it was applied\n`);

    const error = await applyMigrations(session, [edited, ...rest]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/checksum/);
    expect((error as Error).message).toContain(first.name);
  });

  test("refuses to run over a migration that started but never finished", async () => {
    await applyMigrations(session, migrations);
    const [first] = migrations as [Migration];
    await session.query(`UPDATE "_prisma_migrations" SET finished_at = NULL WHERE migration_name = $1`, [first.name]);

    const error = await applyMigrations(session, migrations).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toMatch(/never finished/);
  });

  test("a migration that fails leaves no trace, and the runner can go on once it is fixed", async () => {
    await applyMigrations(session, migrations);
    const before = await recorded();
    // The first statement succeeds, the second fails: the table must not survive.
    const broken = sqlMigration(
      "29990101000000_broken",
      'CREATE TABLE "partial_probe" ("id" TEXT PRIMARY KEY);\nSELECT * FROM "no_such_table";',
    );

    const error = await applyMigrations(session, [...migrations, broken]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain(broken.name);
    expect((error as Error).message).toMatch(/no_such_table/);
    expect(await tableExists("partial_probe")).toBe(false);
    expect(await recorded()).toEqual(before);

    // The session is usable afterwards (not left in an aborted transaction).
    const fixed = sqlMigration(broken.name, 'CREATE TABLE "partial_probe" ("id" TEXT PRIMARY KEY);');
    expect(await applyMigrations(session, [...migrations, fixed])).toEqual([fixed.name]);
    expect(await tableExists("partial_probe")).toBe(true);
  });
});

// Several Kassa instances starting at once each call migrate(); the migration lock must make
// exactly one of them apply each migration. On PostgreSQL (DATABASE_URL set) that is three
// separate pools contending for the advisory lock on a fresh database; without one, the same
// check runs on the embedded PGlite store, whose lock serialises calls within the process.
const DATABASE_URL = process.env.DATABASE_URL;

describe(`migrate() called by three instances at once (${DATABASE_URL ? "PostgreSQL" : "PGlite"})`, () => {
  test("records each migration exactly once, and every call resolves", { timeout: PGLITE_TIMEOUT }, async () => {
    const target = DATABASE_URL ? await freshPostgresDatabase(DATABASE_URL) : await freshPgliteStore();
    try {
      const results = await Promise.all(target.instances.map((db) => db.migrate()));

      // Between them the calls applied every migration once: one call did the work, the others
      // found nothing left to do (the split is up to the lock).
      expect(results).toHaveLength(3);
      expect(results.flat().sort()).toEqual(migrations.map((m) => m.name));

      const names = await target.recordedNames();
      expect(names.sort()).toEqual(migrations.map((m) => m.name));
    } finally {
      await target.dispose();
    }
  });
});

interface ConcurrencyTarget {
  instances: Database[];
  recordedNames(): Promise<string[]>;
  dispose(): Promise<void>;
}

/** Three independent pools on a new, empty database on the DATABASE_URL server. */
async function freshPostgresDatabase(serverUrl: string): Promise<ConcurrencyTarget> {
  const name = `kassa_mig_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;

  const opened = await Promise.allSettled(
    [1, 2, 3].map(() => openDatabase({ kind: "postgres", url: url.toString(), poolSize: 4 })),
  );
  const instances = opened.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const dispose = async () => {
    await Promise.allSettled(instances.map((db) => db.close()));
    // WITH (FORCE) (PostgreSQL 13+) ends any connection a failed assertion left behind.
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  };
  const failure = opened.find((r) => r.status === "rejected");
  if (failure) {
    await dispose();
    throw failure.reason;
  }
  return {
    instances,
    recordedNames: async () => {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        const { rows } = await client.query<{ migration_name: string }>(
          `SELECT migration_name FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
        );
        return rows.map((r) => r.migration_name);
      } finally {
        await client.end();
      }
    },
    dispose,
  };
}

/**
 * PGlite allows one process per data folder (and one Database per folder within it), so "three
 * instances" are three handles on the same store; its lock is what serialises their migrate() calls.
 */
async function freshPgliteStore(): Promise<ConcurrencyTarget> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "kassa-migrate-"));
  const db = await openDatabase({ kind: "pglite", dataDir });
  return {
    instances: [db, db, db],
    recordedNames: async () =>
      (
        await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
          `SELECT migration_name FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
        )
      ).map((r) => r.migration_name),
    dispose: async () => {
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function sqlMigration(name: string, sql: string): Migration {
  return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
}

/** Table names the migrations create, read off their CREATE TABLE statements. */
function createdTables(list: Migration[]): string[] {
  return list.flatMap((m) =>
    [...m.sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"([^"]+)"/g)].map((match) => match[1] ?? ""),
  );
}
