import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKassaServices } from "../../../src/composition.js";
import { createImpactRepository } from "../../../src/core/impact/impact.repository.js";
import type { SqlStatement } from "../../../src/db/database.js";
import type { Database } from "../../../src/db/database.js";
import { createMerchant } from "../../helpers/app.js";
import { createTestDatabase, storeKind, withAdmin } from "../../helpers/database.js";

/**
 * The impact report reads an owner's fulfilled orders through the partial index on
 * orders(account_id, fulfilled_at) WHERE state = 'fulfilled', not through all of the account's
 * orders: shown by the plans PostgreSQL makes for the report's own statement, on an account with
 * many orders of which few were fulfilled, as a planned (generic) statement and with its values.
 */

let db: Database;
let url: string | null;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ db, url, drop } = await createTestDatabase());
});
afterAll(() => drop());

/** Runs `statements` one after another on one connection (PREPARE and SET hold for a session). */
async function inOneSession(statements: string[]): Promise<unknown[][]> {
  const results: unknown[][] = [];
  if (url) {
    await withAdmin(url, async (client) => {
      for (const text of statements) results.push((await client.query(text)).rows);
    });
  } else {
    for (const text of statements) results.push((await db.pglite!.query(text)).rows);
  }
  return results;
}

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

/** Every node of an EXPLAIN (FORMAT JSON) answer, however the driver returned its one row. */
function planNodes(rows: unknown[]): PlanNode[] {
  const row = rows[0] as Record<string, unknown>;
  const value = row["QUERY PLAN"];
  const [top] = (typeof value === "string" ? JSON.parse(value) : value) as { Plan: PlanNode }[];
  const nodes: PlanNode[] = [];
  const visit = (node: PlanNode) => {
    nodes.push(node);
    for (const child of node.Plans ?? []) visit(child);
  };
  visit(top!.Plan);
  return nodes;
}

const literal = (value: string | null) => (value === null ? "NULL" : `'${value.replaceAll("'", "''")}'`);

describe(`the impact report's plan (${storeKind})`, () => {
  it("reads the account's fulfilled orders through orders_account_id_fulfilled_at_idx", async () => {
    const services = createKassaServices(db);
    const m = await createMerchant(services);
    const other = await createMerchant(services);
    // 20,000 orders for the account and as many for another, one in a thousand fulfilled.
    for (const merchant of [m, other]) {
      await db.sql.query({
        text: `INSERT INTO orders (id, account_id, portfolio_id, amount_kg, price_usd_cents, state, created_at, fulfilled_at)
               SELECT $1 || g, $2, $3, 1, 150,
                      CASE WHEN g % 1000 = 0 THEN 'fulfilled' WHEN g % 7 = 0 THEN 'cancelled' ELSE 'placed' END,
                      now() - g * interval '1 minute',
                      CASE WHEN g % 1000 = 0 THEN now() - g * interval '30 seconds' END
               FROM generate_series(1, 20000) AS g`,
        values: [`ord_${merchant.account.id}_`, merchant.account.id, merchant.portfolio!.id],
      });
    }
    await inOneSession(["ANALYZE orders"]);

    // The report's own statement, as the repository sends it.
    const sent: SqlStatement[] = [];
    const repository = createImpactRepository(db.prisma, {
      query: async <R>(statement: SqlStatement) => {
        sent.push(statement);
        return db.sql.query<R>(statement);
      },
    });
    const totals = await repository.totals({ accountId: m.account.id, subaccountId: null }, { from: null, to: null });
    expect(totals!.totalKg.toString()).toBe("20");
    const window = { from: new Date(Date.now() - 3_600_000), to: new Date() };
    await repository.totals({ accountId: m.account.id, subaccountId: null }, window);
    expect(sent).toHaveLength(2);
    expect(new Set(sent.map((s) => s.text)).size).toBe(1);

    const text = sent[0]!.text;
    for (const values of sent.map((s) => s.values)) {
      const args = [
        literal(values[0] as string),
        literal(values[1] as string | null),
        ...[values[2], values[3]].map((v) => literal(v === null ? null : (v as Date).toISOString())),
      ].join(", ");
      for (const mode of ["force_generic_plan", "force_custom_plan"]) {
        const [, , plan] = await inOneSession([
          `SET plan_cache_mode = ${mode}`,
          `PREPARE impact_totals AS ${text}`,
          `EXPLAIN (FORMAT JSON) EXECUTE impact_totals(${args})`,
          "DEALLOCATE impact_totals",
          "RESET plan_cache_mode",
        ]);
        const nodes = planNodes(plan!);
        const onOrders = nodes.filter((n) => n["Relation Name"] === "orders");
        expect(onOrders.length, `${mode} ${args}`).toBeGreaterThan(0);
        expect(
          onOrders.map((n) => n["Node Type"]),
          `${mode} ${args}`,
        ).not.toContain("Seq Scan");
        const indexes = nodes.map((n) => n["Index Name"]).filter((name) => name?.startsWith("orders_"));
        expect(indexes, `${mode} ${args}`).toEqual(["orders_account_id_fulfilled_at_idx"]);
      }
    }
  });
});
