// Writes the OpenAPI documents to openapi/ (`npm run openapi`): openapi.json (the main one,
// CNaught's), leanrails.json and opencharge.json. The openapi tests of each API
// (test/api/<api>/openapi.test.ts) fail when a checked-in copy is stale.
import { writeFile } from "node:fs/promises";
import { buildOpenApiDocument, serializeDocument } from "../src/api/openapi-document.js";

for (const [surface, file] of [
  ["main", "openapi.json"],
  ["leanrails", "leanrails.json"],
  ["opencharge", "opencharge.json"],
] as const) {
  const target = new URL(`../openapi/${file}`, import.meta.url);
  await writeFile(target, serializeDocument(await buildOpenApiDocument(surface)));
  process.stdout.write(`wrote ${target.pathname}\n`);
}
