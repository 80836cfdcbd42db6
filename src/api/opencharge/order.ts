/**
 * Seed 002's `POST /checkout/create` body and its order, turned into a core session. Amounts stay
 * exact: a decimal string in an ISO currency becomes whole minor units (refused if it has more
 * places than the currency has), an asset code's decimal is kept as it is; nothing goes through a
 * float. The order itself (as received, key order and all) is kept in the session's `apiData`:
 * the proof quotes its amount and currency strings as the merchant wrote them.
 */
import { z } from "zod";
import type { NewCheckoutSession, NewLineItem } from "../../core/checkout-sessions/checkout-sessions.types.js";
import { Decimal, decimalFromJsonNumber, isIsoCurrency, minorUnitExponent } from "../../core/money/money.js";
import { isValidOcid, OCID_PATTERN } from "./headers.js";
import { OpenchargeError, ocError } from "./opencharge.errors.js";
import { OPENCHARGE_API } from "./opencharge.js";

/** A session lasts 30 minutes (the docs' sample), or until the order's expiresAt if sooner. */
export const SESSION_LIFETIME_MS = 30 * 60 * 1000;

/** Decimal strings: digits, an optional fraction; no sign, no exponent, no spaces. */
const DECIMAL = /^(0|[1-9][0-9]{0,19})(\.[0-9]{1,18})?$/;
const ASSET_CODE = /^[A-Z][A-Z0-9]{1,11}$/;

const ocid = z
  .union([
    z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    z.string().meta({ pattern: OCID_PATTERN.source }),
  ])
  .refine((v) => isValidOcid(String(v)), "must be an OCID")
  .meta({ description: "An OCID: an unsigned integer, as a JSON number or a string of digits" });
const text = (max: number) => z.string().min(1).max(max);
const decimalString = z.string().regex(DECIMAL, 'must be a decimal string such as "99.99"');
const unixSeconds = z.number().int().nonnegative().max(253402300799);

const item = z
  .object({
    id: text(200),
    name: text(500).meta({ description: "Shown on the checkout page" }),
    quantity: z.number().positive().finite(),
    price: decimalString.meta({ description: "The unit price, an exact decimal string in the order's currency" }),
  })
  .meta({ id: "OpenchargeOrderItem" });

/** The order a merchant signs (seed 002), checked once the request's envelope is: its errors are INVALID_ORDER. */
export const orderSchema = z
  .object({
    id: text(200).meta({
      description: "The merchant's order id: the same id from the same merchant is the same session",
    }),
    ocid: ocid.meta({ description: "The merchant's OCID: equal to merchantOcid" }),
    reference: z.string().max(500).optional(),
    amount: decimalString.meta({
      description:
        "An exact decimal string; at most as many places as an ISO currency's minor unit; the items' sum when items are given",
    }),
    currency: z.string().min(1).max(12).meta({
      description: "An ISO 4217 code (any case) or an upper-case asset code ([A-Z][A-Z0-9]{1,11})",
    }),
    items: z.array(item).min(1).max(100).optional(),
    memo: z.string().max(1000).optional(),
    createdAt: unixSeconds.meta({ description: "Unix seconds" }),
    expiresAt: unixSeconds.optional().meta({
      description: "Unix seconds, in the future; the session expires then if that is sooner than 30 minutes",
    }),
    accepts: z.array(ocid).max(1000).optional().meta({
      description:
        "The issuers the merchant accepts: when given, Kassa's OCID must be among them (ISSUER_NOT_ACCEPTED)",
    }),
  })
  .meta({
    id: "OpenchargeOrder",
    description:
      "The merchant's order, signed by the merchant (canonical JSON, sorted keys at every level or at the top level)",
  });

const checkoutUrls = z
  .object({
    success: z.string().min(1).max(2048).meta({ format: "uri", description: "Where the customer goes once paid" }),
    cancel: z
      .string()
      .min(1)
      .max(2048)
      .optional()
      .meta({ format: "uri", description: "Where the customer goes on cancelling" }),
  })
  .meta({ id: "OpenchargeCheckoutUrls" });

/**
 * The envelope of `POST <base>/checkout/create`, checked first (INVALID_REQUEST); its order is
 * kept as received (the signature covers it) and checked by orderSchema next (INVALID_ORDER).
 */
export const createRequestSchema = z.object({
  order: z.record(z.string(), z.unknown()),
  signature: z.string().min(1).max(300).meta({
    description: "The merchant's signature over the order, checked with merchantOcid's registered key",
  }),
  merchantOcid: ocid.meta({ description: "The merchant's OCID, a registered participant" }),
  urls: checkoutUrls,
});

/** The request body as the OpenAPI document shows it: the envelope with its order, the two schemas the route checks in turn. */
export const checkoutCreateRequestDocument = createRequestSchema.extend({ order: orderSchema }).meta({
  id: "OpenchargeCheckoutCreateRequest",
  examples: [
    {
      order: {
        id: "ord_abc123",
        ocid: 500,
        reference: "INV-001",
        amount: "99.99",
        currency: "USD",
        items: [{ id: "item_001", name: "Product A", quantity: 1, price: "99.99" }],
        memo: "Order from Merchant Store",
        createdAt: 1706313600,
      },
      signature: "a1b2c3d4e5f6...merchant_sig",
      merchantOcid: 500,
      urls: {
        success: "https://merchant.example/checkout/success",
        cancel: "https://merchant.example/checkout/cancel",
      },
    },
  ],
});

export type Order = z.output<typeof orderSchema>;
export type CreateRequest = z.output<typeof createRequestSchema>;

