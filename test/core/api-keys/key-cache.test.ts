import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKeysService, hashSecret } from "../../../src/core/api-keys/api-keys.service.js";
import { API_KEY_CHANGES_CHANNEL, type CachedKey } from "../../../src/core/api-keys/key-cache.js";
import type { Services } from "../../../src/core/services.js";
import { createKassaServices } from "../../../src/composition.js";
import { type ChangeFeed, type ChangeListener, type Database, openDatabase } from "../../../src/db/database.js";
import { createMerchant } from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";
import { waitFor } from "../../helpers/processes.js";

/**
 * Valid keys are remembered, so a busy client's requests do not look its key up each time; a
 * revocation made anywhere is heard through LISTEN/NOTIFY and ends the key at once. Real store:
 * on PostgreSQL the "other instance" is a second connection pool with its own listener.
 */

let store: Awaited<ReturnType<typeof createTestDatabase>>;
let other: Database;
let here: Services;
let there: Services;
beforeAll(async () => {
  store = await createTestDatabase();
  other = store.url ? await openDatabase({ kind: "postgres", url: store.url, poolSize: 2 }) : store.db;
  here = createKassaServices(store.db);
  there = createKassaServices(other);
});
afterAll(async () => {
  if (other !== store.db) await other.close();
  await store.drop();
});

/** This instance's key service, counting its look-ups in the store. */
function countingService(db: Database, services: Services) {
  let lookups = 0;
  const real = services.repos.apiKeys;
  const service = createApiKeysService({
    apiKeys: {
      ...real,
      findBySecretHash: (hash) => {
        lookups++;
        return real.findBySecretHash(hash);
      },
    },
    accounts: services.repos.accounts,
    changes: db.changes,
    clock: () => new Date(),
  });
  return { service, lookups: () => lookups };
}

describe(`the key cache (${storeKind})`, () => {
  it("serves a valid key from memory, and forgets it when another instance revokes it", async () => {
    const { key, keyId, account } = await createMerchant(there);
    const { service, lookups } = countingService(store.db, here);

    // Once the listener is up, a key is looked up once and then served from memory.
    await waitFor(
      async () => {
        const before = lookups();
        const principal = await service.authenticate(key);
        expect(principal).toEqual({ accountId: account.id, keyId });
        return lookups() === before;
      },
      10_000,
      "a request served without a look-up",
    );
    const served = lookups();
    for (let i = 0; i < 5; i++) expect(await service.authenticate(key)).not.toBeNull();
    expect(lookups()).toBe(served);

    await there.apiKeys.revoke(keyId);
    await waitFor(async () => (await service.authenticate(key)) === null, 10_000, "the revoked key to be refused");
    expect(lookups()).toBeGreaterThan(served);
    // Refused keys are never remembered: each try looks again (and is refused again).
    const refused = lookups();
    expect(await service.authenticate(key)).toBeNull();
    expect(lookups()).toBe(refused + 1);
  });

  it("forgets a key revoked or deleted by hand in SQL (a trigger NOTIFYs)", async () => {
    const { service } = countingService(store.db, here);
    for (const change of [
      "UPDATE api_keys SET revoked_at = now() WHERE id = $1",
      "DELETE FROM api_keys WHERE id = $1",
    ]) {
      const { key, keyId } = await createMerchant(there);
      await waitFor(
        async () => {
          await service.authenticate(key);
          return (await service.authenticate(key)) !== null;
        },
        10_000,
        "the key to be accepted",
      );
      await other.prisma.$executeRawUnsafe(change, keyId);
      await waitFor(
        async () => (await service.authenticate(key)) === null,
        10_000,
        `the key to be refused (${change})`,
      );
    }
  });

  it("the revoking instance forgets the key at once", async () => {
    const { key, keyId } = await createMerchant(here);
    await waitFor(
      async () => {
        await here.apiKeys.authenticate(key);
        return (await here.apiKeys.authenticate(key)) !== null;
      },
      10_000,
      "the key to be accepted",
    );
    await here.apiKeys.revoke(keyId);
    expect(await here.apiKeys.authenticate(key)).toBeNull();
  });
});

/** A feed the test drives by hand. */
function manualFeed() {
  const listeners: ChangeListener[] = [];
  const feed: ChangeFeed = { listen: (_channel, listener) => void listeners.push(listener) };
  return {
    feed,
    live: (listening: boolean) => {
      for (const l of listeners) l.live(listening);
    },
    notify: (payload: string) => {
      for (const l of listeners) l.message(payload);
    },
    channels: () => listeners.length,
  };
}

const SECRET = `sk_test_${"C".repeat(32)}`;
const KEY: CachedKey & { revokedAt: Date | null } = {
  id: "key_1",
  accountId: "acct_1",
  secretHash: hashSecret(SECRET),
  lastUsedAt: new Date(),
  revokedAt: null,
};

function serviceOver(feed: ChangeFeed, find: () => Promise<typeof KEY | null>) {
  let lookups = 0;
  const service = createApiKeysService({
    apiKeys: {
      findBySecretHash: () => {
        lookups++;
        return find();
      },
      touchLastUsed: async () => 1,
    } as never,
    accounts: { findById: (() => Promise.resolve(null)) as never },
    changes: feed,
    clock: () => new Date(),
  });
  return { service, lookups: () => lookups };
}

describe("the key cache's rules", () => {
  it(`listens on ${API_KEY_CHANGES_CHANNEL} and trusts memory only while the feed is live`, async () => {
    const m = manualFeed();
    const { service, lookups } = serviceOver(m.feed, async () => KEY);
    await service.authenticate(SECRET);
    expect(m.channels()).toBe(1);
    await service.authenticate(SECRET);
    expect(lookups()).toBe(2); // not live yet: every request looks the key up

    m.live(true);
    await service.authenticate(SECRET);
    await service.authenticate(SECRET);
    expect(lookups()).toBe(3); // live: remembered after one look-up

    m.live(false); // the listener's connection is lost: what it missed is unknown
    await service.authenticate(SECRET);
    expect(lookups()).toBe(4);
    m.live(true);
    await service.authenticate(SECRET);
    await service.authenticate(SECRET);
    expect(lookups()).toBe(5);

    m.notify(KEY.secretHash); // revoked somewhere
    await service.authenticate(SECRET);
    expect(lookups()).toBe(6);
  });

  it("a look-up that a revocation overtakes does not fill the cache", async () => {
    const m = manualFeed();
    let release: (row: typeof KEY) => void = () => {};
    const { service, lookups } = serviceOver(m.feed, () => new Promise((resolve) => (release = resolve)));
    void service.authenticate("sk_test_short"); // subscribes (malformed: no look-up)
    m.live(true);
    const first = service.authenticate(SECRET);
    m.notify(KEY.secretHash); // the revocation commits while the (older) read is in flight
    release(KEY);
    expect(await first).not.toBeNull(); // that request read the key before the revocation
    const second = service.authenticate(SECRET);
    expect(lookups()).toBe(2); // ...but its result was not remembered
    release({ ...KEY, revokedAt: new Date() });
    expect(await second).toBeNull();
  });
});
