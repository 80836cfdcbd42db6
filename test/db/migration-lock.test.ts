import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";
import { storeKind } from "../helpers/database.js";
import { databaseUrlFor } from "../helpers/postgres.js";

/** A fresh store with a one-connection pool (PostgreSQL) or in-memory PGlite, and its cleanup. */
async function smallestStore(): Promise<{ db: Database; cleanup: () => Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const db = await openDatabase({ kind: "pglite", dataDir: null });
    return { db, cleanup: () => db.close() };
  }
  const name = `kassa_lock_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const db = await openDatabase({ kind: "postgres", url: databaseUrlFor(serverUrl, name), poolSize: 1 });
  return {
    db,
    cleanup: async () => {
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

describe(`migration lock (${storeKind}, smallest pool)`, () => {
  it("migrates and runs queries under the lock without waiting on itself", async () => {
    const { db, cleanup } = await smallestStore();
    try {
      const applied = await db.migrate();
      expect(applied.length).toBeGreaterThan(0);
      // Seeding does Prisma work while the lock is held: with one pooled connection it must not hang.
      const count = await db.withMigrationLock(() => db.prisma.account.count());
      expect(count).toBe(0);
      expect(await db.migrate()).toEqual([]);
    } finally {
      await cleanup();
    }
  });
});
