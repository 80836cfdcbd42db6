import { createHash } from "node:crypto";
import { PDFDocument, PDFFont, StandardFonts } from "pdf-lib";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Decimal } from "../../../src/core/money/money.js";
import { createMerchantApi, startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { type CategorySeed, seedCredits } from "../../helpers/credits.js";
import { storeKind } from "../../helpers/database.js";
import { pdfText } from "./support.js";

/**
 * The public certificates of fulfilled orders, over real HTTP with no credentials: the HTML page
 * at certificate_public_url and the PDF at certificate_download_public_url.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const HOSTILE = `<img src=x onerror="alert('x')">`;

const twoCategories = (): CategorySeed[] => [
  {
    name: "Removal",
    fraction: "0.6",
    projects: [
      {
        name: "Kelp Restoration",
        type: "Ocean",
        details: {
          locationName: "Nowhere Bay",
          registryName: "Example Registry",
          registryUrl: "https://registry.example/projects/kelp",
        },
        issuances: [{ vintage: 2021, tonnes: "10", serialPrefix: "EXR-KELP-2021" }],
      },
    ],
  },
  {
    name: "Forests",
    fraction: "0.4",
    projects: [
      {
        name: `Forest ${HOSTILE}`,
        issuances: [{ vintage: 2019, tonnes: "10", serialPrefix: null }],
      },
    ],
  },
];

/** A merchant's order (placed through the API, for a subaccount unless told otherwise), then fulfilled. */
async function fulfilledOrder(opts: { subaccountName?: string | null; description?: string | null } = {}) {
  const m = await createMerchantApi(t);
  await seedCredits(t.services, m.portfolio!.id, twoCategories());
  const headers: Record<string, string> = {};
  if (opts.subaccountName !== null) {
    const sub = await m.api("POST", "/v1/subaccounts", { name: opts.subaccountName ?? "Green Leaf Coffee" });
    expect(sub.status, sub.text).toBe(201);
    headers["x-subaccount-id"] = sub.body.id;
  }
  const placed = await m.api(
    "POST",
    "/v1/orders",
    { amount_kg: 1250.5, description: opts.description === undefined ? "Offset for order #1042" : opts.description },
    headers,
  );
  expect(placed.status, placed.text).toBe(201);
  await t.services.orders.fulfill(placed.body.id);
  const order = (await m.api("GET", `/v1/orders/${placed.body.id}`, undefined, headers)).body;
  return { ...m, order };
}

/** The path of one of Kassa's URLs (they are under PUBLIC_URL; the test server listens elsewhere). */
const pathOf = (url: string) => {
  expect(url.startsWith(`${TEST_PUBLIC_URL}/certificates/`)).toBe(true);
  return url.slice(TEST_PUBLIC_URL.length);
};

async function get(path: string, init: RequestInit = {}) {
  const response = await fetch(t.url + path, init);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body, text: body.toString("utf8") };
}

function expectPageHeaders(headers: Headers) {
  expect(headers.get("content-type")).toBe("text/html; charset=utf-8");
  const csp = headers.get("content-security-policy")!;
  expect(csp).toMatch(/default-src 'none'/);
  expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/]+=*'/);
  expect(csp).not.toMatch(/script-src|unsafe-inline/);
  expect(csp).toMatch(/frame-ancestors 'none'/);
  expect(headers.get("x-content-type-options")).toBe("nosniff");
  expect(headers.get("x-frame-options")).toBe("DENY");
  expect(headers.get("referrer-policy")).toBe("no-referrer");
  expect(headers.get("strict-transport-security")).toBe("max-age=31536000"); // PUBLIC_URL is https
}

