import { z } from "zod";
import { decimalToNumber } from "../../core/money.js";
import type { Order } from "../../core/orders/orders.types.js";
import { formatTimestamp } from "../../core/time.js";

export const OrderState = z.enum(["placed", "fulfilled", "cancelled"]);

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
    certificate_public_url: z.string().nullable(),
    certificate_download_public_url: z.string().nullable(),
    subaccount_id: z.string().nullable(),
    project_allocations: z.array(z.unknown()),
    checkout_session_id: z.string().nullable(),
  })
  .meta({ id: "Order" });

export type OrderWire = z.infer<typeof OrderBody>;

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
    project_allocations: [],
    checkout_session_id: o.checkoutSessionId,
  };
}

/** CNaught's order notification body: `{"order": {...}}`, the order as GET /v1/orders/{id} shows it. */
export const cnaughtOrderNotification = (order: Order) => ({ order: toWireOrder(order) });
