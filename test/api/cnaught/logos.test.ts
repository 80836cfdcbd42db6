import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.js";
import { createKassaServices } from "../../../src/composition.js";
import { loadConfig } from "../../../src/config.js";
import { TEST_CARDS } from "../../../src/core/payments/test-provider.js";
import { nonPublicAddressKind } from "../../../src/core/webhooks/addresses.js";
import {
  apiClient,
  createMerchantApi,
  payForOrder,
  startTestApp,
  TEST_PUBLIC_URL,
  type TestApp,
} from "../../helpers/app.js";
import { createTestDatabase, storeKind } from "../../helpers/database.js";
import { expectInvalid, expectProblem, sessionParams, unknownId } from "./support.js";

// Images of each supported type (the checks read their first bytes and, for SVG, the first element).
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from("JFIF\0rest of a jpeg")]);
const WEBP = Buffer.concat([Buffer.from("RIFF"), Buffer.from([0x1a, 0, 0, 0]), Buffer.from("WEBPVP8 rest of a webp")]);
const SVG = Buffer.from(
  '<?xml version="1.0"?>\n<!-- a logo -->\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>',
);
const SCRIPT_SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.domain)</script></svg>',
);
const MAX_BYTES = 4096;
const GOOD_CARD = { number: TEST_CARDS.success, expMonth: 12, expYear: 2034, cvc: "123" };