/** What Opencharge keeps of a session (its apiData): the order as signed and who sent it. */
export interface OpenchargeSessionData {
  order: Record<string, unknown>;
  orderSignature: string;
  merchantOcid: string;
  gatewayOcid: string;
  [key: string]: unknown;
}

export const fieldDetails = (error: z.ZodError, prefix: string) => {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
    (fields[path || "body"] ??= []).push(issue.message);
  }
  return { fields };
};

/** An exact decimal as minor units of `currency`, or as itself for an asset; throws INVALID_ORDER when it does not fit. */
function toMinor(decimal: Decimal, currency: string, field: string): Decimal {
  const exponent = minorUnitExponent(currency);
  if (exponent === null) return decimal;
  const minor = decimal.times(new Decimal(10).pow(exponent));
  if (!minor.isInteger()) {
    throw ocError(
      "INVALID_ORDER",
      `${field} has more decimal places than ${currency.toUpperCase()} has (${exponent})`,
      {
        fields: { [field]: [`must have at most ${exponent} decimal places in ${currency.toUpperCase()}`] },
      },
    );
  }
  return minor;
}

/**
 * The order's checks beyond its shape: a currency Kassa knows (ISO 4217, any case) or an upper-case
 * asset code, items that add up to the amount, an expiry still ahead, Kassa among the issuers the
 * merchant accepts. Returns the line items in minor units.
 */
export function orderLineItems(order: Order, now: Date, kassaOcid: string): NewLineItem[] {
  const currency = order.currency;
  if (!isIsoCurrency(currency) && !ASSET_CODE.test(currency)) {
    throw ocError("INVALID_ORDER", "order.currency is neither an ISO 4217 code nor an upper-case asset code", {
      fields: { "order.currency": ["must be an ISO 4217 currency code or an upper-case asset code"] },
    });
  }
  if (order.expiresAt !== undefined && order.expiresAt * 1000 <= now.getTime()) {
    throw ocError("INVALID_ORDER", "The order has expired", {
      fields: { "order.expiresAt": ["must be in the future"] },
    });
  }
  if (order.accepts && !order.accepts.some((issuer) => String(issuer) === kassaOcid)) {
    throw ocError("ISSUER_NOT_ACCEPTED", `The merchant does not accept issuer ${kassaOcid}`, {
      accepts: order.accepts,
    });
  }
  const amount = new Decimal(order.amount);
  const amountMinor = toMinor(amount, currency, "order.amount");
  if (!order.items) {
    const description = order.memo || order.reference || `Order ${order.id}`;
    return [line(description, new Decimal(1), amountMinor, amountMinor, order.id)];
  }
  let sum = new Decimal(0);
  const lines = order.items.map((it, i) => {
    const quantity = decimalFromJsonNumber(it.quantity);
    const price = new Decimal(it.price);
    const lineAmount = toMinor(price.times(quantity), currency, `order.items.${i}.price`);
    sum = sum.plus(price.times(quantity));
    // A unit price may be a fraction of the minor unit (0.125 × 2); what the line costs may not.
    const exponent = minorUnitExponent(currency);
    const unitAmount = exponent === null ? price : price.times(new Decimal(10).pow(exponent));
    return line(it.name, quantity, unitAmount, lineAmount, it.id);
  });
  if (!sum.eq(amount)) {
    throw ocError("INVALID_ORDER", `The items add up to ${sum.toFixed()}, not to the amount ${order.amount}`, {
      fields: { "order.amount": [`must equal the sum of the items (${sum.toFixed()})`] },
    });
  }
  return lines;
}

const line = (
  description: string,
  quantity: Decimal,
  unitAmount: Decimal,
  amount: Decimal,
  ref: string,
): NewLineItem => ({
  description,
  quantity,
  unitLabel: null,
  unitAmount,
  amount,
  productRef: ref,
  priceRef: null,
});

/** The core session for a checked order: Opencharge's currency, lines and lifetime, its order kept aside. */
export function newOpenchargeSession(input: {
  request: CreateRequest;
  order: Order;
  lineItems: NewLineItem[];
  gatewayOcid: string;
  now: Date;
}): NewCheckoutSession {
  const { request, order, now } = input;
  const lifetimeEnd = now.getTime() + SESSION_LIFETIME_MS;
  const expiresAt = order.expiresAt !== undefined ? Math.min(lifetimeEnd, order.expiresAt * 1000) : lifetimeEnd;
  const apiData: OpenchargeSessionData = {
    order: request.order,
    orderSignature: request.signature,
    merchantOcid: String(request.merchantOcid),
    gatewayOcid: input.gatewayOcid,
  };
  return {
    api: OPENCHARGE_API,
    currency: order.currency,
    lineItems: input.lineItems,
    successUrl: request.urls.success,
    cancelUrl: request.urls.cancel ?? null,
    description: order.memo ?? null,
    clientReferenceId: order.id,
    expiresAt: new Date(expiresAt),
    apiData,
    idPrefixes: { session: "sess_" },
  };
}

/** The core's field paths, in the request's words. */
const WIRE_FIELDS: Record<string, string> = {
  successUrl: "urls.success",
  cancelUrl: "urls.cancel",
  currency: "order.currency",
  expiresAt: "order.expiresAt",
  amountTotal: "order.amount",
};

export function wireFields(fields: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(fields).map(([path, reasons]) => [
      WIRE_FIELDS[path] ?? path.replace(/^lineItems\.(\d+)\..*$/, "order.items.$1"),
      reasons,
    ]),
  );
}

export { OpenchargeError };
