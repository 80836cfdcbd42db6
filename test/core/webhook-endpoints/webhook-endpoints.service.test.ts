import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKassaServices } from "../../../src/composition.js";
import { isAppError } from "../../../src/core/errors.js";
import type { Services } from "../../../src/core/services.js";
import type { Database } from "../../../src/db/database.js";
import { createCnaughtSession, createMerchant, written } from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";
import { TEST_WEBHOOK_SETTINGS } from "../webhooks/support.js";

let db: Database;
let drop: () => Promise<void>;
let services: Services;
/** The same store with private receiver addresses refused (WEBHOOK_ALLOW_PRIVATE_URLS=false). */
let strict: Services;
beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  services = createKassaServices(db, undefined, { webhooks: { ...TEST_WEBHOOK_SETTINGS, allowPrivateUrls: true } });
  strict = createKassaServices(db, undefined, { webhooks: { ...TEST_WEBHOOK_SETTINGS, allowPrivateUrls: false } });
});
afterAll(() => drop());

const API = "some-api";
const fieldsOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (isAppError(error)) return { code: error.code, fields: error.details.fields ?? {} };
    throw error;
  }
  throw new Error("expected an error");
};

describe(`webhook endpoints service (${storeKind})`, () => {
  it("creates an endpoint with a new secret shown once; reads show only its last 4 characters", async () => {
    const m = await createMerchant(services);
    const created = written(
      await services.webhookEndpoints.create(m.account.id, API, {
        url: "https://hooks.example/in",
        enabledEvents: ["a.b", "c.d", "a.b"],
        description: "orders",
        idPrefix: "we_",
      }),
    );
    expect(created.id).toMatch(/^we_[0-9A-Za-z]{24}$/);
    expect(created.secret).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
    expect(created).toMatchObject({
      accountId: m.account.id,
      api: API,
      url: "https://hooks.example/in",
      enabledEvents: ["a.b", "c.d"],
      status: "enabled",
      description: "orders",
      secretLast4: created.secret.slice(-4),
    });
    const read = await services.webhookEndpoints.get(m.account.id, API, created.id);
    expect(read).not.toHaveProperty("secret");
    expect(JSON.stringify(read)).not.toContain(created.secret);
    expect(read.secretLast4).toBe(created.secret.slice(-4));

    const other = written(
      await services.webhookEndpoints.create(m.account.id, API, {
        url: "https://hooks.example/2",
        enabledEvents: ["*"],
      }),
    );
    expect(other.secret).not.toBe(created.secret);
  });

  it("updates url, events, status and description; another account's or API's endpoint is not found", async () => {
    const m = await createMerchant(services);
    const e = written(
      await services.webhookEndpoints.create(m.account.id, API, { url: "https://a.example/", enabledEvents: ["x"] }),
    );
    const updated = written(
      await services.webhookEndpoints.update(m.account.id, API, e.id, {
        url: "https://b.example/",
        enabledEvents: ["y", "*"],
        status: "disabled",
        description: "off for now",
      }),
    );
    expect(updated).toMatchObject({
      url: "https://b.example/",
      enabledEvents: ["y", "*"],
      status: "disabled",
      description: "off for now",
    });
    const partly = written(await services.webhookEndpoints.update(m.account.id, API, e.id, { status: "enabled" }));
    expect(partly).toMatchObject({ url: "https://b.example/", status: "enabled", description: "off for now" });

    const stranger = await createMerchant(services);
    await expect(fieldsOf(services.webhookEndpoints.get(stranger.account.id, API, e.id))).resolves.toMatchObject({
      code: "not_found",
    });
    await expect(fieldsOf(services.webhookEndpoints.get(m.account.id, "other-api", e.id))).resolves.toMatchObject({
      code: "not_found",
    });
    await expect(
      fieldsOf(services.webhookEndpoints.update(stranger.account.id, API, e.id, { status: "disabled" })),
    ).resolves.toMatchObject({ code: "not_found" });
    expect((await services.webhookEndpoints.get(m.account.id, API, e.id)).status).toBe("enabled");
  });

  it("refuses bad receivers and empty subscriptions, naming the core's fields, and writes nothing", async () => {
    const m = await createMerchant(services);
    await expect(
      fieldsOf(services.webhookEndpoints.create(m.account.id, API, { url: "ftp://x.example/", enabledEvents: [] })),
    ).resolves.toMatchObject({
      code: "invalid_parameters",
      fields: { url: [expect.any(String)], enabledEvents: [expect.any(String)] },
    });
    // Private addresses follow WEBHOOK_ALLOW_PRIVATE_URLS.
    await expect(
      fieldsOf(
        strict.webhookEndpoints.create(m.account.id, API, { url: "http://127.0.0.1:9/in", enabledEvents: ["x"] }),
      ),
    ).resolves.toMatchObject({ code: "invalid_parameters", fields: { url: [expect.stringMatching(/./)] } });
    const e = written(
      await services.webhookEndpoints.create(m.account.id, API, { url: "http://127.0.0.1:9/in", enabledEvents: ["x"] }),
    );
    await expect(
      fieldsOf(strict.webhookEndpoints.update(m.account.id, API, e.id, { url: "http://10.0.0.1/in" })),
    ).resolves.toMatchObject({ fields: { url: [expect.any(String)] } });
    await expect(
      fieldsOf(services.webhookEndpoints.update(m.account.id, API, e.id, { status: "paused" as never })),
    ).resolves.toMatchObject({ fields: { status: [expect.any(String)] } });
    expect((await services.webhookEndpoints.list(m.account.id, API)).endpoints.map((x) => x.id)).toEqual([e.id]);
  });

  it("lists newest first with cursors both ways", async () => {
    const m = await createMerchant(services);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        written(
          await services.webhookEndpoints.create(m.account.id, API, {
            url: `https://h.example/${i}`,
            enabledEvents: ["x"],
          }),
        ).id,
      );
    }
    const newestFirst = [...ids].reverse();
    const first = await services.webhookEndpoints.list(m.account.id, API, { limit: 2 });
    expect(first.endpoints.map((e) => e.id)).toEqual(newestFirst.slice(0, 2));
    expect(first.hasMore).toBe(true);
    const next = await services.webhookEndpoints.list(m.account.id, API, { limit: 2, startingAfter: newestFirst[1] });
    expect(next.endpoints.map((e) => e.id)).toEqual(newestFirst.slice(2, 4));
    const back = await services.webhookEndpoints.list(m.account.id, API, { limit: 2, endingBefore: newestFirst[2] });
    expect(back.endpoints.map((e) => e.id)).toEqual(newestFirst.slice(0, 2));
    const last = await services.webhookEndpoints.list(m.account.id, API, { startingAfter: newestFirst[3] });
    expect(last).toMatchObject({ hasMore: false });
    expect(last.endpoints.map((e) => e.id)).toEqual([newestFirst[4]]);
    expect((await services.webhookEndpoints.list(m.account.id, "other-api")).endpoints).toEqual([]);
    await expect(
      fieldsOf(services.webhookEndpoints.list(m.account.id, API, { startingAfter: "we_nope" })),
    ).resolves.toMatchObject({ code: "invalid_pagination" });
    await expect(fieldsOf(services.webhookEndpoints.list(m.account.id, API, { limit: 101 }))).resolves.toMatchObject({
      code: "invalid_pagination",
    });
  });

  it("enqueues an event once for each enabled endpoint of the account and API subscribed to its type", async () => {
    const m = await createMerchant(services);
    const stranger = await createMerchant(services);
    const make = async (accountId: string, api: string, enabledEvents: string[], url: string) =>
      written(await services.webhookEndpoints.create(accountId, api, { url, enabledEvents })).id;
    const exact = await make(m.account.id, API, ["thing.done"], "https://r.example/exact");
    const all = await make(m.account.id, API, ["*"], "https://r.example/exact"); // same URL, its own delivery
    const disabled = await make(m.account.id, API, ["thing.done"], "https://r.example/off");
    written(await services.webhookEndpoints.update(m.account.id, API, disabled, { status: "disabled" }));
    await make(m.account.id, API, ["thing.other"], "https://r.example/other");
    await make(m.account.id, "other-api", ["*"], "https://r.example/api");
    await make(stranger.account.id, API, ["*"], "https://r.example/stranger");

    // A real event to hang the deliveries on (deliveries reference events).
    const session = await createCnaughtSession(services, { accountId: m.account.id, subaccountId: null });
    const event = {
      id: await services.repos.events.record({
        accountId: m.account.id,
        type: "thing.done",
        subjectType: "checkout_session",
        subjectId: session.id,
        data: {},
      }),
    };
    const count = await services.transaction((tx) =>
      services.webhookEndpoints.enqueueEvent(
        {
          accountId: m.account.id,
          api: API,
          eventId: event.id,
          type: "thing.done",
          subjectType: "checkout_session",
          subjectId: session.id,
          payload: '{"x":1}',
          signature: "some-scheme",
        },
        tx,
      ),
    );
    expect(count).toBe(2);
    const deliveries = await services.webhooks.deliveries({ accountId: m.account.id });
    expect(deliveries.map((d) => [d.endpointId, d.url, d.payload, d.signature]).sort()).toEqual(
      [
        [exact, "https://r.example/exact", '{"x":1}', "some-scheme"],
        [all, "https://r.example/exact", '{"x":1}', "some-scheme"],
      ].sort(),
    );
    expect((await services.webhooks.deliveries({ endpointId: all })).map((d) => d.endpointId)).toEqual([all]);
    // One delivery per event and endpoint; and still one per event among those without an endpoint.
    const bare = {
      accountId: m.account.id,
      eventId: event.id,
      subjectType: "checkout_session",
      subjectId: session.id,
      url: "https://r.example/callback",
      payload: "{}",
      nextAttemptAt: new Date(),
    };
    await services.repos.webhooks.enqueue(bare);
    await expect(services.repos.webhooks.enqueue(bare)).rejects.toThrow();
    await expect(
      services.transaction((tx) =>
        services.repos.webhooks.enqueue(
          {
            accountId: m.account.id,
            eventId: event.id,
            endpointId: exact,
            subjectType: "checkout_session",
            subjectId: session.id,
            url: "https://r.example/exact",
            payload: "{}",
            nextAttemptAt: new Date(),
          },
          tx,
        ),
      ),
    ).rejects.toThrow();
  });
});
