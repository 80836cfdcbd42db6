import type { Db, Transactor } from "../../db/database.js";
import {
  type FieldErrors,
  invalidPagination,
  invalidParameter,
  invalidParameters,
  invalidState,
  notFound,
} from "../errors.js";
import type { EventsRepository } from "../events/events.repository.js";
import { type WithinWrite, type Written, writeInTransaction } from "../idempotency/idempotency.types.js";
import { newId } from "../ids.js";
import type { Decimal } from "../money/money.js";
import { unitPrice, type PortfoliosService } from "../portfolios/portfolios.service.js";
import { amountKgProblem, MAX_TOTAL_USD_CENTS, priceInCents, wholeKgForBudget } from "../portfolios/pricing.js";
import { inScope, type Scope } from "../scope.js";
import type { Clock } from "../time.js";
import type { WebhooksRepository } from "../webhooks/webhooks.repository.js";
import { allocateByPortfolio, allocateExplicitly, type ExplicitShare } from "./allocation.js";
import type { FulfilmentRepository } from "./fulfilment.repository.js";
import type { OrdersRepository } from "./orders.repository.js";
import {
  type CertificateUrls,
  ORDER_EVENTS,
  type Order,
  type OrderCertificate,
  type OrderNotificationFormats,
  type OrderState,
} from "./orders.types.js";

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

/**
 * An order a merchant places directly (not through a checkout): either an amount of credits or a
 * budget, priced at the portfolio's API price.
 */
export type OrderRequest = ({ amountKg: Decimal } | { totalPriceUsdCents: Decimal }) & {
  portfolioId?: string | null;
  description?: string | null;
  metadata?: string | null;
  callbackUrl?: string | null;
};

/** The states an order can be cancelled from: a fulfilled order too (its credit goes on the invoice). */
const CANCELLABLE: readonly OrderState[] = ["placed", "fulfilled"];

export interface ListOrders {
  limit?: number | null;
  startingAfter?: string | null;
  endingBefore?: string | null;
}

/** How an operator fulfils an order: by its portfolio's fractions (the default), or by an explicit allocation. */
export interface FulfilOptions {
  /** Projects and kg, summing exactly to the order's kg; overrides the portfolio's fractions. */
  allocation?: readonly ExplicitShare[] | null;
}

