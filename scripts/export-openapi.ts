// Writes the OpenAPI documents to openapi/ (`npm run openapi`): openapi.json (the main one,
// CNaught's) and opencharge.json. test/api/cnaught/openapi.test.ts and
// test/api/opencharge/openapi.test.ts fail when a checked-in copy is stale.
import { writeFile } from "node:fs/promises";
import { buildOpenApiDocument, serializeDocument } from "../src/api/openapi-document.js";

for (const [surface, file] of [
  ["main", "openapi.json"],
  ["opencharge", "opencharge.json"],
] as const) {
  const target = new URL(`../openapi/${file}`, import.meta.url);
  await writeFile(target, serializeDocument(await buildOpenApiDocument(surface)));
  process.stdout.write(`wrote ${target.pathname}\n`);
}
