import { z } from "zod";
import { type CheckoutSession, checkoutPagePath } from "../../core/checkout-sessions/checkout-sessions.types.js";

/**
 * A minimal rendering of a LeanRails checkout session (seed 003's response fields), used by the
 * events this API publishes. The checkout-session routes' own renderer is meant to replace it
 * (one renderer for the routes and the events): until they meet, this one reads the same places
 * (apiData for mode, ui_mode, customer_creation) and keeps to the seed's shape.
 */

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const text = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback);

/** LeanRails names the payment a PaymentIntent: `pi_` and the core payment id's own part. */
export const paymentIntentId = (paymentId: string) => `pi_${paymentId.replace(/^pay_/, "")}`;

export function toWireLeanRailsSession(session: CheckoutSession, publicUrl: string) {
  const uiMode = text(session.apiData.ui_mode, "hosted");
  const details = session.customerDetails;
  const address = details?.address ?? null;
  return {
    id: session.id,
    object: "checkout.session" as const,
    mode: text(session.apiData.mode, "payment"),
    status: session.state,
    payment_status: session.paymentId ? "paid" : session.amountTotal.isZero() ? "no_payment_required" : "unpaid",
    ui_mode: uiMode,
    customer_creation: text(session.apiData.customer_creation, "if_required"),
    billing_address_collection: session.collectBillingAddress ? "required" : "auto",
    expires_at: seconds(session.expiresAt),
    metadata: session.metadata ?? {},
    livemode: false,
    created: seconds(session.createdAt),
    url: uiMode === "hosted" ? `${publicUrl}${checkoutPagePath(session.id)}` : null,
    client_secret: typeof session.apiData.client_secret === "string" ? session.apiData.client_secret : null,
    success_url: session.successUrl,
    cancel_url: session.cancelUrl,
    customer: session.customerRef,
    customer_email: session.customerEmail ?? details?.email ?? null,
    customer_details: details
      ? {
          email: details.email,
          name: details.name,
          phone: details.phone,
          address: address
            ? {
                city: address.city,
                country: address.country,
                line1: address.line1,
                line2: address.line2,
                postal_code: address.postalCode,
                state: address.state,
              }
            : null,
        }
      : null,
    payment_intent: session.paymentId ? paymentIntentId(session.paymentId) : null,
    currency: session.currency.toLowerCase(),
    amount_subtotal: session.amountSubtotal.toNumber(),
    amount_total: session.amountTotal.toNumber(),
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    client_reference_id: session.clientReferenceId,
  };
}

const nullableText = z.string().nullable();

/** The session's wire shape, as seed 003 answers it (for the event schemas' `data.object`). */
export const LeanRailsSessionWire = z
  .object({
    id: z.string(),
    object: z.literal("checkout.session"),
    mode: z.string(),
    status: z.enum(["open", "complete", "expired"]),
    payment_status: z.string(),
    ui_mode: z.string(),
    customer_creation: z.string(),
    billing_address_collection: z.string(),
    expires_at: z.number().int(),
    metadata: z.record(z.string(), z.string()),
    livemode: z.boolean(),
    created: z.number().int(),
    url: nullableText,
    client_secret: nullableText,
    success_url: nullableText,
    cancel_url: nullableText,
    customer: nullableText,
    customer_email: nullableText,
    customer_details: z
      .object({
        email: nullableText,
        name: nullableText,
        phone: nullableText,
        address: z
          .object({
            city: nullableText,
            country: nullableText,
            line1: nullableText,
            line2: nullableText,
            postal_code: nullableText,
            state: nullableText,
          })
          .nullable(),
      })
      .nullable(),
    payment_intent: nullableText,
    currency: nullableText,
    amount_subtotal: z.number().int().nullable(),
    amount_total: z.number().int().nullable(),
    total_details: z.object({
      amount_discount: z.number().int(),
      amount_shipping: z.number().int(),
      amount_tax: z.number().int(),
    }),
    client_reference_id: nullableText,
  })
  .meta({ id: "LeanRailsCheckoutSession" });