describe(`GET /certificates/:orderId (${storeKind})`, () => {
  it("shows buyer, description, kg, order number, date and each project with its kg and retirements, escaped", async () => {
    const { order } = await fulfilledOrder({ subaccountName: `Café ${HOSTILE}`, description: `Trip <b>&</b> "more"` });
    expect(order.certificate_public_url).toBe(`${TEST_PUBLIC_URL}/certificates/${order.id}`);
    const [kelp, forest] = order.project_allocations;
    expect([kelp.amount_kg, forest.amount_kg]).toEqual([750.3, 500.2]);

    const res = await get(pathOf(order.certificate_public_url));
    expect(res.status).toBe(200);
    expectPageHeaders(res.headers);
    const html = res.text;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    // The buyer is the subaccount; every merchant-given text is escaped.
    expect(html).toContain(`<h1 id="buyer">Café &lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;</h1>`);
    expect(html).toContain(`<p class="description">Trip &lt;b&gt;&amp;&lt;/b&gt; &quot;more&quot;</p>`);
    expect(html).not.toContain("<img");
    expect(html).not.toContain("<b>");
    expect(html).toContain("<strong>1,250.5 kg</strong> CO₂e retired");
    expect(html).toContain("(1.2505 tonnes)");
    expect(html).toContain(`<dt>Order number</dt><dd>${order.order_number}</dd>`);
    const year = new Date().getUTCFullYear();
    expect(html).toMatch(new RegExp(`<time datetime="${year}-[^"]+">\\d{1,2} \\w+ ${year}</time>`));
    // The projects: linked to their registry page when it is a web address, with kg, vintage and serial numbers.
    expect(html).toContain(
      '<a href="https://registry.example/projects/kelp" rel="noopener noreferrer">Kelp Restoration</a>',
    );
    expect(html).toContain("Ocean · Nowhere Bay · Example Registry");
    expect(html).toContain("<dd>750.3 kg CO₂e</dd>");
    expect(html).toContain("<dd>2021</dd>");
    expect(html).toContain("Serial numbers <code>EXR-KELP-2021-1-750300000</code>");
    expect(html).toContain("registry record</a>");
    expect(html).toContain(`<h3>Forest &lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;</h3>`);
    expect(html).toContain("<dd>500.2 kg CO₂e</dd>");
    expect(html).toContain(`<a class="button" href="/certificates/${order.id}.pdf" download>Download PDF</a>`);
    // The inline stylesheet is the one the policy names.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(res.headers.get("content-security-policy")).toContain(
      `'sha256-${createHash("sha256").update(style).digest("base64")}'`,
    );
  });

  it("names the account when the order has no subaccount, and leaves out a missing description", async () => {
    const { order, account } = await fulfilledOrder({ subaccountName: null, description: null });
    const res = await get(pathOf(order.certificate_public_url));
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<h1 id="buyer">${account.name}</h1>`);
    expect(res.text).not.toContain('class="description"');
  });

  it("answers HEAD like GET, without a body; other methods are 405", async () => {
    const { order } = await fulfilledOrder();
    const head = await get(pathOf(order.certificate_public_url), { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(head.body.length).toBe(0);
    const post = await get(pathOf(order.certificate_public_url), { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toContain("GET");
    expectPageHeaders(post.headers);
  });
});

describe(`GET /certificates/:orderId.pdf (${storeKind})`, () => {
  it("is a PDF with the page's content, which a PDF library can load", async () => {
    const { order } = await fulfilledOrder({ subaccountName: "Green Leaf Coffee" });
    expect(order.certificate_download_public_url).toBe(`${TEST_PUBLIC_URL}/certificates/${order.id}.pdf`);
    const res = await get(pathOf(order.certificate_download_public_url));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    expect(res.headers.get("content-disposition")).toBe(`inline; filename="certificate-${order.order_number}.pdf"`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.body.subarray(0, 5).toString("latin1")).toBe("%PDF-");

    const doc = await PDFDocument.load(res.body);
    expect(doc.getPageCount()).toBe(1);
    expect(doc.getTitle()).toBe(`Certificate of carbon credit retirement, order ${order.order_number}`);
    const text = pdfText(res.body);
    for (const line of [
      "Green Leaf Coffee",
      "1,250.5 kg CO2e retired (1.2505 tonnes)",
      "Offset for order #1042",
      `Order number ${order.order_number}`,
      "Kelp Restoration",
      "Retired: 750.3 kg CO2e - Vintage: 2021",
      "Serial numbers EXR-KELP-2021-1-750300000",
      "Registry: https://registry.example/projects/kelp",
      "Retired: 500.2 kg CO2e - Vintage: 2019",
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/Retired on \d{1,2} \w+ \d{4}/);
    // Drawn from the order alone (its dates are the retirement's): the same bytes every time.
    expect((await get(pathOf(order.certificate_download_public_url))).body.equals(res.body)).toBe(true);
  });

  it("draws what its fonts cannot show as '?', and runs onto more pages when the projects need them", async () => {
    const m = await createMerchantApi(t);
    // Twenty projects in one category, 1 kg each, with long serial prefixes to wrap.
    const [category] = await seedCredits(t.services, m.portfolio!.id, [
      {
        name: "Many",
        fraction: "1",
        projects: Array.from({ length: 20 }, (_, i) => ({
          name: `Project ${i + 1}`,
          issuances: [{ vintage: 2020, tonnes: "1", serialPrefix: `${"LONG-SERIAL-PREFIX-".repeat(6)}${i}` }],
        })),
      },
    ]);
    const sub = await m.api("POST", "/v1/subaccounts", { name: "東京 Café" });
    const placed = await m.api("POST", "/v1/orders", { amount_kg: 20 }, { "x-subaccount-id": sub.body.id });
    await t.services.orders.fulfill(placed.body.id, {
      allocation: category!.projects.map((p) => ({ projectId: p.id, amountKg: new Decimal(1) })),
    });
    const res = await get(`/certificates/${placed.body.id}.pdf`);
    expect(res.status).toBe(200);
    const doc = await PDFDocument.load(res.body);
    expect(doc.getPageCount()).toBeGreaterThan(1);
    const text = pdfText(res.body);
    expect(text).toContain("?? Café");
    expect(text).toContain("Project 20");
    // Every line fits the page: the long serial ranges were wrapped.
    for (const page of doc.getPages()) expect(page.getWidth()).toBeCloseTo(595.28, 1);
    expect(text.split("\n").every((line) => line.length < 100)).toBe(true);
    const html = await get(`/certificates/${placed.body.id}`);
    expect(html.text).toContain("東京 Café");
  });
});

/** `length` characters without a space, none repeating its neighbour's pattern for long. */
const unbroken = (prefix: string, length: number) =>
  prefix +
  Array.from(
    { length: length - prefix.length },
    (_, i) => "abcdefghijklmnopqrstuvwxyz0123456789-._~"[(i * 7 + (i >> 5)) % 40],
  ).join("");

describe(`a certificate of the longest names and URLs the catalogue and the API take (${storeKind})`, () => {
  /** A4 less two 56-point margins, as the certificate lays it out. */
  const TEXT_WIDTH = 595.28 - 2 * 56;

  it("wraps unbroken names, descriptions and 2,048-character registry URLs inside the page, every character kept in order, each measured a bounded number of times", async () => {
    const m = await createMerchantApi(t);
    const projects = Array.from({ length: 10 }, (_, i) => ({
      name: unbroken(`P${i}`, 256),
      details: {
        registryName: unbroken(`R${i}`, 512),
        registryUrl: unbroken(`https://registry.example/${i}/`, 2048),
      },
      issuances: [{ vintage: 2020, tonnes: "1", serialPrefix: null }],
    }));
    const [category] = await seedCredits(t.services, m.portfolio!.id, [{ name: "Long", fraction: "1", projects }]);
    const buyer = unbroken("B", 256);
    const description = unbroken("D", 512);
    const sub = await m.api("POST", "/v1/subaccounts", { name: buyer });
    expect(sub.status, sub.text).toBe(201);
    const placed = await m.api(
      "POST",
      "/v1/orders",
      { amount_kg: 10, description },
      { "x-subaccount-id": sub.body.id },
    );
    expect(placed.status, placed.text).toBe(201);
    await t.services.orders.fulfill(placed.body.id, {
      allocation: category!.projects.map((p) => ({ projectId: p.id, amountKg: new Decimal(1) })),
    });

    const measure = vi.spyOn(PDFFont.prototype, "widthOfTextAtSize");
    let res: Awaited<ReturnType<typeof get>>;
    let measured: number;
    try {
      res = await get(`/certificates/${placed.body.id}.pdf`);
      measured = measure.mock.calls.length;
    } finally {
      measure.mockRestore();
    }
    expect(res.status).toBe(200);
    const lines = pdfText(res.body).split("\n");
    const drawn = lines.join("").length;
    // Each character is measured at most twice (alone and with the one before it), however long
    // its word: a cut searched by shortening the line a character at a time measures quadratically.
    expect(measured).toBeLessThanOrEqual(2 * drawn);

    const fonts = await PDFDocument.create();
    const bold = await fonts.embedFont(StandardFonts.HelveticaBold);
    const regular = await fonts.embedFont(StandardFonts.Helvetica);
    /**
     * The lines `text` was drawn on: they start a line, spell it out in order and each fits the
     * page, and each but the last is full (it would overflow with the next line's first character).
     */
    const expectWrapped = (text: string, font: PDFFont, size: number) => {
      const start = lines.findIndex((line) => line.length > 0 && text.startsWith(line));
      expect(start, text.slice(0, 40)).toBeGreaterThanOrEqual(0);
      const spelt: string[] = [];
      let joined = "";
      for (let i = start; i < lines.length && joined.length < text.length; i++) {
        spelt.push(lines[i]!);
        joined += lines[i];
      }
      expect(joined).toBe(text);
      expect(spelt.length).toBeGreaterThan(1);
      for (const line of spelt) expect(font.widthOfTextAtSize(line, size)).toBeLessThanOrEqual(TEXT_WIDTH);
      for (let i = 0; i < spelt.length - 1; i++)
        expect(font.widthOfTextAtSize(spelt[i]! + spelt[i + 1]![0], size)).toBeGreaterThan(TEXT_WIDTH);
    };
    expectWrapped(buyer, bold, 24);
    expectWrapped(description, regular, 11);
    for (const p of projects) {
      expectWrapped(p.name, bold, 12);
      expectWrapped(p.details.registryName, regular, 10);
      expectWrapped(p.details.registryUrl, regular, 9);
    }
  });
});

