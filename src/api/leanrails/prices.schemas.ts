import { z } from "zod";
import { type NewPrice, PRICE_TYPES, type Price, type PriceChanges } from "../../core/catalog/catalog.types.js";
import { decimalToNumber } from "../../core/money/money.js";
import { ListQuery, listOf } from "./leanrails.schemas.js";
import {
  fromWireProductFields,
  Metadata,
  MetadataUpdate,
  metadataChanges,
  metadataOnCreate,
  oneUnitAmount,
  ProductData,
  queryBoolean,
  TaxBehavior,
  unitAmountFields,
  unitAmountOf,
  unixSeconds,
} from "./products.schemas.js";

/** Prices in LeanRails' (Stripe's) shapes: one-time, per unit, amounts in the currency's minor unit. */

export const PriceCreateParams = z
  .strictObject({
    currency: z.string().describe("Three-letter ISO 4217 code"),
    product: z.string().min(1).max(255).optional().describe("The id of the product (prod_…)"),
    product_data: ProductData.optional().describe("A new product, created with the price"),
    ...unitAmountFields,
    active: z.boolean().optional(),
    nickname: z.string().max(5000).optional(),
    lookup_key: z.string().max(200).optional().describe("Unique among the account's prices"),
    metadata: Metadata.optional(),
    tax_behavior: TaxBehavior.optional(),
    billing_scheme: z.literal("per_unit").optional().describe("Only per_unit; tiered prices are not offered"),
    recurring: z.unknown().optional().describe("Not supported: recurring prices are refused"),
  })
  .superRefine(oneUnitAmount)
  .superRefine((p, ctx) => {
    if ((p.product === undefined) === (p.product_data === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["product"],
        message: "exactly one of product and product_data must be given",
      });
    }
  })
  .meta({ id: "LeanRailsPriceCreateParams" });

export const PriceUpdateParams = z
  .strictObject({
    active: z.boolean().optional(),
    nickname: z.union([z.string().max(5000), z.null()]).optional(),
    tax_behavior: TaxBehavior.optional(),
    lookup_key: z.union([z.string().max(200), z.null()]).optional(),
    metadata: MetadataUpdate.optional(),
  })
  .meta({ id: "LeanRailsPriceUpdateParams" });

export const PriceListQuery = ListQuery.extend({
  active: queryBoolean.optional(),
  product: z.string().min(1).max(255).optional().describe("Only the prices of this product"),
  type: z.enum(PRICE_TYPES).optional(),
});

export const PriceObject = z
  .object({
    id: z.string().describe("price_…"),
    object: z.literal("price"),
    active: z.boolean(),
    product: z.string().describe("prod_…"),
    currency: z.string().describe("Three-letter ISO 4217 code, lower case"),
    type: z.enum(PRICE_TYPES),
    billing_scheme: z.enum(["per_unit", "tiered"]),
    tax_behavior: TaxBehavior,
    unit_amount: z.number().int().nullable().describe("In the currency's minor unit"),
    unit_amount_decimal: z.string().nullable(),
    recurring: z.object({ interval: z.string(), interval_count: z.number().int() }).nullable(),
    tiers_mode: z.enum(["graduated", "volume"]).nullable(),
    lookup_key: z.string().nullable(),
    nickname: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    livemode: z.boolean(),
    created: z.number().int(),
  })
  .meta({ id: "LeanRailsPrice" });

export const PriceList = listOf(PriceObject, "LeanRailsPriceList");

export const toWirePrice = (p: Price): z.infer<typeof PriceObject> => ({
  id: p.id,
  object: "price",
  active: p.active,
  product: p.productId,
  currency: p.currency.toLowerCase(),
  type: p.type,
  billing_scheme: "per_unit",
  tax_behavior: p.taxBehavior,
  unit_amount: decimalToNumber(p.unitAmount),
  unit_amount_decimal: p.unitAmount.toFixed(),
  recurring: null,
  tiers_mode: null,
  lookup_key: p.lookupKey,
  nickname: p.nickname,
  metadata: p.metadata,
  livemode: false,
  created: unixSeconds(p.createdAt),
});

export const fromWireNewPrice = (p: z.infer<typeof PriceCreateParams>): NewPrice => ({
  currency: p.currency,
  unitAmount: unitAmountOf(p),
  productId: p.product,
  productData: p.product_data && fromWireProductFields(p.product_data),
  taxBehavior: p.tax_behavior,
  recurring: p.recurring,
  active: p.active,
  nickname: p.nickname,
  lookupKey: p.lookup_key,
  metadata: metadataOnCreate(p.metadata),
});

export const fromWirePriceChanges = (p: z.infer<typeof PriceUpdateParams>): PriceChanges => ({
  active: p.active,
  nickname: p.nickname === "" ? null : p.nickname,
  taxBehavior: p.tax_behavior,
  lookupKey: p.lookup_key === "" ? null : p.lookup_key,
  metadata: metadataChanges(p.metadata),
});
