import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAdminApp } from "../../../src/app.js";
import { createMerchant, startTestApp, TEST_PUBLIC_URL, type TestApp, written } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";

/** `kassa impact enable|disable` as the CLI sends them: through the admin API's operations table. */

let t: TestApp;
let admin: FastifyInstance;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildAdminApp({ config: t.config, db: t.db, services: t.services });
});
afterAll(async () => {
  await admin?.close();
  await t?.close();
});

const run = async (operation: string, args: Record<string, unknown>) => {
  const res = await admin.inject({ method: "POST", url: `/admin/operations/${operation}`, payload: args });
  return { status: res.statusCode, body: res.json() };
};

const pageStatus = async (url: string) => {
  const res = await fetch(t.url + new URL(url).pathname);
  await res.arrayBuffer();
  return res.status;
};

const ALL = ["cars_off_the_road", "trees_planted", "homes_annual_energy_usage", "flights_lax_to_nyc"];

describe(`impact.enable and impact.disable (${storeKind})`, () => {
  it("enables an account's page (slug from its name, every equivalent), disables it, and enables it again as it was", async () => {
    const { account } = await createMerchant(t.services);
    await t.db.prisma.account.update({ where: { id: account.id }, data: { name: `Acme ${account.id.slice(-6)}` } });
    const on = await run("impact.enable", { account: account.id });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    const expectedSlug = `acme-${account.id.slice(-6).toLowerCase()}`;
    expect(on.body.result).toStrictEqual({
      account_id: account.id,
      subaccount_id: null,
      enabled: true,
      slug: expectedSlug,
      url: `${TEST_PUBLIC_URL}/impact/${expectedSlug}`,
      enabled_equivalents: ALL,
      updated_on: expect.any(String),
    });
    expect(await pageStatus(on.body.result.url)).toBe(200);

    const off = await run("impact.disable", { account: account.id });
    expect(off.body.result).toMatchObject({ enabled: false, slug: expectedSlug, enabled_equivalents: ALL });
    expect(await pageStatus(on.body.result.url)).toBe(404);

    const again = await run("impact.enable", { account: account.id });
    expect(again.body.result).toMatchObject({ enabled: true, slug: expectedSlug, enabled_equivalents: ALL });
    expect(await pageStatus(on.body.result.url)).toBe(200);
  });

  it("takes a slug and the equivalents (CNaught's names, comma-separated, in display order)", async () => {
    const { account } = await createMerchant(t.services);
    const slug = `chosen-${account.id.slice(-8).toLowerCase()}`;
    const on = await run("impact.enable", {
      account: account.id,
      slug,
      equivalents: "flights_lax_to_nyc, trees_planted",
    });
    expect(on.body.result).toMatchObject({ slug, enabled_equivalents: ["flights_lax_to_nyc", "trees_planted"] });
    // A later enable changes only what it names.
    const renamed = await run("impact.enable", { account: account.id, slug: `${slug}-2` });
    expect(renamed.body.result).toMatchObject({
      slug: `${slug}-2`,
      enabled_equivalents: ["flights_lax_to_nyc", "trees_planted"],
    });
    expect(await pageStatus(`${TEST_PUBLIC_URL}/impact/${slug}`)).toBe(404);
    expect(await pageStatus(renamed.body.result.url)).toBe(200);
    const none = await run("impact.enable", { account: account.id, equivalents: "" });
    expect(none.body.result.enabled_equivalents).toEqual([]);
  });

  it("a subaccount's page is its own, and only its account may have it", async () => {
    const { account } = await createMerchant(t.services);
    const other = await createMerchant(t.services);
    const sub = written(
      await t.services.subaccounts.create(account.id, { name: "Green Shop", email: null, defaultPortfolioId: null }),
    );
    const on = await run("impact.enable", { account: account.id, subaccount: sub.id });
    expect(on.status).toBe(200);
    expect(on.body.result).toMatchObject({ account_id: account.id, subaccount_id: sub.id, enabled: true });
    expect(on.body.result.slug).toMatch(/^green-shop(-[a-z0-9]{6})?$/);
    expect(await pageStatus(on.body.result.url)).toBe(200);
    // The account's own page is another page.
    const accountPage = await run("impact.disable", { account: account.id });
    expect(accountPage.status).toBe(404);

    const foreign = await run("impact.enable", { account: other.account.id, subaccount: sub.id });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe("not_found");
    const unknown = await run("impact.enable", { account: "acct_nope" });
    expect(unknown.status).toBe(404);
  });

  it("refuses a bad slug, a slug another page has, and unknown equivalents, naming the argument", async () => {
    const { account } = await createMerchant(t.services);
    const second = await createMerchant(t.services);
    for (const slug of ["Bad Slug", "ab", "-edge", "edge-", "two--hyphens", "x".repeat(65), "é-accent"]) {
      const res = await run("impact.enable", { account: account.id, slug });
      expect(res.status, slug).toBe(400);
      expect(res.body.error).toMatchObject({ code: "invalid_parameters", fields: { slug: [expect.any(String)] } });
    }
    const unknown = await run("impact.enable", { account: account.id, equivalents: "trees_planted,rockets" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.fields.equivalents[0]).toContain("rockets");

    const slug = `taken-${account.id.slice(-8).toLowerCase()}`;
    expect((await run("impact.enable", { account: account.id, slug })).status).toBe(200);
    await run("impact.disable", { account: account.id });
    // Still the first page's while it is off.
    const taken = await run("impact.enable", { account: second.account.id, slug });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("conflict");
  });

  it("two first enables at once leave one page", async () => {
    const { account } = await createMerchant(t.services);
    const results = await Promise.all([1, 2].map(() => run("impact.enable", { account: account.id })));
    for (const r of results) expect([200, 409]).toContain(r.status);
    expect(results.some((r) => r.status === 200)).toBe(true);
    expect(await t.db.prisma.impactPage.count({ where: { accountId: account.id } })).toBe(1);
  });

  it("disabling a page that was never enabled is not found", async () => {
    const { account } = await createMerchant(t.services);
    const res = await run("impact.disable", { account: account.id });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});
