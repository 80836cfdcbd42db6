import type { Db, Transactor } from "../../db/database.js";
import { invalidPagination, invalidParameter, invalidState, notFound } from "../errors.js";
import type { EventsRepository } from "../events/events.repository.js";
import { newId } from "../ids.js";
import type { Decimal } from "../money/money.js";
import { inScope, type Scope } from "../scope.js";
import type { Clock } from "../time.js";
import { httpsUrlProblem } from "../urls.js";
import type { WebhooksRepository } from "../webhooks/webhooks.repository.js";
import type { OrdersRepository } from "./orders.repository.js";
import { ORDER_EVENTS, type Order, type OrderNotificationFormats, type OrderState } from "./orders.types.js";

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

/** The order as events record it: plain JSON, decimals as strings. */
const eventSnapshot = (o: Order) => ({
  id: o.id,
  order_number: o.orderNumber,
  subaccount_id: o.subaccountId,
  checkout_session_id: o.checkoutSessionId,
  amount_kg: o.amountKg.toFixed(),
  price_usd_cents: o.priceUsdCents,
  state: o.state,
});

/** What placing an order needs; the rest (id, number, state, times) the order gets itself. */
export interface NewOrder {
  accountId: string;
  subaccountId: string | null;
  checkoutSessionId: string | null;
  portfolioId: string;
  amountKg: Decimal;
  priceUsdCents: number;
  description: string | null;
  metadata: string | null;
  callbackUrl: string | null;
}

export interface ListOrders {
  limit?: number | null;
  startingAfter?: string | null;
  endingBefore?: string | null;
}

export function createOrdersService(deps: {
  orders: OrdersRepository;
  events: Pick<EventsRepository, "record">;
  webhooks: Pick<WebhooksRepository, "enqueue">;
  /** Which API created a session: its notifications go out in that API's format. */
  sessionApi: (checkoutSessionId: string, tx: Db) => Promise<string | null>;
  notificationFormats: OrderNotificationFormats;
  transaction: Transactor;
  clock: Clock;
}) {
  const { orders, events, webhooks, notificationFormats, transaction, clock } = deps;

  /**
   * Records the order's event and, when it has a callback URL, the notification carrying it, in
   * the caller's transaction: the state change, its event and its delivery commit together.
   */
  async function recordChange(order: Order, type: string, api: string, tx: Db) {
    const eventId = await events.record(
      { accountId: order.accountId, type, subjectType: "order", subjectId: order.id, data: eventSnapshot(order) },
      tx,
    );
    if (!order.callbackUrl) return;
    const format = notificationFormats[api];
    if (!format) throw new Error(`no order notification format for API '${api}'`);
    await webhooks.enqueue(
      {
        accountId: order.accountId,
        eventId,
        subjectType: "order",
        subjectId: order.id,
        url: order.callbackUrl,
        payload: JSON.stringify(format(order)),
        nextAttemptAt: clock(),
      },
      tx,
    );
  }

  async function apiOf(order: Order, tx: Db) {
    return (order.checkoutSessionId && (await deps.sessionApi(order.checkoutSessionId, tx))) || "cnaught";
  }

  /** Operator transitions: placed -> fulfilled | cancelled, each exactly once. */
  async function move(
    id: string,
    to: Exclude<OrderState, "placed">,
    data: Parameters<OrdersRepository["transition"]>[2],
  ): Promise<Order> {
    return transaction(async (tx) => {
      const current = await orders.findById(id, tx);
      if (!current) throw notFound("order", id);
      if (current.state !== "placed") {
        throw invalidState(`Order '${id}' is ${current.state}; only a placed order can be ${to}`);
      }
      const moved = await orders.transition(id, "placed", { ...data, state: to }, tx);
      // Lost a race with another operator command: report what it became.
      if (!moved) throw invalidState(`Order '${id}' changed state while being ${to}; try again`);
      await recordChange(moved, ORDER_EVENTS[to], await apiOf(moved, tx), tx);
      return moved;
    });
  }

  return {
    /**
     * Places an order inside the caller's transaction (a completing checkout's), with its event
     * and, when it has a callback URL, its notification in the format of `api`.
     */
    async place(input: NewOrder, api: string, tx: Db): Promise<Order> {
      const order = await orders.insert({ ...input, id: newId.order(), state: "placed", createdAt: clock() }, tx);
      await recordChange(order, ORDER_EVENTS.placed, api, tx);
      return order;
    },

    async get(scope: Scope, id: string): Promise<Order> {
      const order = await orders.findForAccount(scope.accountId, id);
      if (!order || !inScope(scope, order)) throw notFound("order", id);
      return order;
    },

    async list(scope: Scope, query: ListOrders = {}): Promise<Order[]> {
      const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
        throw invalidPagination(`'limit' must be an integer between 1 and ${MAX_PAGE_LIMIT}`);
      }
      if (query.startingAfter && query.endingBefore) {
        throw invalidPagination("Pass at most one of 'starting_after' and 'ending_before'");
      }
      const page = await orders.page(
        { accountId: scope.accountId, subaccountId: scope.subaccountId },
        { limit, startingAfter: query.startingAfter, endingBefore: query.endingBefore },
      );
      if (!page) {
        const cursor = query.startingAfter ? "starting_after" : "ending_before";
        throw invalidPagination(`'${cursor}' is not the id of an order in this scope`);
      }
      return page;
    },

    async fulfill(id: string, opts: { certificateUrl?: string | null } = {}): Promise<Order> {
      if (opts.certificateUrl) {
        const problem = httpsUrlProblem(opts.certificateUrl);
        if (problem) throw invalidParameter("certificateUrl", problem);
      }
      return move(id, "fulfilled", {
        fulfilledAt: clock(),
        // An empty URL (a blank flag) is no certificate, not a link to nowhere.
        certificatePublicUrl: opts.certificateUrl || null,
      });
    },

    async cancel(id: string): Promise<Order> {
      return move(id, "cancelled", { cancelledAt: clock() });
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
