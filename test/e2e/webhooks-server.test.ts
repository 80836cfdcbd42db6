import { Webhook } from "standardwebhooks";
import { afterAll, describe, expect, it } from "vitest";
import { createKassaServices } from "../../src/composition.js";
import { type Database, openDatabase } from "../../src/db/database.js";
import { createTestDatabase, storeKind } from "../helpers/database.js";
import {
  cleanEnv,
  cleanUp,
  freePorts,
  type Server,
  startServer,
  stop,
  tempDir,
  waitFor,
  waitReady,
} from "../helpers/processes.js";
import { closedPort, placeOrder, type Receiver, startReceiver } from "../core/webhooks/support.js";

/**
 * The real server process delivers notifications with its background workers, and a delivery
 * outlives a restart: written while the receiver is down, attempted by one server process,
 * delivered by the next once the receiver is up.
 */

afterAll(cleanUp);

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** A store the test writes to first and a server process opens afterwards. */
async function sharedStore(): Promise<{ db: Database; env: Record<string, string>; release: () => Promise<void> }> {
  if (storeKind === "postgres") {
    const { db, url, drop } = await createTestDatabase();
    cleanups.push(drop);
    return { db, env: { DATABASE_URL: url! }, release: async () => {} };
  }
  // PGlite allows one process per folder: the test closes it before the server opens it.
  const dataDir = await tempDir("kassa-webhooks-");
  const db = await openDatabase({ kind: "pglite", dataDir });
  await db.migrate();
  return { db, env: { DATA_DIR: dataDir }, release: () => db.close() };
}

async function admin(server: Server, operation: string, args: object) {
  const response = await fetch(`${server.adminUrl}/admin/operations/${operation}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(args),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the admin API's JSON, asserted field by field
  const body = (await response.json()) as { result: any };
  expect(response.status, JSON.stringify(body)).toBe(200);
  return body.result;
}

describe(`the server's workers deliver notifications, across a restart (${storeKind})`, () => {
  it("a delivery written while the receiver is down arrives, signed, after the server restarts", async () => {
    const store = await sharedStore();
    const receiverPort = await closedPort();
    const { order, merchant } = await placeOrder(
      createKassaServices(store.db),
      `http://127.0.0.1:${receiverPort}/hooks`,
    );
    await store.release();

    const [port, adminPort] = await freePorts(2);
    const env = cleanEnv({
      ...store.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      LOG_LEVEL: "warn",
      DEMO_SEED: "false",
      WORKER_INTERVAL_MS: "50",
      WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      WEBHOOK_RETRY_BASE_MS: "100",
      WEBHOOK_RETRY_MAX_MS: "200",
    });

    const first = startServer(env);
    await waitReady(first);
    const failed = await waitFor(
      async () => {
        const [delivery] = await admin(first, "webhooks.deliveries", { order: order.id });
        // Recorded in flight at the claim; waited for until it is settled.
        return delivery?.attempts.length > 0 && delivery.attempts[0].outcome !== "in_flight" ? delivery : null;
      },
      60_000,
      "the first server to attempt the delivery",
    );
    expect(failed).toMatchObject({ status: "pending", event: "order.placed" });
    expect(failed.attempts[0]).toMatchObject({ attempt: 1, status_code: null, outcome: "failed" });
    expect(failed.attempts[0].error).toMatch(/ECONNREFUSED/);
    expect((await stop(first)).code).toBe(0);

    const receiver: Receiver = await startReceiver({ port: receiverPort });
    cleanups.push(() => receiver.close());
    const second = startServer(env);
    await waitReady(second);
    const delivered = await waitFor(
      async () => {
        const [delivery] = await admin(second, "webhooks.deliveries", { order: order.id });
        return delivery?.status === "succeeded" ? delivery : null;
      },
      60_000,
      "the restarted server to deliver",
    );
    expect(delivered.attempts.at(-1)).toMatchObject({ status_code: 200, outcome: "succeeded" });

    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.headers["webhook-id"]).toBe(delivered.id);
    const { secret } = await admin(second, "webhooks.secret", { account: merchant.account.id });
    const body = new Webhook(secret).verify(request.body, request.headers as Record<string, string>) as {
      order: { id: string; state: string };
    };
    expect(body.order).toMatchObject({ id: order.id, state: "placed" });
    expect((await stop(second)).code).toBe(0);
  });
});
