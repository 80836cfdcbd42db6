import type { Decimal } from "../money/money.js";

/**
 * The catalogue: what an account sells (products) and for how much (prices). A checkout session's
 * line item may be made from a price (`CatalogService.lineItemsFor`); the session keeps the
 * price's and product's ids as its item's references and copies the amounts, so later changes
 * to the catalogue never change a session. Products and prices are never deleted, only made
 * inactive.
 */

export const TAX_BEHAVIORS = ["inclusive", "exclusive", "unspecified"] as const;
export type TaxBehavior = (typeof TAX_BEHAVIORS)[number];

/** Only one-time prices exist today; "recurring" is named so it can be refused clearly. */
export const PRICE_TYPES = ["one_time", "recurring"] as const;
export type PriceType = (typeof PRICE_TYPES)[number];

/** Free-form string pairs a merchant attaches (Stripe's limits, checked by the core). */
export type Metadata = Record<string, string>;

/** A metadata update: a string sets the key, null removes it; keys not named stay as they are. */
export type MetadataChanges = Record<string, string | null>;

export const LIMITS = {
  nameLength: 5000,
  descriptionLength: 40_000,
  images: 8,
  imageUrlLength: 2048,
  metadataKeys: 50,
  metadataKeyLength: 40,
  metadataValueLength: 500,
  statementDescriptorLength: 22,
  unitLabelLength: 12,
  taxCodeLength: 64,
  urlLength: 2048,
  marketingFeatures: 15,
  marketingFeatureNameLength: 80,
  nicknameLength: 5000,
  lookupKeyLength: 200,
} as const;

export interface MarketingFeature {
  name: string;
}

/** A shippable product's package: inches and ounces, as Stripe has them. */
export interface PackageDimensions {
  height: number;
  length: number;
  weight: number;
  width: number;
}

export interface Product {
  id: string;
  accountId: string;
  name: string;
  description: string | null;
  images: string[];
  active: boolean;
  metadata: Metadata;
  defaultPriceId: string | null;
  shippable: boolean | null;
  statementDescriptor: string | null;
  unitLabel: string | null;
  taxCode: string | null;
  url: string | null;
  marketingFeatures: MarketingFeature[];
  packageDimensions: PackageDimensions | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface Price {
  id: string;
  accountId: string;
  productId: string;
  /** ISO 4217, upper case. */
  currency: string;
  /** In the currency's minor unit, a whole number >= 0. */
  unitAmount: Decimal;
  type: PriceType;
  taxBehavior: TaxBehavior;
  active: boolean;
  nickname: string | null;
  lookupKey: string | null;
  metadata: Metadata;
  createdAt: Date;
}

/** The product's own fields as a create gives them (all but the name optional). */
export interface ProductFields {
  name: string;
  description?: string | null;
  images?: string[];
  active?: boolean;
  metadata?: Metadata;
  shippable?: boolean | null;
  statementDescriptor?: string | null;
  unitLabel?: string | null;
  taxCode?: string | null;
  url?: string | null;
  marketingFeatures?: MarketingFeature[];
  packageDimensions?: PackageDimensions | null;
}

/** A price made together with something else (a product's default price, a price's product). */
export interface InlinePrice {
  currency: string;
  unitAmount: Decimal;
  taxBehavior?: TaxBehavior;
  /** Named only to be refused: recurring prices are not offered yet. */
  recurring?: unknown;
}

export interface NewProduct extends ProductFields {
  /** Creates the product's default price with it, in the same transaction. */
  defaultPriceData?: InlinePrice;
}

/** Fields left out stay as they are; null clears a nullable field. */
export interface ProductChanges {
  name?: string;
  description?: string | null;
  images?: string[];
  active?: boolean;
  metadata?: MetadataChanges | null;
  defaultPriceId?: string | null;
  shippable?: boolean | null;
  statementDescriptor?: string | null;
  unitLabel?: string | null;
  taxCode?: string | null;
  url?: string | null;
  marketingFeatures?: MarketingFeature[];
  packageDimensions?: PackageDimensions | null;
}

export interface NewPrice extends InlinePrice {
  /** Exactly one of `productId` (an existing product) and `productData` (a new one, made with the price). */
  productId?: string;
  productData?: ProductFields;
  type?: PriceType;
  active?: boolean;
  nickname?: string | null;
  lookupKey?: string | null;
  metadata?: Metadata;
}

export interface PriceChanges {
  active?: boolean;
  nickname?: string | null;
  /** Settable while "unspecified"; once inclusive or exclusive it cannot change. */
  taxBehavior?: TaxBehavior;
  lookupKey?: string | null;
  metadata?: MetadataChanges | null;
}

/** One page of a list, newest first; the cursors are object ids. */
export interface CatalogPage {
  limit?: number | null;
  startingAfter?: string | null;
  endingBefore?: string | null;
}

export interface ProductFilter {
  active?: boolean;
}

export interface PriceFilter {
  active?: boolean;
  productId?: string;
  type?: PriceType;
}

/** A line item's worth of a price, ready for a checkout session (amounts in minor units). */
export interface CatalogLineItem {
  /** The product's name: what the page shows. */
  description: string;
  quantity: Decimal;
  unitLabel: string | null;
  unitAmount: Decimal;
  /** quantity × unit amount. */
  amount: Decimal;
  /** ISO 4217, upper case. */
  currency: string;
  taxBehavior: TaxBehavior;
  productRef: string;
  priceRef: string;
}

/** A price asked for by a session's line item; `at` is the item's field path for errors ("lineItems.0"). */
export interface LineItemRequest {
  priceId: string;
  quantity: Decimal | number;
  at?: string;
}
