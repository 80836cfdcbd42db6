import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument, serializeDocument } from "../../src/api/openapi-document.js";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../helpers/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

describe("OpenAPI document", () => {
  it("checked-in openapi/openapi.json is what the code generates (run `npm run openapi` when this fails)", async () => {
    const checkedIn = await readFile(new URL("../../openapi/openapi.json", import.meta.url), "utf8");
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
});
