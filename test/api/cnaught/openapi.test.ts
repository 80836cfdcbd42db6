import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument, serializeDocument } from "../../../src/api/openapi-document.js";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("OpenAPI document", () => {
  it("checked-in openapi/openapi.json is what the code generates (run `npm run openapi` when this fails)", async () => {
    const checkedIn = await readFile(new URL("../../../openapi/openapi.json", import.meta.url), "utf8");
    expect(checkedIn).toBe(serializeDocument(await buildOpenApiDocument()));
  });

  it("is served at /openapi.json as OpenAPI 3.1 with the vendor's operation ids and schema names", async () => {
    const response = await fetch(`${t.url}/openapi.json`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: TEST_PUBLIC_URL }]);
    expect(doc.paths["/v1/checkout/sessions"].post.operationId).toBe("CreateCheckoutSession");
    expect(doc.paths["/v1/checkout/sessions/{id}"].get.operationId).toBe("GetCheckoutSessionById");
    expect(doc.paths["/v1/projects/{id}"].get.operationId).toBe("GetProjectById");
    expect(doc.paths["/v1/project-categories/{id}"].get.operationId).toBe("GetProjectCategoryById");
    expect(doc.paths["/v1/projects/{id}"].get.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/ProjectWithCreditIssuances",
    });
    expect(doc.components.schemas.ProjectCategoryWithProjects.properties.projects.items).toEqual({
      $ref: "#/components/schemas/Project",
    });
    expect(doc.paths["/v1/checkout/sessions"].post.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/CheckoutSessionParams",
    });
    expect(Object.keys(doc.components.schemas.CheckoutSession.properties).sort()).toEqual(
      [
        "amount_kg",
        "cancel_url",
        "checkout_url",
        "completed_on",
        "created_on",
        "expires_on",
        "id",
        "order_description",
        "order_webhook_url",
        "portfolio_id",
        "price_usd_cents",
        "state",
        "subaccount_id",
        "success_url",
      ].sort(),
    );
    expect(doc.paths["/v1/checkout/sessions"].post.responses["400"].content["application/problem+json"]).toBeDefined();
    // Served and exported documents differ only in the server URL.
    const exported = await buildOpenApiDocument();
    expect({ ...doc, servers: null }).toEqual({ ...exported, servers: null });
  });

  it("serves interactive docs at /docs", async () => {
    const response = await fetch(`${t.url}/docs/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(await response.text()).toContain("swagger");
  });

  /** The same-origin assets a page names in <script src> and <link href>, as absolute URLs. */
  const assetsOf = (html: string, base: string) =>
    [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*\shref)="([^"]+)"/g)].map((m) => new URL(m[1]!, base).href);

  it("the docs and every asset they load carry a CSP, refuse framing and sniffing (they share /pay's origin)", async () => {
    const page = await fetch(`${t.url}/docs`);
    const html = await page.text();
    const assets = assetsOf(html, page.url);
    expect(assets.length).toBeGreaterThanOrEqual(5);
    for (const url of [page.url, `${t.url}/docs/`, ...assets]) {
      expect(new URL(url).origin, url).toBe(t.url);
      const response = await fetch(url);
      await response.arrayBuffer();
      expect(response.status, url).toBe(200);
      const csp = response.headers.get("content-security-policy") ?? "";
      expect(csp, url).toContain("default-src 'none'");
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toMatch(/script-src 'self'(;|$)/);
      expect(response.headers.get("x-frame-options"), url).toBe("DENY");
      expect(response.headers.get("x-content-type-options"), url).toBe("nosniff");
      expect(response.headers.get("referrer-policy"), url).toBe("no-referrer");
    }
    // No inline script for the policy to have to allow.
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
  });
});
