import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKassaServices } from "../../../src/composition.js";
import { Decimal } from "../../../src/core/money/money.js";
import { createOrdersRepository } from "../../../src/core/orders/orders.repository.js";
import type { Services } from "../../../src/core/services.js";
import type { Database, PrismaClient } from "../../../src/db/database.js";
import { createMerchant } from "../../helpers/app.js";
import { seedCredits } from "../../helpers/credits.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";

/**
 * Reading orders with their project allocations costs the same however many orders a page holds:
 * the allocations of a whole page come in one more operation, asked only about orders that were
 * ever fulfilled. Counted on the Prisma client the repository is given.
 */

let db: Database;
let drop: () => Promise<void>;
let services: Services;

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  services = createKassaServices(db);
});
afterAll(() => drop());

/** The orders repository on a client that records each operation it runs ("Model.operation"). */
function countedRepository() {
  const calls: string[] = [];
  const client = db.prisma.$extends({
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          calls.push(`${model}.${operation}`);
          return query(args);
        },
      },
    },
  }) as unknown as PrismaClient;
  return { orders: createOrdersRepository(client), calls };
}

describe(`order reads and their allocations (${storeKind})`, () => {
  it("a page loads its orders' allocations in one operation, whether one or twelve are fulfilled; none without any", async () => {
    const m = await createMerchant(services);
    const [category] = await seedCredits(services, m.portfolio!.id, [
      {
        name: "Two projects",
        fraction: "1",
        projects: [
          { name: "First", issuances: [{ vintage: 2020, tonnes: "0.01" }] }, // 10 kg: every order spills over
          { name: "Second", issuances: [{ vintage: 2021, tonnes: "100" }] },
        ],
      },
    ]);
    const scope = { accountId: m.account.id, subaccountId: null };
    const place = async () => {
      const written = await services.orders.placeRequested(scope, { amountKg: new Decimal(5) }, "cnaught");
      if (written.kind !== "written") throw new Error("expected a new order");
      return written.result;
    };
    const placed = [];
    for (let i = 0; i < 14; i++) placed.push(await place());
    // Newest first: the two newest stay placed, the twelve before them are fulfilled.
    for (const order of placed.slice(0, 12)) await services.orders.fulfill(order.id);
    const filter = { accountId: m.account.id };

    const whole = countedRepository();
    const page = (await whole.orders.page(filter, { limit: 14 }))!;
    expect(page.map((o) => o.state)).toEqual([...Array(2).fill("placed"), ...Array(12).fill("fulfilled")]);
    expect(whole.calls).toEqual(["Order.findMany", "OrderProjectAllocation.findMany"]);
    // Two orders drew the first project's 10 kg; every other order's 5 kg came from the second.
    const byProject = page.flatMap((o) => o.projectAllocations.map((a) => `${a.project.name} ${a.amountKg}`));
    expect(byProject.filter((a) => a.startsWith("First"))).toEqual(["First 5", "First 5"]);
    expect(byProject.filter((a) => a.startsWith("Second"))).toHaveLength(10);
    expect(page.at(-1)!.projectAllocations[0]!.project.id).toBe(category!.projects[0]!.id);

    const newest = countedRepository();
    expect((await newest.orders.page(filter, { limit: 2 }))!.map((o) => o.projectAllocations)).toEqual([[], []]);
    expect(newest.calls).toEqual(["Order.findMany"]);

    const one = countedRepository();
    const found = (await one.orders.findById(placed[0]!.id))!;
    expect(found.projectAllocations).toHaveLength(1);
    expect(one.calls).toEqual(["Order.findUnique", "OrderProjectAllocation.findMany"]);
  });
});
