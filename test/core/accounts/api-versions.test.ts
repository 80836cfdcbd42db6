import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccountsService } from "../../../src/core/accounts/accounts.service.js";
import { createKassaServices } from "../../../src/composition.js";
import type { Services } from "../../../src/core/services.js";
import { type Database, openDatabase } from "../../../src/db/database.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";
import { waitFor } from "../../helpers/processes.js";

/**
 * An account's default API version per versioned API: validated against the versions an API
 * knows (given to the service, so two versions can be tested while LeanRails has one), set and
 * cleared one API at a time, remembered per instance and forgotten when any instance changes it.
 */

const KNOWN = { leanrails: ["2025-06-01", "2026-03-09"], other: ["v1", "v2"] } as const;

let store: Awaited<ReturnType<typeof createTestDatabase>>;
let services: Services;
let other: Database;
let there: Services;
beforeAll(async () => {
  store = await createTestDatabase();
  services = createKassaServices(store.db);
  other = store.url ? await openDatabase({ kind: "postgres", url: store.url, poolSize: 2 }) : store.db;
  there = createKassaServices(other);
});
afterAll(async () => {
  if (other !== store.db) await other.close();
  await store.drop();
});

describe(`account API version defaults (${storeKind})`, () => {
  it("an account has none until one is set; set and clear work one API at a time", async () => {
    const account = await services.accounts.create({ name: "Versioned" });
    expect(await services.accounts.defaultApiVersion(account.id, "leanrails")).toBeNull();

    expect(await services.accounts.setDefaultApiVersion(account.id, "leanrails", "2025-06-01", KNOWN)).toEqual({
      leanrails: "2025-06-01",
    });
    expect(await services.accounts.setDefaultApiVersion(account.id, "other", "v2", KNOWN)).toEqual({
      leanrails: "2025-06-01",
      other: "v2",
    });
    expect(await services.accounts.defaultApiVersion(account.id, "leanrails")).toBe("2025-06-01");
    expect(await services.accounts.defaultApiVersion(account.id, "other")).toBe("v2");

    expect(await services.accounts.setDefaultApiVersion(account.id, "leanrails", null, KNOWN)).toEqual({ other: "v2" });
    expect(await services.accounts.defaultApiVersion(account.id, "leanrails")).toBeNull();
    expect(await services.accounts.defaultApiVersion(account.id, "other")).toBe("v2");
  });

  it("refuses an unknown API, an unknown version and an unknown account, changing nothing", async () => {
    const account = await services.accounts.create({ name: "Strict" });
    await services.accounts.setDefaultApiVersion(account.id, "leanrails", "2026-03-09", KNOWN);
    await expect(services.accounts.setDefaultApiVersion(account.id, "nope", "v1", KNOWN)).rejects.toMatchObject({
      code: "invalid_parameters",
    });
    await expect(
      services.accounts.setDefaultApiVersion(account.id, "leanrails", "2024-01-01", KNOWN),
    ).rejects.toMatchObject({ code: "invalid_parameters" });
    await expect(
      services.accounts.setDefaultApiVersion("acct_nope", "leanrails", "2026-03-09", KNOWN),
    ).rejects.toMatchObject({ code: "not_found" });
    expect(await services.accounts.defaultApiVersion(account.id, "leanrails")).toBe("2026-03-09");
  });

  it("concurrent sets of different APIs both land (one statement each, no lost update)", async () => {
    const account = await services.accounts.create({ name: "Concurrent" });
    await Promise.all([
      services.accounts.setDefaultApiVersion(account.id, "leanrails", "2025-06-01", KNOWN),
      there.accounts.setDefaultApiVersion(account.id, "other", "v1", KNOWN),
    ]);
    const fresh = createKassaServices(store.db);
    expect(await fresh.accounts.defaultApiVersion(account.id, "leanrails")).toBe("2025-06-01");
    expect(await fresh.accounts.defaultApiVersion(account.id, "other")).toBe("v1");
  });

  it("is remembered per instance, and forgotten when another instance changes it", async () => {
    const real = createKassaServices(store.db).repos.accounts;
    let lookups = 0;
    const here = createAccountsService({
      accounts: {
        ...real,
        findApiVersions: (...args: Parameters<typeof real.findApiVersions>) => {
          lookups++;
          return real.findApiVersions(...args);
        },
      },
      portfolios: createKassaServices(store.db).repos.portfolios,
      changes: store.db.changes,
    });
    const account = await services.accounts.create({ name: "Cached" });
    await services.accounts.setDefaultApiVersion(account.id, "leanrails", "2025-06-01", KNOWN);
    // The first look-ups may come before the feed is live; once it is, they come from memory.
    await waitFor(
      async () => {
        await here.defaultApiVersion(account.id, "leanrails");
        const before = lookups;
        await here.defaultApiVersion(account.id, "leanrails");
        return lookups === before;
      },
      10_000,
      "the account's defaults served from memory",
    );
    await there.accounts.setDefaultApiVersion(account.id, "leanrails", "2026-03-09", KNOWN);
    await waitFor(
      async () => (await here.defaultApiVersion(account.id, "leanrails")) === "2026-03-09",
      10_000,
      "the other instance's change heard",
    );
  });
});
