import { lockIssuances, toProject } from "../projects/projects.repository.js";
import { type Db, Prisma } from "../../db/database.js";
import { Decimal } from "../money/money.js";
import type { CreditIssuance, OrderProjectAllocation, Project, Retirement } from "../projects/projects.types.js";
import { type CategoryStock, type PlannedAllocation, retirementsOf } from "./allocation.js";

/**
 * Fulfilment's queries: the credits an order may draw from, locked for the fulfilling
 * transaction; the retirement itself (issuances' retired kg, the order's allocation rows); and the
 * allocations every order read shows.
 */

type AllocationRow = Prisma.OrderProjectAllocationGetPayload<{ include: { project: true } }>;

const toAllocation = (row: AllocationRow): OrderProjectAllocation => ({
  project: toProject(row.project),
  amountKg: new Decimal(row.amountKg.toString()),
  vintageYears: row.vintageYears,
  retirements: row.retirements as Retirement[],
});

/**
 * The allocations of the given orders, each order's in its recorded order: one query for any
 * number of orders (a page of a list), none when there are none to ask about.
 */
export async function allocationsOf(
  tx: Db,
  orderIds: readonly string[],
): Promise<Map<string, OrderProjectAllocation[]>> {
  const byOrder = new Map<string, OrderProjectAllocation[]>();
  if (!orderIds.length) return byOrder;
  const rows = await tx.orderProjectAllocation.findMany({
    where: { orderId: { in: [...orderIds] } },
    include: { project: true },
    orderBy: [{ orderId: "asc" }, { position: "asc" }],
  });
  for (const row of rows) {
    const list = byOrder.get(row.orderId) ?? [];
    list.push(toAllocation(row));
    byOrder.set(row.orderId, list);
  }
  return byOrder;
}

/** The allocation rows' JSON: only the retirement fields that have a value. */
const retirementsJson = (retirements: Retirement[]) =>
  retirements.map((r) => ({
    ...(r.serialNumberRange ? { serialNumberRange: r.serialNumberRange } : {}),
    ...(r.url ? { url: r.url } : {}),
  }));

export function createFulfilmentRepository(db: Db) {
  return {
    /**
     * The portfolio's categories (in its order) with their projects (in each category's order)
     * and those projects' issuances, the issuances locked for the rest of `tx`.
     */
    async lockPortfolioStock(portfolioId: string, tx: Db): Promise<CategoryStock[]> {
      const issuances = await lockIssuances(
        tx,
        Prisma.sql`project_id IN (
          SELECT p.id FROM projects p
          JOIN portfolio_category_allocations a ON a.category_id = p.category_id
          WHERE a.portfolio_id = ${portfolioId})`,
      );
      const allocations = await tx.portfolioCategoryAllocation.findMany({
        where: { portfolioId },
        orderBy: [{ position: "asc" }, { categoryId: "asc" }],
        include: { category: { include: { projects: { orderBy: [{ position: "asc" }, { id: "asc" }] } } } },
      });
      return allocations.map((a) => {
        const projects = a.category.projects.map(toProject);
        const ids = new Set(projects.map((p) => p.id));
        return {
          categoryId: a.categoryId,
          categoryName: a.category.name,
          allocatedFraction: new Decimal(a.allocatedFraction.toString()),
          projects,
          issuances: issuances.filter((i) => ids.has(i.projectId)),
        };
      });
    },

    /** The named projects that exist, and their issuances, locked for the rest of `tx`. */
    async lockProjectsStock(
      projectIds: readonly string[],
      tx: Db,
    ): Promise<{ projects: Project[]; issuances: CreditIssuance[] }> {
      const ids = [...new Set(projectIds)];
      if (!ids.length) return { projects: [], issuances: [] };
      const issuances = await lockIssuances(tx, Prisma.sql`project_id IN (${Prisma.join(ids)})`);
      const projects = await tx.project.findMany({ where: { id: { in: ids } } });
      return { projects: projects.map(toProject), issuances };
    },

    /**
     * Retires what the plan draws (each issuance's retired kg grows by its draws) and records the
     * order's allocations with their retirements, in `tx`; returns the allocations as orders show them.
     */
    async retire(orderId: string, plan: readonly PlannedAllocation[], tx: Db): Promise<OrderProjectAllocation[]> {
      for (const draw of plan.flatMap((p) => p.draws)) {
        await tx.creditIssuance.update({
          where: { projectId_vintageYear: { projectId: draw.projectId, vintageYear: draw.vintageYear } },
          data: { retiredKg: { increment: draw.amountKg.toFixed() } },
        });
      }
      const allocations = plan.map(
        (p): OrderProjectAllocation => ({
          project: p.project,
          amountKg: p.amountKg,
          vintageYears: p.draws.map((d) => d.vintageYear),
          retirements: retirementsOf(p),
        }),
      );
      await tx.orderProjectAllocation.createMany({
        data: allocations.map((a, position) => ({
          orderId,
          projectId: a.project.id,
          amountKg: a.amountKg.toFixed(),
          vintageYears: a.vintageYears,
          retirements: retirementsJson(a.retirements),
          position,
        })),
      });
      return allocations;
    },

    allocationsOf: (orderIds: readonly string[], tx: Db = db) => allocationsOf(tx, orderIds),
  };
}

export type FulfilmentRepository = ReturnType<typeof createFulfilmentRepository>;
