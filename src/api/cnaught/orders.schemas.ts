import { z } from "zod";
import { decimalToNumber } from "../../core/money/money.js";
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from "../../core/orders/orders.service.js";
import type { Order } from "../../core/orders/orders.types.js";
import type { OrderProjectAllocation, Retirement } from "../../core/projects/projects.types.js";
import { formatTimestamp } from "../../core/time.js";
import { NotificationConfig } from "./checkout-sessions.schemas.js";
import { ProjectSchema, toWireProject } from "./projects.schemas.js";

export const OrderState = z
  .enum(["placed", "fulfilled", "cancelled"])
  .describe("State of the order: placed, then fulfilled (credits retired) or cancelled");

export const RetirementSchema = z
  .object({
    serial_number_range: z
      .string()
      .optional()
      .describe(
        "Serial numbers of the credits retired: <issuance serial prefix>-<first>-<last>, counting the issuance's milligrams of CO2e from 1",
      ),
    url: z.string().optional().describe("The registry's page for the project the credits were retired from"),
  })
  .meta({ id: "Retirement" });

export const ProjectAllocationSchema = z
  .object({
    project: ProjectSchema,
    amount_kg: z.number().describe("Kilograms of CO2e retired from the project for this order"),
    retirements: z.array(RetirementSchema).describe("The retirements at the registry, one per vintage drawn"),
  })
  .meta({ id: "ProjectAllocation" });

export const OrderBody = z
  .object({
    id: z.string().describe("Identifier of the order"),
    order_number: z.string().describe("Human-readable order number"),
    amount_kg: z.number().describe("Amount of carbon credits ordered, in kilograms"),
    created_on: z.string().describe("Timestamp of when the order was placed"),
    metadata: z.string().nullable().describe("Optional metadata provided when the order was placed"),
    description: z.string().nullable().describe("Optional public description provided when the order was placed"),
    price_usd_cents: z.number().int().describe("Total price of the order, in USD cents"),
    state: OrderState,
    callback_url: z.string().nullable().describe("URL notified when the state of the order changes"),
    certificate_public_url: z
      .string()
      .nullable()
      .describe("Public URL of the order's certificate, once the order is fulfilled"),
    certificate_download_public_url: z
      .string()
      .nullable()
      .describe("Public URL to download the order's certificate, once the order is fulfilled"),
    subaccount_id: z.string().nullable().describe("Id of the subaccount the order was placed for, if any"),
    project_allocations: z
      .array(ProjectAllocationSchema)
      .describe(
        "For fulfilled orders, the projects used to fulfil the order (kept after a fulfilled order is cancelled: its credits stay retired); empty otherwise",
      ),
    checkout_session_id: z
      .string()
      .nullable()
      .describe("Id of the Checkout Session that produced the order, if it came from one"),
  })
  .meta({ id: "Order" });

export type OrderWire = z.infer<typeof OrderBody>;

/** What every way of placing an order takes besides its amount. */
const orderOptions = {
  metadata: z
    .string()
    .max(512)
    .nullish()
    .describe("Optional metadata to associate with the order; not shown on the certificate"),
  description: z.string().max(512).nullish().describe("Optional public description, shown on the certificate"),
  notification_config: NotificationConfig.nullish(),
  portfolio_id: z
    .string()
    .max(64)
    .nullish()
    .describe("Optional id of the portfolio to fulfil from; defaults to the (sub)account's default portfolio"),
};

export const OrderParams = z
  .object({
    amount_kg: z
      .number()
      .nullish()
      .describe(
        "The amount of credits to purchase, in kg of CO2e (up to 6 decimals). Exactly one of amount_kg or total_price_usd_cents must be provided.",
      ),
    total_price_usd_cents: z
      .number()
      .nullish()
      .describe(
        "The most to spend, in whole USD cents: the order is for the whole kilograms it buys at the portfolio's API price (rounded down), so its price never exceeds this. Exactly one of amount_kg or total_price_usd_cents must be provided.",
      ),
    ...orderOptions,
  })
  .meta({ id: "OrderParams" });

export const RideOrderParams = z
  .object({
    distance_km: z.number().describe("Distance of ride, in km"),
    ...orderOptions,
  })
  .meta({ id: "RideOrderParams" });

export const OrderList = z.object({ data: z.array(OrderBody) }).meta({ id: "OrderList" });

const cursor = (description: string) => z.string().min(1).max(64).optional().describe(description);

/**
 * GET /v1/orders query. Any failure here is answered as invalid-pagination (not
 * invalid-parameters): every parameter of a list is a pagination parameter. That at most one
 * cursor is given and that it names an order in scope is the core's rule (OrdersService.list).
 */
export const OrderListQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_LIMIT)
    .default(DEFAULT_PAGE_LIMIT)
    .describe(`How many orders to return, newest first: 1 to ${MAX_PAGE_LIMIT}`),
  starting_after: cursor(
    "Id of an order: returns the page of orders placed before it (the next page). Not with ending_before.",
  ),
  ending_before: cursor(
    "Id of an order: returns the page of orders placed after it (the previous page). Not with starting_after.",
  ),
});

const toWireRetirement = (r: Retirement) => ({
  ...(r.serialNumberRange !== undefined ? { serial_number_range: r.serialNumberRange } : {}),
  ...(r.url !== undefined ? { url: r.url } : {}),
});

export const toWireProjectAllocation = (a: OrderProjectAllocation) => ({
  project: toWireProject(a.project),
  amount_kg: decimalToNumber(a.amountKg),
  retirements: a.retirements.map(toWireRetirement),
});

export function toWireOrder(o: Order): OrderWire {
  return {
    id: o.id,
    order_number: o.orderNumber,
    amount_kg: decimalToNumber(o.amountKg),
    created_on: formatTimestamp(o.createdAt),
    metadata: o.metadata,
    description: o.description,
    price_usd_cents: o.priceUsdCents,
    state: o.state,
    callback_url: o.callbackUrl,
    certificate_public_url: o.certificatePublicUrl,
    certificate_download_public_url: o.certificateDownloadPublicUrl,
    subaccount_id: o.subaccountId,
    project_allocations: o.projectAllocations.map(toWireProjectAllocation),
    checkout_session_id: o.checkoutSessionId,
  };
}

/** CNaught's order notification body: `{"order": {...}}`, the order as GET /v1/orders/{id} shows it. */
export const cnaughtOrderNotification = (order: Order) => ({ order: toWireOrder(order) });
