import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectProblem, sessionParams } from "../api/support.js";
import { createMerchantApi, startTestApp, type TestApp } from "../helpers/app.js";
import { storeKind } from "../helpers/database.js";
import { within } from "../helpers/processes.js";

/**
 * What one connection may hold: header block size (431), body size (413), and the time to send
 * a request (a connection that stalls is closed). Raw sockets where fetch would hide the point.
 */

let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await startTestApp({
    MAX_HEADER_BYTES: "2048",
    BODY_LIMIT_BYTES: "2048",
    // Short, so a stalled connection is seen closed quickly; the waits below are only ceilings.
    HEADERS_TIMEOUT_MS: "300",
    REQUEST_TIMEOUT_MS: "1000",
  });
  port = Number(new URL(t.url).port);
});
afterAll(() => t?.close());

interface Exchange {
  /** Everything the server sent before it closed the connection. */
  received: string;
  closed: Promise<void>;
  socket: net.Socket;
}

/** A raw connection that writes `chunks` and then nothing, recording what comes back until close. */
function rawConnection(...chunks: string[]): Exchange {
  const socket = net.connect(port, "127.0.0.1");
  const exchange = { received: "", socket } as Exchange;
  socket.setEncoding("utf8");
  socket.on("data", (data: string) => {
    exchange.received += data;
  });
  socket.on("error", () => {}); // a reset after the answer is still a close
  exchange.closed = new Promise((resolve) => socket.once("close", () => resolve()));
  socket.once("connect", () => {
    for (const chunk of chunks) socket.write(chunk);
  });
  return exchange;
}

const statusLine = (raw: string) => raw.split("\r\n")[0];
const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));

describe(`slow or stalled clients (${storeKind})`, () => {
  it("a connection that sends part of a request line and headers, then nothing, is closed", async () => {
    const c = rawConnection("GET /v1/portfolios HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bear");
    await within(c.closed, 20_000, "the server to close a connection whose headers never finish");
    expect(statusLine(c.received)).toBe("HTTP/1.1 408 Request Timeout");
    expect(c.received).toMatch(/content-type: application\/problem\+json/i);
    expect(bodyOf(c.received)).toMatchObject({ status: 408, title: "Request Timeout" });
  });

  it("a connection that sends nothing at all is closed", async () => {
    const c = rawConnection();
    await within(c.closed, 20_000, "the server to close a silent connection");
  });

  it("a request whose body stalls midway is closed", async () => {
    const { key } = await createMerchantApi(t);
    const c = rawConnection(
      "POST /v1/checkout/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
        `Authorization: Bearer ${key}\r\nContent-Length: 500\r\n\r\n{"amount_kg":`,
    );
    await within(c.closed, 20_000, "the server to close a connection whose body never finishes");
    expect(c.received).not.toMatch(/^HTTP\/1\.1 2/); // nothing was created from half a body
  });

  it("a connection trickling header lines, each in time, is still closed once the header time is up", async () => {
    const c = rawConnection("GET /v1/portfolios HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const trickle = setInterval(() => {
      if (!c.socket.destroyed) c.socket.write(`X-Slow-${Date.now()}: 1\r\n`);
    }, 50);
    try {
      await within(c.closed, 20_000, "the server to close a slowloris connection");
    } finally {
      clearInterval(trickle);
    }
    expect(statusLine(c.received)).toBe("HTTP/1.1 408 Request Timeout");
  });

  it("ordinary requests on the same server are unaffected", async () => {
    const { api } = await createMerchantApi(t);
    expect((await api("GET", "/v1/portfolios")).status).toBe(200);
  });
});

describe(`sizes (${storeKind})`, () => {
  it("a header block over MAX_HEADER_BYTES is 431 problem+json, and the connection is closed", async () => {
    const c = rawConnection(`GET /v1/portfolios HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"a".repeat(4096)}\r\n\r\n`);
    await within(c.closed, 20_000, "the answer to an oversized header block");
    expect(statusLine(c.received)).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    expect(c.received).toMatch(/content-type: application\/problem\+json/i);
    expect(bodyOf(c.received)).toMatchObject({ type: "about:blank", status: 431 });
  });

  it("a header block under the limit is served", async () => {
    const { api } = await createMerchantApi(t);
    expect((await api("GET", "/v1/portfolios", undefined, { "x-padding": "a".repeat(1024) })).status).toBe(200);
  });

  it("a body over BODY_LIMIT_BYTES is 413 in CNaught's format", async () => {
    const { api } = await createMerchantApi(t);
    const big = { ...sessionParams(), metadata: "m".repeat(4096) };
    const res = await api("POST", "/v1/checkout/sessions", big);
    expectProblem(res, 413, "payload-too-large");
    // Also when the size is not announced up front (chunked): counted as it arrives.
    const chunked = await fetch(`${t.url}/v1/checkout/sessions`, {
      method: "POST",
      headers: { authorization: `Bearer ${(await createMerchantApi(t)).key}`, "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(JSON.stringify(big)));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(((await chunked.json()) as { type: string }).type).toBe(
      "https://api.cnaught.com/v1/errors/payload-too-large",
    );
    // A body under the limit is fine.
    expect((await api("POST", "/v1/checkout/sessions", sessionParams())).status).toBe(201);
  });
});
