import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toWireOrder } from "../../src/api/cnaught/orders.schemas.js";
import { createKassaServices } from "../../src/composition.js";
import type { Order } from "../../src/core/orders/orders.types.js";
import { TEST_CARDS } from "../../src/core/payments/test-provider.js";
import { type Database, openDatabase } from "../../src/db/database.js";
import { Decimal } from "../../src/core/money/money.js";
import { createCnaughtSession, createMerchant, payForOrder } from "../helpers/app.js";
import { seedCredits } from "../helpers/credits.js";
import { cleanEnv, cleanUp, freePorts, launch, ROOT, tempDir, within } from "../helpers/processes.js";

/**
 * `kassa orders ...` as operators run it: a child process on an embedded store (no server
 * running, so the CLI opens the store itself), acting on an order a paid session produced.
 */

afterAll(cleanUp);

const CLI_ARGS = [path.join(ROOT, "bin/kassa.js")];

const CARD = { number: TEST_CARDS.success, expMonth: 12, expYear: 2034, cvc: "123" };

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
  it("fulfils placed orders by the portfolio's fractions or an allocation file, prints them as the API shows them, and refuses what it cannot do", async () => {
    const dataDir = await tempDir("kassa-orders-cli-");
    const { accountId, orders, kelp, forest } = await withStore(dataDir, async (db) => {
      const services = createKassaServices(db);
      const m = await createMerchant(services);
      // Half removal (one kelp project, 1 t), half forests (one project, 0.2 t).
      const [removal, forests] = await seedCredits(services, m.portfolio!.id, [
        {
          name: "Removal",
          fraction: "0.5",
          projects: [{ name: "Kelp", issuances: [{ vintage: 2021, tonnes: "1", serialPrefix: "KELP-21" }] }],
        },
        {
          name: "Forests",
          fraction: "0.5",
          projects: [{ name: "Forest", issuances: [{ vintage: 2019, tonnes: "0.2", serialPrefix: "FOR-19" }] }],
        },
      ]);
      const scope = { accountId: m.account.id, subaccountId: null };
      const orders = [];
      for (const kg of ["100", "100", "500"]) {
        const session = await createCnaughtSession(services, scope, {
          amountKg: new Decimal(kg),
          successUrl: "https://shop.example/ok",
          notificationUrl: "https://shop.example/hooks",
        });
        orders.push(await payForOrder(services, session.id, CARD));
      }
      return { accountId: m.account.id, orders, kelp: removal!.projects[0]!.id, forest: forests!.projects[0]!.id };
    });
    const [byFractions, byFile, tooLarge] = orders as [Order, Order, Order];

    // Nothing listens on the admin port: the CLI opens the store itself.
    const [port, adminPort] = await freePorts(2);
    // The certificate URLs are under PUBLIC_URL: the CLI is run with the server's settings.
    const env = cleanEnv({
      DATA_DIR: dataDir,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      PUBLIC_URL: "https://kassa.example",
      LOG_LEVEL: "silent",
    });
    const certificate = (id: string) => `https://kassa.example/certificates/${id}`;

    const fulfilled = await kassa(env, "orders", "fulfill", byFractions.id);
    expect(fulfilled.code, fulfilled.stderr).toBe(0);
    expect(fulfilled.json).toEqual({
      ...toWireOrder(byFractions),
      state: "fulfilled",
      certificate_public_url: certificate(byFractions.id),
      certificate_download_public_url: `${certificate(byFractions.id)}.pdf`,
      project_allocations: [
        {
          project: expect.objectContaining({ id: kelp, name: "Kelp" }),
          amount_kg: 50,
          retirements: [{ serial_number_range: "KELP-21-1-50000000" }],
        },
        {
          project: expect.objectContaining({ id: forest, name: "Forest" }),
          amount_kg: 50,
          retirements: [{ serial_number_range: "FOR-19-1-50000000" }],
        },
      ],
    });

    // (A fulfilled order may still be cancelled; fulfilling it again is refused.)
    const again = await kassa(env, "orders", "fulfill", byFractions.id);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("");
    expect(again.error.error).toMatchObject({ code: "invalid_state", message: expect.stringContaining("fulfilled") });

    // An explicit allocation: all from the kelp project, its serial numbers continuing the first order's.
    const file = path.join(dataDir, "allocation.json");
    await writeFile(file, JSON.stringify([{ project_id: kelp, amount_kg: 100 }]));
    const explicit = await kassa(env, "orders", "fulfill", byFile.id, "--allocation", file);
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(explicit.json.project_allocations).toEqual([
      {
        project: expect.objectContaining({ id: kelp }),
        amount_kg: 100,
        retirements: [{ serial_number_range: "KELP-21-50000001-150000000" }],
      },
    ]);

    // 500 kg needs 250 kg of forests, which have 150 kg left: refused, naming the category.
    const short = await kassa(env, "orders", "fulfill", tooLarge.id);
    expect(short.code).toBe(1);
    expect(short.error.error).toEqual({
      code: "insufficient_credits",
      message: `Not enough credits to fulfil order '${tooLarge.id}': 'Forests' needs 250 kg and has 150 kg left`,
    });
    // An allocation that does not add up to the order: the fields say why.
    await writeFile(file, JSON.stringify([{ project_id: kelp, amount_kg: 499 }]));
    const mismatch = await kassa(env, "orders", "fulfill", tooLarge.id, "--allocation", file);
    expect(mismatch.code).toBe(1);
    expect(mismatch.error.error).toMatchObject({
      code: "invalid_parameters",
      fields: { allocation: ["must sum to the order's 500 kg; it sums to 499 kg"] },
    });

    const unknown = await kassa(env, "orders", "fulfill", "NoSuchOrdr");
    expect(unknown.code).toBe(1);
    expect(unknown.error.error.code).toBe("not_found");

    const usage = await kassa(env, "orders", "fulfill");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("kassa orders fulfill ORDER_ID [--allocation FILE.json]");

    const list = await kassa(env, "orders", "list", "--account", accountId);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.map((o: { id: string; state: string }) => [o.id, o.state])).toEqual([
      [tooLarge.id, "placed"],
      [byFile.id, "fulfilled"],
      [byFractions.id, "fulfilled"],
    ]);
    expect(list.json[2]).toEqual(fulfilled.json);

    // What the CLI did is in the store: states, retired credits, events, the merchant's notifications.
    await withStore(dataDir, async (db) => {
      const row = await db.prisma.order.findUniqueOrThrow({ where: { id: byFractions.id } });
      expect(row).toMatchObject({ state: "fulfilled", certificatePublicUrl: certificate(byFractions.id) });
      expect(row.fulfilledAt).toBeInstanceOf(Date);
      const issuances = await db.prisma.creditIssuance.findMany({ where: { projectId: { in: [kelp, forest] } } });
      expect(Object.fromEntries(issuances.map((i) => [i.projectId, i.retiredKg.toString()]))).toEqual({
        [kelp]: "150",
        [forest]: "50",
      });
      const events = await db.prisma.event.findMany({ where: { subjectType: "order", subjectId: byFractions.id } });
      expect(events.map((e) => e.type).sort()).toEqual(["order.fulfilled", "order.placed"]);
      const deliveries = await db.prisma.webhookDelivery.findMany({
        where: { subjectId: byFractions.id },
        orderBy: { createdAt: "asc" },
      });
      expect(deliveries.map((d) => JSON.parse(d.payload).order.state)).toEqual(["placed", "fulfilled"]);
      expect(JSON.parse(deliveries[1]!.payload)).toEqual({ order: fulfilled.json });
      expect(await db.prisma.event.count({ where: { subjectId: tooLarge.id } })).toBe(1); // placed only
    });
  }, 240_000); // nine CLI processes, each opening the store
});
