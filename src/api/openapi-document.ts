import { buildApp } from "../app.js";
import { createKassaServices, openchargeOf } from "../composition.js";
import { loadConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { openApiDocumentOf } from "./docs.js";
import { generatePrivateKey } from "./opencharge/keys.js";

/** The server URL written into the checked-in document (the default local address). */
const DOCUMENT_PUBLIC_URL = "http://localhost:3000";

/**
 * What a surface needs set to be served at all: Opencharge is off without an OCID (the tests'
 * 900; its base path stays the default /opencharge). The document names neither OCID nor key.
 */
const SURFACE_ENV: Record<string, Record<string, string>> = { opencharge: { OPENCHARGE_OCID: "900" } };

/**
 * An OpenAPI document exactly as the server serves it for the default configuration: the main
 * one (/openapi.json, CNaught's) or a surface's own (`leanrails`: /leanrails/openapi.json;
 * `opencharge`: /opencharge/openapi.json, with an OCID set). Building it needs the routes, not a
 * database, so a never-used stand-in is passed.
 */
export async function buildOpenApiDocument(surface = "main"): Promise<Record<string, unknown>> {
  const unused = new Proxy({} as Database, {
    get: (_target, property) => {
      // The services hold these to query later; building the routes never does.
      if (property === "prisma" || property === "sql" || property === "changes") return {};
      throw new Error(`the OpenAPI build touched the database (${String(property)})`);
    },
  });
  const config = loadConfig({ PUBLIC_URL: DOCUMENT_PUBLIC_URL, ...SURFACE_ENV[surface] });
  const services = createKassaServices(unused, undefined, config);
  const opencharge = openchargeOf(services);
  if (opencharge) {
    // Kassa's Opencharge key and account live in the store; the routes only need them to exist.
    const key = generatePrivateKey();
    const identity = { ocid: config.opencharge.ocid ?? "", key, publicKey: key.publicKey.hex, accountId: "unused" };
    opencharge.identity = async () => identity;
  }
  const app = await buildApp({ config, db: unused, services });
  await app.ready();
  try {
    return openApiDocumentOf(app, surface);
  } finally {
    await app.close();
  }
}

export const serializeDocument = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;