/** A loopback server answering logo downloads in the ways a test asks for; counts what it was asked. */
function imageServer() {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    hits.push(path);
    const send = (type: string, body: Buffer) => res.writeHead(200, { "content-type": type }).end(body);
    switch (path) {
      case "/logo.png":
        return send("image/png", PNG);
      case "/logo.jpg":
        return send("image/jpeg", JPEG);
      case "/logo.webp":
        return send("image/webp", WEBP);
      case "/logo.svg":
        return send("image/svg+xml; charset=utf-8", SVG);
      case "/script.svg":
        return send("image/svg+xml", SCRIPT_SVG);
      case "/slow.png":
        return void setTimeout(() => send("image/png", PNG), 3000);
      case "/large.png":
        return send("image/png", Buffer.concat([PNG, Buffer.alloc(MAX_BYTES)]));
      case "/large-chunked.png": {
        // No Content-Length: the limit must hold while reading.
        res.writeHead(200, { "content-type": "image/png", "transfer-encoding": "chunked" });
        res.write(PNG);
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1024));
        return res.end();
      }
      case "/png-said-jpeg":
        return send("image/jpeg", PNG);
      case "/html":
        return send("text/html", Buffer.from("<html><body>not a logo</body></html>"));
      case "/no-type":
        return res.writeHead(200).end(PNG);
      case "/gif":
        return send("image/gif", Buffer.from("GIF89a\x01\x00\x01\x00"));
      case "/missing":
        return res.writeHead(404).end();
      case "/redirect":
        return res.writeHead(302, { location: "/logo.png" }).end();
      case "/redirect-loop":
        return res.writeHead(302, { location: "/redirect-loop" }).end();
      case "/redirect-private":
        return res.writeHead(302, { location: "http://10.0.0.1/logo.png" }).end();
      case "/redirect-loopback":
        return res.writeHead(302, { location: "http://127.0.0.2/logo.png" }).end();
      default:
        return res.writeHead(404).end();
    }
  });
  return {
    hits,
    async start() {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let t: TestApp;
const images = imageServer();
let base: string;

beforeAll(async () => {
  base = await images.start();
  t = await startTestApp({ LOGO_MAX_BYTES: String(MAX_BYTES), LOGO_FETCH_TIMEOUT_MS: "500" });
});
afterAll(async () => {
  await t.close();
  await images.close();
});

const newSubaccount = async () => {
  const merchant = await createMerchantApi(t);
  const created = await merchant.api("POST", "/v1/subaccounts", { name: "Logo Shop" });
  expect(created.status, created.text).toBe(201);
  return { ...merchant, id: created.body.id as string };
};

/** PUT the raw bytes with a Content-Type (or none). */
async function upload(key: string, id: string, body: Buffer | string, contentType?: string) {
  const res = await fetch(`${t.url}/v1/subaccounts/${id}/logo`, {
    method: "PUT",
    headers: { authorization: `Bearer ${key}`, ...(contentType ? { "content-type": contentType } : {}) },
    body,
  });
  const text = await res.text();
  let parsed: ReturnType<typeof JSON.parse> = null;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** The re-hosted logo as a browser loads it (PUBLIC_URL is not this server's address: the path is). */
const served = (logoUrl: string) => fetch(t.url + new URL(logoUrl).pathname);

const LOGO_URL = new RegExp(`^${TEST_PUBLIC_URL.replaceAll(".", "\\.")}/logos/[A-Za-z0-9]{16}\\.(png|jpg|webp|svg)$`);

describe(`subaccount logos from a URL (${storeKind})`, () => {
  it.each([
    ["/logo.png", "image/png", PNG, "png"],
    ["/logo.jpg", "image/jpeg", JPEG, "jpg"],
    ["/logo.webp", "image/webp", WEBP, "webp"],
    ["/logo.svg", "image/svg+xml", SVG, "svg"],
  ])(
    "POST {logo_url: %s} downloads it and answers the subaccount with Kassa's URL for it",
    async (path, type, bytes, ext) => {
      const { api, id } = await newSubaccount();
      const res = await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: base + path });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({ id, name: "Logo Shop", logo_url: expect.stringMatching(LOGO_URL) });
      expect(res.body.logo_url.endsWith(`.${ext}`)).toBe(true);
      expect((await api("GET", `/v1/subaccounts/${id}`)).body.logo_url).toBe(res.body.logo_url);

      const file = await served(res.body.logo_url);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toBe(type);
      expect(file.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(file.headers.get("x-content-type-options")).toBe("nosniff");
      expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
    },
  );

  it("a host name no DNS could hold is refused before any lookup", async () => {
    const { api, id } = await newSubaccount();
    const res = await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: "https://a;b.example/logo.png" });
    expectInvalid(res, "logo_url");
    expect(res.body.errors.logo_url[0]).toMatch(/the host is not a valid host name/);
  });

  it("creating a subaccount with logo_url downloads it too (http allowed)", async () => {
    const { api } = await createMerchantApi(t);
    const res = await api("POST", "/v1/subaccounts", { name: "With logo", logo_url: `${base}/logo.png` });
    expect(res.status, res.text).toBe(201);
    expect(res.body.logo_url).toMatch(LOGO_URL);
    expect(Buffer.from(await (await served(res.body.logo_url)).arrayBuffer())).toEqual(PNG);
  });

  it("a refused logo on create creates nothing", async () => {
    const { api } = await createMerchantApi(t);
    expectInvalid(await api("POST", "/v1/subaccounts", { name: "Bad logo", logo_url: `${base}/html` }), "logo_url");
    expect((await api("GET", "/v1/subaccounts")).body).toEqual({ data: [] });
  });

  it("follows a redirect to an allowed address", async () => {
    const { api, id } = await newSubaccount();
    const res = await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: `${base}/redirect` });
    expect(res.status, res.text).toBe(200);
    expect(res.body.logo_url).toMatch(/\.png$/);
  });

  it.each([
    ["answers too slowly", "/slow.png", /could not be downloaded: no answer within 500 ms/],
    [
      "is too large (Content-Length)",
      "/large.png",
      new RegExp(`could not be downloaded: the answer is larger than ${MAX_BYTES} bytes`),
    ],
    [
      "is too large (chunked)",
      "/large-chunked.png",
      new RegExp(`could not be downloaded: the answer is larger than ${MAX_BYTES} bytes`),
    ],
    [
      "is a PNG served as image/jpeg",
      "/png-said-jpeg",
      /gave no logo: what it serves is a PNG image, but its Content-Type says 'image\/jpeg'/,
    ],
    ["is HTML", "/html", /gave no logo: what it serves has the Content-Type 'text\/html'; it must be a PNG/],
    ["has no Content-Type", "/no-type", /has no Content-Type/],
    ["is a GIF", "/gif", /the Content-Type 'image\/gif'/],
    ["answers 404", "/missing", /could not be downloaded: the server answered HTTP 404/],
    ["redirects in a loop", "/redirect-loop", /could not be downloaded: more than 3 redirects/],
  ])("a URL that %s is 400 invalid-parameters naming logo_url, and the logo stays", async (_label, path, reason) => {
    const { api, id } = await newSubaccount();
    const before = await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: `${base}/logo.png` });
    const res = await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: base + path });
    expectInvalid(res, "logo_url");
    expect(res.body.errors.logo_url).toHaveLength(1);
    expect(res.body.errors.logo_url[0]).toMatch(reason);
    expect((await api("GET", `/v1/subaccounts/${id}`)).body.logo_url).toBe(before.body.logo_url);
  });

  it.each([
    ["ftp", "ftp://127.0.0.1/logo.png"],
    ["a relative URL", "/logo.png"],
    ["a number", 42],
  ])("a logo_url that is %s is 400 before any download", async (_label, logoUrl) => {
    const { api, id } = await newSubaccount();
    expectInvalid(await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: logoUrl }), "logo_url");
    expectInvalid(await api("POST", `/v1/subaccounts/${id}/logo`, {}), "logo_url");
  });

  it("an SVG carrying script is kept, and served so that no script in it can run", async () => {
    const { api, id } = await newSubaccount();
    const res = await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: `${base}/script.svg` });
    expect(res.status, res.text).toBe(200);
    const file = await served(res.body.logo_url);
    expect(file.headers.get("content-type")).toBe("image/svg+xml");
    expect(file.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'unsafe-inline'; sandbox");
    expect(file.headers.get("content-disposition")).toBe("inline");
    expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Buffer.from(await file.arrayBuffer())).toEqual(SCRIPT_SVG);
  });
});

