import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAdminApp } from "../../../src/app.js";
import { createMerchantApi, startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { type CategorySeed, retiredKg, seedCredits } from "../../helpers/credits.js";
import { storeKind } from "../../helpers/database.js";

/**
 * `orders.fulfill` through the admin API (what `kassa orders fulfill` sends to a running server):
 * the split by the portfolio's fractions, an explicit allocation, too few credits, a second
 * fulfilment, and the merchant's view of the result (the API and the notification).
 */

let t: TestApp;
let admin: FastifyInstance;
let adminUrl: string;
beforeAll(async () => {
  t = await startTestApp();
  admin = await buildAdminApp({ config: t.config, db: t.db, services: t.services });
  adminUrl = await admin.listen({ host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await admin.close();
  await t.close();
});

const CALLBACK = "https://shop.example/hooks/orders";

async function operate(name: string, args: Record<string, unknown>) {
  const response = await fetch(`${adminUrl}/admin/operations/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(args),
  });
  return { status: response.status, body: (await response.json()) as { result?: any; error?: any } };
}

/** 60 % removal (one kelp project, 2021 then 2023), 40 % forests (two projects, same vintage). */
const portfolioCredits = (): CategorySeed[] => [
  {
    name: "Removal",
    fraction: "0.6",
    projects: [
      {
        name: "Kelp",
        type: "Blue carbon",
        details: {
          registryName: "Example Registry",
          registryUrl: "https://registry.example/kelp",
          locationName: "Nowhere Bay",
        },
        issuances: [
          { vintage: 2023, tonnes: "10", serialPrefix: "KELP-23" },
          { vintage: 2021, tonnes: "0.05", serialPrefix: "KELP-21" }, // 50 kg
        ],
      },
    ],
  },
  {
    name: "Forests",
    fraction: "0.4",
    projects: [
      { name: "Peat", issuances: [{ vintage: 2020, tonnes: "0.01", serialPrefix: "PEAT-20" }] }, // 10 kg
      { name: "Mangrove", issuances: [{ vintage: 2020, tonnes: "10", serialPrefix: null }] },
    ],
  },
];

/** A merchant with credits in its portfolio, and a placed order of `amountKg` with a callback URL. */
async function placedOrder(amountKg: number, credits = portfolioCredits()) {
  const m = await createMerchantApi(t);
  const categories = await seedCredits(t.services, m.portfolio!.id, credits);
  const placed = await m.api("POST", "/v1/orders", { amount_kg: amountKg, notification_config: { url: CALLBACK } });
  expect(placed.status, placed.text).toBe(201);
  const ids = Object.fromEntries(categories.flatMap((c) => c.projects.map((p) => [p.name, p.id])));
  return { ...m, order: placed.body, ids };
}

/** Everything written about an order: its state, events, notifications and allocation rows. */
async function trail(orderId: string) {
  const order = await t.db.prisma.order.findUniqueOrThrow({ where: { id: orderId } });
  const events = await t.db.prisma.event.findMany({ where: { subjectId: orderId }, orderBy: { createdAt: "asc" } });
  const notifications = await t.db.prisma.webhookDelivery.findMany({
    where: { subjectId: orderId },
    orderBy: { createdAt: "asc" },
  });
  const allocations = await t.db.prisma.orderProjectAllocation.count({ where: { orderId } });
  return { state: order.state, events: events.map((e) => e.type), notifications, allocations };
}

describe(`orders.fulfill over the admin API (${storeKind})`, () => {
  it("splits the order by the portfolio's fractions, oldest vintage first, and the merchant sees it everywhere", async () => {
    const { api, order, ids } = await placedOrder(100);
    const res = await operate("orders.fulfill", { id: order.id });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const fulfilled = res.body.result;
    expect(fulfilled).toMatchObject({
      id: order.id,
      state: "fulfilled",
      certificate_public_url: `${TEST_PUBLIC_URL}/certificates/${order.id}`,
      certificate_download_public_url: `${TEST_PUBLIC_URL}/certificates/${order.id}.pdf`,
    });
    // 60 kg of removal: 50 kg of the 2021 kelp, then 10 kg of 2023. 40 kg of forests: all 10 kg of
    // Peat (same vintage as Mangrove, and first in the category), then 30 kg of Mangrove.
    expect(fulfilled.project_allocations).toEqual([
      {
        project: {
          id: ids.Kelp,
          name: "Kelp",
          type: "Blue carbon",
          registry_name: "Example Registry",
          registry_url: "https://registry.example/kelp",
          location_name: "Nowhere Bay",
          un_sdg_goals: [],
        },
        amount_kg: 60,
        retirements: [
          { serial_number_range: "KELP-21-1-50000000", url: "https://registry.example/kelp" },
          { serial_number_range: "KELP-23-1-10000000", url: "https://registry.example/kelp" },
        ],
      },
      {
        project: { id: ids.Peat, name: "Peat", type: "Forestry", un_sdg_goals: [] },
        amount_kg: 10,
        retirements: [{ serial_number_range: "PEAT-20-1-10000000" }],
      },
      {
        project: { id: ids.Mangrove, name: "Mangrove", type: "Forestry", un_sdg_goals: [] },
        amount_kg: 30,
        retirements: [{}], // an issuance without a serial prefix, a project without a registry page
      },
    ]);
    expect(await retiredKg(t.db, ids.Kelp!, 2021)).toBe("50");
    expect(await retiredKg(t.db, ids.Kelp!, 2023)).toBe("10");
    expect(await retiredKg(t.db, ids.Peat!, 2020)).toBe("10");
    expect(await retiredKg(t.db, ids.Mangrove!, 2020)).toBe("30");

    // The merchant reads exactly that: GET by id, the list, and the notification of the change.
    expect((await api("GET", `/v1/orders/${order.id}`)).body).toEqual(fulfilled);
    expect((await api("GET", "/v1/orders")).body.data).toEqual([fulfilled]);
    const written = await trail(order.id);
    expect(written.events).toEqual(["order.placed", "order.fulfilled"]);
    expect(written.notifications.map((n) => n.url)).toEqual([CALLBACK, CALLBACK]);
    expect(JSON.parse(written.notifications[1]!.payload)).toEqual({ order: fulfilled });
  });

  it("takes an explicit allocation instead of the fractions, any catalogue project, in the order given", async () => {
    const { order, ids } = await placedOrder(25.5);
    const other = await placedOrder(1); // another merchant's catalogue rows: any project may be named
    const res = await operate("orders.fulfill", {
      id: order.id,
      allocation: [
        { project_id: other.ids.Mangrove, amount_kg: "20" },
        { project_id: ids.Kelp, amount_kg: 5.5 },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(
      res.body.result.project_allocations.map((a: any) => [a.project.id, a.amount_kg, a.retirements.length]),
    ).toEqual([
      [other.ids.Mangrove, 20, 1],
      [ids.Kelp, 5.5, 1],
    ]);
    expect(res.body.result.project_allocations[1].retirements).toEqual([
      { serial_number_range: "KELP-21-1-5500000", url: "https://registry.example/kelp" },
    ]);
  });

  it("refuses an allocation that does not fit the order, naming the fields, and writes nothing", async () => {
    const { order, ids } = await placedOrder(10);
    const cases: Array<[unknown, Record<string, string[]>]> = [
      [[{ project_id: ids.Kelp, amount_kg: 9 }], { allocation: ["must sum to the order's 10 kg; it sums to 9 kg"] }],
      [
        [
          { project_id: "nope", amount_kg: 5 },
          { project_id: ids.Kelp, amount_kg: 5 },
        ],
        { "allocation.0.project_id": ["is not a project in the catalogue: 'nope'"] },
      ],
      [
        [
          { project_id: ids.Kelp, amount_kg: 5 },
          { project_id: ids.Kelp, amount_kg: 5 },
        ],
        { "allocation.1.project_id": [`names project '${ids.Kelp}' a second time`] },
      ],
      [[{ project_id: ids.Kelp, amount_kg: -10 }], { "allocation.0.amount_kg": ["must be greater than 0"] }],
    ];
    for (const [allocation, fields] of cases) {
      const res = await operate("orders.fulfill", { id: order.id, allocation });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: "invalid_parameters", fields });
    }
    const notJson = await operate("orders.fulfill", { id: order.id, allocation: "[{" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.fields.allocation[0]).toMatch(/^must be JSON/);
    expect(await trail(order.id)).toMatchObject({ state: "placed", events: ["order.placed"], allocations: 0 });
    expect(await retiredKg(t.db, ids.Kelp!, 2021)).toBe("0");
  });

  it("not enough credits: insufficient_credits naming what is short, and nothing is retired or written", async () => {
    // Removal holds 10 t + 50 kg, forests 10 t + 10 kg: 60 % and 40 % of 30,000 kg fit in neither.
    const { order, ids } = await placedOrder(30_000);
    const res = await operate("orders.fulfill", { id: order.id });
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({
      code: "insufficient_credits",
      message:
        `Not enough credits to fulfil order '${order.id}': ` +
        "'Removal' needs 18000 kg and has 10050 kg left; 'Forests' needs 12000 kg and has 10010 kg left",
    });
    const explicit = await operate("orders.fulfill", {
      id: order.id,
      allocation: [{ project_id: ids.Peat, amount_kg: 30_000 }],
    });
    expect(explicit.status).toBe(409);
    expect(explicit.body.error.message).toContain(`project 'Peat' (${ids.Peat}) needs 30000 kg and has 10 kg left`);
    expect(await trail(order.id)).toMatchObject({ state: "placed", events: ["order.placed"], allocations: 0 });
    for (const [name, vintage] of [
      ["Kelp", 2021],
      ["Kelp", 2023],
      ["Peat", 2020],
      ["Mangrove", 2020],
    ] as const) {
      expect(await retiredKg(t.db, ids[name]!, vintage)).toBe("0");
    }
    // A portfolio with no categories has nothing to draw from at all.
    const bare = await createMerchantApi(t);
    const placed = await bare.api("POST", "/v1/orders", { amount_kg: 1 });
    const none = await operate("orders.fulfill", { id: placed.body.id });
    expect(none.status).toBe(409);
    expect(none.body.error.message).toContain("its portfolio has no project categories");
  });

  it("fulfilling twice is invalid_state and retires nothing more; an unknown order is not_found", async () => {
    const { order, ids } = await placedOrder(10);
    expect((await operate("orders.fulfill", { id: order.id })).status).toBe(200);
    const again = await operate("orders.fulfill", { id: order.id });
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ code: "invalid_state", message: expect.stringContaining("fulfilled") });
    expect(await retiredKg(t.db, ids.Kelp!, 2021)).toBe("6");
    expect((await trail(order.id)).events).toEqual(["order.placed", "order.fulfilled"]);
    const unknown = await operate("orders.fulfill", { id: "NoSuchOrdr" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
  });

  it("what fulfilment retires is the merchant's climate impact; a cancelled order's is not", async () => {
    const { api, order, ids } = await placedOrder(100);
    const before = await api("GET", "/v1/impact/data");
    expect(before.body.total_offset_kgs).toBe(0);
    expect((await operate("orders.fulfill", { id: order.id })).status).toBe(200);
    const after = await api("GET", "/v1/impact/data");
    expect(after.status, after.text).toBe(200);
    expect(after.body.total_offset_kgs).toBe(100);
    const projects = after.body.categories.flatMap((c: any) =>
      c.projects.map((p: any) => [c.category.name, p.project.id, p.offset_kgs, p.vintages]),
    );
    expect(projects).toEqual(
      expect.arrayContaining([
        ["Removal", ids.Kelp, 60, "2021, 2023"],
        ["Forests", ids.Peat, 10, "2020"],
        ["Forests", ids.Mangrove, 30, "2020"],
      ]),
    );
    expect(projects).toHaveLength(3);
    expect((await operate("orders.cancel", { id: order.id })).status).toBe(200);
    expect((await api("GET", "/v1/impact/data")).body.total_offset_kgs).toBe(0);
  });

  it("refuses the old certificate_url argument, saying where the certificate is now", async () => {
    const { order } = await placedOrder(1);
    const res = await operate("orders.fulfill", { id: order.id, certificate_url: "https://certs.example/1" });
    expect(res.status).toBe(400);
    expect(res.body.error.fields.certificate_url[0]).toContain("PUBLIC_URL/certificates/<order id>");
    expect((await trail(order.id)).state).toBe("placed");
  });
});
