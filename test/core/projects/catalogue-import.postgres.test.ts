import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKassaServices } from "../../../src/composition.js";
import { isAppError } from "../../../src/core/errors.js";
import { Decimal } from "../../../src/core/money/money.js";
import type { Order } from "../../../src/core/orders/orders.types.js";
import type { Catalogue } from "../../../src/core/projects/projects.types.js";
import { type Database, openDatabase } from "../../../src/db/database.js";
import { createMerchant } from "../../helpers/app.js";
import { seedCredits } from "../../helpers/credits.js";
import { createTestDatabase } from "../../helpers/database.js";

/**
 * A catalogue import and fulfilments at once on PostgreSQL, from two instances (each its own pool,
 * as two servers). A third connection holds one row at a time to stop a transaction at a chosen
 * step, so each interleaving is made on purpose, not hoped for. The import locks the issuances in
 * its file before it checks them, in the order fulfilments lock them (project, vintage): an
 * issuance never ends up smaller than what was retired from it, and neither side deadlocks.
 */

let drop: () => Promise<void>;
let url: string;
let dbs: Database[] = [];
let instances: ReturnType<typeof createKassaServices>[] = [];
let monitor: pg.Client;

beforeAll(async () => {
  const created = await createTestDatabase();
  drop = created.drop;
  if (!created.url) throw new Error("this test needs DATABASE_URL");
  url = created.url;
  dbs = [created.db, await openDatabase({ kind: "postgres", url, poolSize: 6 })];
  instances = dbs.map((db) => createKassaServices(db));
  monitor = new pg.Client({ connectionString: url });
  await monitor.connect();
});

afterAll(async () => {
  await monitor?.end();
  await dbs[1]?.close();
  await drop?.();
});

/** A connection holding `lockSql`'s row locks in an open transaction until `release()`. */
async function hold(lockSql: string, values: unknown[]) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("BEGIN");
  await client.query(lockSql, values);
  return {
    async release() {
      await client.query("ROLLBACK");
      await client.end();
    },
  };
}

/** A promise and whether it has settled yet. */
function track<T>(promise: Promise<T>) {
  const tracked = { promise, settled: false };
  promise.then(
    () => (tracked.settled = true),
    () => (tracked.settled = true),
  );
  return tracked;
}

/** Sessions of this database waiting for a lock now. */
async function waitingForLocks(): Promise<number> {
  const { rows } = await monitor.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
  );
  return Number(rows[0]!.n);
}

