import http from "node:http";
import type { AddressInfo } from "node:net";
import { createKassaServices } from "../../../src/composition.js";
import type { Services } from "../../../src/core/services.js";
import type { Clock } from "../../../src/core/time.js";
import type { WebhookSettings } from "../../../src/core/webhooks/webhooks.service.js";
import { type Database, openDatabase } from "../../../src/db/database.js";
import { createCnaughtSession, createMerchant, payForOrder } from "../../helpers/app.js";
import { createTestDatabase } from "../../helpers/database.js";

export const CARD = { number: "4242424242424242", expMonth: 12, expYear: 2034, cvc: "123" };

export const TEST_WEBHOOK_SETTINGS: WebhookSettings = {
  allowPrivateUrls: true,
  timeoutMs: 5_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  secretRotationHours: 24,
};

/** A clock that is real time until set, then moves only when told. */
export function movableClock() {
  let now: Date | null = null;
  const fn: Clock = () => now ?? new Date();
  return {
    fn,
    set: (date: Date) => void (now = date),
    advanceMs: (ms: number) => void (now = new Date(fn().getTime() + ms)),
    advanceHours: (hours: number) => void (now = new Date(fn().getTime() + hours * 3_600_000)),
    real: () => void (now = null),
  };
}

/**
 * A fresh database with Kassa's services on it (webhook settings overridable, a movable clock),
 * and the means to open more services instances on the same database: on PostgreSQL each on a
 * pool of its own, as separate server processes would be.
 */
export async function webhookTestbed(settings: Partial<WebhookSettings> = {}) {
  const { db, url, drop } = await createTestDatabase();
  const clock = movableClock();
  const extraDbs: Database[] = [];
  const servicesOn = (on: Database, s: Partial<WebhookSettings> = {}) =>
    createKassaServices(on, clock.fn, { webhooks: { ...TEST_WEBHOOK_SETTINGS, ...settings, ...s } });
  return {
    db,
    clock,
    services: servicesOn(db),
    /** Another services instance with other settings, on the same database connection. */
    servicesWith: (s: Partial<WebhookSettings>) => servicesOn(db, s),
    /** Another instance as a second server would have it: its own pool on PostgreSQL. */
    async anotherInstance(s: Partial<WebhookSettings> = {}): Promise<Services> {
      if (!url) return servicesOn(db, s);
      const other = await openDatabase({ kind: "postgres", url, poolSize: 5 });
      extraDbs.push(other);
      return servicesOn(other, s);
    },
    async close() {
      await Promise.all(extraDbs.map((d) => d.close()));
      await drop();
    },
  };
}

/** A merchant whose customer paid a session with `notificationUrl`: its order, placed (one delivery written). */
export async function placeOrder(services: Services, notificationUrl: string | null) {
  const merchant = await createMerchant(services);
  const scope = { accountId: merchant.account.id, subaccountId: null };
  const session = await createCnaughtSession(services, scope, { notificationUrl });
  const order = await payForOrder(services, session.id, CARD);
  return { merchant, session, order };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A local webhook receiver on 127.0.0.1. It answers `status` (changeable), optionally after a
 * delay, records every request, and notes any request arriving while another with the same
 * webhook-id is still being answered (an overlapping delivery).
 */
export async function startReceiver(opts: { port?: number; status?: number; delayMs?: number } = {}) {
  const requests: ReceivedRequest[] = [];
  const overlaps: string[] = [];
  const inFlight = new Map<string, number>();
  const seen = new Map<string, number>();
  const state = {
    status: opts.status ?? 200,
    delayMs: opts.delayMs ?? 0,
    headers: {} as Record<string, string>,
    body: null as string | null,
    /** Decides the status per request (`nth` counts requests with this webhook-id, from 1); default `status`. */
    respond: null as ((request: ReceivedRequest, nth: number) => number) | null,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const id = String(req.headers["webhook-id"] ?? "");
      if ((inFlight.get(id) ?? 0) > 0) overlaps.push(id);
      inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
      const request: ReceivedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(request);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      const status = state.respond ? state.respond(request, seen.get(id)!) : state.status;
      setTimeout(() => {
        res.writeHead(status, state.headers);
        res.end(state.body ?? (status >= 200 && status < 300 ? "ok" : "nope"), () => {
          inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
        });
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/hooks`,
    requests,
    overlaps,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** A loopback port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