export function createOrdersService(deps: {
  orders: OrdersRepository;
  fulfilment: Pick<FulfilmentRepository, "lockPortfolioStock" | "lockProjectsStock" | "retire">;
  /** Where an order's certificate page and PDF are published. */
  certificateUrls: CertificateUrls;
  events: Pick<EventsRepository, "record">;
  webhooks: Pick<WebhooksRepository, "enqueue">;
  /** Which API created a session: its notifications go out in that API's format. */
  sessionApi: (checkoutSessionId: string, tx: Db) => Promise<string | null>;
  notificationFormats: OrderNotificationFormats;
  portfolios: Pick<PortfoliosService, "resolveFor">;
  /** Why a callback URL is refused, or null (the same rule as a checkout's notification URL). */
  receiverUrlProblem: (url: string) => string | null;
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

  /**
   * Moves an order from one of `from` to `to`, exactly once, with its event and notification;
   * `within` stores an adapter's idempotent response in the same transaction.
   */
  async function move(
    id: string,
    from: readonly OrderState[],
    to: Exclude<OrderState, "placed">,
    data: Parameters<OrdersRepository["transition"]>[2],
    opts: {
      scope?: Scope;
      within?: WithinWrite<Order>;
      /** Work that belongs to the move, done after it in its transaction and before its event; gives the order as moved. */
      alongside?: (moved: Order, tx: Db) => Promise<Order>;
    } = {},
  ): Promise<Written<Order>> {
    return writeInTransaction(transaction, async (tx) => {
      const current = opts.scope
        ? await orders.findForAccount(opts.scope.accountId, id, tx)
        : await orders.findById(id, tx);
      if (!current || (opts.scope && !inScope(opts.scope, current))) throw notFound("order", id);
      if (!from.includes(current.state)) {
        throw invalidState(`Order '${id}' is ${current.state}; only a ${from.join(" or ")} order can be ${to}`);
      }
      const transitioned = await orders.transition(id, from, { ...data, state: to }, tx);
      // Lost a race with another change: report what it became.
      if (!transitioned) throw invalidState(`Order '${id}' changed state while being ${to}; try again`);
      const moved = opts.alongside ? await opts.alongside(transitioned, tx) : transitioned;
      await recordChange(moved, ORDER_EVENTS[to], await apiOf(moved, tx), tx);
      await opts.within?.inTransaction(tx, moved);
      return moved;
    });
  }

  const result = (written: Written<Order>): Order => {
    if (written.kind !== "written") throw new Error("an operator's change cannot be a replay");
    return written.result;
  };

  /**
   * Retires the credits a fulfilled order draws, in its transaction: the issuances it may draw
   * from are locked first, so concurrent fulfilments queue and their serial ranges never overlap.
   * By the portfolio's fractions unless an explicit allocation is given (see allocation.ts).
   */
  async function retireFor(order: Order, options: FulfilOptions, tx: Db): Promise<Order> {
    const { fulfilment } = deps;
    let plan: ReturnType<typeof allocateByPortfolio>;
    if (options.allocation) {
      const stock = await fulfilment.lockProjectsStock(
        options.allocation.map((s) => s.projectId),
        tx,
      );
      plan = allocateExplicitly(order.id, order.amountKg, options.allocation, stock.projects, stock.issuances);
    } else {
      plan = allocateByPortfolio(order.id, order.amountKg, await fulfilment.lockPortfolioStock(order.portfolioId, tx));
    }
    return { ...order, projectAllocations: await fulfilment.retire(order.id, plan, tx) };
  }

  /**
   * Cancelling: placed or fulfilled -> cancelled; the certificate goes (its URLs become null and
   * its pages answer 404). The credits a fulfilled order retired stay retired, as at a registry,
   * and stay listed on the order.
   */
  const cancelling = () => ({
    cancelledAt: clock(),
    certificatePublicUrl: null,
    certificateDownloadPublicUrl: null,
  });

  /**
   * What an order request comes to: the amount, the portfolio, its price at the API price.
   * Everything wrong with the request's own values is reported at once, before the portfolio
   * is looked up.
   */
  async function priced(scope: Scope, request: OrderRequest) {
    const fields: FieldErrors = {};
    if ("amountKg" in request) {
      const problem = amountKgProblem(request.amountKg);
      if (problem) fields.amountKg = [problem];
    } else {
      const total = request.totalPriceUsdCents;
      if (!total.isFinite() || !total.isInteger() || total.lte(0)) {
        fields.totalPriceUsdCents = ["must be a positive integer number of cents"];
      } else if (total.gt(MAX_TOTAL_USD_CENTS)) {
        fields.totalPriceUsdCents = [`must be at most ${MAX_TOTAL_USD_CENTS}`];
      }
    }
    const callbackUrl = request.callbackUrl ?? null;
    const urlProblem = callbackUrl === null ? null : deps.receiverUrlProblem(callbackUrl);
    if (urlProblem) fields.callbackUrl = [urlProblem];
    if (Object.keys(fields).length) throw invalidParameters(fields);

    const portfolio = await deps.portfolios.resolveFor(scope, request.portfolioId);
    const pricePerKg = unitPrice(portfolio, "api");
    let amountKg: Decimal;
    if ("amountKg" in request) {
      amountKg = request.amountKg;
    } else {
      amountKg = wholeKgForBudget(request.totalPriceUsdCents, pricePerKg);
      if (amountKg.lt(1)) {
        throw invalidParameter(
          "totalPriceUsdCents",
          `buys no whole kilogram: one kilogram costs ${pricePerKg.toFixed()} cents`,
        );
      }
    }
    const priceUsdCents = priceInCents(amountKg, pricePerKg);
    if (priceUsdCents > MAX_TOTAL_USD_CENTS) {
      throw invalidParameter(
        "amountKg" in request ? "amountKg" : "totalPriceUsdCents",
        `is too large: the total price (${priceUsdCents} cents) must be at most ${MAX_TOTAL_USD_CENTS} cents`,
      );
    }
    return { portfolio, amountKg, priceUsdCents, callbackUrl };
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

    /**
     * Places an order a merchant asked for directly (POST /orders): priced at the portfolio's API
     * price, by amount or by budget (whole kilograms, never above the budget), in `scope`, with its
     * event and notification in the format of `api`, and `within` in the same transaction.
     */
    async placeRequested(
      scope: Scope,
      request: OrderRequest,
      api: string,
      within?: WithinWrite<Order>,
    ): Promise<Written<Order>> {
      const { portfolio, amountKg, priceUsdCents, callbackUrl } = await priced(scope, request);
      return writeInTransaction(transaction, async (tx) => {
        const order = await orders.insert(
          {
            id: newId.order(),
            accountId: scope.accountId,
            subaccountId: scope.subaccountId,
            checkoutSessionId: null,
            portfolioId: portfolio.id,
            amountKg,
            priceUsdCents,
            description: request.description ?? null,
            metadata: request.metadata ?? null,
            callbackUrl,
            state: "placed",
            createdAt: clock(),
          },
          tx,
        );
        await recordChange(order, ORDER_EVENTS.placed, api, tx);
        await within?.inTransaction(tx, order);
        return order;
      });
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

    /**
     * An operator's fulfilment of a placed order: the credits it draws are retired, its
     * allocations recorded and its certificate published, with its event and notification, all
     * in one transaction. Not enough credits: insufficient_credits, nothing written.
     */
    async fulfill(id: string, options: FulfilOptions = {}): Promise<Order> {
      const certificate = deps.certificateUrls(id);
      const fulfilled = await move(
        id,
        ["placed"],
        "fulfilled",
        {
          fulfilledAt: clock(),
          certificatePublicUrl: certificate.page,
          certificateDownloadPublicUrl: certificate.download,
        },
        { alongside: (order, tx) => retireFor(order, options, tx) },
      );
      return result(fulfilled);
    },

    /** A fulfilled order's public certificate; any other order (unknown, placed, cancelled) is not found. */
    async certificate(id: string): Promise<OrderCertificate> {
      const found = await orders.findCertificate(id);
      if (found?.order.state !== "fulfilled") throw notFound("certificate", id);
      return found;
    },

    /** An operator's cancel: a placed or fulfilled order; a cancelled one is invalid_state. */
    async cancel(id: string): Promise<Order> {
      return result(await move(id, CANCELLABLE, "cancelled", cancelling()));
    },

    /**
     * A merchant's cancel, of an order in `scope` (others' are not found), with `within` in the
     * same transaction. A cancelled order is invalid_state, as for operators.
     */
    async cancelInScope(scope: Scope, id: string, within?: WithinWrite<Order>): Promise<Written<Order>> {
      return move(id, CANCELLABLE, "cancelled", cancelling(), { scope, within });
    },
  };
}

export type OrdersService = ReturnType<typeof createOrdersService>;