/** Polls until `done` (a synchronisation step, not an assertion: it fails only if nothing ever moves). */
async function until(what: string, done: () => Promise<boolean> | boolean) {
  for (let i = 0; i < 1000; i++) {
    if (await done()) return;
    await sleep(10);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** One placed order of `kg` for the merchant, through the API's own path. */
async function placedOrder(m: Awaited<ReturnType<typeof createMerchant>>, kg: string): Promise<Order> {
  const written = await instances[0]!.orders.placeRequested(
    { accountId: m.account.id, subaccountId: null },
    { amountKg: new Decimal(kg), portfolioId: m.portfolio!.id },
    "cnaught",
  );
  if (written.kind !== "written") throw new Error("expected a new order");
  return written.result;
}

/** The stored catalogue's categories `categoryIds` and their projects, as an operator's file gives them. */
async function fileOf(categoryIds: string[]): Promise<Catalogue> {
  const all = await instances[0]!.projects.exportCatalogue();
  const ids = new Set(categoryIds);
  return {
    categories: all.categories.filter((c) => ids.has(c.id)),
    projects: all.projects.filter((p) => p.categoryId !== null && ids.has(p.categoryId)),
    portfolios: [],
  };
}

async function issuance(projectId: string, vintageYear: number) {
  const row = await dbs[0]!.prisma.creditIssuance.findUniqueOrThrow({
    where: { projectId_vintageYear: { projectId, vintageYear } },
  });
  return { tonnes: row.totalAmount.toString(), retiredKg: row.retiredKg.toString() };
}

const reasonOf = (result: PromiseSettledResult<unknown>) =>
  result.status === "rejected" ? (isAppError(result.reason) ? result.reason.code : String(result.reason)) : "ok";

describe("a catalogue import and fulfilments at once (PostgreSQL, two instances)", () => {
  /** 1 t of one issuance, and a placed order of 900 kg drawing on it; the file shrinks it to 0.7 t. */
  async function shrinkingSetUp() {
    const m = await createMerchant(instances[0]!);
    const [category] = await seedCredits(instances[0]!, m.portfolio!.id, [
      { name: "Removal", fraction: "1", projects: [{ name: "Kelp", issuances: [{ vintage: 2021, tonnes: "1" }] }] },
    ]);
    const order = await placedOrder(m, "900");
    const file = await fileOf([category!.id]);
    file.projects[0]!.creditIssuances[0]!.totalAmount = new Decimal("0.7");
    return { category: category!, project: category!.projects[0]!.id, order, file };
  }

  it("a fulfilment that comes while the import is being written waits for it, and then finds the smaller issuance", async () => {
    const { category, project, order, file } = await shrinkingSetUp();
    // The import stops at its first write (the category's row), after it has checked the file.
    const blocker = await hold("SELECT 1 FROM project_categories WHERE id = $1 FOR UPDATE", [category.id]);
    const imported = track(instances[0]!.projects.importCatalogue(file));
    await until("the import to wait", async () => imported.settled || (await waitingForLocks()) >= 1);
    const fulfilled = track(instances[1]!.orders.fulfill(order.id));
    await until("the fulfilment to finish or wait", async () => fulfilled.settled || (await waitingForLocks()) >= 2);
    await blocker.release();
    const [importResult, fulfilResult] = await Promise.allSettled([imported.promise, fulfilled.promise]);

    const stored = await issuance(project, 2021);
    expect(new Decimal(stored.retiredKg).lte(new Decimal(stored.tonnes).times(1000)), JSON.stringify(stored)).toBe(
      true,
    );
    expect([reasonOf(importResult), reasonOf(fulfilResult)]).toEqual(["ok", "insufficient_credits"]);
    expect(stored).toEqual({ tonnes: "0.7", retiredKg: "0" });
  });

  it("an import that comes while a fulfilment is being written waits for it, and then refuses to shrink below it", async () => {
    const { project, order, file } = await shrinkingSetUp();
    // The fulfilment stops after it has locked the issuance and retired from it (its allocation
    // row's foreign key needs a share of the project's row).
    const blocker = await hold("SELECT 1 FROM projects WHERE id = $1 FOR UPDATE", [project]);
    const fulfilled = track(instances[1]!.orders.fulfill(order.id));
    await until("the fulfilment to wait", async () => fulfilled.settled || (await waitingForLocks()) >= 1);
    const imported = track(instances[0]!.projects.importCatalogue(file));
    await until("the import to finish or wait", async () => imported.settled || (await waitingForLocks()) >= 2);
    await blocker.release();
    const [importResult, fulfilResult] = await Promise.allSettled([imported.promise, fulfilled.promise]);

    const stored = await issuance(project, 2021);
    expect(new Decimal(stored.retiredKg).lte(new Decimal(stored.tonnes).times(1000)), JSON.stringify(stored)).toBe(
      true,
    );
    expect([reasonOf(importResult), reasonOf(fulfilResult)]).toEqual(["invalid_parameters", "ok"]);
    expect(importResult.status === "rejected" && (importResult.reason as { details: unknown }).details).toEqual({
      fields: { "projects.0.creditIssuances.0.totalAmount": ["must be at least the 0.9 tonnes already retired"] },
    });
    expect(stored).toEqual({ tonnes: "1", retiredKg: "900" });
  });

  it("an import whose file lists issuances out of (project, vintage) order does not deadlock with a fulfilment", async () => {
    const m = await createMerchant(instances[0]!);
    const [forests] = await seedCredits(instances[0]!, m.portfolio!.id, [
      {
        name: "Forests",
        fraction: "1",
        projects: [
          { name: "Peat", issuances: [{ vintage: 2020, tonnes: "1" }] },
          { name: "Pine", issuances: [{ vintage: 2020, tonnes: "1" }] },
        ],
      },
    ]);
    // A third issuance, of a category the order's portfolio does not draw on.
    const elsewhere = await createMerchant(instances[0]!);
    const [other] = await seedCredits(instances[0]!, elsewhere.portfolio!.id, [
      { name: "Other", fraction: "1", projects: [{ name: "Elsewhere", issuances: [{ vintage: 2020, tonnes: "1" }] }] },
    ]);
    const otherProject = other!.projects[0]!.id;
    // The order fulfilments lock in: PostgreSQL's, by project id.
    const { rows } = await monitor.query<{ project_id: string }>(
      "SELECT project_id FROM credit_issuances WHERE project_id = ANY($1) ORDER BY project_id, vintage_year",
      [forests!.projects.map((p) => p.id)],
    );
    const [first, second] = rows.map((r) => r.project_id);
    const order = await placedOrder(m, "10");

    // The file lists the second project, the other one, then the first: written in that order,
    // the import would hold the second while it waits for the other one.
    const file = await fileOf([forests!.id, other!.id]);
    const byId = new Map(file.projects.map((p) => [p.id, p]));
    file.projects = [second!, otherProject, first!].map((id) => byId.get(id)!);
    const blocker = await hold("SELECT 1 FROM credit_issuances WHERE project_id = $1 FOR UPDATE", [otherProject]);
    const imported = track(instances[0]!.projects.importCatalogue(file));
    await until("the import to wait", async () => imported.settled || (await waitingForLocks()) >= 1);
    // The fulfilment locks the first project's issuance, then the second's.
    const fulfilled = track(instances[1]!.orders.fulfill(order.id));
    await until("the fulfilment to finish or wait", async () => fulfilled.settled || (await waitingForLocks()) >= 2);
    await blocker.release();
    const results = await Promise.allSettled([imported.promise, fulfilled.promise]);

    expect(results.map(reasonOf)).toEqual(["ok", "ok"]);
    const retired = new Decimal((await issuance(first!, 2020)).retiredKg).plus(
      (await issuance(second!, 2020)).retiredKg,
    );
    expect(retired.toFixed()).toBe("10");
  });
});
