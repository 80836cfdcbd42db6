import { type Db, Prisma } from "../../db/database.js";
import { Decimal } from "../money/money.js";
import type {
  MarketingFeature,
  Metadata,
  PackageDimensions,
  Price,
  PriceFilter,
  PriceType,
  Product,
  ProductFilter,
  TaxBehavior,
} from "./catalog.types.js";

type ProductRow = NonNullable<Awaited<ReturnType<Db["product"]["findUnique"]>>>;
type PriceRow = NonNullable<Awaited<ReturnType<Db["price"]["findUnique"]>>>;

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  accountId: row.accountId,
  name: row.name,
  description: row.description,
  images: row.images,
  active: row.active,
  metadata: row.metadata as Metadata,
  defaultPriceId: row.defaultPriceId,
  shippable: row.shippable,
  statementDescriptor: row.statementDescriptor,
  unitLabel: row.unitLabel,
  taxCode: row.taxCode,
  url: row.url,
  marketingFeatures: row.marketingFeatures as unknown as MarketingFeature[],
  packageDimensions: row.packageDimensions as unknown as PackageDimensions | null,
  createdAt: row.createdAt,
  updatedAt: row.updatedAt,
});

const toPrice = (row: PriceRow): Price => ({
  id: row.id,
  accountId: row.accountId,
  productId: row.productId,
  currency: row.currency,
  unitAmount: new Decimal(row.unitAmount.toString()),
  type: row.type as PriceType,
  taxBehavior: row.taxBehavior as TaxBehavior,
  active: row.active,
  nickname: row.nickname,
  lookupKey: row.lookupKey,
  metadata: row.metadata as Metadata,
  createdAt: row.createdAt,
});

export type ProductRecord = Omit<Product, "defaultPriceId"> & { defaultPriceId?: string | null };
export type ProductUpdate = Partial<Omit<Product, "id" | "accountId" | "createdAt">>;
export type PriceUpdate = Partial<Pick<Price, "active" | "nickname" | "taxBehavior" | "lookupKey" | "metadata">>;

interface PageQuery {
  limit: number;
  startingAfter?: string | null;
  endingBefore?: string | null;
}

/**
 * The where-clause and order for one page newest first (ties by id) after or before a cursor
 * row; null when the cursor is not a row that `where` allows.
 */
