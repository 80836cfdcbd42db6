import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument, serializeDocument } from "../../../src/api/openapi-document.js";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

type Doc = { paths: Record<string, Record<string, any>>; components: Record<string, any> } & Record<string, any>;

const fetchDoc = async (path: string) => {
  const response = await fetch(t.url + path);
  expect(response.status).toBe(200);
  return (await response.json()) as Doc;
};

describe("LeanRails OpenAPI document", () => {
  it("checked-in openapi/leanrails.json is what the code generates (run `npm run openapi` when this fails)", async () => {
    const checkedIn = await readFile(new URL("../../../openapi/leanrails.json", import.meta.url), "utf8");
    expect(checkedIn).toBe(serializeDocument(await buildOpenApiDocument("leanrails")));
  });

  it("is served at /leanrails/openapi.json with LeanRails' paths, Basic auth and no CNaught route", async () => {
    const doc = await fetchDoc("/leanrails/openapi.json");
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: TEST_PUBLIC_URL }]);
    expect(doc.components.securitySchemes).toEqual({ BasicAuth: { type: "http", scheme: "basic" } });
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/v1/checkout_sessions",
      "/v1/checkout_sessions/{id}",
      "/v1/checkout_sessions/{id}/expire",
      "/v1/checkout_sessions/{id}/line_items",
      "/v1/events",
      "/v1/events/{id}",
      "/v1/prices",
      "/v1/prices/{id}",
      "/v1/products",
      "/v1/products/{id}",
      "/v1/webhook_endpoints",
      "/v1/webhook_endpoints/{id}",
    ]);
    const create = doc.paths["/v1/checkout_sessions"]!.post;
    expect(create.operationId).toBe("CreateCheckoutSession");
    const key = create.parameters.find((p: { name: string }) => p.name === "idempotency-key");
    expect(key).toMatchObject({ in: "header", required: true, schema: { maxLength: 255 } });
    expect(create.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/LeanRailsCheckoutSession",
    });
    expect(create.responses["422"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/LeanRailsError",
    });
    const exported = await buildOpenApiDocument("leanrails");
    expect({ ...doc, servers: null }).toEqual({ ...exported, servers: null });
  });

  it("shares no schema name with the CNaught document, which keeps /openapi.json and lists no LeanRails path", async () => {
    const leanrails = await fetchDoc("/leanrails/openapi.json");
    const cnaught = await fetchDoc("/openapi.json");
    const shared = Object.keys(leanrails.components.schemas).filter((name) => name in cnaught.components.schemas);
    expect(shared).toEqual([]);
    expect(Object.keys(cnaught.paths).filter((p) => p.includes("checkout_sessions"))).toEqual([]);
    expect(cnaught.paths["/v1/checkout/sessions"]!.post.operationId).toBe("CreateCheckoutSession");
    expect(cnaught.components.securitySchemes).toEqual({ ApiKey: { type: "http", scheme: "bearer" } });
  });

  it("/docs offers both documents", async () => {
    const page = await fetch(`${t.url}/docs/`);
    expect(page.status).toBe(200);
    const initializer = await fetch(`${t.url}/docs/static/swagger-initializer.js`);
    expect(initializer.status).toBe(200);
    const script = await initializer.text();
    expect(script).toContain('"url":"/openapi.json","name":"CNaught"');
    expect(script).toContain('"url":"/leanrails/openapi.json","name":"LeanRails"');
  });
});
