import { describe, expect, it } from "vitest";
import type { ApiKeysRepository } from "../../../src/core/api-keys/api-keys.repository.js";
import {
  createApiKeysService,
  hashSecret,
  LAST_USED_RESOLUTION_MS,
} from "../../../src/core/api-keys/api-keys.service.js";

/**
 * authenticate() against a recording fake repository: which store calls each kind of refusal
 * makes (unknown and revoked keys must do the same work), and that a failed last-use write
 * never fails the request.
 */

const NOW = new Date("2030-01-01T00:00:00.000Z");
const LIVE = `sk_test_${"L".repeat(32)}`;
const REVOKED = `sk_test_${"R".repeat(32)}`;

type Row = NonNullable<Awaited<ReturnType<ApiKeysRepository["findById"]>>>;
const row = (id: string, secret: string, over: Partial<Row> = {}): Row => ({
  id,
  accountId: "acct_1",
  mode: "test",
  prefix: secret.slice(0, 12),
  secretHash: hashSecret(secret),
  createdAt: NOW,
  lastUsedAt: null,
  revokedAt: null,
  ...over,
});

function fakeRepository(rows: Row[], touch: () => Promise<number> = async () => 1) {
  const calls: string[] = [];
  const repo = {
    findBySecretHash: async (hash: string) => {
      calls.push("findBySecretHash");
      return rows.find((r) => r.secretHash === hash) ?? null;
    },
    touchLastUsed: async () => {
      calls.push("touchLastUsed");
      return touch();
    },
  } as unknown as ApiKeysRepository;
  return { repo, calls };
}

const service = (repo: ApiKeysRepository) =>
  createApiKeysService({
    apiKeys: repo,
    accounts: { findById: (() => Promise.resolve(null)) as never },
    clock: () => NOW,
  });

describe("authenticate", () => {
  it("unknown and revoked keys make the same store calls; malformed ones make none", async () => {
    const rows = [row("key_live", LIVE), row("key_revoked", REVOKED, { revokedAt: NOW })];
    const seen: Record<string, string[]> = {};
    for (const [label, secret] of [
      ["unknown", `sk_test_${"U".repeat(32)}`],
      ["revoked", REVOKED],
      ["malformed", "sk_test_short"],
    ] as const) {
      const { repo, calls } = fakeRepository(rows);
      expect(await service(repo).authenticate(secret)).toBeNull();
      seen[label] = calls;
    }
    expect(seen.unknown).toEqual(["findBySecretHash"]);
    expect(seen.revoked).toEqual(seen.unknown);
    expect(seen.malformed).toEqual([]);
  });

  it("a live key is looked up once and its use recorded; a fresh record is not rewritten", async () => {
    const { repo, calls } = fakeRepository([row("key_live", LIVE)]);
    const keys = service(repo);
    expect(await keys.authenticate(LIVE)).toEqual({ accountId: "acct_1", keyId: "key_live" });
    await keys.settle();
    expect(calls).toEqual(["findBySecretHash", "touchLastUsed"]);

    const recent = new Date(NOW.getTime() - LAST_USED_RESOLUTION_MS + 1);
    const fresh = fakeRepository([row("key_live", LIVE, { lastUsedAt: recent })]);
    expect(await service(fresh.repo).authenticate(LIVE)).not.toBeNull();
    expect(fresh.calls).toEqual(["findBySecretHash"]);
  });

  it("a failed last-use write is reported, never thrown into the request", async () => {
    const failure = new Error("store is down");
    const { repo } = fakeRepository([row("key_live", LIVE)], () => Promise.reject(failure));
    const keys = service(repo);
    const reported: unknown[] = [];
    expect(await keys.authenticate(LIVE, (error) => reported.push(error))).toEqual({
      accountId: "acct_1",
      keyId: "key_live",
    });
    await keys.settle();
    expect(reported).toEqual([failure]);
  });

  it("a stored hash that differs from the presented one is refused even if the look-up returned it", async () => {
    // The look-up is by hash, so this cannot happen with a real index; the constant-time
    // comparison is the second check that does not trust it.
    const impostor = row("key_x", LIVE, { secretHash: hashSecret("something else") });
    const repo = {
      findBySecretHash: async () => impostor,
      touchLastUsed: async () => 1,
    } as unknown as ApiKeysRepository;
    expect(await service(repo).authenticate(LIVE)).toBeNull();
  });
});
