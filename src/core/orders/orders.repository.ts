import type { Db } from "../../db/database.js";
import { Decimal } from "../money/money.js";
import { allocationsOf } from "./fulfilment.repository.js";
import type { Order, OrderCertificate, OrderState } from "./orders.types.js";

type Row = NonNullable<Awaited<ReturnType<Db["order"]["findUnique"]>>>;

const toOrder = (row: Row, projectAllocations: Order["projectAllocations"] = []): Order => ({
  ...row,
  orderNumber: row.orderNumber.toString(),
  amountKg: new Decimal(row.amountKg.toString()),
  state: row.state as OrderState,
  projectAllocations,
});

/**
 * Orders with their project allocations: one more query for the whole list, asked only about the
 * orders that were ever fulfilled (no other order has allocations).
 */
async function withAllocations(rows: Row[], tx: Db): Promise<Order[]> {
  const allocations = await allocationsOf(
    tx,
    rows.filter((r) => r.fulfilledAt !== null).map((r) => r.id),
  );
  return rows.map((row) => toOrder(row, allocations.get(row.id)));
}

const one = async (row: Row | null, tx: Db): Promise<Order | null> =>
  row ? (await withAllocations([row], tx))[0]! : null;

export type NewOrder = Omit<
  Order,
  | "orderNumber"
  | "fulfilledAt"
  | "cancelledAt"
  | "certificatePublicUrl"
  | "certificateDownloadPublicUrl"
  | "projectAllocations"
>;

export interface OrderPage {
  limit: number;
  /** Newest first; at most one cursor. */
  startingAfter?: string | null;
  endingBefore?: string | null;
}

export function createOrdersRepository(db: Db) {
  return {
    async insert(order: NewOrder, tx: Db = db): Promise<Order> {
      const row = await tx.order.create({ data: { ...order, amountKg: order.amountKg.toFixed() } });
      return toOrder(row); // a new order has no allocations
    },
    async findById(id: string, tx: Db = db): Promise<Order | null> {
      return one(await tx.order.findUnique({ where: { id } }), tx);
    },
    async findByCheckoutSession(checkoutSessionId: string, tx: Db = db): Promise<Order | null> {
      return one(await tx.order.findUnique({ where: { checkoutSessionId } }), tx);
    },
    async findForAccount(accountId: string, id: string, tx: Db = db): Promise<Order | null> {
      return one(await tx.order.findFirst({ where: { id, accountId } }), tx);
    },
    /** The order with the name of whom it was bought for (its subaccount's, else its account's). */
    async findCertificate(id: string, tx: Db = db): Promise<OrderCertificate | null> {
      const row = await tx.order.findUnique({
        where: { id },
        include: { account: { select: { name: true } }, subaccount: { select: { name: true } } },
      });
      if (!row) return null;
      const { account, subaccount, ...order } = row;
      return { order: (await one(order, tx))!, buyer: subaccount?.name ?? account.name };
    },
    /** Moves an order on only from `from` (one state or any of several); null when it was no longer there. */
    async transition(
      id: string,
      from: OrderState | readonly OrderState[],
      data: Partial<
        Pick<Order, "state" | "fulfilledAt" | "cancelledAt" | "certificatePublicUrl" | "certificateDownloadPublicUrl">
      >,
      tx: Db = db,
    ): Promise<Order | null> {
      const state = typeof from === "string" ? from : { in: [...from] };
      const [row] = await tx.order.updateManyAndReturn({ where: { id, state }, data });
      return one(row ?? null, tx);
    },
    /**
     * One page, newest first (created_at, then order_number, descending: orders placed within one
     * clock tick keep the order they were numbered in, not a random id's). The cursor is an order
     * id of the same scope; an unknown cursor yields null so the caller can answer invalid-pagination.
     */
    async page(
      where: { accountId: string; subaccountId?: string | null },
      page: OrderPage,
      tx: Db = db,
    ): Promise<Order[] | null> {
      const filter = {
        accountId: where.accountId,
        ...(where.subaccountId ? { subaccountId: where.subaccountId } : {}),
      };
      const newestFirst = [{ createdAt: "desc" as const }, { orderNumber: "desc" as const }];
      const cursorId = page.startingAfter ?? page.endingBefore;
      if (!cursorId) {
        const rows = await tx.order.findMany({ where: filter, orderBy: newestFirst, take: page.limit });
        return withAllocations(rows, tx);
      }
      const cursor = await tx.order.findFirst({
        where: { ...filter, id: cursorId },
        select: { createdAt: true, orderNumber: true },
      });
      if (!cursor) return null;
      // starting_after: the page just older than the cursor. ending_before: the page just newer,
      // read oldest first from the cursor and then turned round, so it is still listed newest first.
      const older = Boolean(page.startingAfter);
      const beyond = <T>(value: T) => (older ? { lt: value } : { gt: value });
      const rows = await tx.order.findMany({
        where: {
          ...filter,
          OR: [
            { createdAt: beyond(cursor.createdAt) },
            { createdAt: cursor.createdAt, orderNumber: beyond(cursor.orderNumber) },
          ],
        },
        orderBy: older ? newestFirst : [{ createdAt: "asc" }, { orderNumber: "asc" }],
        take: page.limit,
      });
      return withAllocations(older ? rows : rows.reverse(), tx);
    },
  };
}

export type OrdersRepository = ReturnType<typeof createOrdersRepository>;
