import { z } from "zod";
import {
  type CheckoutSession,
  checkoutPagePath,
  type LineItem,
} from "../../core/checkout-sessions/checkout-sessions.types.js";
import { decimalToNumber } from "../../core/money/money.js";
import { listOf } from "./leanrails.schemas.js";

/** The LeanRails API's name for its sessions (`api`) and its idempotency key space. */
export const LEANRAILS_API = "leanrails";

/** Ids as LeanRails shows them: sessions `cs_…`, their line items `csli_…`. */
export const LEANRAILS_ID_PREFIXES = { session: "cs_", lineItem: "csli_" } as const;

/** Stripe's metadata limits, which LeanRails documents as its own. */
export const METADATA_LIMITS = { keys: 50, keyLength: 40, valueLength: 500 } as const;

const Metadata = z
  .record(z.string(), z.string())
  .describe(
    `Key-value pairs for your own use: at most ${METADATA_LIMITS.keys} keys, keys up to ${METADATA_LIMITS.keyLength} characters, values up to ${METADATA_LIMITS.valueLength}.`,
  );

const TaxBehavior = z.enum(["inclusive", "exclusive", "unspecified"]);

const PriceData = z
  .strictObject({
    currency: z.string().length(3).describe("Three-letter ISO currency code (any case)"),
    product: z
      .string()
      .min(1)
      .max(5000)
      .describe("The id of a product (`prod_…`), or the name the checkout page shows for the item"),
    unit_amount: z.number().int().min(1).max(99_999_999).describe("Price of one unit in the currency's minor unit"),
    tax_behavior: TaxBehavior.optional(),
    recurring: z
      .strictObject({
        interval: z.enum(["day", "week", "month", "year"]),
        interval_count: z.number().int().min(1).optional(),
      })
      .optional()
      .describe("Not supported: recurring prices need mode subscription, which is not available"),
  })
  .meta({ id: "LeanRailsPriceData" });

const LineItemParams = z
  .strictObject({
    quantity: z.number().int().min(1).max(999_999),
    price: z.string().min(1).max(255).optional().describe("The id of a price (`price_…`)"),
    price_data: PriceData.optional(),
  })
  .describe("Exactly one of `price` and `price_data`")
  .meta({ id: "LeanRailsLineItemParams" });

const PaymentIntentData = z
  .strictObject({
    capture_method: z.enum(["automatic", "automatic_async", "manual"]).optional(),
    description: z.string().max(1000).optional(),
    statement_descriptor: z.string().max(22).optional(),
    metadata: Metadata.optional(),
    application_fee_amount: z.number().int().min(0).optional(),
  })
  .meta({ id: "LeanRailsPaymentIntentData" });

export const CreateCheckoutSessionParams = z
  .strictObject({
    mode: z.enum(["payment", "setup", "subscription"]).describe("Only `payment` is supported"),
    line_items: z.array(LineItemParams).min(1).max(100),
    success_url: z.string().max(2048).optional().describe("Required for hosted mode"),
    cancel_url: z.string().max(2048).optional(),
    customer: z.string().max(255).regex(/^cus_/, "must start with cus_").optional(),
    customer_email: z.email().max(254).optional().describe("Prefilled on the checkout page"),
    customer_creation: z.enum(["always", "if_required"]).optional(),
    ui_mode: z.enum(["hosted", "embedded", "custom"]).optional().describe("Only `hosted` is supported"),
    billing_address_collection: z.enum(["auto", "required"]).optional(),
    client_reference_id: z.string().min(1).max(200).optional(),
    payment_intent_data: PaymentIntentData.optional(),
    currency: z.string().length(3).optional().describe("Defaults to the line items' currency, which it must equal"),
    expires_at: z
      .number()
      .int()
      .optional()
      .describe("Unix seconds, between 30 minutes and 24 hours from now (default 24 hours)"),
    metadata: Metadata.optional(),
  })
  .meta({ id: "LeanRailsCreateCheckoutSessionParams" });

export type CreateCheckoutSessionParams = z.infer<typeof CreateCheckoutSessionParams>;

const Address = z.object({
  city: z.string().nullable(),
  country: z.string().nullable(),
  line1: z.string().nullable(),
  line2: z.string().nullable(),
  postal_code: z.string().nullable(),
  state: z.string().nullable(),
});

const CustomerDetails = z.object({
  email: z.string().nullable(),
  name: z.string().nullable(),
  phone: z.string().nullable(),
  address: Address.nullable(),
});

