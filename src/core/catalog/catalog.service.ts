import type { Db, Transactor } from "../../db/database.js";
import { isUniqueViolation } from "../../db/database.js";
import { type FieldErrors, invalidPagination, invalidParameter, invalidParameters, notFound } from "../errors.js";
import { type WithinWrite, type Written, writeInTransaction } from "../idempotency/idempotency.types.js";
import { newId } from "../ids.js";
import { amountProblem } from "../money/money.js";
import { Decimal, isIsoCurrency, roundedUpProduct } from "../money/money.js";
import type { Scope } from "../scope.js";
import type { Clock } from "../time.js";
import { httpsUrlProblem, httpUrlProblem } from "../urls.js";
import type { CatalogRepository, ProductUpdate } from "./catalog.repository.js";
import {
  type CatalogLineItem,
  type CatalogPage,
  type InlinePrice,
  LIMITS,
  type LineItemRequest,
  type Metadata,
  type MetadataChanges,
  type NewPrice,
  type NewProduct,
  type Price,
  type PriceChanges,
  type PriceFilter,
  type PriceType,
  type Product,
  type ProductChanges,
  type ProductFields,
  type ProductFilter,
  TAX_BEHAVIORS,
} from "./catalog.types.js";

export const DEFAULT_PAGE_LIMIT = 10;
export const MAX_PAGE_LIMIT = 100;

const RECURRING_REFUSED = "recurring prices are not supported yet; only one-time prices can be created";

/** Collects field errors and throws them together, so a client sees every problem at once. */
class Problems {
  readonly fields: FieldErrors = {};
  add(field: string, reason: string) {
    const reasons = this.fields[field];
    if (reasons) reasons.push(reason);
    else this.fields[field] = [reason];
  }
  throwIfAny() {
    if (Object.keys(this.fields).length) throw invalidParameters(this.fields);
  }
}

const path = (prefix: string, field: string) => (prefix ? `${prefix}.${field}` : field);

function checkText(problems: Problems, field: string, value: string | null | undefined, max: number) {
  if (value != null && value.length > max) problems.add(field, `must be at most ${max} characters`);
}

function checkMetadata(problems: Problems, field: string, metadata: MetadataChanges | null | undefined) {
  if (!metadata) return;
  const keys = Object.keys(metadata);
  if (keys.length > LIMITS.metadataKeys) problems.add(field, `must have at most ${LIMITS.metadataKeys} keys`);
  for (const key of keys) {
    if (key.length === 0 || key.length > LIMITS.metadataKeyLength) {
      problems.add(field, `keys must be 1 to ${LIMITS.metadataKeyLength} characters ('${key.slice(0, 50)}' is not)`);
    }
    // The store's client drops this key on write; refusing it beats losing it silently.
    if (key === "__proto__") problems.add(field, "must not have the key '__proto__'");
    const value = metadata[key];
    if (value != null && value.length > LIMITS.metadataValueLength) {
      problems.add(
        field,
        `values must be at most ${LIMITS.metadataValueLength} characters (the value of '${key}' is not)`,
      );
    }
  }
}

