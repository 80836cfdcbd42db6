import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";
import { type CnaughtCheckout, cnaughtPurchase } from "../../src/api/cnaught/checkout-sessions.purchase.js";
import type { CheckoutSession } from "../../src/core/checkout-sessions/checkout-sessions.types.js";
import type { WithinWrite, Written } from "../../src/core/idempotency/idempotency.types.js";
import { Decimal } from "../../src/core/money/money.js";
import type { Order } from "../../src/core/orders/orders.types.js";
import type { CardDetails } from "../../src/core/payments/payment-provider.js";
import type { Scope } from "../../src/core/scope.js";
import { createKassaServices } from "../../src/composition.js";
import type { Services } from "../../src/core/services.js";
import type { Clock } from "../../src/core/time.js";
import type { Database } from "../../src/db/database.js";
import { createTestDatabase } from "./database.js";

export const TEST_PUBLIC_URL = "https://checkout.kassa.test";

export interface TestApp {
  app: FastifyInstance;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  db: Database;
  services: Services;
  config: Config;
  /** Moves the app's clock (every service reads time through it). */
  clock: { now: Date; set(date: Date): void; advanceHours(hours: number): void };
  close(): Promise<void>;
}

/**
 * The real app on a fresh database, listening on a random loopback port, so tests go through
 * real HTTP. One per test file (beforeAll); tests isolate themselves with their own accounts.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const { db, drop } = await createTestDatabase();
  const config = loadConfig({ NODE_ENV: "test", PORT: "0", PUBLIC_URL: TEST_PUBLIC_URL, LOG_LEVEL: "silent", ...env });
  const clock = {
    now: null as Date | null,
    set(date: Date) {
      this.now = date;
    },
    advanceHours(hours: number) {
      this.now = new Date((this.now ?? new Date()).getTime() + hours * 3_600_000);
    },
  };
  const clockFn: Clock = () => clock.now ?? new Date();
  const services = createKassaServices(db, clockFn, config);
  const app = await buildApp({ config, db, services });
  // PORT (default 0: any free port) lets a test whose PUBLIC_URL must be the real address pick one.
  const url = await app.listen({ host: "127.0.0.1", port: config.port });
  return {
    app,
    url,
    db,
    services,
    config,
    clock: clock as TestApp["clock"],
    close: async () => {
      await app.close();
      await drop();
    },
  };
}

let counter = 0;

/** A new account with its own secret key (and, by default, its own default portfolio). */
export async function createMerchant(
  services: Services,
  opts: { checkoutPricePerKg?: string; apiPricePerKg?: string; withDefaultPortfolio?: boolean } = {},
) {
  counter += 1;
  const portfolio =
    opts.withDefaultPortfolio === false
      ? null
      : await services.portfolios.create({
          name: `Portfolio ${counter}`,
          checkoutPricePerKgUsdCents: new Decimal(opts.checkoutPricePerKg ?? "2"),
          apiPricePerKgUsdCents: new Decimal(opts.apiPricePerKg ?? "1.5"),
        });
  const account = await services.accounts.create({ name: `Merchant ${counter}`, defaultPortfolioId: portfolio?.id });
  const key = await services.apiKeys.create(account.id);
  return { account, portfolio, key: key.secret, keyId: key.id };
}

/** fetch against the test server with a bearer key and JSON; returns status, headers and parsed body. */
export function apiClient(baseUrl: string, key?: string) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Headers; body: any; text: string }> => {
    const response = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
}

/** A new merchant (see createMerchant) with an API client already holding its key. */
export async function createMerchantApi(
  t: Pick<TestApp, "services" | "url">,
  opts: Parameters<typeof createMerchant>[1] = {},
) {
  const m = await createMerchant(t.services, opts);
  return { ...m, api: apiClient(t.url, m.key) };
}

/**
 * A CNaught checkout created through the core, as the CNaught API creates one (its purchase
 * becomes one line item): for tests of the lifecycle below HTTP. Defaults: 100 kg, no callback.
 */
export async function createCnaughtSession(
  services: Services,
  scope: Scope,
  input: Partial<CnaughtCheckout> = {},
  within?: WithinWrite<CheckoutSession>,
): Promise<CheckoutSession> {
  const written = await services.checkoutSessions.create(
    scope,
    await cnaughtPurchase(services, scope, {
      amountKg: new Decimal("100"),
      successUrl: "https://shop.example/ok?id={CHECKOUT_SESSION_ID}",
      cancelUrl: "https://shop.example/cancel",
      ...input,
    }),
    within,
  );
  if (written.kind !== "written") throw new Error("expected a new session, got a replay");
  return written.result;
}

/** Pays a CNaught session with `card` and returns the order its completion placed. */
export async function payForOrder(services: Services, sessionId: string, card: CardDetails): Promise<Order> {
  const outcome = await services.checkoutSessions.pay(sessionId, card);
  if (outcome.outcome !== "paid") throw new Error(`expected a payment, got ${outcome.outcome}`);
  const order = await services.repos.orders.findByCheckoutSession(sessionId);
  if (!order) throw new Error(`paying ${sessionId} placed no order`);
  return order;
}

/** The result of a write that must not have been a replay. */
export function written<T>(outcome: Written<T>): T {
  if (outcome.kind !== "written") throw new Error("expected a write, got a replay");
  return outcome.result;
}
