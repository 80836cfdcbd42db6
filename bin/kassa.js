#!/usr/bin/env node
// The `kassa` CLI. Runs the compiled build when there is one (Docker, `npm run build`), else the
// TypeScript source through tsx (a checkout after `npm install`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
let mod;
if (existsSync(compiled)) {
  mod = await import(compiled);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  mod = await import("../src/cli/main.ts");
}
process.exitCode = await mod.main(process.argv.slice(2));
