import { z } from "zod";
import type { MetadataChanges, Product, ProductChanges, ProductFields } from "../../core/catalog/catalog.types.js";
import { TAX_BEHAVIORS } from "../../core/catalog/catalog.types.js";
import { decimalFromJsonNumber, type Decimal } from "../../core/money/money.js";
import { idParams, ListQuery, listOf } from "./leanrails.schemas.js";

/**
 * Products in LeanRails' (Stripe's) shapes. Bodies are strict: an unknown parameter is refused,
 * as Stripe does, rather than dropped (a dropped `recurring` would quietly make a one-time price).
 * Limits that are the core's rules (name length, images, metadata sizes) are checked by the core.
 */

/** Unix seconds, as every LeanRails time. */
export const unixSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/** `true`/`false` in a query string. */
export const queryBoolean = z.enum(["true", "false"]).transform((v) => v === "true");

/** The list body for a page of objects. */
export const listBody = <T extends { id: string }, W>(
  url: string,
  items: T[],
  hasMore: boolean,
  wire: (t: T) => W,
) => ({
  object: "list" as const,
  data: items.map(wire),
  has_more: hasMore,
  url,
  next_cursor: hasMore ? (items.at(-1)?.id ?? null) : null,
});

export const Metadata = z
  .record(z.string(), z.string())
  .describe("Up to 50 keys (at most 40 characters each) with string values (at most 500 characters)");

/** On update: a value sets its key, "" (or null) removes it; "" or null for the whole object removes every key. */
export const MetadataUpdate = z.union([z.record(z.string(), z.string().nullable()), z.literal(""), z.null()]);

export const metadataChanges = (m: z.infer<typeof MetadataUpdate> | undefined): MetadataChanges | null | undefined => {
  if (m === undefined) return undefined;
  if (m === null || m === "") return null;
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v === "" ? null : v]));
};

/** On create, an empty value means no key (as Stripe treats it). */
export const metadataOnCreate = (m: Record<string, string> | undefined) =>
  m && Object.fromEntries(Object.entries(m).filter(([, v]) => v !== ""));

/** A string a client may clear with "" or null on update. */
const clearable = (max: number) => z.union([z.string().max(max), z.null()]).optional();
const cleared = (v: string | null | undefined) => (v === undefined ? undefined : v === "" ? null : v);

export const TaxBehavior = z.enum(TAX_BEHAVIORS);

/** `unit_amount` (integer minor units) or `unit_amount_decimal` (its decimal text), at most one. */
export const unitAmountFields = {
  unit_amount: z.number().int().min(0).optional().describe("In the currency's minor unit (cents, yen), >= 0"),
  unit_amount_decimal: z
    .string()
    .regex(/^\d{1,15}(\.\d{1,12})?$/, "must be a decimal number of at most 15 integer digits")
    .optional()
    .describe("The unit amount as a decimal string; for ISO currencies a whole number of minor units"),
};

export const unitAmountOf = (p: { unit_amount?: number; unit_amount_decimal?: string }): Decimal =>
  decimalFromJsonNumber(p.unit_amount ?? p.unit_amount_decimal ?? "0");

/** Refines an object with unitAmountFields: exactly one of the two must be given. */
export const oneUnitAmount = (p: { unit_amount?: number; unit_amount_decimal?: string }, ctx: z.RefinementCtx) => {
  if ((p.unit_amount === undefined) === (p.unit_amount_decimal === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["unit_amount"],
      message: "exactly one of unit_amount and unit_amount_decimal must be given",
    });
  }
};

export const DefaultPriceData = z
  .strictObject({
    currency: z.string().describe("Three-letter ISO 4217 code, lower case"),
    ...unitAmountFields,
    tax_behavior: TaxBehavior.optional(),
    recurring: z.unknown().optional().describe("Not supported: recurring prices are refused"),
  })
  .superRefine(oneUnitAmount);

const MarketingFeatures = z
  .array(z.strictObject({ name: z.string().max(80) }))
  .max(15)
  .describe("Up to 15 features shown with the product");
const PackageDimensions = z
  .strictObject({ height: z.number(), length: z.number(), weight: z.number(), width: z.number() })
  .describe("Inches and ounces, each greater than 0");

const productFields = {
  active: z.boolean().optional(),
  description: z.string().max(40_000).optional(),
  images: z.array(z.string().max(2048)).max(8).optional().describe("Up to 8 https image URLs"),
  metadata: Metadata.optional(),
  shippable: z.boolean().optional(),
  statement_descriptor: z.string().max(22).optional(),
  unit_label: z.string().max(12).optional(),
  tax_code: z.string().max(64).optional(),
  url: z.string().max(2048).optional().describe("A public web page for the product"),
  marketing_features: MarketingFeatures.optional(),
  package_dimensions: PackageDimensions.optional(),
};

