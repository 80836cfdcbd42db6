import type { NewCheckoutSession, NewLineItem } from "../../core/checkout-sessions/checkout-sessions.types.js";
import type { Price, Product } from "../../core/catalog/catalog.types.js";
import { Decimal, isIsoCurrency } from "../../core/money/money.js";
import type { Scope } from "../../core/scope.js";
import type { Services } from "../../core/services.js";
import {
  type CreateCheckoutSessionParams,
  LEANRAILS_API,
  LEANRAILS_ID_PREFIXES,
  type LeanRailsSessionData,
  METADATA_LIMITS,
} from "./checkout-sessions.schemas.js";
import { LeanRailsError, parameterInvalid, parameterMissing } from "./leanrails.errors.js";

/** `expires_at` must fall in this window from now (leanrails.md, "Create rules"). */
const MIN_LIFETIME_MS = 30 * 60_000;
const MAX_LIFETIME_MS = 24 * 3_600_000;
/** Leeway for the client's clock and the request's time in flight (a client sending now + 30 min exactly). */
const CLOCK_LEEWAY_MS = 60_000;

/** The largest total a session may have: every amount stays an exact JSON integer on the wire. */
export const MAX_AMOUNT_TOTAL = 999_999_999_999;

/** A reference the client named that does not exist here: 400 resource_missing on that param (Stripe's convention). */
const noSuch = (resource: string, id: string, param: string) =>
  new LeanRailsError(400, "invalid_request_error", "resource_missing", `No such ${resource}: '${id}'`, param);

function checkMetadata(metadata: Record<string, string> | undefined, param: string) {
  if (!metadata) return;
  const keys = Object.keys(metadata);
  if (keys.length > METADATA_LIMITS.keys) {
    throw parameterInvalid(param, `Invalid ${param}: at most ${METADATA_LIMITS.keys} keys are allowed.`);
  }
  for (const key of keys) {
    if (key.length === 0 || key.length > METADATA_LIMITS.keyLength) {
      throw parameterInvalid(
        param,
        `Invalid ${param}: keys must be 1 to ${METADATA_LIMITS.keyLength} characters long ('${key.slice(0, 50)}').`,
      );
    }
    if ((metadata[key] ?? "").length > METADATA_LIMITS.valueLength) {
      throw parameterInvalid(
        `${param}[${key}]`,
        `Invalid ${param}[${key}]: values must be at most ${METADATA_LIMITS.valueLength} characters long.`,
      );
    }
  }
}

type Catalog = Awaited<ReturnType<Services["catalog"]["lookup"]>>;

/** What the item at `at` is sold at: its price from the catalogue, or its price_data (a product by id or by name). */
function pricedItem(
  item: CreateCheckoutSessionParams["line_items"][number],
  at: string,
  prices: Catalog["prices"],
  products: Catalog["products"],
): PricedItem {
  if (item.price !== undefined) {
    const found = prices.get(item.price);
    if (!found) throw noSuch("price", item.price, `${at}[price]`);
    const { price, product } = found as { price: Price; product: Product };
    if (!price.active) throw parameterInvalid(`${at}[price]`, `The price '${price.id}' is not active.`);
    if (!product.active) throw parameterInvalid(`${at}[price]`, `The product of price '${price.id}' is not active.`);
    if (price.type !== "one_time") {
      throw parameterInvalid(
        `${at}[price]`,
        `The price '${price.id}' is recurring; only one-time prices can be bought.`,
      );
    }
    return {
      description: product.name,
      currency: price.currency,
      currencyParam: `${at}[price]`,
      unitAmount: price.unitAmount,
      taxBehavior: price.taxBehavior,
      productRef: product.id,
      priceRef: price.id,
    };
  }
  const data = item.price_data as NonNullable<typeof item.price_data>;
  let product: Product | null = null;
  if (PRODUCT_ID.test(data.product)) {
    product = products.get(data.product) ?? null;
    if (!product) throw noSuch("product", data.product, `${at}[price_data][product]`);
    if (!product.active) {
      throw parameterInvalid(`${at}[price_data][product]`, `The product '${product.id}' is not active.`);
    }
  }
  return {
    description: product?.name ?? data.product,
    currency: data.currency,
    currencyParam: `${at}[price_data][currency]`,
    unitAmount: new Decimal(data.unit_amount),
    taxBehavior: data.tax_behavior ?? "unspecified",
    productRef: product?.id ?? null,
    priceRef: null,
  };
}

