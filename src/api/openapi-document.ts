import { buildApp } from "../app.js";
import { loadConfig } from "../config.js";
import type { Database } from "../db/database.js";
import { openApiDocumentOf } from "./docs.js";

/** The server URL written into the checked-in document (the default local address). */
const DOCUMENT_PUBLIC_URL = "http://localhost:3000";

/**
 * An OpenAPI document exactly as the server serves it for the default configuration: the main
 * one (/openapi.json, CNaught's) or a surface's own (`leanrails`: /leanrails/openapi.json).
 * Building it needs the routes, not a database, so a never-used stand-in is passed.
 */
export async function buildOpenApiDocument(surface = "main"): Promise<Record<string, unknown>> {
  const unused = new Proxy({} as Database, {
    get: (_target, property) => {
      // The services hold these to query later; building the routes never does.
      if (property === "prisma" || property === "sql" || property === "changes") return {};
      throw new Error(`the OpenAPI build touched the database (${String(property)})`);
    },
  });
  const app = await buildApp({ config: loadConfig({ PUBLIC_URL: DOCUMENT_PUBLIC_URL }), db: unused });
  await app.ready();
  try {
    return openApiDocumentOf(app, surface);
  } finally {
    await app.close();
  }
}

export const serializeDocument = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;