export const ProductCreateParams = z
  .strictObject({
    name: z.string().min(1).max(5000),
    ...productFields,
    default_price_data: DefaultPriceData.optional().describe("Creates the product's default price with it"),
  })
  .meta({ id: "LeanRailsProductCreateParams" });

/** product_data on a price create: a new product made with the price. */
export const ProductData = z.strictObject({
  name: z.string().min(1).max(5000),
  active: productFields.active,
  metadata: productFields.metadata,
  statement_descriptor: productFields.statement_descriptor,
  unit_label: productFields.unit_label,
  tax_code: productFields.tax_code,
});

export const ProductUpdateParams = z
  .strictObject({
    name: z.string().min(1).max(5000).optional(),
    active: z.boolean().optional(),
    description: clearable(40_000),
    images: z.union([z.array(z.string().max(2048)).max(8), z.literal(""), z.null()]).optional(),
    metadata: MetadataUpdate.optional(),
    default_price: clearable(255).describe('The id of one of the product\'s prices; "" or null to unset'),
    shippable: z.boolean().nullable().optional(),
    statement_descriptor: clearable(22),
    unit_label: clearable(12),
    tax_code: clearable(64),
    url: clearable(2048),
    marketing_features: z.union([MarketingFeatures, z.literal(""), z.null()]).optional(),
    package_dimensions: z.union([PackageDimensions, z.literal(""), z.null()]).optional(),
  })
  .meta({ id: "LeanRailsProductUpdateParams" });

export const ProductListQuery = ListQuery.extend({ active: queryBoolean.optional() });

export const ProductObject = z
  .object({
    id: z.string().describe("prod_…"),
    object: z.literal("product"),
    active: z.boolean(),
    name: z.string(),
    description: z.string().nullable(),
    images: z.array(z.string()),
    marketing_features: z.array(z.object({ name: z.string() })),
    metadata: z.record(z.string(), z.string()),
    livemode: z.boolean(),
    created: z.number().int(),
    updated: z.number().int(),
    url: z.string().nullable(),
    default_price: z.string().nullable().describe("price_…"),
    shippable: z.boolean().nullable(),
    statement_descriptor: z.string().nullable(),
    unit_label: z.string().nullable(),
    tax_code: z.string().nullable(),
    package_dimensions: z
      .object({ height: z.number(), length: z.number(), weight: z.number(), width: z.number() })
      .nullable(),
  })
  .meta({ id: "LeanRailsProduct" });

export const ProductList = listOf(ProductObject, "LeanRailsProductList");

export const toWireProduct = (p: Product): z.infer<typeof ProductObject> => ({
  id: p.id,
  object: "product",
  active: p.active,
  name: p.name,
  description: p.description,
  images: p.images,
  marketing_features: p.marketingFeatures,
  metadata: p.metadata,
  livemode: false,
  created: unixSeconds(p.createdAt),
  updated: unixSeconds(p.updatedAt),
  url: p.url,
  default_price: p.defaultPriceId,
  shippable: p.shippable,
  statement_descriptor: p.statementDescriptor,
  unit_label: p.unitLabel,
  tax_code: p.taxCode,
  package_dimensions: p.packageDimensions,
});

type ProductDataWire = Omit<z.infer<typeof ProductCreateParams>, "default_price_data">;

export const fromWireProductFields = (p: Partial<ProductDataWire> & { name: string }): ProductFields => ({
  name: p.name,
  description: p.description,
  images: p.images,
  active: p.active,
  metadata: metadataOnCreate(p.metadata),
  shippable: p.shippable,
  statementDescriptor: p.statement_descriptor,
  unitLabel: p.unit_label,
  taxCode: p.tax_code,
  url: p.url,
  marketingFeatures: p.marketing_features,
  packageDimensions: p.package_dimensions,
});

export const fromWireProductChanges = (p: z.infer<typeof ProductUpdateParams>): ProductChanges => ({
  name: p.name,
  active: p.active,
  description: cleared(p.description),
  images: p.images === undefined ? undefined : p.images === "" || p.images === null ? [] : p.images,
  metadata: metadataChanges(p.metadata),
  defaultPriceId: cleared(p.default_price),
  shippable: p.shippable,
  statementDescriptor: cleared(p.statement_descriptor),
  unitLabel: cleared(p.unit_label),
  taxCode: cleared(p.tax_code),
  url: cleared(p.url),
  marketingFeatures:
    p.marketing_features === undefined
      ? undefined
      : p.marketing_features === "" || p.marketing_features === null
        ? []
        : p.marketing_features,
  packageDimensions: p.package_dimensions === undefined ? undefined : p.package_dimensions || null,
});
