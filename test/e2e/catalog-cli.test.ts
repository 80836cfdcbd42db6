import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAdminApp } from "../../src/app.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { storeKind } from "../helpers/database.js";
import { cleanEnv, cleanUp, launch, ROOT, tempDir, within } from "../helpers/processes.js";

/**
 * `kassa products …` and `kassa prices …` as operators run them: the real CLI (a child process)
 * through the admin API of an app on this file's database; what they make is what a checkout
 * session's `line_items[].price` then resolves.
 */

let t: TestApp;
let admin: FastifyInstance;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildAdminApp({ config: t.config, db: t.db, services: t.services });
  const adminUrl = new URL(await admin.listen({ host: "127.0.0.1", port: 0 }));
  // DATA_DIR: should the admin API not answer, the CLI's in-process fallback opens a scratch store.
  env = cleanEnv({ ADMIN_HOST: "127.0.0.1", ADMIN_PORT: adminUrl.port, DATA_DIR: await tempDir("kassa-catalog-cli-") });
});
afterAll(async () => {
  await admin?.close();
  await t?.close();
  await cleanUp();
});

async function kassa(...args: string[]) {
  const proc = launch(process.execPath, [path.join(ROOT, "bin/kassa.js"), ...args], env);
  const { code } = await within(proc.exited, 60_000, `kassa ${args.join(" ")}`);
  const parse = (text: string) => {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  };
  return { code, json: parse(proc.stdout), error: parse(proc.stderr), stderr: proc.stderr };
}

describe(`kassa prices and products (${storeKind})`, () => {
  it('`kassa prices create --product "T-shirt"` makes the product and prints the price; the price resolves to a line item', async () => {
    const account = await t.services.accounts.create({ name: "Tee Shop" });
    const created = await kassa(
      "prices",
      "create",
      "--account",
      account.id,
      "--product",
      "T-shirt",
      "--unit-amount",
      "2000",
      "--currency",
      "eur",
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.json).toMatchObject({
      id: expect.stringMatching(/^price_/),
      object: "price",
      product: expect.stringMatching(/^prod_/),
      currency: "eur",
      unit_amount: 2000,
      type: "one_time",
      active: true,
    });

    // A second price of the same product, by its id.
    const yen = await kassa(
      "prices",
      "create",
      "--account",
      account.id,
      "--product",
      created.json.product,
      "--unit-amount",
      "500",
      "--currency",
      "JPY",
    );
    expect(yen.code, yen.stderr).toBe(0);
    expect(yen.json).toMatchObject({ product: created.json.product, currency: "jpy", unit_amount: 500 });

    const products = await kassa("products", "list", "--account", account.id);
    expect(products.json.map((p: { id: string; name: string }) => [p.id, p.name])).toEqual([
      [created.json.product, "T-shirt"],
    ]);
    const prices = await kassa("prices", "list", "--account", account.id, "--product", created.json.product);
    expect(prices.json.map((p: { id: string }) => p.id)).toEqual([yen.json.id, created.json.id]);

    const item = await t.services.catalog.lineItemFor(account.id, created.json.id, 2);
    expect(item).toMatchObject({ description: "T-shirt", currency: "EUR", priceRef: created.json.id });
    expect(item.amount.toFixed()).toBe("4000");
  });

  it("refuses an unknown account, a bad currency and a fractional amount, creating nothing", async () => {
    const unknown = await kassa(
      "prices",
      "create",
      "--account",
      "acct_nope",
      "--product",
      "T-shirt",
      "--unit-amount",
      "1",
      "--currency",
      "eur",
    );
    expect(unknown.code).toBe(1);
    expect(unknown.error.error.code).toBe("not_found");

    const account = await t.services.accounts.create({ name: "Careful Shop" });
    const args = ["prices", "create", "--account", account.id, "--product", "Mug"];
    const currency = await kassa(...args, "--unit-amount", "100", "--currency", "euro");
    expect(currency.code).toBe(1);
    expect(currency.error.error.fields).toHaveProperty("currency");
    const fractional = await kassa(...args, "--unit-amount", "1.5", "--currency", "eur");
    expect(fractional.code).toBe(1);
    expect(fractional.error.error.fields).toHaveProperty("unit_amount");
    expect((await kassa("products", "list", "--account", account.id)).json).toEqual([]);

    const product = await kassa("products", "create", "--account", account.id, "--name", "Mug", "--unit-label", "mug");
    expect(product.code, product.stderr).toBe(0);
    expect(product.json).toMatchObject({ object: "product", name: "Mug", unit_label: "mug", default_price: null });
  });
});
