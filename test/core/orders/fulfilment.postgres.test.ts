import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKassaServices } from "../../../src/composition.js";
import { isAppError } from "../../../src/core/errors.js";
import { Decimal } from "../../../src/core/money/money.js";
import type { Order } from "../../../src/core/orders/orders.types.js";
import { type Database, openDatabase } from "../../../src/db/database.js";
import { createMerchant } from "../../helpers/app.js";
import { retiredKg, seedCredits } from "../../helpers/credits.js";
import { createTestDatabase } from "../../helpers/database.js";

/**
 * Fulfilments at once on PostgreSQL, from two instances (each its own pool, as two servers): the
 * issuances they draw from are locked in the fulfilling transaction, so every retirement continues
 * where the one before it ended. Serial ranges never overlap, nothing is retired twice, and a
 * fulfilment that finds too few credits left retires nothing.
 */

let drop: () => Promise<void>;
let dbs: Database[] = [];
let instances: ReturnType<typeof createKassaServices>[] = [];

beforeAll(async () => {
  const created = await createTestDatabase();
  drop = created.drop;
  if (!created.url) throw new Error("this test needs DATABASE_URL");
  dbs = [created.db, await openDatabase({ kind: "postgres", url: created.url, poolSize: 6 })];
  instances = dbs.map((db) => createKassaServices(db));
});

afterAll(async () => {
  await dbs[1]?.close();
  await drop?.();
});

/** `count` placed orders of `kg` each for one merchant, through the API's own path (POST /orders). */
async function placedOrders(portfolioId: string, accountId: string, kg: string, count: number): Promise<Order[]> {
  const orders: Order[] = [];
  for (let i = 0; i < count; i++) {
    const written = await instances[0]!.orders.placeRequested(
      { accountId, subaccountId: null },
      { amountKg: new Decimal(kg), portfolioId },
      "cnaught",
    );
    if (written.kind !== "written") throw new Error("expected a new order");
    orders.push(written.result);
  }
  return orders;
}

const rangeOf = (serial: string) => {
  const [, prefix, first, last] = /^(.*)-(\d+)-(\d+)$/.exec(serial)!;
  return { prefix: prefix!, first: BigInt(first!), last: BigInt(last!) };
};

describe("concurrent fulfilments (PostgreSQL, two instances)", () => {
  it("retire disjoint serial ranges that together cover exactly what was retired", async () => {
    const m = await createMerchant(instances[0]!);
    // Two categories sharing nothing; each order draws from both, so every pair of fulfilments contends.
    const [removal, forests] = await seedCredits(instances[0]!, m.portfolio!.id, [
      {
        name: "Removal",
        fraction: "0.5",
        projects: [{ name: "Kelp", issuances: [{ vintage: 2021, tonnes: "1", serialPrefix: "KELP" }] }],
      },
      {
        name: "Forests",
        fraction: "0.5",
        projects: [
          {
            name: "Peat",
            issuances: [
              { vintage: 2019, tonnes: "0.1", serialPrefix: "PEAT-19" },
              { vintage: 2020, tonnes: "1", serialPrefix: "PEAT-20" },
            ],
          },
        ],
      },
    ]);
    const kelp = removal!.projects[0]!.id;
    const peat = forests!.projects[0]!.id;
    const orders = await placedOrders(m.portfolio!.id, m.account.id, "33.333333", 16);

    // All at once, alternating instances.
    const results = await Promise.allSettled(orders.map((o, i) => instances[i % 2]!.orders.fulfill(o.id)));
    const failures = results.filter((r) => r.status === "rejected");
    expect(failures.map((f) => String((f as PromiseRejectedResult).reason))).toEqual([]);
    const fulfilled = results.map((r) => (r as PromiseFulfilledResult<Order>).value);

    const ranges = fulfilled.flatMap((o) =>
      o.projectAllocations.flatMap((a) => a.retirements.map((r) => rangeOf(r.serialNumberRange!))),
    );
    for (const [i, r] of ranges.entries()) {
      for (const other of ranges.slice(i + 1)) {
        if (other.prefix === r.prefix) expect(other.first > r.last || other.last < r.first, `${r.prefix}`).toBe(true);
      }
    }
    // Per issuance, the ranges tile 1..retired with no gap: each fulfilment continued the last one.
    const retired = { KELP: await retiredKg(dbs[0]!, kelp, 2021), "PEAT-19": await retiredKg(dbs[0]!, peat, 2019) };
    for (const [prefix, kg] of Object.entries(retired)) {
      const mine = ranges.filter((r) => r.prefix === prefix).sort((a, b) => (a.first < b.first ? -1 : 1));
      expect(mine[0]!.first).toBe(1n);
      for (const [i, r] of mine.slice(1).entries()) expect(r.first).toBe(mine[i]!.last + 1n);
      expect(mine.at(-1)!.last).toBe(BigInt(new Decimal(kg).times(1e6).toFixed()));
    }
    // 16 orders x 33.333333 kg, half each way (the odd milligram to the first category).
    expect(retired.KELP).toBe("266.666672");
    const peatTotal = new Decimal(retired["PEAT-19"]).plus(await retiredKg(dbs[0]!, peat, 2020));
    expect(peatTotal.toFixed()).toBe("266.666656");
    expect(retired["PEAT-19"]).toBe("100"); // the older vintage used up first
    const rows = await dbs[0]!.prisma.orderProjectAllocation.aggregate({
      where: { orderId: { in: orders.map((o) => o.id) } },
      _sum: { amountKg: true },
    });
    expect(rows._sum.amountKg!.toString()).toBe("533.333328");
  });

  it("when credits run out mid-way, the fulfilments that fit succeed and the rest retire nothing", async () => {
    const m = await createMerchant(instances[0]!);
    const [category] = await seedCredits(instances[0]!, m.portfolio!.id, [
      {
        name: "Scarce",
        fraction: "1",
        projects: [{ name: "Small", issuances: [{ vintage: 2022, tonnes: "0.1", serialPrefix: "SMALL" }] }],
      },
    ]);
    const orders = await placedOrders(m.portfolio!.id, m.account.id, "30", 6); // 180 kg asked, 100 kg held
    const results = await Promise.allSettled(orders.map((o, i) => instances[i % 2]!.orders.fulfill(o.id)));
    const succeeded = results.filter((r) => r.status === "fulfilled");
    expect(succeeded).toHaveLength(3);
    for (const r of results) {
      if (r.status === "rejected") expect(isAppError(r.reason) && r.reason.code).toBe("insufficient_credits");
    }
    expect(await retiredKg(dbs[0]!, category!.projects[0]!.id, 2022)).toBe("90");
    const states = await dbs[0]!.prisma.order.groupBy({
      by: ["state"],
      where: { id: { in: orders.map((o) => o.id) } },
      _count: true,
    });
    expect(Object.fromEntries(states.map((s) => [s.state, s._count]))).toEqual({ fulfilled: 3, placed: 3 });
    expect(
      await dbs[0]!.prisma.orderProjectAllocation.count({ where: { orderId: { in: orders.map((o) => o.id) } } }),
    ).toBe(3);
  });
});
