import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApiDocument, serializeDocument } from "../../../src/api/openapi-document.js";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { OPENCHARGE_ENV } from "./support.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(OPENCHARGE_ENV);
});
afterAll(() => t?.close());

type Doc = { paths: Record<string, Record<string, any>>; components: Record<string, any> } & Record<string, any>;

const fetchDoc = async (path: string, url = t.url) => {
  const response = await fetch(url + path);
  expect(response.status).toBe(200);
  return (await response.json()) as Doc;
};

const ERROR_REF = { $ref: "#/components/schemas/OpenchargeError" };

describe("Opencharge OpenAPI document", () => {
  it("checked-in openapi/opencharge.json is what the code generates (run `npm run openapi` when this fails)", async () => {
    const checkedIn = await readFile(new URL("../../../openapi/opencharge.json", import.meta.url), "utf8");
    expect(checkedIn).toBe(serializeDocument(await buildOpenApiDocument("opencharge")));
  });

  it("is served at /opencharge/openapi.json with the three routes, their signed headers, bodies and errors", async () => {
    const doc = await fetchDoc("/opencharge/openapi.json");
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: TEST_PUBLIC_URL }]);
    expect(doc.security).toEqual([]);
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/opencharge/capabilities",
      "/opencharge/checkout/create",
      "/opencharge/metadata.json",
    ]);
    const metadata = doc.paths["/opencharge/metadata.json"]!.get;
    expect(metadata.parameters).toBeUndefined(); // public: no signature
    expect(metadata.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/OpenchargeMetadata",
    });

    const signedHeaders = ["x-oc-id", "x-oc-timestamp", "x-oc-nonce", "x-oc-signature"];
    const create = doc.paths["/opencharge/checkout/create"]!.post;
    expect(create.operationId).toBe("createCheckout");
    for (const op of [create, doc.paths["/opencharge/capabilities"]!.get]) {
      const headers = op.parameters.filter((p: { in: string }) => p.in === "header");
      expect(headers.map((p: { name: string }) => p.name)).toEqual(signedHeaders);
      expect(headers.every((p: { required: boolean }) => p.required)).toBe(true);
      expect(op.responses["401"].content["application/json"].schema).toEqual(ERROR_REF);
    }
    expect(create.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/OpenchargeCheckoutCreateRequest",
    });
    expect(create.responses["200"].content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/OpenchargeCheckoutCreateResponse",
    });
    for (const status of ["400", "401", "413", "429"])
      expect(create.responses[status].content["application/json"].schema).toEqual(ERROR_REF);

    const { schemas } = doc.components;
    expect([...schemas.OpenchargeCheckoutCreateRequest.required].sort()).toEqual(
      ["merchantOcid", "order", "signature", "urls"].sort(),
    );
    expect(schemas.OpenchargeCheckoutCreateRequest.properties.order).toEqual({
      $ref: "#/components/schemas/OpenchargeOrder",
    });
    expect([...schemas.OpenchargeOrder.required].sort()).toEqual(["amount", "createdAt", "currency", "id", "ocid"]);
    expect(schemas.OpenchargeOrder.properties.amount.pattern).toBeDefined();
    expect(schemas.OpenchargeError.properties.error.required).toEqual(["code", "message"]);
    expect(schemas.OpenchargeError.properties.error.properties.code.enum).toEqual(
      expect.arrayContaining([
        "INVALID_SIGNATURE",
        "TIMESTAMP_EXPIRED",
        "NONCE_REUSED",
        "UNKNOWN_OCID",
        "INVALID_ORDER",
      ]),
    );
    const exported = await buildOpenApiDocument("opencharge");
    expect({ ...doc, servers: null }).toEqual({ ...exported, servers: null });
  });

  it("describes what the routes answer: a real metadata document and error fit their schemas' keys", async () => {
    const doc = await fetchDoc("/opencharge/openapi.json");
    const { schemas } = doc.components;
    const metadata = (await (await fetch(`${t.url}/opencharge/metadata.json`)).json()) as Record<string, any>;
    expect(Object.keys(metadata).sort()).toEqual(Object.keys(schemas.OpenchargeMetadata.properties).sort());
    expect(Object.keys(metadata.config).sort()).toEqual(
      Object.keys(schemas.OpenchargeMetadataConfig.properties).sort(),
    );
    expect(metadata.signature).toMatch(new RegExp(schemas.OpenchargeMetadata.properties.signature.pattern));
    expect(metadata.config.publicKey).toMatch(
      new RegExp(schemas.OpenchargeMetadataConfig.properties.publicKey.pattern),
    );
    const refused = (await (await fetch(`${t.url}/opencharge/capabilities`)).json()) as Record<string, any>;
    expect(schemas.OpenchargeError.properties.error.properties.code.enum).toContain(refused.error.code);
  });

  it("shares no schema name with the CNaught document, which lists no Opencharge path", async () => {
    const opencharge = await fetchDoc("/opencharge/openapi.json");
    const cnaught = await fetchDoc("/openapi.json");
    const names = Object.keys(opencharge.components.schemas);
    expect(names.every((name) => name.startsWith("Opencharge"))).toBe(true);
    expect(names.filter((name) => name in cnaught.components.schemas)).toEqual([]);
    expect(Object.keys(cnaught.paths).filter((p) => p.startsWith("/opencharge"))).toEqual([]);
    expect(cnaught.paths["/v1/checkout/sessions"]!.post.operationId).toBe("CreateCheckoutSession");
  });

  it("/docs offers the Opencharge document beside CNaught's", async () => {
    const initializer = await fetch(`${t.url}/docs/static/swagger-initializer.js`);
    expect(initializer.status).toBe(200);
    const script = await initializer.text();
    expect(script).toContain('"url":"/openapi.json","name":"CNaught"');
    expect(script).toContain('"url":"/opencharge/openapi.json","name":"Opencharge"');
  });

  it("moves with OPENCHARGE_BASE_PATH, and is not served while Opencharge is off", async () => {
    const moved = await startTestApp({ ...OPENCHARGE_ENV, OPENCHARGE_BASE_PATH: "/oc/v0" });
    const off = await startTestApp();
    try {
      const doc = await fetchDoc("/oc/v0/openapi.json", moved.url);
      expect(Object.keys(doc.paths).sort()).toEqual([
        "/oc/v0/capabilities",
        "/oc/v0/checkout/create",
        "/oc/v0/metadata.json",
      ]);
      expect((await fetch(`${moved.url}/opencharge/openapi.json`)).status).toBe(404);
      expect((await fetch(`${off.url}/opencharge/openapi.json`)).status).toBe(404);
      const script = await (await fetch(`${off.url}/docs/static/swagger-initializer.js`)).text();
      expect(script).not.toContain("opencharge");
    } finally {
      await moved.close();
      await off.close();
    }
  });
});