export const CheckoutSessionBody = z
  .object({
    id: z.string().meta({ examples: ["cs_xxx"] }),
    object: z.literal("checkout.session"),
    mode: z.enum(["payment", "setup", "subscription"]),
    status: z.enum(["open", "complete", "expired"]),
    payment_status: z.enum(["unpaid", "paid", "no_payment_required"]),
    ui_mode: z.enum(["hosted", "embedded", "custom"]),
    customer_creation: z.enum(["always", "if_required"]),
    billing_address_collection: z.enum(["auto", "required"]),
    expires_at: z.number().int().describe("Unix seconds"),
    metadata: z.record(z.string(), z.string()),
    livemode: z.boolean(),
    created: z.number().int().describe("Unix seconds"),
    url: z.string().nullable().describe("The hosted checkout page (hosted mode)"),
    client_secret: z.string().nullable().describe("Embedded and custom modes only (not supported)"),
    success_url: z.string().nullable(),
    cancel_url: z.string().nullable(),
    customer: z.string().nullable(),
    customer_email: z.string().nullable(),
    customer_details: CustomerDetails.nullable().describe("What the customer entered on the page; null until paid"),
    payment_intent: z.string().nullable().describe("`pi_…`, once paid"),
    currency: z.string().nullable().describe("Lower-case ISO currency code"),
    amount_subtotal: z.number().int().nullable(),
    amount_total: z.number().int().nullable(),
    total_details: z.object({
      amount_discount: z.number().int(),
      amount_shipping: z.number().int(),
      amount_tax: z.number().int(),
    }),
    client_reference_id: z.string().nullable(),
  })
  .meta({ id: "LeanRailsCheckoutSession" });

export type CheckoutSessionWire = z.infer<typeof CheckoutSessionBody>;

export const LineItemBody = z
  .object({
    id: z.string().meta({ examples: ["csli_xxx"] }),
    object: z.literal("item"),
    price: z
      .object({
        id: z.string().nullable().describe("The price's id; null for an item given with price_data"),
        object: z.literal("price"),
        currency: z.string(),
        product: z.string().nullable().describe("The product's id (`prod_…`), when the item names one"),
        unit_amount: z.number().int(),
        tax_behavior: TaxBehavior,
        type: z.literal("one_time"),
        livemode: z.boolean(),
      })
      .describe("The price the item was sold at"),
    quantity: z.number().int(),
    amount_subtotal: z.number().int(),
    amount_total: z.number().int(),
    currency: z.string(),
    description: z.string(),
  })
  .meta({ id: "LeanRailsLineItem" });

export const CheckoutSessionList = listOf(CheckoutSessionBody, "LeanRailsCheckoutSessionList");
export const LineItemList = listOf(LineItemBody, "LeanRailsLineItemList");

/** What LeanRails keeps of a session beyond the core's fields (`apiData`). */
export interface LeanRailsSessionData {
  mode: "payment";
  ui_mode: "hosted";
  customer_creation: "always" | "if_required";
  billing_address_collection: "auto" | "required";
  payment_intent_data: Record<string, unknown> | null;
  /** Each line item's tax behaviour, by position. */
  tax_behaviors: Array<z.infer<typeof TaxBehavior>>;
  /** The API version the session was created at (X-API-Version, or the default then). */
  api_version: string;
}

const dataOf = (s: CheckoutSession) => s.apiData as Partial<LeanRailsSessionData>;

const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** The core's payment ids (`pay_X`) as LeanRails' payment intents (`pi_X`). */
export const paymentIntentId = (paymentId: string) => paymentId.replace(/^pay_/, "pi_");

export function toWireCheckoutSession(s: CheckoutSession, publicUrl: string): CheckoutSessionWire {
  const data = dataOf(s);
  const details = s.customerDetails;
  const paid = s.state === "complete";
  return {
    id: s.id,
    object: "checkout.session",
    mode: data.mode ?? "payment",
    status: s.state,
    payment_status: paid ? "paid" : "unpaid",
    ui_mode: data.ui_mode ?? "hosted",
    customer_creation: data.customer_creation ?? "if_required",
    billing_address_collection: data.billing_address_collection ?? (s.collectBillingAddress ? "required" : "auto"),
    expires_at: unixSeconds(s.expiresAt),
    metadata: s.metadata ?? {},
    livemode: false,
    created: unixSeconds(s.createdAt),
    // Seed 003: set for hosted mode (the page then says the checkout is paid, or has expired).
    url: publicUrl + checkoutPagePath(s.id),
    client_secret: null,
    success_url: s.successUrl,
    cancel_url: s.cancelUrl,
    customer: s.customerRef,
    customer_email: s.customerEmail,
    customer_details: details
      ? {
          email: details.email,
          name: details.name,
          phone: details.phone,
          address: details.address
            ? {
                city: details.address.city,
                country: details.address.country,
                line1: details.address.line1,
                line2: details.address.line2,
                postal_code: details.address.postalCode,
                state: details.address.state,
              }
            : null,
        }
      : null,
    payment_intent: s.paymentId ? paymentIntentId(s.paymentId) : null,
    currency: s.currency.toLowerCase(),
    amount_subtotal: decimalToNumber(s.amountSubtotal),
    amount_total: decimalToNumber(s.amountTotal),
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    client_reference_id: s.clientReferenceId,
  };
}

export function toWireLineItem(s: CheckoutSession, item: LineItem, index: number): z.infer<typeof LineItemBody> {
  const currency = s.currency.toLowerCase();
  const amount = decimalToNumber(item.amount);
  return {
    id: item.id,
    object: "item",
    price: {
      id: item.priceRef,
      object: "price",
      currency,
      product: item.productRef,
      unit_amount: decimalToNumber(item.unitAmount),
      tax_behavior: dataOf(s).tax_behaviors?.[index] ?? "unspecified",
      type: "one_time",
      livemode: false,
    },
    quantity: decimalToNumber(item.quantity),
    amount_subtotal: amount,
    amount_total: amount,
    currency,
    description: item.description,
  };
}
