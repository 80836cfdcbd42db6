import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { type Database, openDatabase } from "../../src/db/database.js";
import { databaseUrlFor } from "./postgres.js";

/** Which store this run tests against: PostgreSQL when DATABASE_URL is set, else embedded PGlite. */
export const storeKind = process.env.DATABASE_URL ? "postgres" : "pglite";

/**
 * A fresh, migrated database for one test file (copied from the run's template; see
 * global-setup.ts). `drop` closes and removes it.
 */
export async function createTestDatabase(): Promise<{ db: Database; url: string | null; drop: () => Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  const template = inject("pgTemplateDatabase");
  if (serverUrl && template) {
    const name = `${template}_${randomBytes(4).toString("hex")}`;
    await withAdmin(serverUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
    const url = databaseUrlFor(serverUrl, name);
    const db = await openDatabase({ kind: "postgres", url, poolSize: 5 });
    return {
      db,
      url,
      drop: async () => {
        await db.close();
        await withAdmin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      },
    };
  }
  const dump = inject("pgliteTemplate");
  if (!dump) throw new Error("global setup provided no template database");
  const db = await openDatabase({
    kind: "pglite",
    dataDir: null,
    loadDataDir: new Blob([Buffer.from(dump, "base64")]),
  });
  return { db, url: null, drop: () => db.close() };
}

/**
 * `fn` with a one-off client on `url` (for CREATE/DROP DATABASE and checks from outside the app),
 * closed even when `fn` throws so no connection outlives the call.
 */
export async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
