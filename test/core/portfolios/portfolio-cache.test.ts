import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPortfoliosService } from "../../../src/core/portfolios/portfolios.service.js";
import type { Services } from "../../../src/core/services.js";
import { createKassaServices } from "../../../src/composition.js";
import { type Database, openDatabase } from "../../../src/db/database.js";
import { createMerchant, written } from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";
import { waitFor } from "../../helpers/processes.js";

/**
 * The portfolio a purchase is priced from is remembered per instance; any change to portfolios,
 * accounts or subaccounts, by any instance or by hand in SQL, makes every instance forget
 * (a trigger NOTIFYs kassa_catalog). Real store; on PostgreSQL the changes come from another pool.
 */

let store: Awaited<ReturnType<typeof createTestDatabase>>;
let other: Database;
let there: Services;
beforeAll(async () => {
  store = await createTestDatabase();
  other = store.url ? await openDatabase({ kind: "postgres", url: store.url, poolSize: 2 }) : store.db;
  there = createKassaServices(other);
});
afterAll(async () => {
  if (other !== store.db) await other.close();
  await store.drop();
});

/** This instance's portfolio service, counting its look-ups in the store. */
function countingService() {
  let lookups = 0;
  const real = createKassaServices(store.db).repos.portfolios;
  const count =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A) => {
      lookups++;
      return fn(...args);
    };
  const service = createPortfoliosService({
    portfolios: { ...real, findById: count(real.findById), findDefaultFor: count(real.findDefaultFor) },
    transaction: async () => {
      throw new Error("not used");
    },
    changes: store.db.changes,
  });
  return { service, lookups: () => lookups };
}

const rawPrice = (id: string, cents: string) =>
  other.prisma.$executeRawUnsafe(
    `UPDATE portfolios SET checkout_price_per_kg_usd_cents = ${cents}::numeric WHERE id = '${id}'`,
  );

describe(`the priced-from portfolio cache (${storeKind})`, () => {
  it("is looked up once, then served from memory until a change anywhere, even by hand in SQL", async () => {
    const { account, portfolio } = await createMerchant(there);
    const scope = { accountId: account.id, subaccountId: null };
    const { service, lookups } = countingService();

    await waitFor(
      async () => {
        const before = lookups();
        expect((await service.resolveFor(scope, null)).id).toBe(portfolio!.id);
        return lookups() === before;
      },
      10_000,
      "a purchase priced without a look-up",
    );
    const served = lookups();
    expect((await service.resolveFor(scope, portfolio!.id)).id).toBe(portfolio!.id);
    expect((await service.resolveFor(scope, portfolio!.id)).id).toBe(portfolio!.id);
    expect(lookups()).toBe(served + 1); // by id: one look-up, then memory

    await rawPrice(portfolio!.id, "7");
    const repriced = await waitFor(
      async () => {
        const p = await service.resolveFor(scope, null);
        return p.checkoutPricePerKgUsdCents.eq(7) ? p : null;
      },
      10_000,
      "the new price to be seen",
    );
    expect(repriced.id).toBe(portfolio!.id);
    expect((await service.resolveFor(scope, portfolio!.id)).checkoutPricePerKgUsdCents.toFixed()).toBe("7");
  });

  it("a new default chosen by another instance is used at once it commits", async () => {
    const { account, portfolio } = await createMerchant(there);
    const scope = { accountId: account.id, subaccountId: null };
    const { service } = countingService();
    expect((await service.resolveFor(scope, null)).id).toBe(portfolio!.id);
    await service.resolveFor(scope, null);

    const next = await there.portfolios.create({
      name: "Next",
      checkoutPricePerKgUsdCents: portfolio!.checkoutPricePerKgUsdCents.plus(1),
      apiPricePerKgUsdCents: portfolio!.apiPricePerKgUsdCents,
    });
    await other.prisma.account.update({ where: { id: account.id }, data: { defaultPortfolioId: next.id } });
    await waitFor(
      async () => (await service.resolveFor(scope, null)).id === next.id,
      10_000,
      "the account's new default portfolio",
    );
  });

  it("a change this instance commits is seen by its next request at once, before any NOTIFY", async () => {
    // A feed that is live but never delivers: only the instance's own forgetting can help.
    const silent = { listen: (_: string, l: { live(on: boolean): void }) => l.live(true) };
    const here = createKassaServices({ ...store.db, changes: silent });
    const { account, portfolio } = await createMerchant(here);
    const other = await here.portfolios.create({
      name: "Other",
      checkoutPricePerKgUsdCents: portfolio!.checkoutPricePerKgUsdCents.plus(1),
      apiPricePerKgUsdCents: portfolio!.apiPricePerKgUsdCents,
    });
    const fields = { name: "Shop", email: null, logoUrl: null, defaultPortfolioId: null };
    const sub = written(await here.subaccounts.create(account.id, fields));
    const scope = { accountId: account.id, subaccountId: sub.id };
    expect((await here.portfolios.resolveFor(scope, null)).id).toBe(portfolio!.id); // remembered now

    await here.subaccounts.update(account.id, sub.id, { ...fields, defaultPortfolioId: other.id });
    expect((await here.portfolios.resolveFor(scope, null)).id).toBe(other.id);
    await here.subaccounts.remove(account.id, sub.id);
    expect((await here.portfolios.resolveFor(scope, null)).id).toBe(portfolio!.id);
  });
});
