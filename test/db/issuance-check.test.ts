import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { applyMigrations, type Migration, readMigrations, type SqlSession } from "../../src/db/migrate.js";

/**
 * An issuance never holds less than orders retired from it: `retired_kg <= total_amount * 1000`
 * is a CHECK constraint (migration 20261130550000), a backstop behind the locks of imports and
 * fulfilments. A store that a race before it left with an issuance below its retirements is
 * repaired by the migration (the total raised to what was retired), so the constraint can be added.
 */

const MIGRATION = "20261130550000_fulfilled_orders_index_retired_check";

let pglite: PGlite;
let session: SqlSession;
let migrations: Migration[];

beforeAll(async () => {
  migrations = await readMigrations();
  expect(migrations.map((m) => m.name)).toContain(MIGRATION);
  pglite = await PGlite.create();
  session = {
    exec: async (sql) => void (await pglite.exec(sql)),
    query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
  };
  // The store as it was before, with issuances as the race could leave them.
  await applyMigrations(
    session,
    migrations.filter((m) => m.name < MIGRATION),
  );
  await session.exec(`
    INSERT INTO projects (id, name, type) VALUES ('prj_check', 'Check', 'Forestry');
    INSERT INTO credit_issuances (project_id, vintage_year, total_amount, retired_kg) VALUES
      ('prj_check', 2019, 0.7, 900),            -- shrunk below its retirements
      ('prj_check', 2020, 0.000001, 0.0011),    -- below by a fraction of a gram
      ('prj_check', 2021, 1, 1000),             -- used up exactly
      ('prj_check', 2022, 2, 5);                -- as it should be
  `);
  await applyMigrations(session, migrations);
}, 60_000);

afterAll(async () => {
  await pglite?.close();
});

const issuances = () =>
  session.query<{ vintage_year: number; total_amount: string; retired_kg: string }>(
    "SELECT vintage_year, total_amount::text, retired_kg::text FROM credit_issuances ORDER BY vintage_year",
  );

describe("credit_issuances: retired_kg <= total_amount * 1000", () => {
  test("the migration raised an issuance left below its retirements to what was retired, and left the others alone", async () => {
    expect(await issuances()).toEqual([
      { vintage_year: 2019, total_amount: "0.900000", retired_kg: "900.000000" },
      { vintage_year: 2020, total_amount: "0.000002", retired_kg: "0.001100" }, // rounded up to a gram
      { vintage_year: 2021, total_amount: "1.000000", retired_kg: "1000.000000" },
      { vintage_year: 2022, total_amount: "2.000000", retired_kg: "5.000000" },
    ]);
  });

  test("the store refuses retiring past an issuance's total, or shrinking it below its retirements", async () => {
    const refused = (sql: string) => expect(session.exec(sql)).rejects.toThrow(/credit_issuances_retired_within_total/);
    await refused("UPDATE credit_issuances SET retired_kg = 2000.000001 WHERE vintage_year = 2022");
    await refused("UPDATE credit_issuances SET total_amount = 0.004999 WHERE vintage_year = 2022");
    await refused(
      "INSERT INTO credit_issuances (project_id, vintage_year, total_amount, retired_kg) VALUES ('prj_check', 2023, 1, 1001)",
    );
    await session.exec("UPDATE credit_issuances SET retired_kg = 2000 WHERE vintage_year = 2022");
    expect((await issuances()).at(-1)).toEqual({
      vintage_year: 2022,
      total_amount: "2.000000",
      retired_kg: "2000.000000",
    });
  });
});
