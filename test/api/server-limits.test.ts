import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectProblem, sessionParams } from "./cnaught/support.js";
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
    // The path says whose request it was: CNaught's problem type, not about:blank.
    expect(bodyOf(c.received)).toMatchObject({
      type: "https://api.cnaught.com/v1/errors/headers-too-large",
      status: 431,
    });
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

/** Raw answers split into status code, content type and body text. */
function answerOf(raw: string) {
  const [head, body = ""] = raw.split("\r\n\r\n", 2) as [string, string?];
  return {
    status: Number(head.split(" ")[1]),
    contentType: /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? "",
    body,
  };
}

describe(`what Node refuses before routing answers in the format of the path's surface (${storeKind})`, () => {
  const CNAUGHT = /^application\/problem\+json/;
  const cases: [string, string, number][] = [
    ["a NUL in a header", "GET /v1/portfolios HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n", 400],
    ["a bare CR in a header", "GET /v1/portfolios HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400],
    ["an unknown method", "BREW /v1/portfolios HTTP/1.1\r\nHost: x\r\n\r\n", 400],
    [
      "Content-Length with Transfer-Encoding",
      "POST /v1/checkout/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      400,
    ],
  ];
  it.each(cases)("%s under /v1 is CNaught's problem+json", async (_name, request, status) => {
    const c = rawConnection(request);
    await within(c.closed, 20_000, "the answer");
    const answer = answerOf(c.received);
    expect(answer.status).toBe(status);
    expect(answer.contentType).toMatch(CNAUGHT);
    expect(JSON.parse(answer.body)).toMatchObject({
      status,
      type: expect.stringMatching(/^https:\/\/api\.cnaught\.com\//),
    });
  });

  it.each(cases)("%s under /pay is the hosted page's HTML", async (_name, request, status) => {
    const c = rawConnection(request.replace(/ \/v1\/[a-z/]+ /, " /pay/abc "));
    await within(c.closed, 20_000, "the answer");
    const answer = answerOf(c.received);
    expect(answer.status).toBe(status);
    expect(answer.contentType).toMatch(/^text\/html/);
    expect(answer.body).toMatch(/^<!doctype html>/);
  });

  /** Waits until the whole answer (its headers and Content-Length bytes of body) has arrived. */
  const answered = (c: Exchange) =>
    expect
      .poll(() => {
        const [head, body] = c.received.split("\r\n\r\n", 2);
        const length = Number(/content-length: (\d+)/i.exec(head ?? "")?.[1] ?? Number.NaN);
        return body !== undefined && Buffer.byteLength(body) >= length;
      })
      .toBe(true);

  it("an unmet Expect is a 417 in the surface's format, not a bare one", async () => {
    const api = rawConnection("GET /v1/portfolios HTTP/1.1\r\nHost: x\r\nExpect: 999-bogus\r\n\r\n");
    await answered(api);
    expect(answerOf(api.received)).toMatchObject({ status: 417, contentType: expect.stringMatching(CNAUGHT) });
    expect(JSON.parse(answerOf(api.received).body)).toMatchObject({ status: 417 });
    const page = rawConnection("GET /pay/abc HTTP/1.1\r\nHost: x\r\nExpect: 999-bogus\r\n\r\n");
    await answered(page);
    expect(answerOf(page.received)).toMatchObject({ status: 417, contentType: expect.stringMatching(/^text\/html/) });
  });

  it("a request without Host is a 400 in the surface's format, not a bare one", async () => {
    const c = rawConnection("GET /v1/portfolios HTTP/1.1\r\nConnection: close\r\n\r\n");
    await answered(c);
    const answer = answerOf(c.received);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toMatch(CNAUGHT);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 400, detail: "A Host header is required" });
  });
});