describe(`a certificate exists only while its order is fulfilled (${storeKind})`, () => {
  async function expectNotFound(path: string) {
    const res = await get(path);
    expect(res.status, path).toBe(404);
    expectPageHeaders(res.headers);
    expect(res.text).toContain("<h1>Certificate not found</h1>");
    expect(res.text).not.toMatch(/prisma|stack|Error:/i);
  }

  it("an unknown id, a placed order and a cancelled one answer 404 pages, for the page and the PDF alike", async () => {
    const { api, order } = await fulfilledOrder();
    const placed = (await api("POST", "/v1/orders", { amount_kg: 1 })).body;
    const cancelled = await api("POST", `/v1/orders/${order.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ certificate_public_url: null, certificate_download_public_url: null });
    for (const id of ["NoSuchOrdr", placed.id, order.id]) {
      await expectNotFound(`/certificates/${id}`);
      await expectNotFound(`/certificates/${id}.pdf`);
    }
  });

  it("paths that are no certificate answer 404 pages, never an error", async () => {
    for (const path of [
      "/certificates/",
      "/certificates/.pdf",
      "/certificates/a%2Fb",
      "/certificates/%3Cscript%3E",
      `/certificates/${"x".repeat(65)}`,
      "/certificates/abc/def",
      "/certificates/abc.pdf.pdf",
    ]) {
      await expectNotFound(path);
    }
    const malformed = await get("/certificates/%E0%A4%A");
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(malformed.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe(`the certificates' per-address limit (${storeKind})`, () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({ RATE_LIMIT_MAX: "3", RATE_LIMIT_WINDOW_MS: "60000" });
  });
  afterAll(() => limited?.close());

  it("counts every request, found or not, against its client address; past the limit a 429 page with Retry-After and RateLimit headers", async () => {
    const m = await createMerchantApi(limited);
    await seedCredits(limited.services, m.portfolio!.id, twoCategories());
    const placed = await m.api("POST", "/v1/orders", { amount_kg: 10 });
    expect(placed.status, placed.text).toBe(201);
    await limited.services.orders.fulfill(placed.body.id);

    const answers: Response[] = [];
    for (const path of [placed.body.id, `${placed.body.id}.pdf`, "NoSuchOrdr", `${placed.body.id}.pdf`]) {
      const response = await fetch(`${limited.url}/certificates/${path}`);
      await response.arrayBuffer();
      answers.push(response);
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 429]);
    expect(answers.map((a) => a.headers.get("ratelimit-remaining"))).toEqual(["2", "1", "0", "0"]);
    const refused = answers[3]!;
    expectPageHeaders(refused.headers);
    expect(refused.headers.get("ratelimit-limit")).toBe("3");
    expect(Number(refused.headers.get("ratelimit-reset"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const again = await fetch(`${limited.url}/certificates/${placed.body.id}`);
    expect(again.status).toBe(429);
    expect(await again.text()).toContain("<h1>Too many requests</h1>");
  });
});
