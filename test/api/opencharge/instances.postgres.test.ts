import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { createKassaServices } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { type Database, openDatabase } from "../../../src/db/database.js";
import { pruneOpenchargeNoncesJob } from "../../../src/workers/jobs.js";
import { createTestDatabase } from "../../helpers/database.js";
import { anOrder, createBody, freshNonce, OPENCHARGE_ENV, registerParticipants, signedFetch } from "./support.js";

/**
 * Two Kassa instances on one PostgreSQL database: they generate one identity between them, and a
 * nonce one of them accepted is a replay for the other.
 */

let drop: () => Promise<void>;
let dbs: Database[] = [];
let apps: FastifyInstance[] = [];
let urls: string[] = [];
let services: ReturnType<typeof createKassaServices>[] = [];

beforeAll(async () => {
  const created = await createTestDatabase();
  drop = created.drop;
  if (!created.url) throw new Error("this test needs DATABASE_URL");
  const config = loadConfig({ NODE_ENV: "test", PORT: "0", LOG_LEVEL: "silent", ...OPENCHARGE_ENV });
  dbs = [created.db, await openDatabase({ kind: "postgres", url: created.url, poolSize: 4 })];
  services = dbs.map((db) => createKassaServices(db, undefined, config));
  // Started together: both load (and the first creates) the key and the account at once.
  apps = await Promise.all(dbs.map((db, i) => buildApp({ config, db, services: services[i] })));
  urls = await Promise.all(apps.map((app) => app.listen({ host: "127.0.0.1", port: 0 })));
  await registerParticipants({ services: services[0]!, db: dbs[0]! });
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await dbs[1]?.close();
  await drop?.();
});

describe("Opencharge on two instances (PostgreSQL)", () => {
  it("both publish the one key generated on first start, and share one account", async () => {
    const keys = await Promise.all(
      urls.map(
        async (url) => ((await (await fetch(`${url}/opencharge/metadata.json`)).json()) as any).config.publicKey,
      ),
    );
    expect(keys[0]).toMatch(/^[0-9a-f]{128}$/);
    expect(keys[1]).toBe(keys[0]);
    const identities = await Promise.all(services.map((s) => s.opencharge.identity()));
    expect(identities[1]!.accountId).toBe(identities[0]!.accountId);
    expect(await dbs[0]!.prisma.account.count({ where: { name: "Opencharge" } })).toBe(1);
  });

  it("a nonce accepted by one instance is NONCE_REUSED on the other, sent after or at the same time", async () => {
    const nonce = freshNonce();
    const timestamp = Math.floor(Date.now() / 1000);
    const body = createBody(anOrder(new Date()));
    const first = await signedFetch(urls[0]!, "/opencharge/checkout/create", body, { nonce, timestamp });
    expect(first.status, first.text).toBe(200);
    const replay = await signedFetch(urls[1]!, "/opencharge/checkout/create", body, { nonce, timestamp });
    expect([replay.status, replay.body.error.code]).toEqual([401, "NONCE_REUSED"]);

    for (let round = 0; round < 5; round++) {
      const racing = { nonce: freshNonce(), timestamp: Math.floor(Date.now() / 1000) };
      const racingBody = createBody(anOrder(new Date()));
      const answers = await Promise.all(
        urls.map((url) => signedFetch(url, "/opencharge/checkout/create", racingBody, racing)),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
      expect(answers.find((a) => a.status === 401)!.body.error.code).toBe("NONCE_REUSED");
    }
  });

  it("the pruning job forgets nonces only once their window has passed", async () => {
    const repository = services[0]!.opencharge.repository;
    const now = new Date();
    await repository.claimNonce("600", "req_old_nonce_1", new Date(now.getTime() - 1000), now);
    await repository.claimNonce("600", "req_live_nonce_1", new Date(now.getTime() + 60_000), now);
    const job = pruneOpenchargeNoncesJob({ clock: () => now, opencharge: services[1]!.opencharge });
    const result = await job.run({ signal: new AbortController().signal });
    expect(result?.pruned).toBeGreaterThanOrEqual(1);
    const left = await dbs[0]!.prisma.openchargeNonce.findMany({ where: { nonce: { startsWith: "req_" } } });
    expect(left.map((n) => n.nonce)).toContain("req_live_nonce_1");
    expect(left.map((n) => n.nonce)).not.toContain("req_old_nonce_1");
  });
});
