import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_PUBLIC_URL, type TestApp } from "../../helpers/app.js";
import { ROOT } from "../../helpers/processes.js";
import { GATEWAY_KEY, MERCHANT_KEY, OPENCHARGE_ENV, registerParticipants, sortedJson } from "./support.js";

/**
 * The README's Opencharge section: its signing script, run as a reader would run it (node, its
 * own file, the keys in the environment), creates a session; its proof example has the fields
 * the lifecycle signs, in the canonical form the text names.
 */

const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const HEADING = "## Opencharge: Kassa as a payment gateway";

function section(): string {
  const lines = README.split("\n");
  const start = lines.findIndex((l) => l.trim() === HEADING);
  if (start < 0) throw new Error(`README.md has no "${HEADING}" section`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}
const blocks = (lang: string) =>
  [...section().matchAll(/^```([\w-]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm)].filter((m) => m[1] === lang).map((m) => m[2]!);

let t: TestApp;
let dir: string;

beforeAll(async () => {
  t = await startTestApp(OPENCHARGE_ENV);
  await registerParticipants(t);
  dir = await mkdtemp(path.join(os.tmpdir(), "kassa-oc-readme-"));
});
afterAll(async () => {
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("README: Opencharge", () => {
  it("the signing script creates a checkout session", async () => {
    const [script] = blocks("js");
    expect(script).toContain("/opencharge/checkout/create");
    const file = path.join(dir, "create.mjs");
    await writeFile(file, script!);
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      env: {
        PATH: process.env.PATH,
        KASSA_URL: t.url,
        MERCHANT_KEY: MERCHANT_KEY.privateHex,
        GATEWAY_KEY: GATEWAY_KEY.privateHex,
      },
      timeout: 30_000,
    });
    const [status, ...rest] = stdout.trim().split(" ");
    expect(status, stdout).toBe("200");
    const answer = JSON.parse(rest.join(" "));
    expect(answer.checkout_url).toBe(`${TEST_PUBLIC_URL}/pay/${answer.session_id}`);
  });

  it("the proof example has the fields Kassa signs, and its canonical form sorts nested keys", () => {
    const example = blocks("json")
      .map((b) => JSON.parse(b))
      .find((b) => b.proof);
    expect(Object.keys(example.proof).sort()).toEqual(
      ["amount", "currency", "from", "issuer", "memo", "timestamp", "to", "txid"].sort(),
    );
    expect(sortedJson(example.proof)).toContain('"to":{"ocid":600,"reference":');
  });
});