describe("re-hosted logo files", () => {
  it("answer 304 to their ETag, 404 for unknown and malformed names", async () => {
    const { api, id } = await newSubaccount();
    const { logo_url } = (await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: `${base}/logo.png` })).body;
    const etag = (await served(logo_url)).headers.get("etag")!;
    expect(etag).toMatch(/^"/);
    const again = await fetch(t.url + new URL(logo_url).pathname, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    for (const name of ["AAAAAAAAAAAAAAAA.png", "x.png", "../etc/passwd", new URL(logo_url).pathname.slice(7, -4)]) {
      const res = await fetch(`${t.url}/logos/${name}`);
      expect(res.status, name).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    }
  });

  it("are served by every instance on the store (the bytes live in it)", async () => {
    const { key, id } = await newSubaccount();
    const { logo_url } = (await upload(key, id, WEBP, "image/webp")).body;
    const other = await buildApp({ config: t.config, db: t.db });
    try {
      const url = await other.listen({ host: "127.0.0.1", port: 0 });
      const file = await fetch(url + new URL(logo_url).pathname);
      expect(file.status).toBe(200);
      expect(file.headers.get("content-type")).toBe("image/webp");
      expect(Buffer.from(await file.arrayBuffer())).toEqual(WEBP);
    } finally {
      await other.close();
    }
  });

  it("a replaced or removed logo's file is gone; the new one is at a new URL", async () => {
    const { api, id } = await newSubaccount();
    const first = (await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: `${base}/logo.png` })).body.logo_url;
    const second = (await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: `${base}/logo.svg` })).body.logo_url;
    expect(second).not.toBe(first);
    expect((await served(first)).status).toBe(404);
    expect((await served(second)).status).toBe(200);
    const removed = await api("DELETE", `/v1/subaccounts/${id}/logo`);
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body).toMatchObject({ id, logo_url: null });
    expect((await served(second)).status).toBe(404);
  });
});