/** Stripe's rule for what a bank statement may show: 5-22 characters, at least one letter, none of < > \ ' " *. */
function checkStatementDescriptor(problems: Problems, field: string, value: string | null | undefined) {
  if (value == null) return;
  if (value.length < 5 || value.length > LIMITS.statementDescriptorLength) {
    problems.add(field, `must be 5 to ${LIMITS.statementDescriptorLength} characters`);
  } else if (/[<>\\'"*]/.test(value) || !/[A-Za-z]/.test(value)) {
    problems.add(field, `must contain a letter and none of < > \\ ' " *`);
  }
}

function checkName(problems: Problems, field: string, name: string) {
  if (name.trim().length === 0) problems.add(field, "must not be empty");
  checkText(problems, field, name, LIMITS.nameLength);
}

function checkProductFields(problems: Problems, prefix: string, p: Partial<ProductFields>) {
  if (p.name !== undefined) checkName(problems, path(prefix, "name"), p.name);
  checkText(problems, path(prefix, "description"), p.description, LIMITS.descriptionLength);
  if (p.images) {
    if (p.images.length > LIMITS.images)
      problems.add(path(prefix, "images"), `must have at most ${LIMITS.images} URLs`);
    p.images.forEach((url, i) => {
      const problem = url.length > LIMITS.imageUrlLength ? "must be at most 2048 characters" : httpsUrlProblem(url);
      if (problem) problems.add(path(prefix, `images.${i}`), problem);
    });
  }
  checkStatementDescriptor(problems, path(prefix, "statementDescriptor"), p.statementDescriptor);
  checkText(problems, path(prefix, "unitLabel"), p.unitLabel, LIMITS.unitLabelLength);
  checkText(problems, path(prefix, "taxCode"), p.taxCode, LIMITS.taxCodeLength);
  if (p.url != null) {
    const problem =
      p.url.length > LIMITS.urlLength ? `must be at most ${LIMITS.urlLength} characters` : httpUrlProblem(p.url);
    if (problem) problems.add(path(prefix, "url"), problem);
  }
  if (p.marketingFeatures) {
    if (p.marketingFeatures.length > LIMITS.marketingFeatures) {
      problems.add(path(prefix, "marketingFeatures"), `must have at most ${LIMITS.marketingFeatures} features`);
    }
    p.marketingFeatures.forEach((feature, i) => {
      if (feature.name.trim() === "" || feature.name.length > LIMITS.marketingFeatureNameLength) {
        problems.add(
          path(prefix, `marketingFeatures.${i}.name`),
          `must be 1 to ${LIMITS.marketingFeatureNameLength} characters`,
        );
      }
    });
  }
  if (p.packageDimensions) {
    for (const [side, value] of Object.entries(p.packageDimensions)) {
      if (!Number.isFinite(value) || value <= 0)
        problems.add(path(prefix, `packageDimensions.${side}`), "must be greater than 0");
    }
  }
}

/** The price's currency upper case, after checking the amount, currency, type and tax behaviour. */
function checkInlinePrice(problems: Problems, prefix: string, p: InlinePrice & { type?: PriceType }): string {
  const currency = p.currency.toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency) || !isIsoCurrency(currency)) {
    problems.add(path(prefix, "currency"), "must be a three-letter ISO 4217 currency code");
  } else {
    const problem = amountProblem(p.unitAmount, currency);
    if (problem) problems.add(path(prefix, "unitAmount"), problem);
  }
  if (p.recurring != null) problems.add(path(prefix, "recurring"), RECURRING_REFUSED);
  else if (p.type === "recurring") problems.add(path(prefix, "type"), RECURRING_REFUSED);
  if (p.taxBehavior !== undefined && !TAX_BEHAVIORS.includes(p.taxBehavior)) {
    problems.add(path(prefix, "taxBehavior"), `must be one of ${TAX_BEHAVIORS.join(", ")}`);
  }
  return currency;
}

/** `current` with `changes` applied: a string sets a key, null removes it; `null` as a whole clears all. */
function mergeMetadata(current: Metadata, changes: MetadataChanges | null): Metadata {
  if (changes === null) return {};
  const merged = new Map(Object.entries(current));
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) merged.delete(key);
    else merged.set(key, value);
  }
  return Object.fromEntries(merged);
}

const ownerOf = (owner: string | Pick<Scope, "accountId">) => (typeof owner === "string" ? owner : owner.accountId);

