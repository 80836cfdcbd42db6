import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppError, isAppError } from "../../../src/core/errors.js";
import { Decimal } from "../../../src/core/money/money.js";
import { createKassaServices } from "../../../src/composition.js";
import type { Services } from "../../../src/core/services.js";
import type { Database } from "../../../src/db/database.js";
import { written } from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";

let db: Database;
let drop: () => Promise<void>;
let services: Services;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  // Each reading of the clock is a second later: creation order is list order, never a tie.
  let now = Date.parse("2026-11-30T12:00:00Z");
  services = createKassaServices(db, () => new Date((now += 1000)));
});
afterAll(() => drop());

let counter = 0;
const newAccount = async () => (await services.accounts.create({ name: `Shop ${++counter}` })).id;

/** The AppError `promise` rejects with (fails the test when it resolves or throws something else). */
async function appError(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

const count = async (table: "products" | "prices", accountId: string) =>
  (
    await db.prisma.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM ${table} WHERE account_id = $1`,
      accountId,
    )
  )[0]?.n;

const eur = (unitAmount: string) => ({ currency: "eur", unitAmount: new Decimal(unitAmount) });

describe(`catalogue service (${storeKind})`, () => {
  it("creates a product with its default price in one write, and reads both back", async () => {
    const account = await newAccount();
    const product = written(
      await services.catalog.createProduct(account, {
        name: "T-shirt",
        images: ["https://shop.example/t.png"],
        metadata: { sku: "T1" },
        unitLabel: "shirt",
        defaultPriceData: eur("2000"),
      }),
    );
    expect(product.id).toMatch(/^prod_/);
    expect(product.defaultPriceId).toMatch(/^price_/);
    const price = await services.catalog.getPrice(account, product.defaultPriceId ?? "");
    expect(price).toMatchObject({
      productId: product.id,
      currency: "EUR",
      type: "one_time",
      taxBehavior: "unspecified",
      active: true,
    });
    expect(price.unitAmount.toFixed()).toBe("2000");
    expect(await services.catalog.getProduct(account, product.id)).toEqual(product);
  });

  it("refuses bad input with every field named, and writes nothing", async () => {
    const account = await newAccount();
    const error = await appError(
      services.catalog.createProduct(account, {
        name: " ",
        images: Array.from({ length: 9 }, (_, i) => `https://shop.example/${i}.png`),
        metadata: { ["k".repeat(41)]: "v" },
        statementDescriptor: "<bad>",
        defaultPriceData: { currency: "eur", unitAmount: new Decimal("12.5") },
      }),
    );
    expect(error.code).toBe("invalid_parameters");
    expect(Object.keys(error.details.fields ?? {}).sort()).toEqual([
      "defaultPriceData.unitAmount",
      "images",
      "metadata",
      "name",
      "statementDescriptor",
    ]);
    expect(await count("products", account)).toBe(0);
    expect(await count("prices", account)).toBe(0);
  });

  it("checks currencies against ISO 4217 and stores them upper case", async () => {
    const account = await newAccount();
    const product = written(await services.catalog.createProduct(account, { name: "Mug" }));
    for (const currency of ["EURO", "xau", "zzz", "e1r"]) {
      const error = await appError(
        services.catalog.createPrice(account, { productId: product.id, currency, unitAmount: new Decimal(5) }),
      );
      expect(error.details.fields).toHaveProperty("currency");
    }
    const yen = written(
      await services.catalog.createPrice(account, {
        productId: product.id,
        currency: "jpy",
        unitAmount: new Decimal(500),
      }),
    );
    expect(yen.currency).toBe("JPY");
    const negative = await appError(services.catalog.createPrice(account, { productId: product.id, ...eur("-1") }));
    expect(negative.details.fields).toEqual({ unitAmount: ["must not be negative"] });
  });

  it("refuses recurring prices clearly", async () => {
    const account = await newAccount();
    const product = written(await services.catalog.createProduct(account, { name: "Box" }));
    const byType = await appError(
      services.catalog.createPrice(account, { productId: product.id, ...eur("100"), type: "recurring" }),
    );
    expect(byType.details.fields?.type?.[0]).toMatch(/recurring prices are not supported/);
    const byRecurring = await appError(
      services.catalog.createPrice(account, { productId: product.id, ...eur("100"), recurring: { interval: "month" } }),
    );
    expect(byRecurring.details.fields?.recurring?.[0]).toMatch(/recurring prices are not supported/);
    const byDefault = await appError(
      services.catalog.createProduct(account, {
        name: "Sub",
        defaultPriceData: { ...eur("100"), recurring: { interval: "month" } },
      }),
    );
    expect(byDefault.details.fields).toHaveProperty("defaultPriceData.recurring");
  });

  it("creates a price with a new product by name (what the operators' command does)", async () => {
    const account = await newAccount();
    const price = written(
      await services.catalog.createPrice(account, { productData: { name: "T-shirt" }, ...eur("2000") }),
    );
    const product = await services.catalog.getProduct(account, price.productId);
    expect(product.name).toBe("T-shirt");
    const neither = await appError(services.catalog.createPrice(account, eur("1")));
    expect(neither.details.fields).toHaveProperty("product");
  });

  it("keeps each account's catalogue to itself", async () => {
    const [mine, theirs] = [await newAccount(), await newAccount()];
    const price = written(await services.catalog.createPrice(theirs, { productData: { name: "Secret" }, ...eur("1") }));
    expect((await appError(services.catalog.getPrice(mine, price.id))).code).toBe("not_found");
    expect((await appError(services.catalog.getProduct(mine, price.productId))).code).toBe("not_found");
    expect((await appError(services.catalog.updatePrice(mine, price.id, { active: false }))).code).toBe("not_found");
    const foreignProduct = await appError(
      services.catalog.createPrice(mine, { productId: price.productId, ...eur("1") }),
    );
    expect(foreignProduct.details.fields).toHaveProperty("product");
    expect((await services.catalog.listPrices(mine)).prices).toEqual([]);
    expect((await services.catalog.listProducts(mine)).products).toEqual([]);
    const resolved = await appError(services.catalog.lineItemFor({ accountId: mine }, price.id, 1));
    expect(resolved.details.fields).toHaveProperty("price");
  });

  it("lists newest first with filters and cursors", async () => {
    const account = await newAccount();
    const shirt = written(await services.catalog.createProduct(account, { name: "Shirt" }));
    const mug = written(await services.catalog.createProduct(account, { name: "Mug", active: false }));
    const created = [];
    for (const amount of ["100", "200", "300"]) {
      created.push(written(await services.catalog.createPrice(account, { productId: shirt.id, ...eur(amount) })));
    }
    const mugPrice = written(await services.catalog.createPrice(account, { productId: mug.id, ...eur("50") }));
    written(await services.catalog.updatePrice(account, created[0]?.id ?? "", { active: false }));

    const all = await services.catalog.listPrices(account);
    expect(all.prices.map((p) => p.id)).toEqual([mugPrice.id, ...created.map((p) => p.id).reverse()]);
    const shirts = await services.catalog.listPrices(account, { productId: shirt.id, active: true });
    expect(shirts.prices.map((p) => p.unitAmount.toFixed())).toEqual(["300", "200"]);
    expect((await services.catalog.listPrices(account, { type: "one_time" })).prices).toHaveLength(4);

    const first = await services.catalog.listPrices(account, {}, { limit: 2 });
    expect(first.hasMore).toBe(true);
    const second = await services.catalog.listPrices(account, {}, { limit: 2, startingAfter: first.prices[1]?.id });
    expect(second.hasMore).toBe(false);
    expect([...first.prices, ...second.prices].map((p) => p.id)).toEqual(all.prices.map((p) => p.id));
    const back = await services.catalog.listPrices(account, {}, { limit: 2, endingBefore: second.prices[0]?.id });
    expect(back.prices.map((p) => p.id)).toEqual(first.prices.map((p) => p.id));

    expect((await services.catalog.listProducts(account, { active: true })).products.map((p) => p.name)).toEqual([
      "Shirt",
    ]);
    expect((await appError(services.catalog.listPrices(account, {}, { limit: 0 }))).code).toBe("invalid_pagination");
    expect((await appError(services.catalog.listPrices(account, {}, { startingAfter: "price_nope" }))).code).toBe(
      "invalid_pagination",
    );
  });

  it("updates products: fields, metadata merged, default price only one of its own", async () => {
    const account = await newAccount();
    const product = written(
      await services.catalog.createProduct(account, { name: "Shirt", metadata: { a: "1", b: "2" } }),
    );
    const own = written(await services.catalog.createPrice(account, { productId: product.id, ...eur("100") }));
    const other = written(await services.catalog.createPrice(account, { productData: { name: "Other" }, ...eur("1") }));
    const updated = written(
      await services.catalog.updateProduct(account, product.id, {
        name: "Shirt v2",
        description: "Cotton",
        metadata: { b: null, c: "3" },
        defaultPriceId: own.id,
      }),
    );
    expect(updated).toMatchObject({
      name: "Shirt v2",
      description: "Cotton",
      metadata: { a: "1", c: "3" },
      defaultPriceId: own.id,
    });
    const foreign = await appError(services.catalog.updateProduct(account, product.id, { defaultPriceId: other.id }));
    expect(foreign.details.fields).toHaveProperty("defaultPrice");
    const tooMany = Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, "v"]));
    const overLimit = await appError(services.catalog.updateProduct(account, product.id, { metadata: tooMany }));
    expect(overLimit.details.fields).toHaveProperty("metadata");
    expect((await services.catalog.getProduct(account, product.id)).metadata).toEqual({ a: "1", c: "3" });
    const proto = await appError(
      services.catalog.updateProduct(account, product.id, { metadata: JSON.parse('{"__proto__": "p"}') }),
    );
    expect(proto.details.fields).toEqual({ metadata: ["must not have the key '__proto__'"] });
    expect(written(await services.catalog.updateProduct(account, product.id, { metadata: null })).metadata).toEqual({});
  });

  it("updates prices: tax behaviour set once, lookup keys unique per account", async () => {
    const account = await newAccount();
    const a = written(
      await services.catalog.createPrice(account, { productData: { name: "A" }, ...eur("1"), lookupKey: "std" }),
    );
    const b = written(await services.catalog.createPrice(account, { productId: a.productId, ...eur("2") }));
    const taken = await appError(services.catalog.updatePrice(account, b.id, { lookupKey: "std" }));
    expect(taken.details.fields?.lookupKey?.[0]).toContain(a.id);
    const takenOnCreate = await appError(
      services.catalog.createPrice(account, { productId: a.productId, ...eur("3"), lookupKey: "std" }),
    );
    expect(takenOnCreate.details.fields).toHaveProperty("lookupKey");
    // Another account may use the same key.
    written(
      await services.catalog.createPrice(await newAccount(), {
        productData: { name: "A" },
        ...eur("1"),
        lookupKey: "std",
      }),
    );

    const set = written(
      await services.catalog.updatePrice(account, b.id, {
        taxBehavior: "inclusive",
        nickname: "Two",
        metadata: { x: "1" },
      }),
    );
    expect(set).toMatchObject({ taxBehavior: "inclusive", nickname: "Two", metadata: { x: "1" } });
    const change = await appError(services.catalog.updatePrice(account, b.id, { taxBehavior: "exclusive" }));
    expect(change.details.fields).toHaveProperty("taxBehavior");
    expect(written(await services.catalog.updatePrice(account, b.id, { taxBehavior: "inclusive" })).taxBehavior).toBe(
      "inclusive",
    );
  });

  it("turns prices into line items, refusing unknown, inactive and bad quantities at their item's path", async () => {
    const account = await newAccount();
    const shirt = written(
      await services.catalog.createProduct(account, {
        name: "T-shirt",
        unitLabel: "shirt",
        defaultPriceData: eur("2000"),
      }),
    );
    const mug = written(await services.catalog.createPrice(account, { productData: { name: "Mug" }, ...eur("1250") }));
    const items = await services.catalog.lineItemsFor(account, [
      { priceId: shirt.defaultPriceId ?? "", quantity: 2 },
      { priceId: mug.id, quantity: new Decimal(1) },
    ]);
    expect(
      items.map((i) => [i.description, i.quantity.toFixed(), i.unitLabel, i.unitAmount.toFixed(), i.amount.toFixed()]),
    ).toEqual([
      ["T-shirt", "2", "shirt", "2000", "4000"],
      ["Mug", "1", null, "1250", "1250"],
    ]);
    expect(items[0]).toMatchObject({
      currency: "EUR",
      taxBehavior: "unspecified",
      productRef: shirt.id,
      priceRef: shirt.defaultPriceId,
    });

    // The same, looked up without judging (an adapter words its own errors).
    const found = await services.catalog.lookup(account, {
      priceIds: [mug.id, "price_unknown", mug.id],
      productIds: [shirt.id, mug.productId, "prod_unknown"],
    });
    expect([...found.prices.keys()]).toEqual([mug.id]);
    expect(found.prices.get(mug.id)?.product.name).toBe("Mug");
    expect([...found.products.keys()].sort()).toEqual([shirt.id, mug.productId].sort());
    const elsewhere = await services.catalog.lookup(await newAccount(), { priceIds: [mug.id], productIds: [shirt.id] });
    expect([elsewhere.prices.size, elsewhere.products.size]).toEqual([0, 0]);

    const one = await services.catalog.lineItemFor({ accountId: account }, mug.id, 3);
    expect(one.amount.toFixed()).toBe("3750");

    written(await services.catalog.updatePrice(account, mug.id, { active: false }));
    const inactiveProduct = written(
      await services.catalog.createPrice(account, { productData: { name: "Old", active: false }, ...eur("1") }),
    );
    const error = await appError(
      services.catalog.lineItemsFor(account, [
        { priceId: shirt.defaultPriceId ?? "", quantity: 0 },
        { priceId: mug.id, quantity: 1 },
        { priceId: "price_unknown", quantity: 1, at: "lineItems.5" },
        { priceId: inactiveProduct.id, quantity: 1 },
      ]),
    );
    expect(error.code).toBe("invalid_parameters");
    expect(error.details.fields).toEqual({
      "lineItems.0.quantity": ["must be greater than 0"],
      "lineItems.1.price": [`names an inactive price ('${mug.id}')`],
      "lineItems.5.price": ["must be the id of one of this account's prices ('price_unknown' is not)"],
      "lineItems.3.price": [`names a price of an inactive product ('${inactiveProduct.id}')`],
    });
    const single = await appError(services.catalog.lineItemFor(account, "price_nope", 1));
    expect(Object.keys(single.details.fields ?? {})).toEqual(["price"]);
  });
});