describe("uploading a logo (PUT with the image bytes)", () => {
  it.each([
    ["image/png", PNG],
    ["image/jpeg", JPEG],
    ["image/webp", WEBP],
    ["image/svg+xml", SVG],
  ])("%s is stored and re-hosted", async (type, bytes) => {
    const { key, id } = await newSubaccount();
    const res = await upload(key, id, bytes, type);
    expect(res.status, res.text).toBe(200);
    expect(res.body.logo_url).toMatch(LOGO_URL);
    const file = await served(res.body.logo_url);
    expect(file.headers.get("content-type")).toBe(type);
    expect(Buffer.from(await file.arrayBuffer())).toEqual(bytes);
  });

  it("JSON (the SDK's default Content-Type), another type or none is 400 naming Content-Type", async () => {
    const { key, id } = await newSubaccount();
    for (const type of ["application/json", "application/octet-stream", "image/gif", "text/plain"]) {
      const res = await upload(key, id, PNG, type);
      expectInvalid(res, "content-type");
    }
    expectInvalid(await upload(key, id, PNG), "content-type");
  });

  it("bytes that are not the type they are sent as are 400 naming logo", async () => {
    const { key, id } = await newSubaccount();
    const res = await upload(key, id, PNG, "image/svg+xml");
    expectInvalid(res, "logo");
    expect(res.body.errors.logo[0]).toMatch(/PNG image, but its Content-Type says 'image\/svg\+xml'/);
    expectInvalid(await upload(key, id, Buffer.from("hello"), "image/png"), "logo");
    expectInvalid(await upload(key, id, "", "image/png"), "body");
  });

  it("an image over LOGO_MAX_BYTES is 413", async () => {
    const { key, id } = await newSubaccount();
    const res = await upload(key, id, Buffer.concat([PNG, Buffer.alloc(MAX_BYTES)]), "image/png");
    expectProblem(res, 413, "payload-too-large");
  });

  it("PUT /v1/subaccounts/{id} keeps the logo, even when a logo_url is sent", async () => {
    const { api, key, id } = await newSubaccount();
    const { logo_url } = (await upload(key, id, PNG, "image/png")).body;
    const hits = images.hits.length;
    const res = await api("PUT", `/v1/subaccounts/${id}`, { name: "Renamed", logo_url: `${base}/logo.svg` });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ name: "Renamed", logo_url });
    expect((await api("GET", `/v1/subaccounts/${id}`)).body.logo_url).toBe(logo_url);
    expect((await served(logo_url)).status).toBe(200);
    expect(images.hits.length).toBe(hits);
  });
});

describe("logo tenancy", () => {
  it("another account's subaccount is 404 on every logo route, and nothing is downloaded", async () => {
    const owner = await newSubaccount();
    const other = await createMerchantApi(t);
    const hitsBefore = images.hits.length;
    const checks = [
      await other.api("POST", `/v1/subaccounts/${owner.id}/logo`, { logo_url: `${base}/logo.png` }),
      await upload(other.key, owner.id, PNG, "image/png"),
      await other.api("DELETE", `/v1/subaccounts/${owner.id}/logo`),
      await other.api("POST", `/v1/subaccounts/${unknownId()}/logo`, { logo_url: `${base}/logo.png` }),
    ];
    for (const res of checks) expectProblem(res, 404, "not-found");
    expect(images.hits.length).toBe(hitsBefore);
  });

  it("another method on the logo path is 405 naming the three", async () => {
    const { api, id } = await newSubaccount();
    const res = await api("PATCH", `/v1/subaccounts/${id}/logo`, {});
    expectProblem(res, 405, "method-not-allowed");
    expect(res.headers.get("allow")?.split(/,\s*/).sort()).toEqual(["DELETE", "POST", "PUT"]);
  });

  it("the logo routes need a key", async () => {
    const { id } = await newSubaccount();
    const anonymous = apiClient(t.url);
    expect((await anonymous("POST", `/v1/subaccounts/${id}/logo`, { logo_url: `${base}/logo.png` })).status).toBe(401);
    expect((await anonymous("DELETE", `/v1/subaccounts/${id}/logo`)).status).toBe(401);
  });
});

describe("the hosted page shows the re-hosted logo", () => {
  it("as an <img> from PUBLIC_URL, which its Content-Security-Policy allows", async () => {
    const { api, key, id } = await newSubaccount();
    const { logo_url } = (await upload(key, id, SVG, "image/svg+xml")).body;
    const session = await api("POST", "/v1/checkout/sessions", sessionParams(), { "x-subaccount-id": id });
    expect(session.status, session.text).toBe(201);
    const page = await fetch(`${t.url}/pay/${session.body.id}`);
    const html = await page.text();
    expect(html).toContain(`<img class="logo" src="${logo_url}"`);
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain(`img-src 'self' ${TEST_PUBLIC_URL} data:`);
    expect(csp).not.toContain("https:;");
  });
});

