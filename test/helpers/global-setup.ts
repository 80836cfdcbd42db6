import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/database.js";
import { databaseUrlFor } from "./postgres.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** PostgreSQL: the migrated template database each test file copies. */
    pgTemplateDatabase: string | null;
    /** PGlite: a dump of a migrated in-memory database, base64 (each test file loads a copy). */
    pgliteTemplate: string | null;
  }
}

/**
 * Migrates one template database for the whole run, so each test file gets a fresh database
 * in milliseconds: `CREATE DATABASE .. TEMPLATE ..` on PostgreSQL (DATABASE_URL), a loaded
 * dump on the embedded PGlite store otherwise.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (url) {
    const name = `kassa_tpl_${randomBytes(4).toString("hex")}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const db = await openDatabase({ kind: "postgres", url: databaseUrlFor(url, name), poolSize: 2 });
    await db.migrate();
    await db.close();
    project.provide("pgTemplateDatabase", name);
    project.provide("pgliteTemplate", null);
    return async () => {
      // Databases of files that failed to clean up are removed with the template.
      const { rows } = await admin.query<{ datname: string }>(
        "SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2",
        [`${name}_%`, name],
      );
      for (const row of rows) await admin.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
      await admin.end();
    };
  }
  const db = await openDatabase({ kind: "pglite", dataDir: null });
  await db.migrate();
  const dump = await db.pglite!.dumpDataDir("none");
  await db.close();
  project.provide("pgTemplateDatabase", null);
  project.provide("pgliteTemplate", Buffer.from(await dump.arrayBuffer()).toString("base64"));
}