describe(`catalogue service under concurrency (${storeKind})`, () => {
  it("two creates racing for one lookup key: one price, the other a clear invalid parameter", async () => {
    const account = await newAccount();
    const product = written(await services.catalog.createProduct(account, { name: "Race" }));
    const create = () =>
      services.catalog.createPrice(account, { productId: product.id, ...eur("100"), lookupKey: "contested" }).then(
        (w) => ({ ok: written(w).id }),
        (e: unknown) => ({ error: e }),
      );
    const outcomes = await Promise.all([create(), create(), create()]);
    const errors = outcomes.flatMap((o) => ("error" in o ? [o.error] : []));
    expect(outcomes.filter((o) => "ok" in o)).toHaveLength(1);
    expect(errors).toHaveLength(2);
    for (const error of errors) {
      expect(isAppError(error) && error.code).toBe("invalid_parameters");
      expect(isAppError(error) && Object.keys(error.details.fields ?? {})).toEqual(["lookupKey"]);
    }
  });
});

describe(`catalogue prices in a checkout session (${storeKind})`, () => {
  it("line items made from prices make a session whose items keep the price and product ids", async () => {
    const account = await newAccount();
    const shirt = written(
      await services.catalog.createProduct(account, { name: "T-shirt", defaultPriceData: eur("2000") }),
    );
    const mug = written(await services.catalog.createPrice(account, { productData: { name: "Mug" }, ...eur("1250") }));
    const scope = { accountId: account, subaccountId: null };
    const items = await services.catalog.lineItemsFor(scope, [
      { priceId: shirt.defaultPriceId ?? "", quantity: 2 },
      { priceId: mug.id, quantity: 1 },
    ]);
    const session = written(
      await services.checkoutSessions.create(scope, {
        api: "test-api",
        currency: items[0]?.currency ?? "",
        lineItems: items.map(({ currency: _c, taxBehavior: _t, ...item }) => item),
        successUrl: "https://shop.example/ok",
      }),
    );
    expect(session.amountTotal.toFixed()).toBe("5250");
    expect(session.lineItems.map((i) => [i.description, i.productRef, i.priceRef])).toEqual([
      ["T-shirt", shirt.id, shirt.defaultPriceId],
      ["Mug", mug.productId, mug.id],
    ]);
    // A later price change does not touch the session.
    written(await services.catalog.updatePrice(account, mug.id, { active: false }));
    expect((await services.checkoutSessions.get(scope, session.id)).amountTotal.toFixed()).toBe("5250");
  });
});