describe("deleting a subaccount", () => {
  it("with orders is 409 conflict and keeps it; without orders is 204", async () => {
    const { api, id } = await newSubaccount();
    const session = await api("POST", "/v1/checkout/sessions", sessionParams(), { "x-subaccount-id": id });
    await payForOrder(t.services, session.body.id, GOOD_CARD);
    const refused = await api("DELETE", `/v1/subaccounts/${id}`);
    expectProblem(refused, 409, "conflict");
    expect(refused.body.detail).toBe(`Subaccount '${id}' has orders and cannot be deleted`);
    expect((await api("GET", `/v1/subaccounts/${id}`)).status).toBe(200);

    const empty = await newSubaccount();
    expect((await empty.api("DELETE", `/v1/subaccounts/${empty.id}`)).status).toBe(204);
  });
});

describe("in production (LOGO_ALLOW_PRIVATE_URLS unset)", () => {
  /** An app in production mode; `trusted` makes 127.0.0.1 (only) count as public, as a CDN would be. */
  async function productionApp(trusted: boolean) {
    const { db, drop } = await createTestDatabase();
    const config = loadConfig({ NODE_ENV: "production", PORT: "0", PUBLIC_URL: TEST_PUBLIC_URL, LOG_LEVEL: "silent" });
    expect(config.logos.allowPrivateUrls).toBe(false);
    const addressKind = (address: string) =>
      trusted && address === "127.0.0.1" ? null : nonPublicAddressKind(address);
    const services = createKassaServices(db, undefined, { ...config, logos: { ...config.logos, addressKind } });
    const app = await buildApp({ config, db, services });
    const url = await app.listen({ host: "127.0.0.1", port: 0 });
    return {
      url,
      services,
      close: async () => {
        await app.close();
        await drop();
      },
    };
  }

  let strict: Awaited<ReturnType<typeof productionApp>>;
  let cdn: Awaited<ReturnType<typeof productionApp>>;
  beforeAll(async () => {
    strict = await productionApp(false);
    cdn = await productionApp(true);
  });
  afterAll(async () => {
    await strict?.close();
    await cdn?.close();
  });

  const subaccountOn = async (app: Awaited<ReturnType<typeof productionApp>>) => {
    const merchant = await createMerchantApi({ services: app.services, url: app.url });
    const id = (await merchant.api("POST", "/v1/subaccounts", { name: "Prod" })).body.id as string;
    return { ...merchant, id };
  };

  it.each([
    ["a loopback IP", () => `${base}/logo.png`, /address 127\.0\.0\.1 is loopback; only public addresses are allowed/],
    ["a name that resolves to loopback", () => `${base.replace("127.0.0.1", "localhost")}/logo.png`, /is loopback/],
    ["a private IP", () => "http://10.0.0.1/logo.png", /address 10\.0\.0\.1 is private/],
    ["an IPv4-mapped IPv6 loopback", () => "http://[::ffff:127.0.0.1]/logo.png", /is loopback/],
  ])("a logo_url on %s is refused without a request", async (_label, url, reason) => {
    const { api, id } = await subaccountOn(strict);
    const hits = images.hits.length;
    const res = await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: url() });
    expectInvalid(res, "logo_url");
    expect(res.body.errors.logo_url[0]).toMatch(reason);
    expect(images.hits.length).toBe(hits);
  });

  it("a redirect to a private or loopback address is refused (the first hop was allowed)", async () => {
    const { api, id } = await subaccountOn(cdn);
    const ok = await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: `${base}/logo.png` });
    expect(ok.status, ok.text).toBe(200);
    for (const [path, reason] of [
      ["/redirect-private", /address 10\.0\.0\.1 is private; only public addresses are allowed/],
      ["/redirect-loopback", /address 127\.0\.0\.2 is loopback/],
    ] as const) {
      const res = await api("POST", `/v1/subaccounts/${id}/logo`, { logo_url: base + path });
      expectInvalid(res, "logo_url");
      expect(res.body.errors.logo_url[0]).toMatch(reason);
      expect(images.hits).toContain(path);
    }
    expect((await api("GET", `/v1/subaccounts/${id}`)).body.logo_url).toBe(ok.body.logo_url);
  });
});