async function pageOf<R extends { id: string; createdAt: Date }>(
  find: (args: {
    where: Record<string, unknown>;
    orderBy: Array<Record<string, "asc" | "desc">>;
    take?: number;
  }) => Promise<R[]>,
  where: Record<string, unknown>,
  page: PageQuery,
): Promise<{ rows: R[]; hasMore: boolean } | null> {
  const cursorId = page.startingAfter ?? page.endingBefore ?? null;
  let range: Record<string, unknown> = {};
  const before = page.endingBefore != null;
  if (cursorId) {
    const [cursor] = await find({ where: { ...where, id: cursorId }, orderBy: [], take: 1 });
    if (!cursor) return null;
    const op = before ? "gt" : "lt";
    range = {
      OR: [{ createdAt: { [op]: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { [op]: cursor.id } }],
    };
  }
  const direction = before ? "asc" : "desc";
  const rows = await find({
    where: { ...where, ...range },
    orderBy: [{ createdAt: direction }, { id: direction }],
    take: page.limit + 1,
  });
  const hasMore = rows.length > page.limit;
  const kept = rows.slice(0, page.limit);
  return { rows: before ? kept.reverse() : kept, hasMore };
}

/** Product fields as Prisma writes them: a JSON column's null is the database's NULL. */
const productData = <T extends Partial<Product>>({ packageDimensions, marketingFeatures, ...rest }: T) => ({
  ...rest,
  ...(marketingFeatures === undefined
    ? {}
    : { marketingFeatures: marketingFeatures as unknown as Prisma.InputJsonValue }),
  ...(packageDimensions === undefined
    ? {}
    : {
        packageDimensions:
          packageDimensions === null ? Prisma.DbNull : (packageDimensions as unknown as Prisma.InputJsonValue),
      }),
});

/** Every catalogue query. Each method takes an optional transaction client. */
export function createCatalogRepository(db: Db) {
  return {
    async createProduct(product: ProductRecord, tx: Db = db): Promise<Product> {
      return toProduct(await tx.product.create({ data: productData(product) }));
    },

    async findProduct(accountId: string, id: string, tx: Db = db): Promise<Product | null> {
      const row = await tx.product.findFirst({ where: { id, accountId } });
      return row ? toProduct(row) : null;
    },

    /** Takes the product's row lock for the rest of `tx` (a read-modify-write such as a metadata merge). */
    async lockProduct(accountId: string, id: string, tx: Db): Promise<Product | null> {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM products WHERE id = ${id} AND account_id = ${accountId} FOR UPDATE`;
      return locked.length ? this.findProduct(accountId, id, tx) : null;
    },

    async updateProduct(id: string, changes: ProductUpdate, tx: Db = db): Promise<Product> {
      return toProduct(await tx.product.update({ where: { id }, data: productData(changes) }));
    },

    async pageProducts(
      accountId: string,
      filter: ProductFilter,
      page: PageQuery,
      tx: Db = db,
    ): Promise<{ products: Product[]; hasMore: boolean } | null> {
      const where = { accountId, ...(filter.active === undefined ? {} : { active: filter.active }) };
      const result = await pageOf((args) => tx.product.findMany(args), where, page);
      return result && { products: result.rows.map(toProduct), hasMore: result.hasMore };
    },

    async createPrice(price: Price, tx: Db = db): Promise<Price> {
      return toPrice(await tx.price.create({ data: { ...price, unitAmount: price.unitAmount.toFixed() } }));
    },

    async findPrice(accountId: string, id: string, tx: Db = db): Promise<Price | null> {
      const row = await tx.price.findFirst({ where: { id, accountId } });
      return row ? toPrice(row) : null;
    },

    async lockPrice(accountId: string, id: string, tx: Db): Promise<Price | null> {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM prices WHERE id = ${id} AND account_id = ${accountId} FOR UPDATE`;
      return locked.length ? this.findPrice(accountId, id, tx) : null;
    },

    /** The account's price with this lookup key, if any. */
    async findPriceByLookupKey(accountId: string, lookupKey: string, tx: Db = db): Promise<Price | null> {
      const row = await tx.price.findFirst({ where: { accountId, lookupKey } });
      return row ? toPrice(row) : null;
    },

    async updatePrice(id: string, changes: PriceUpdate, tx: Db = db): Promise<Price> {
      return toPrice(await tx.price.update({ where: { id }, data: changes }));
    },

    async pagePrices(
      accountId: string,
      filter: PriceFilter,
      page: PageQuery,
      tx: Db = db,
    ): Promise<{ prices: Price[]; hasMore: boolean } | null> {
      const where = {
        accountId,
        ...(filter.active === undefined ? {} : { active: filter.active }),
        ...(filter.productId === undefined ? {} : { productId: filter.productId }),
        ...(filter.type === undefined ? {} : { type: filter.type }),
      };
      const result = await pageOf((args) => tx.price.findMany(args), where, page);
      return result && { prices: result.rows.map(toPrice), hasMore: result.hasMore };
    },

    /** The account's products with these ids, in one query. */
    async findProducts(accountId: string, ids: string[], tx: Db = db): Promise<Product[]> {
      return (await tx.product.findMany({ where: { accountId, id: { in: ids } } })).map(toProduct);
    },

    /** The account's prices with these ids and their products, in one query. */
    async pricesWithProducts(
      accountId: string,
      ids: string[],
      tx: Db = db,
    ): Promise<Array<{ price: Price; product: Product }>> {
      const rows = await tx.price.findMany({ where: { accountId, id: { in: ids } }, include: { product: true } });
      return rows.map(({ product, ...price }) => ({ price: toPrice(price), product: toProduct(product) }));
    },
  };
}

export type CatalogRepository = ReturnType<typeof createCatalogRepository>;