function checkRedirect(urlProblem: (url: string) => string | null, param: string, url: string | undefined) {
  if (url === undefined) return;
  const problem = urlProblem(url);
  if (problem) throw parameterInvalid(param, `Invalid ${param}: ${problem}.`);
}

/** What one line item is sold at, before the currency and totals are checked across items. */
interface PricedItem {
  description: string;
  currency: string;
  currencyParam: string;
  unitAmount: Decimal;
  taxBehavior: LeanRailsSessionData["tax_behaviors"][number];
  productRef: string | null;
  priceRef: string | null;
}

const PRODUCT_ID = /^prod_/;

/**
 * A LeanRails create request in the core's terms: its line items (each in minor units of the one
 * currency they share; `price` ids and `prod_…` products looked up in the account's catalogue in
 * one round trip), the page asking for the email (prefilled with customer_email) and, when
 * billing_address_collection is `required`, the address; LeanRails' own options kept in apiData.
 * The first thing wrong is reported, with the param as the client spelt it.
 */
export async function leanRailsCheckout(
  services: Pick<Services, "catalog" | "redirectUrlProblem">,
  scope: Scope,
  params: CreateCheckoutSessionParams,
  context: { now: Date; apiVersion: string },
): Promise<NewCheckoutSession> {
  const { now } = context;
  if (params.mode !== "payment") {
    throw parameterInvalid(
      "mode",
      `Invalid mode: only payment is supported (${params.mode} sessions are not available on this server).`,
    );
  }
  const uiMode = params.ui_mode ?? "hosted";
  if (uiMode !== "hosted") {
    throw parameterInvalid(
      "ui_mode",
      `Invalid ui_mode: only hosted is supported (${uiMode} checkouts are not available on this server).`,
    );
  }
  if (params.success_url === undefined) throw parameterMissing("success_url");
  // https, or http on localhost (which production refuses unless REDIRECT_ALLOW_PRIVATE_URLS).
  checkRedirect(services.redirectUrlProblem, "success_url", params.success_url);
  checkRedirect(services.redirectUrlProblem, "cancel_url", params.cancel_url);
  if (params.payment_intent_data?.capture_method === "manual") {
    throw parameterInvalid(
      "payment_intent_data[capture_method]",
      "Invalid payment_intent_data[capture_method]: manual capture is not supported; payments are captured at once.",
    );
  }
  checkMetadata(params.metadata, "metadata");
  checkMetadata(params.payment_intent_data?.metadata, "payment_intent_data[metadata]");

  params.line_items.forEach((item, i) => {
    const at = `line_items[${i}]`;
    if (item.price !== undefined && item.price_data !== undefined) {
      throw parameterInvalid(at, `Invalid ${at}: specify only one of price and price_data.`);
    }
    if (item.price === undefined && item.price_data === undefined) {
      throw parameterMissing(`${at}[price_data]`, `Missing required param: ${at}[price_data] (or ${at}[price]).`);
    }
    if (item.price_data?.recurring !== undefined) {
      throw parameterInvalid(
        `${at}[price_data][recurring]`,
        `Invalid ${at}[price_data][recurring]: recurring prices need mode subscription, which is not supported.`,
      );
    }
  });
  const catalog = await services.catalog.lookup(scope, {
    priceIds: params.line_items.flatMap((item) => (item.price === undefined ? [] : [item.price])),
    productIds: params.line_items.flatMap((item) =>
      item.price_data && PRODUCT_ID.test(item.price_data.product) ? [item.price_data.product] : [],
    ),
  });
  const priced = params.line_items.map((item, i) =>
    pricedItem(item, `line_items[${i}]`, catalog.prices, catalog.products),
  );

  let currency: string | null = null;
  const lineItems: NewLineItem[] = [];
  const taxBehaviors: LeanRailsSessionData["tax_behaviors"] = [];
  params.line_items.forEach((item, i) => {
    const { currencyParam, ...sold } = priced[i] as PricedItem;
    const itemCurrency = sold.currency.toUpperCase();
    if (!isIsoCurrency(itemCurrency)) {
      throw parameterInvalid(currencyParam, `Invalid currency: ${sold.currency.toLowerCase()}.`);
    }
    if (currency !== null && itemCurrency !== currency) {
      throw parameterInvalid(
        currencyParam,
        `Invalid ${currencyParam}: every line item must be in the same currency (line_items[0] is ${currency.toLowerCase()}).`,
      );
    }
    currency = itemCurrency;
    const quantity = new Decimal(item.quantity);
    lineItems.push({
      description: sold.description,
      quantity,
      unitLabel: null,
      unitAmount: sold.unitAmount,
      amount: sold.unitAmount.times(quantity),
      productRef: sold.productRef,
      priceRef: sold.priceRef,
    });
    taxBehaviors.push(sold.taxBehavior);
  });
  // line_items has at least one item (schema), each of which set the currency or threw.
  const sessionCurrency = currency as unknown as string;
  if (params.currency !== undefined && params.currency.toUpperCase() !== sessionCurrency) {
    throw parameterInvalid(
      "currency",
      `Invalid currency: it must be the line items' currency (${sessionCurrency.toLowerCase()}).`,
    );
  }
  const total = lineItems.reduce((sum, item) => sum.plus(item.amount), new Decimal(0));
  if (total.isZero()) {
    throw parameterInvalid("line_items", "Invalid line_items: the total must be greater than 0.");
  }
  if (total.gt(MAX_AMOUNT_TOTAL)) {
    throw parameterInvalid("line_items", `Invalid line_items: the total must be at most ${MAX_AMOUNT_TOTAL}.`);
  }

  let expiresAt: Date | undefined;
  if (params.expires_at !== undefined) {
    const lifetime = params.expires_at * 1000 - now.getTime();
    if (lifetime < MIN_LIFETIME_MS - CLOCK_LEEWAY_MS || lifetime > MAX_LIFETIME_MS + CLOCK_LEEWAY_MS) {
      throw parameterInvalid(
        "expires_at",
        "Invalid expires_at: it must be between 30 minutes and 24 hours from now (Unix seconds).",
      );
    }
    expiresAt = new Date(params.expires_at * 1000);
  }

  const billing = params.billing_address_collection ?? "auto";
  const apiData: LeanRailsSessionData = {
    mode: "payment",
    ui_mode: "hosted",
    customer_creation: params.customer_creation ?? "if_required",
    billing_address_collection: billing,
    payment_intent_data: params.payment_intent_data ?? null,
    tax_behaviors: taxBehaviors,
    api_version: context.apiVersion,
  };
  return {
    api: LEANRAILS_API,
    idPrefixes: LEANRAILS_ID_PREFIXES,
    currency: sessionCurrency,
    lineItems,
    successUrl: params.success_url,
    cancelUrl: params.cancel_url ?? null,
    description: params.payment_intent_data?.description ?? null,
    metadata: params.metadata ?? {},
    clientReferenceId: params.client_reference_id ?? null,
    customerRef: params.customer ?? null,
    customerEmail: params.customer_email ?? null,
    collectEmail: true,
    collectBillingAddress: billing === "required",
    expiresAt,
    apiData: apiData as unknown as Record<string, unknown>,
  };
}
