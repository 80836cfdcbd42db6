import { randomBytes } from "node:crypto";
import type { ProjectDetails } from "../../src/core/projects/projects.types.js";
import type { Database } from "../../src/db/database.js";

/**
 * Rows an impact report reads, written straight to the store: catalogue categories and projects,
 * and orders in any state with the project allocations fulfilment records. (Until the catalogue
 * and fulfilment land, nothing else writes these; tests of the report build exactly the history
 * they need.)
 */

const uid = (prefix: string) => `${prefix}${randomBytes(5).toString("hex")}`;

export async function seedCategory(db: Database, fields: { name: string; description?: string | null }) {
  return db.prisma.projectCategory.create({
    data: { id: uid("cat"), name: fields.name, description: fields.description ?? null },
  });
}

export async function seedProject(
  db: Database,
  fields: {
    name: string;
    categoryId: string | null;
    type?: string;
    unSdgGoals?: number[];
    details?: ProjectDetails;
    position?: number;
  },
) {
  return db.prisma.project.create({
    data: {
      id: uid("prj"),
      name: fields.name,
      categoryId: fields.categoryId,
      type: fields.type ?? "Forestry",
      unSdgGoals: fields.unSdgGoals ?? [13, 15],
      details: (fields.details ?? {}) as object,
      position: fields.position ?? 0,
    },
  });
}

export interface SeededOrder {
  accountId: string;
  subaccountId?: string | null;
  portfolioId: string;
  amountKg: string;
  state: "placed" | "fulfilled" | "cancelled";
  /** When it was fulfilled (a cancelled order may have been fulfilled first). */
  fulfilledAt?: Date | null;
  allocations?: Array<{ projectId: string; amountKg: string; vintageYears: number[] }>;
}

/** An order and its project allocations, as fulfilment leaves them. */
export async function seedOrder(db: Database, order: SeededOrder) {
  const id = uid("ord");
  const fulfilledAt = order.fulfilledAt ?? null;
  await db.prisma.order.create({
    data: {
      id,
      accountId: order.accountId,
      subaccountId: order.subaccountId ?? null,
      portfolioId: order.portfolioId,
      amountKg: order.amountKg,
      priceUsdCents: 100,
      state: order.state,
      createdAt: fulfilledAt ? new Date(fulfilledAt.getTime() - 3_600_000) : new Date(),
      fulfilledAt,
      cancelledAt: order.state === "cancelled" ? new Date() : null,
    },
  });
  for (const [position, a] of (order.allocations ?? []).entries()) {
    await db.prisma.orderProjectAllocation.create({
      data: {
        orderId: id,
        projectId: a.projectId,
        amountKg: a.amountKg,
        vintageYears: a.vintageYears,
        retirements: [],
        position,
      },
    });
  }
  return id;
}
