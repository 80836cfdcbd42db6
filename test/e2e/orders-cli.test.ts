import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toWireOrder } from "../../src/api/cnaught/orders.schemas.js";
import { createKassaServices } from "../../src/composition.js";
import { TEST_CARDS } from "../../src/core/payments/test-provider.js";
import { type Database, openDatabase } from "../../src/db/database.js";
import { createCnaughtSession, createMerchant, payForOrder } from "../helpers/app.js";
import { cleanEnv, cleanUp, freePorts, launch, ROOT, tempDir, within } from "../helpers/processes.js";

/**
 * `kassa orders ...` as operators run it: a child process on an embedded store (no server
 * running, so the CLI opens the store itself), acting on an order a paid session produced.
 */

afterAll(cleanUp);

const CLI_ARGS = [path.join(ROOT, "bin/kassa.js")];

async function kassa(env: NodeJS.ProcessEnv, ...args: string[]) {
  const proc = launch(process.execPath, [...CLI_ARGS, ...args], env);
  const { code } = await within(proc.exited, 60_000, `kassa ${args.join(" ")}`);
  const parse = (text: string) => {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  };
  return { code, stdout: proc.stdout, stderr: proc.stderr, json: parse(proc.stdout), error: parse(proc.stderr) };
}

/** The store in `dataDir`, opened by this process only for as long as `fn` runs (PGlite allows one). */
async function withStore<T>(dataDir: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ kind: "pglite", dataDir });
  try {
    await db.migrate();
    return await fn(db);
  } finally {
    await db.close();
  }
}

describe("kassa orders (a child process on the embedded store)", () => {
  it("fulfils a placed order with its certificate URL, prints it as the API shows it, and refuses a second move", async () => {
    const dataDir = await tempDir("kassa-orders-cli-");
    const { accountId, order } = await withStore(dataDir, async (db) => {
      const services = createKassaServices(db);
      const m = await createMerchant(services);
      const session = await createCnaughtSession(
        services,
        { accountId: m.account.id, subaccountId: null },
        { successUrl: "https://shop.example/ok", notificationUrl: "https://shop.example/hooks" },
      );
      const order = await payForOrder(services, session.id, {
        number: TEST_CARDS.success,
        expMonth: 12,
        expYear: 2034,
        cvc: "123",
      });
      return { accountId: m.account.id, order };
    });

    // Nothing listens on the admin port: the CLI opens the store itself.
    const [port, adminPort] = await freePorts(2);
    const env = cleanEnv({ DATA_DIR: dataDir, PORT: String(port), ADMIN_PORT: String(adminPort), LOG_LEVEL: "silent" });

    const fulfilled = await kassa(env, "orders", "fulfill", order.id, "--certificate-url", "https://certs.example/1");
    expect(fulfilled.code, fulfilled.stderr).toBe(0);
    expect(fulfilled.json).toEqual({
      ...toWireOrder(order),
      state: "fulfilled",
      certificate_public_url: "https://certs.example/1",
    });

    // (A fulfilled order may still be cancelled; fulfilling it again is refused.)
    const again = await kassa(env, "orders", "fulfill", order.id);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("");
    expect(again.error.error).toMatchObject({ code: "invalid_state", message: expect.stringContaining("fulfilled") });

    const unknown = await kassa(env, "orders", "fulfill", "NoSuchOrdr");
    expect(unknown.code).toBe(1);
    expect(unknown.error.error.code).toBe("not_found");

    const usage = await kassa(env, "orders", "fulfill");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("kassa orders fulfill ORDER_ID");

    const list = await kassa(env, "orders", "list", "--account", accountId);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json).toEqual([fulfilled.json]);

    // What the CLI did is in the store: the state, its event and the merchant's notification.
    await withStore(dataDir, async (db) => {
      const row = await db.prisma.order.findUniqueOrThrow({ where: { id: order.id } });
      expect(row).toMatchObject({ state: "fulfilled", certificatePublicUrl: "https://certs.example/1" });
      expect(row.fulfilledAt).toBeInstanceOf(Date);
      expect(row.cancelledAt).toBeNull();
      const events = await db.prisma.event.findMany({ where: { subjectType: "order", subjectId: order.id } });
      expect(events.map((e) => e.type).sort()).toEqual(["order.fulfilled", "order.placed"]);
      const deliveries = await db.prisma.webhookDelivery.findMany({ where: { subjectId: order.id } });
      expect(deliveries.map((d) => JSON.parse(d.payload).order.state).sort()).toEqual(["fulfilled", "placed"]);
    });
  });
});