export function createCatalogService(deps: { catalog: CatalogRepository; transaction: Transactor; clock: Clock }) {
  const { catalog, transaction, clock } = deps;

  function checkPage(page: CatalogPage): {
    limit: number;
    startingAfter?: string | null;
    endingBefore?: string | null;
  } {
    const limit = page.limit ?? DEFAULT_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
      throw invalidPagination(`'limit' must be an integer between 1 and ${MAX_PAGE_LIMIT}`);
    }
    if (page.startingAfter && page.endingBefore) {
      throw invalidPagination("Pass at most one of 'starting_after' and 'ending_before'");
    }
    return { limit, startingAfter: page.startingAfter, endingBefore: page.endingBefore };
  }

  const cursorProblem = (page: CatalogPage, resource: string) =>
    invalidPagination(
      `'${page.startingAfter ? "starting_after" : "ending_before"}' is not the id of a ${resource} in this list`,
    );

  const productRecord = (accountId: string, fields: ProductFields, now: Date) => ({
    id: newId.product(),
    accountId,
    name: fields.name.trim(),
    description: fields.description ?? null,
    images: fields.images ?? [],
    active: fields.active ?? true,
    metadata: fields.metadata ?? {},
    shippable: fields.shippable ?? null,
    statementDescriptor: fields.statementDescriptor ?? null,
    unitLabel: fields.unitLabel ?? null,
    taxCode: fields.taxCode ?? null,
    url: fields.url ?? null,
    marketingFeatures: fields.marketingFeatures ?? [],
    packageDimensions: fields.packageDimensions ?? null,
    createdAt: now,
    updatedAt: now,
  });

  /** Inserts a price; a lookup key another price of the account holds is refused. */
  async function insertPrice(price: Price, tx: Db, field: string): Promise<Price> {
    if (price.lookupKey !== null) {
      const holder = await catalog.findPriceByLookupKey(price.accountId, price.lookupKey, tx);
      if (holder) throw invalidParameter(field, `is already used by price '${holder.id}'`);
    }
    return catalog.createPrice(price, tx);
  }

  /**
   * Runs a write in a transaction; a lookup key taken by a concurrent write is refused like a taken
   * one. (The only unique index these writes can meet besides the random primary keys.)
   */
  async function write<T>(work: (tx: Db) => Promise<T>): Promise<Written<T>> {
    try {
      return await writeInTransaction(transaction, work);
    } catch (error) {
      if (isUniqueViolation(error)) throw invalidParameter("lookupKey", "is already used by another price");
      throw error;
    }
  }

  const service = {
    /** Creates a product, and its default price with it when `defaultPriceData` is given (one transaction). */
    async createProduct(
      owner: string | Pick<Scope, "accountId">,
      input: NewProduct,
      within?: WithinWrite<Product>,
    ): Promise<Written<Product>> {
      const accountId = ownerOf(owner);
      const problems = new Problems();
      checkName(problems, "name", input.name);
      checkProductFields(problems, "", { ...input, name: undefined });
      checkMetadata(problems, "metadata", input.metadata);
      const currency = input.defaultPriceData
        ? checkInlinePrice(problems, "defaultPriceData", input.defaultPriceData)
        : null;
      problems.throwIfAny();
      return write(async (tx) => {
        const now = clock();
        let product = await catalog.createProduct(productRecord(accountId, input, now), tx);
        if (input.defaultPriceData && currency) {
          const price = await catalog.createPrice(
            {
              id: newId.price(),
              accountId,
              productId: product.id,
              currency,
              unitAmount: input.defaultPriceData.unitAmount,
              type: "one_time",
              taxBehavior: input.defaultPriceData.taxBehavior ?? "unspecified",
              active: true,
              nickname: null,
              lookupKey: null,
              metadata: {},
              createdAt: now,
            },
            tx,
          );
          product = await catalog.updateProduct(product.id, { defaultPriceId: price.id }, tx);
        }
        await within?.inTransaction(tx, product);
        return product;
      });
    },

    async getProduct(owner: string | Pick<Scope, "accountId">, id: string): Promise<Product> {
      const product = await catalog.findProduct(ownerOf(owner), id);
      if (!product) throw notFound("product", id);
      return product;
    },

    /** One page of the account's products, newest first. */
    async listProducts(
      owner: string | Pick<Scope, "accountId">,
      filter: ProductFilter = {},
      page: CatalogPage = {},
    ): Promise<{ products: Product[]; hasMore: boolean }> {
      const result = await catalog.pageProducts(ownerOf(owner), filter, checkPage(page));
      if (!result) throw cursorProblem(page, "product");
      return result;
    },

    async updateProduct(
      owner: string | Pick<Scope, "accountId">,
      id: string,
      changes: ProductChanges,
      within?: WithinWrite<Product>,
    ): Promise<Written<Product>> {
      const accountId = ownerOf(owner);
      const problems = new Problems();
      checkProductFields(problems, "", { ...changes, metadata: undefined });
      checkMetadata(problems, "metadata", changes.metadata);
      problems.throwIfAny();
      return write(async (tx) => {
        const current = await catalog.lockProduct(accountId, id, tx);
        if (!current) throw notFound("product", id);
        if (changes.defaultPriceId) {
          const price = await catalog.findPrice(accountId, changes.defaultPriceId, tx);
          if (price?.productId !== id) {
            throw invalidParameter("defaultPrice", `must be the id of one of this product's prices`);
          }
        }
        const update: ProductUpdate = { updatedAt: clock() };
        if (changes.name !== undefined) update.name = changes.name.trim();
        if (changes.description !== undefined) update.description = changes.description;
        if (changes.images !== undefined) update.images = changes.images;
        if (changes.active !== undefined) update.active = changes.active;
        if (changes.defaultPriceId !== undefined) update.defaultPriceId = changes.defaultPriceId;
        if (changes.shippable !== undefined) update.shippable = changes.shippable;
        if (changes.statementDescriptor !== undefined) update.statementDescriptor = changes.statementDescriptor;
        if (changes.unitLabel !== undefined) update.unitLabel = changes.unitLabel;
        if (changes.taxCode !== undefined) update.taxCode = changes.taxCode;
        if (changes.url !== undefined) update.url = changes.url;
        if (changes.marketingFeatures !== undefined) update.marketingFeatures = changes.marketingFeatures;
        if (changes.packageDimensions !== undefined) update.packageDimensions = changes.packageDimensions;
        if (changes.metadata !== undefined) {
          update.metadata = mergeMetadata(current.metadata, changes.metadata);
          checkMetadata(problems, "metadata", update.metadata);
          problems.throwIfAny();
        }
        const product = await catalog.updateProduct(id, update, tx);
        await within?.inTransaction(tx, product);
        return product;
      });
    },

    /** Creates a price of an existing product (`productId`) or of a new one made with it (`productData`). */
    async createPrice(
      owner: string | Pick<Scope, "accountId">,
      input: NewPrice,
      within?: WithinWrite<Price>,
    ): Promise<Written<Price>> {
      const accountId = ownerOf(owner);
      const problems = new Problems();
      if ((input.productId === undefined) === (input.productData === undefined)) {
        problems.add("product", "exactly one of a product id and product data must be given");
      }
      if (input.productData) {
        checkName(problems, "productData.name", input.productData.name);
        checkProductFields(problems, "productData", { ...input.productData, name: undefined });
        checkMetadata(problems, "productData.metadata", input.productData.metadata);
      }
      const currency = checkInlinePrice(problems, "", input);
      checkText(problems, "nickname", input.nickname, LIMITS.nicknameLength);
      checkText(problems, "lookupKey", input.lookupKey, LIMITS.lookupKeyLength);
      checkMetadata(problems, "metadata", input.metadata);
      problems.throwIfAny();
      return write(async (tx) => {
        const now = clock();
        let productId: string;
        if (input.productData) {
          productId = (await catalog.createProduct(productRecord(accountId, input.productData, now), tx)).id;
        } else {
          productId = input.productId ?? "";
          if (!(await catalog.findProduct(accountId, productId, tx))) {
            throw invalidParameter(
              "product",
              `must be the id of one of this account's products ('${productId}' is not)`,
            );
          }
        }
        const price = await insertPrice(
          {
            id: newId.price(),
            accountId,
            productId,
            currency,
            unitAmount: input.unitAmount,
            type: "one_time",
            taxBehavior: input.taxBehavior ?? "unspecified",
            active: input.active ?? true,
            nickname: input.nickname ?? null,
            lookupKey: input.lookupKey ?? null,
            metadata: input.metadata ?? {},
            createdAt: now,
          },
          tx,
          "lookupKey",
        );
        await within?.inTransaction(tx, price);
        return price;
      });
    },

    async getPrice(owner: string | Pick<Scope, "accountId">, id: string): Promise<Price> {
      const price = await catalog.findPrice(ownerOf(owner), id);
      if (!price) throw notFound("price", id);
      return price;
    },

    /** One page of the account's prices, newest first, filtered by activity, product and type. */
    async listPrices(
      owner: string | Pick<Scope, "accountId">,
      filter: PriceFilter = {},
      page: CatalogPage = {},
    ): Promise<{ prices: Price[]; hasMore: boolean }> {
      const result = await catalog.pagePrices(ownerOf(owner), filter, checkPage(page));
      if (!result) throw cursorProblem(page, "price");
      return result;
    },

    async updatePrice(
      owner: string | Pick<Scope, "accountId">,
      id: string,
      changes: PriceChanges,
      within?: WithinWrite<Price>,
    ): Promise<Written<Price>> {
      const accountId = ownerOf(owner);
      const problems = new Problems();
      checkText(problems, "nickname", changes.nickname, LIMITS.nicknameLength);
      checkText(problems, "lookupKey", changes.lookupKey, LIMITS.lookupKeyLength);
      checkMetadata(problems, "metadata", changes.metadata);
      if (changes.taxBehavior !== undefined && !TAX_BEHAVIORS.includes(changes.taxBehavior)) {
        problems.add("taxBehavior", `must be one of ${TAX_BEHAVIORS.join(", ")}`);
      }
      problems.throwIfAny();
      return write(async (tx) => {
        const current = await catalog.lockPrice(accountId, id, tx);
        if (!current) throw notFound("price", id);
        if (
          changes.taxBehavior !== undefined &&
          current.taxBehavior !== "unspecified" &&
          changes.taxBehavior !== current.taxBehavior
        ) {
          throw invalidParameter("taxBehavior", `cannot be changed once it is ${current.taxBehavior}`);
        }
        if (changes.lookupKey && changes.lookupKey !== current.lookupKey) {
          const holder = await catalog.findPriceByLookupKey(accountId, changes.lookupKey, tx);
          if (holder) throw invalidParameter("lookupKey", `is already used by price '${holder.id}'`);
        }
        const metadata = changes.metadata === undefined ? undefined : mergeMetadata(current.metadata, changes.metadata);
        checkMetadata(problems, "metadata", metadata);
        problems.throwIfAny();
        const price = await catalog.updatePrice(
          id,
          {
            active: changes.active,
            nickname: changes.nickname,
            taxBehavior: changes.taxBehavior,
            lookupKey: changes.lookupKey,
            metadata,
          },
          tx,
        );
        await within?.inTransaction(tx, price);
        return price;
      });
    },

    /**
     * Line items made from prices, for a checkout session (one query for all of them). A price
     * that is unknown (or another account's), inactive, of an inactive product, or recurring is
     * refused as an invalid parameter at `<at>.price`; a quantity that is not positive at
     * `<at>.quantity`. Every problem is reported at once.
     */
    async lineItemsFor(
      owner: string | Pick<Scope, "accountId">,
      requests: LineItemRequest[],
    ): Promise<CatalogLineItem[]> {
      const accountId = ownerOf(owner);
      const ids = [...new Set(requests.map((r) => r.priceId))];
      const found = new Map(
        (ids.length ? await catalog.pricesWithProducts(accountId, ids) : []).map((row) => [row.price.id, row]),
      );
      const problems = new Problems();
      const items: CatalogLineItem[] = [];
      requests.forEach((request, i) => {
        const at = request.at ?? `lineItems.${i}`;
        const quantity = new Decimal(request.quantity);
        if (!quantity.isFinite() || quantity.lte(0)) problems.add(path(at, "quantity"), "must be greater than 0");
        const row = found.get(request.priceId);
        const problem = !row
          ? `must be the id of one of this account's prices ('${request.priceId}' is not)`
          : !row.price.active
            ? `names an inactive price ('${request.priceId}')`
            : !row.product.active
              ? `names a price of an inactive product ('${request.priceId}')`
              : row.price.type !== "one_time"
                ? `names a recurring price ('${request.priceId}'); only one-time prices can be bought`
                : null;
        if (problem || !row) {
          problems.add(path(at, "price"), problem ?? "");
          return;
        }
        items.push({
          description: row.product.name,
          quantity,
          unitLabel: row.product.unitLabel,
          unitAmount: row.price.unitAmount,
          amount: roundedUpProduct(quantity, row.price.unitAmount),
          currency: row.price.currency,
          taxBehavior: row.price.taxBehavior,
          productRef: row.product.id,
          priceRef: row.price.id,
        });
      });
      problems.throwIfAny();
      return items;
    },

    /**
     * The account's prices (with their products) and products named by these ids, one query each;
     * ids that name nothing of the account's are absent. For an adapter that words its own errors
     * (an unknown price, a `price_data.product` that names a product by id).
     */
    async lookup(
      owner: string | Pick<Scope, "accountId">,
      ids: { priceIds?: string[]; productIds?: string[] },
    ): Promise<{ prices: Map<string, { price: Price; product: Product }>; products: Map<string, Product> }> {
      // Most checkouts name neither (inline price_data with a product name): nothing to look up.
      if (!ids.priceIds?.length && !ids.productIds?.length) return { prices: new Map(), products: new Map() };
      const accountId = ownerOf(owner);
      const priceIds = [...new Set(ids.priceIds ?? [])];
      const productIds = [...new Set(ids.productIds ?? [])];
      const [prices, products] = await Promise.all([
        priceIds.length ? catalog.pricesWithProducts(accountId, priceIds) : [],
        productIds.length ? catalog.findProducts(accountId, productIds) : [],
      ]);
      return {
        prices: new Map(prices.map((row) => [row.price.id, row])),
        products: new Map(products.map((product) => [product.id, product])),
      };
    },

    /** One line item made from a price (see lineItemsFor); errors name `price` and `quantity`, or `<at>.…`. */
    async lineItemFor(
      owner: string | Pick<Scope, "accountId">,
      priceId: string,
      quantity: Decimal | number,
      at = "",
    ): Promise<CatalogLineItem> {
      const [item] = await service.lineItemsFor(owner, [{ priceId, quantity, at }]);
      if (!item) throw invalidParameter(path(at, "price"), `must be the id of one of this account's prices`);
      return item;
    },
  };
  return service;
}

export type CatalogService = ReturnType<typeof createCatalogService>;
