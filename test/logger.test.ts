import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";
import { createKassaServices } from "../src/composition.js";
import { loadConfig } from "../src/config.js";
import { pino } from "pino";
import { childLoggerFactory, loggerOptions, REDACT_PATHS } from "../src/logger.js";
import { createMerchant } from "./helpers/app.js";
import { createTestDatabase } from "./helpers/database.js";

/** The access log as the server writes it (src/logger.ts options), captured line by line. */

const lines: string[] = [];
let app: Awaited<ReturnType<typeof buildApp>>;
let drop: () => Promise<void>;
let key: string;

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "debug" });
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const services = createKassaServices(database.db);
  key = (await createMerchant(services)).key;
  app = await buildApp({ config, db: database.db, services, logger: { ...(loggerOptions(config) as object), stream } });
});
afterAll(async () => {
  await app?.close();
  await drop?.();
});

const urlsLogged = () =>
  lines.map((line) => JSON.parse(line)).flatMap((entry) => (typeof entry.req?.url === "string" ? [entry.req.url] : []));

describe("the access log", () => {
  it("redacts secrets sent in the query string, keeping the parameter names and the rest", async () => {
    const secret = "sk_test_QueryStringSecret0123456789abcd";
    const urls = [
      `/v1/portfolios?api_key=${secret}`,
      `/v1/portfolios?limit=2&token=${secret}&starting_after=abc`,
      `/v1/portfolios?API%5FKEY=${secret}`,
      `/v1/portfolios?access_token=${secret}&client_secret=${secret}&password=${secret}`,
      `/v1/checkout/sessions/${secret}`,
    ];
    lines.length = 0;
    for (const url of urls) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode).toBeLessThan(500);
    }
    await app.inject({ method: "GET", url: "/v1/portfolios?key=abc", headers: { authorization: `Bearer ${key}` } });

    const all = lines.join("\n");
    expect(all).not.toContain("QueryStringSecret");
    const logged = urlsLogged();
    expect(logged).toContain("/v1/portfolios?api_key=[redacted]");
    expect(logged).toContain("/v1/portfolios?limit=2&token=[redacted]&starting_after=abc");
    expect(logged).toContain("/v1/portfolios?API%5FKEY=[redacted]");
    expect(logged).toContain("/v1/portfolios?access_token=[redacted]&client_secret=[redacted]&password=[redacted]");
    expect(logged).toContain("/v1/checkout/sessions/sk_test_[redacted]");
    expect(logged).toContain("/v1/portfolios?key=[redacted]");
  });

  it("writes one line per request with its id first, and nothing of its headers", async () => {
    lines.length = 0;
    const res = await app.inject({
      method: "GET",
      url: "/v1/portfolios",
      headers: { authorization: `Bearer ${key}`, cookie: "session=abc", "x-request-id": "req-trace-1" },
    });
    expect(res.statusCode).toBe(200);
    const completed = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === "request completed");
    expect(completed).toHaveLength(1);
    expect(Object.keys(completed[0]).slice(0, 8)).toEqual([
      "level",
      "time",
      "pid",
      "hostname",
      "reqId",
      "req",
      "res",
      "responseTime",
    ]);
    expect(completed[0]).toMatchObject({
      level: 30,
      reqId: "req-trace-1",
      req: { method: "GET", url: "/v1/portfolios" },
      res: { statusCode: 200 },
    });
    expect(lines.join("\n")).not.toContain(key);
    expect(lines.join("\n")).not.toContain("session=abc");
  });

  it("leaves ordinary URLs as they are", async () => {
    lines.length = 0;
    await app.inject({ method: "GET", url: "/v1/portfolios?limit=5&ending_before=abc" });
    expect(urlsLogged()).toContain("/v1/portfolios?limit=5&ending_before=abc");
  });
});

describe("the per-request child logger", () => {
  const capture = () => {
    const out: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        out.push(String(chunk));
        done();
      },
    });
    const logger = pino({ redact: { paths: REDACT_PATHS, censor: "[redacted]" } }, stream);
    return { logger, entries: () => out.map((line) => JSON.parse(line)) };
  };

  it("binds the request id as pino would, and its lines are still redacted", () => {
    const { logger, entries } = capture();
    const child = childLoggerFactory(logger, { reqId: 'req "odd" id' }, {});
    child.warn({ key: { secret: "sk_test_x", name: "kept" }, card: { number: "4242" } }, "something");
    const [entry] = entries();
    expect(entry).toMatchObject({
      reqId: 'req "odd" id',
      key: { secret: "[redacted]", name: "kept" },
      card: { number: "[redacted]" },
      msg: "something",
    });
    expect(JSON.stringify(entry)).not.toContain("sk_test_x");
    expect((child as unknown as { bindings(): object }).bindings()).toEqual({ reqId: 'req "odd" id' });
  });

  it("binds anything but strings and numbers through pino's own child, redaction included", () => {
    const { logger, entries } = capture();
    const child = childLoggerFactory(logger, { reqId: "r1", ctx: { secret: "hidden" } }, {});
    child.info("hello");
    expect(entries()[0]).toMatchObject({ reqId: "r1", ctx: { secret: "[redacted]" } });
  });

  it("keeps a level given for the route", () => {
    const { logger, entries } = capture();
    const child = childLoggerFactory(logger, { reqId: "r2" }, { level: "warn" });
    child.info("dropped");
    child.warn("kept");
    expect(entries().map((e) => e.msg)).toEqual(["kept"]);
  });
});
