// Writes the OpenAPI document to openapi/openapi.json (`npm run openapi`).
// test/api/openapi.test.ts fails when the checked-in copy is stale.
import { writeFile } from "node:fs/promises";
import { buildOpenApiDocument, serializeDocument } from "../src/api/openapi-document.js";

const target = new URL("../openapi/openapi.json", import.meta.url);
await writeFile(target, serializeDocument(await buildOpenApiDocument()));
process.stdout.write(`wrote ${target.pathname}\n`);
