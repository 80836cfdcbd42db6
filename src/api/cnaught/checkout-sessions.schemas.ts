import { z } from "zod";
import { type CheckoutSession, checkoutPagePath } from "../../core/checkout-sessions/checkout-sessions.types.js";
import { decimalToNumber } from "../../core/money/money.js";
import { formatNullableTimestamp, formatTimestamp } from "../../core/time.js";
import { amountKg } from "./cnaught.schemas.js";

export const NotificationConfig = z
  .object({
    url: z.string().max(2048).describe("callback url to invoke when status of the order changes"),
  })
  .describe("Optional configuration for a callback url to invoke with updates when the status of an order changes.")
  .meta({ id: "NotificationConfig" });

export const CheckoutSessionParams = z
  .object({
    amount_kg: amountKg,
    success_url: z
      .string()
      .max(2048)
      .describe(
        "The URL the customer will be redirected to after the payment is completed. The `{CHECKOUT_SESSION_ID}` template is kept verbatim and replaced with the session id at redirect time.",
      ),
    cancel_url: z
      .string()
      .max(2048)
      .describe("The URL the customer will be directed to if they decide to cancel payment and return to your website"),
    portfolio_id: z.string().max(64).nullish().describe("Optional id of the portfolio to price and fulfil from"),
    description: z.string().max(512).nullish().describe("Optional public description for the order"),
    notification_config: NotificationConfig.nullish(),
  })
  .meta({ id: "CheckoutSessionParams" });

export const CheckoutSessionState = z.enum(["open", "complete", "expired"]);

export const CheckoutSessionBody = z
  .object({
    id: z.string().describe("Identifier that can be used to retrieve the Checkout Session"),
    amount_kg: z.number(),
    price_usd_cents: z.number().int().describe("Total price to be charged upon checkout completion, in USD cents"),
    success_url: z.string(),
    cancel_url: z.string(),
    checkout_url: z.string().describe("URL to the Checkout Session. Redirect the customer to this URL."),
    state: CheckoutSessionState,
    created_on: z.string(),
    expires_on: z.string().describe("Timestamp of when the session will expire."),
    completed_on: z.string().nullable(),
    portfolio_id: z.string(),
    subaccount_id: z.string().nullable(),
    order_description: z.string().nullable(),
    order_webhook_url: z.string().nullable(),
  })
  .meta({ id: "CheckoutSession" });

export type CheckoutSessionWire = z.infer<typeof CheckoutSessionBody>;

export const checkoutUrl = (publicUrl: string, id: string) => publicUrl + checkoutPagePath(id);

/** The CNaught API's name for its sessions (`api`) and its idempotency key space. */
export const CNAUGHT_API = "cnaught";

/** What CNaught keeps of a session beyond the core's fields (`apiData`). */
interface CnaughtSessionData {
  notification_url?: string | null;
}

/** A CNaught session is one line item: the portfolio's credits, by the kilogram. */
export const cnaughtPurchase = (s: CheckoutSession) => {
  const item = s.lineItems[0];
  if (!item?.productRef) throw new Error(`checkout session ${s.id} is not a CNaught purchase`);
  return { amountKg: item.quantity, portfolioId: item.productRef };
};

export const notificationUrlOf = (s: CheckoutSession) => (s.apiData as CnaughtSessionData).notification_url ?? null;

export function toWireCheckoutSession(s: CheckoutSession, publicUrl: string): CheckoutSessionWire {
  const purchase = cnaughtPurchase(s);
  return {
    id: s.id,
    amount_kg: decimalToNumber(purchase.amountKg),
    price_usd_cents: s.amountTotal.toNumber(),
    success_url: s.successUrl,
    cancel_url: s.cancelUrl ?? "",
    checkout_url: checkoutUrl(publicUrl, s.id),
    state: s.state,
    created_on: formatTimestamp(s.createdAt),
    expires_on: formatTimestamp(s.expiresAt),
    completed_on: formatNullableTimestamp(s.completedAt),
    portfolio_id: purchase.portfolioId,
    subaccount_id: s.subaccountId,
    order_description: s.description,
    order_webhook_url: notificationUrlOf(s),
  };
}
