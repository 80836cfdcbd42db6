import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { expectProblem } from "../cnaught/support.js";
import { apiClient, createMerchantApi, startTestApp, type TestApp } from "../../helpers/app.js";
import { storeKind } from "../../helpers/database.js";
import { cleanUp, freePorts, kill, launch, type Proc, waitFor, within } from "../../helpers/processes.js";

/**
 * The Redis store: two app instances (one database, one REDIS_URL) share one count per key.
 * Needs a Redis server: vitest.config.ts includes this file only when REDIS_URL is set (.ci/run
 * sets it), as DATABASE_URL chooses PostgreSQL. The in-memory store
 * and the fall-back when Redis is unreachable are covered in rate-limit.test.ts either way. The
 * outage test starts a Redis of its own (redis-server on a free port) so it can stop it.
 */

const REDIS_URL = process.env.REDIS_URL as string;
const MAX = 4;

describe(`per API key, shared through Redis (${storeKind})`, () => {
  let t: TestApp;
  let second: FastifyInstance;
  let secondUrl: string;
  let redis: Redis;
  beforeAll(async () => {
    const env = { RATE_LIMIT_MAX: String(MAX), RATE_LIMIT_WINDOW_MS: "600000", REDIS_URL: REDIS_URL! };
    t = await startTestApp(env);
    second = await buildApp({ config: t.config, db: t.db, services: t.services });
    secondUrl = await second.listen({ host: "127.0.0.1", port: 0 });
    redis = new Redis(REDIS_URL!);
  });
  afterAll(async () => {
    redis?.disconnect();
    await second?.close();
    await t?.close();
  });

  it("two instances share one count: max requests in all, whichever instance serves them", async () => {
    const m = await createMerchantApi(t);
    const onSecond = apiClient(secondUrl, m.key);
    const statuses: number[] = [];
    for (let i = 0; i < MAX; i++) statuses.push((await (i % 2 ? onSecond : m.api)("GET", "/v1/portfolios")).status);
    expect(statuses).toEqual(Array(MAX).fill(200));

    for (const api of [m.api, onSecond]) {
      const limited = await api("GET", "/v1/portfolios");
      expectProblem(limited, 429, "rate-limited");
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    }
    // The count lives in Redis under the key's id, with the window as its expiry.
    const redisKey = `kassa:rate-limit:cnaught:${m.keyId}`;
    expect(Number(await redis.get(redisKey))).toBe(MAX + 2);
    expect(await redis.pttl(redisKey)).toBeGreaterThan(0);

    // Another key still has its whole budget on both instances.
    const other = await createMerchantApi(t);
    expect((await other.api("GET", "/v1/portfolios")).status).toBe(200);
    expect((await apiClient(secondUrl, other.key)("GET", "/v1/portfolios")).status).toBe(200);
  });

  it("a window reset in Redis (the key expiring) frees the key on every instance", async () => {
    const m = await createMerchantApi(t);
    for (let i = 0; i < MAX; i++) expect((await m.api("GET", "/v1/portfolios")).status).toBe(200);
    expectProblem(await m.api("GET", "/v1/portfolios"), 429, "rate-limited");
    await redis.del(`kassa:rate-limit:cnaught:${m.keyId}`);
    expect((await apiClient(secondUrl, m.key)("GET", "/v1/portfolios")).status).toBe(200);
    expect((await m.api("GET", "/v1/portfolios")).status).toBe(200);
  });
});

describe(`Redis going away and coming back (${storeKind})`, () => {
  let port: number;
  let redisServer: Proc;
  let t: TestApp;
  let second: FastifyInstance;
  let secondUrl: string;
  let redis: Redis;

  async function startRedis() {
    redisServer = launch(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        ...process.env,
      },
    );
    const probe = new Redis(port, "127.0.0.1", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on("error", () => {}); // refused until the server listens
    try {
      await waitFor(
        () =>
          probe.connect().then(
            () => probe.ping(),
            () => null,
          ),
        30_000,
        "the private redis-server",
      );
    } finally {
      probe.disconnect();
    }
  }

  beforeAll(async () => {
    [port] = (await freePorts(1)) as [number];
    await startRedis();
    const env = { RATE_LIMIT_MAX: String(MAX), RATE_LIMIT_WINDOW_MS: "600000", REDIS_URL: `redis://127.0.0.1:${port}` };
    t = await startTestApp(env);
    second = await buildApp({ config: t.config, db: t.db, services: t.services });
    secondUrl = await second.listen({ host: "127.0.0.1", port: 0 });
    redis = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 0 });
    redis.on("error", () => {}); // it is stopped on purpose below
  });
  afterAll(async () => {
    redis?.disconnect();
    await second?.close();
    await t?.close();
    await cleanUp();
  });

  /** A new key's first MAX requests alternate between the instances; then both refuse it when shared. */
  async function spend(shared: boolean) {
    const m = await createMerchantApi(t);
    const onSecond = apiClient(secondUrl, m.key);
    for (let i = 0; i < MAX; i++) expect((await (i % 2 ? onSecond : m.api)("GET", "/v1/portfolios")).status).toBe(200);
    const next = [(await m.api("GET", "/v1/portfolios")).status, (await onSecond("GET", "/v1/portfolios")).status];
    expect(next).toEqual(shared ? [429, 429] : [200, 200]);
  }

  it("serves throughout, counting per instance while Redis is down and shared again once it is back", async () => {
    await spend(true);

    kill(redisServer);
    await within(redisServer.exited, 30_000, "redis-server to stop");
    // Down: each instance counts alone (MAX/2 spent on each, so both still serve), nothing fails.
    await spend(false);
    // ... and still limits: a key that spends MAX on one instance is refused there.
    const m = await createMerchantApi(t);
    for (let i = 0; i < MAX; i++) expect((await m.api("GET", "/v1/portfolios")).status).toBe(200);
    expectProblem(await m.api("GET", "/v1/portfolios"), 429, "rate-limited");

    await startRedis();
    // Both instances reconnect on their own; a probe key per instance shows when each counts in Redis.
    for (const url of [t.url, secondUrl]) {
      const probe = await createMerchantApi(t);
      await waitFor(
        async () => {
          await apiClient(url, probe.key)("GET", "/v1/portfolios");
          return (await redis.exists(`kassa:rate-limit:cnaught:${probe.keyId}`)) === 1;
        },
        30_000,
        `${url} to count in Redis again`,
      );
    }
    await spend(true);
  });
});
