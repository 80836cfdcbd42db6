import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The README's examples, run verbatim: every `curl` of "The API, by example" through bash against
 * a real server (`node --import tsx src/server.ts` on a fresh embedded store), and every
 * `npx kassa` line of "Operating Kassa" (as `node bin/kassa.js`) beside it. The only edits to a
 * command are the port (`http://localhost:3000` -> the free port chosen here), the ids the README
 * tells the reader to substitute, and a `-w` to capture the HTTP status.
 */

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const README = readFileSync(path.join(ROOT, "README.md"), "utf8");
const README_PORT = "3000";
const README_BASE = `http://localhost:${README_PORT}`;
/** The session id of the README's example output; "use the `id` you got back". */
const EXAMPLE_SESSION_ID = "zpQ6QSNRQh";
const STATUS_MARKER = "\n%{http_code}";

// ---------------------------------------------------------------------------------------------
// Reading the README

/** The text of a `## ` section, from its heading to the next `## ` heading. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split("\n");
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = lines.findIndex((l, i) => i > start && l.startsWith("## "));
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

interface Block {
  lang: string;
  body: string;
}

/** The fenced code blocks of a piece of Markdown, in order. */
function codeBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```([\w-]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => ({
    lang: m[1]!,
    body: m[2]!,
  }));
}

interface ShellCommand {
  /** The command as bash sees it: backslash-newline continuations joined, comments removed. */
  text: string;
  /** The `#` comments that follow it (before the next command), e.g. its shown output. */
  comments: string[];
}

/**
 * Splits a shell block into commands the way bash reads it: a newline ends a command unless it
 * is escaped (`\` continuation, joined here) or inside quotes (a multi-line `-d '{ ... }'` body
 * stays one command); `#` at the start of a word starts a comment.
 */
function shellCommands(block: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let current = "";
  let quote: "'" | '"' | null = null;
  const finish = () => {
    const text = current.trim();
    if (text) commands.push({ text, comments: [] });
    current = "";
  };
  for (let i = 0; i < block.length; i++) {
    const ch = block[i]!;
    if (quote) {
      current += ch;
      if (ch === quote) quote = null;
      else if (quote === '"' && ch === "\\" && i + 1 < block.length) current += block[++i];
      continue;
    }
    if (ch === "\\" && block[i + 1] === "\n") {
      i++; // a line continuation: bash drops the backslash and the newline
    } else if (ch === "\\") {
      current += ch + (block[i + 1] ?? "");
      i++;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current += ch;
    } else if (ch === "#" && (current === "" || /\s$/.test(current))) {
      const end = block.indexOf("\n", i);
      const comment = block.slice(i + 1, end < 0 ? undefined : end).trim();
      i = (end < 0 ? block.length : end) - 1; // the newline itself still ends the command
      if (current.trim()) {
        finish();
        commands.at(-1)!.comments.push(comment);
      } else {
        commands.at(-1)?.comments.push(comment);
      }
    } else if (ch === "\n") {
      finish();
    } else {
      current += ch;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in README shell block:\n${block}`);
  finish();
  return commands;
}

const apiSection = section(README, "The API, by example");
const apiBlocks = codeBlocks(apiSection);
/** Each curl with the index of its block in `apiBlocks` (the block after it may show its output). */
const curlCommands = apiBlocks
  .flatMap((b, block) => (b.lang === "sh" ? shellCommands(b.body).map((c) => ({ ...c, block })) : []))
  .filter((c) => /^curl\s/.test(c.text));

const cliCommands = codeBlocks(section(README, "Operating Kassa"))
  .filter((b) => b.lang === "sh")
  .flatMap((b) => shellCommands(b.body))
  .filter((c) => /^npx kassa(\s|$)/.test(c.text));

/** "POST /v1/checkout/sessions" for a curl command (method from -X, else POST when it sends -d). */
function route(command: string): string {
  const method = /\s-X\s+([A-Z]+)/.exec(command)?.[1] ?? (/\s-d\s/.test(command) ? "POST" : "GET");
  const url = /https?:\/\/[^\s'"]+/.exec(command)?.[0];
  if (!url) throw new Error(`no URL in README command: ${command}`);
  return `${method} ${new URL(url).pathname}`;
}

// ---------------------------------------------------------------------------------------------
// Processes

const groups = new Set<ChildProcess>();
let server: ChildProcess | null = null;
let serverExited: Promise<number | null> | null = null;
let serverOutput = { stdout: "", stderr: "" };

function killEverything() {
  for (const child of groups) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (server && server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
}
// Whatever happens to the tests, no spawned process outlives this file.
process.once("exit", killEverything);

interface BashResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `bash -c script` in its own process group, killed (with everything it started) on timeout. */
function bash(script: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<BashResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", script], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    groups.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      reject(new Error(`timed out after ${timeoutMs} ms: ${script}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      groups.delete(child);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      groups.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A free loopback port P whose P + 1 (the default ADMIN_PORT) is free too. */
async function freePortPair(): Promise<number> {
  const listen = (port: number) =>
    new Promise<net.Server | null>((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(null));
      s.listen(port, "127.0.0.1", () => resolve(s));
    });
  const close = (s: net.Server) => new Promise((r) => s.close(r));
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listen(0);
    if (!first) continue;
    const port = (first.address() as net.AddressInfo).port;
    const second = port < 65535 ? await listen(port + 1) : null;
    await close(first);
    if (second) {
      await close(second);
      return port;
    }
  }
  throw new Error("found no two adjacent free ports");
}

/** The environment minus anything of ours (or a proxy) the caller's shell may have set. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(http_proxy|https_proxy|all_proxy|no_proxy)$/i.test(name)) delete env[name];
  }
  for (const name of [
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "DATA_DIR",
    "HOST",
    "PORT",
    "ADMIN_HOST",
    "ADMIN_PORT",
    "ADMIN_TOKEN",
    "PUBLIC_URL",
    "DEMO_SEED",
    "LOG_LEVEL",
    "TRUST_PROXY",
    "SHUTDOWN_TIMEOUT_MS",
    "BODY_LIMIT_BYTES",
    "KASSA_ADMIN_URL",
    "KASSA_KEY",
    "NODE_OPTIONS",
  ]) {
    delete env[name];
  }
  return { ...env, NODE_ENV: "production", ...extra };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Running the README's commands

/** What `JSON.parse` gives: the tests assert on its shape. */
type Parsed = ReturnType<typeof JSON.parse>;

interface CurlResult {
  status: number;
  headers: string;
  body: string;
  json: Parsed;
}

/** The status `-w` appended, the headers `-i` printed (if any), and the body as JSON. */
function parseCurlOutput(stdout: string, withHeaders: boolean): CurlResult {
  const cut = stdout.lastIndexOf("\n");
  const status = Number(stdout.slice(cut + 1));
  let rest = stdout.slice(0, cut);
  let headers = "";
  if (withHeaders) {
    const blank = rest.indexOf("\r\n\r\n");
    if (blank < 0) throw new Error(`no blank line after the headers in:\n${rest}`);
    headers = rest.slice(0, blank);
    rest = rest.slice(blank + 4);
  }
  let json: Parsed;
  try {
    json = rest === "" ? undefined : JSON.parse(rest);
  } catch {
    json = undefined;
  }
  return { status, headers, body: rest, json };
}

function headerValue(headers: string, name: string): string | undefined {
  const line = headers.split("\r\n").find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

describe("README.md, run verbatim against a real server on the embedded store", () => {
  let dataDir: string;
  let port: number;
  let demoKey: string;
  let curlEnv: NodeJS.ProcessEnv;
  let cliEnv: NodeJS.ProcessEnv;
  /** Values the README tells the reader to substitute, filled by the commands that return them. */
  const ids: { SUBACCOUNT_ID?: string; SESSION_ID?: string; ACCOUNT_ID?: string; KEY_ID?: string } = {};
  let createdSession: Record<string, unknown> | undefined;
  let newKey: string | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "kassa-readme-"));
    port = await freePortPair();
    // The README's defaults: no HOST, no ADMIN_PORT (PORT + 1), no DATABASE_URL (embedded store).
    const serverEnv = cleanEnv({ PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: "info" });
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "src/server.ts")], {
      cwd: ROOT,
      env: serverEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    server = child;
    serverOutput = { stdout: "", stderr: "" };
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      serverOutput.stdout += chunk;
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      serverOutput.stderr += chunk;
    });
    serverExited = new Promise((resolve) => child.once("close", (code) => resolve(code)));

    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server exited before becoming healthy:\n${serverOutput.stderr}\n${serverOutput.stdout}`);
      }
      if (
        (await answers(`http://127.0.0.1:${port}/healthz`)) &&
        (await answers(`http://127.0.0.1:${port + 1}/admin/healthz`))
      ) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`the server did not become healthy:\n${serverOutput.stderr}\n${serverOutput.stdout}`);
      }
      await sleep(100);
    }

    // "Run that `export` line in the shell you use for the examples below."
    const banner = /^\s*export KASSA_KEY=(\S+)\s*$/m.exec(serverOutput.stdout);
    if (!banner) throw new Error(`no "export KASSA_KEY=..." line in the server's output:\n${serverOutput.stdout}`);
    demoKey = banner[1]!;
    expect(demoKey).toMatch(/^sk_test_/);
    expect(serverOutput.stdout).toContain(`on the empty embedded store in ${dataDir}`);
    expect(serverOutput.stdout).toMatch(
      /"store":"pglite"[^\n]*"msg":"kassa is ready"|"msg":"kassa is ready"[^\n]*"store":"pglite"/,
    );

    curlEnv = cleanEnv({ KASSA_KEY: demoKey });
    cliEnv = cleanEnv({ PORT: String(port), DATA_DIR: dataDir });
  });

  afterAll(async () => {
    try {
      if (server && serverExited && server.exitCode === null && server.signalCode === null) {
        server.kill("SIGTERM");
        const code = await Promise.race([serverExited, sleep(30_000).then(() => "timeout" as const)]);
        if (code === "timeout") {
          server.kill("SIGKILL");
          await serverExited;
          throw new Error("the server did not exit within 30 s of SIGTERM");
        }
        expect(code, `server exit code; stderr:\n${serverOutput.stderr}`).toBe(0);
      }
    } finally {
      killEverything();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("the README has the examples this test relies on (so it cannot pass vacuously)", () => {
    expect(curlCommands.length).toBeGreaterThanOrEqual(10);
    const routes = curlCommands.map((c) => route(c.text));
    expect(routes).toEqual(
      expect.arrayContaining([
        "POST /v1/checkout/sessions",
        `GET /v1/checkout/sessions/${EXAMPLE_SESSION_ID}`,
        "POST /v1/quotes",
        "POST /v1/subaccounts",
        "DELETE /v1/subaccounts/SUBACCOUNT_ID",
      ]),
    );
    for (const c of curlCommands) expect(c.text, "every example uses the README's base URL").toContain(README_BASE);
    expect(cliCommands.length).toBeGreaterThanOrEqual(8);
  });

  describe.sequential('every curl of "The API, by example", in README order', () => {
    for (const [index, readmeCommand] of curlCommands.entries()) {
      const label = route(readmeCommand.text);
      it(`${index + 1}. ${label}`, async () => {
        let command = readmeCommand.text.replaceAll(README_BASE, `http://localhost:${port}`);
        if (command.includes("SUBACCOUNT_ID")) {
          if (!ids.SUBACCOUNT_ID) throw new Error(`no subaccount created before: ${readmeCommand.text}`);
          command = command.replaceAll("SUBACCOUNT_ID", ids.SUBACCOUNT_ID);
        }
        if (command.includes(EXAMPLE_SESSION_ID)) {
          if (!ids.SESSION_ID) throw new Error(`no checkout session created before: ${readmeCommand.text}`);
          command = command.replaceAll(EXAMPLE_SESSION_ID, ids.SESSION_ID);
        }
        // ({CHECKOUT_SESSION_ID} in success_url is a template the server keeps, not a placeholder.)
        expect(command, "a placeholder left unsubstituted").not.toMatch(/(?<!\{)\b[A-Z][A-Z_]*_ID\b(?!\})/);

        const run = await bash(`${command} -w '${STATUS_MARKER}'`, curlEnv);
        const context = `README command:\n${readmeCommand.text}\nran as:\n${command}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
        expect(run.code, `curl failed\n${context}`).toBe(0);
        const result = parseCurlOutput(run.stdout, /\s-i\s/.test(command));
        expect(result.status, `HTTP status not 2xx\n${context}`).toBeGreaterThanOrEqual(200);
        expect(result.status, `HTTP status not 2xx\n${context}`).toBeLessThan(300);

        switch (label) {
          case "POST /v1/checkout/sessions": {
            expect(result.status, context).toBe(201);
            const session = result.json;
            expect(session, context).toMatchObject({
              amount_kg: 100,
              price_usd_cents: 200,
              state: "open",
              portfolio_id: "demo",
              success_url: "https://www.example.com/confirmation?session_id={CHECKOUT_SESSION_ID}",
            });
            ids.SESSION_ID = session.id;
            createdSession = session;
            // "Create one (201, with a `Location` header)"
            expect(headerValue(result.headers, "location"), context).toBe(
              `http://127.0.0.1:${port}/v1/checkout/sessions/${session.id}`,
            );
            // The output shown right after the command, field by field.
            const shownBlock = apiBlocks[readmeCommand.block + 1];
            expect(shownBlock?.lang, "a json block shows the create's output").toBe("json");
            const shown = JSON.parse(shownBlock!.body) as Record<string, unknown>;
            expect(Object.keys(session), `fields vs the README's shown output\n${context}`).toEqual(Object.keys(shown));
            expect(session.id).toMatch(new RegExp(`^[A-Za-z0-9_-]{${EXAMPLE_SESSION_ID.length}}$`));
            expect(session, `the README's shown output\n${context}`).toEqual({
              ...shown,
              id: session.id,
              checkout_url: String(shown.checkout_url)
                .replace(`:${README_PORT}/`, `:${port}/`)
                .replace(EXAMPLE_SESSION_ID, session.id),
              created_on: expect.stringMatching(TIMESTAMP),
              expires_on: expect.stringMatching(TIMESTAMP),
            });
            // "A session expires 24 hours after it was created"
            expect(Date.parse(session.expires_on) - Date.parse(session.created_on)).toBe(24 * 3600 * 1000);
            break;
          }
          case `GET /v1/checkout/sessions/${EXAMPLE_SESSION_ID}`:
            expect(result.status, context).toBe(200);
            expect(result.json, context).toEqual(createdSession);
            break;
          case "POST /v1/quotes": {
            expect(result.status, context).toBe(200);
            expect(result.json, context).toEqual({ amount_kg: 33.333, price_usd_cents: 67 });
            // ...which is also exactly the output the README shows under the command.
            expect(readmeCommand.comments, `the output shown under\n${readmeCommand.text}`).toContain(
              '{"amount_kg":33.333,"price_usd_cents":67}',
            );
            expect(result.body, context).toBe('{"amount_kg":33.333,"price_usd_cents":67}');
            break;
          }
          case "GET /v1/portfolios":
            expect(result.status, context).toBe(200);
            expect(
              result.json.data.map((p: { id: string }) => p.id),
              context,
            ).toContain("demo");
            break;
          case "GET /v1/portfolios/demo":
            expect(result.status, context).toBe(200);
            expect(result.json, context).toMatchObject({ id: "demo" });
            break;
          case "POST /v1/subaccounts":
            expect(result.status, context).toBe(201);
            expect(result.json, context).toMatchObject({
              name: "Green Shop",
              email: "shop@example.com",
              logo_url: "https://www.example.com/logo.png",
            });
            expect(typeof result.json.id).toBe("string");
            ids.SUBACCOUNT_ID = result.json.id;
            break;
          case "GET /v1/subaccounts":
            expect(result.status, context).toBe(200);
            expect(JSON.stringify(result.json), context).toContain(`"${ids.SUBACCOUNT_ID}"`);
            break;
          case "GET /v1/subaccounts/SUBACCOUNT_ID":
            expect(result.status, context).toBe(200);
            expect(result.json, context).toMatchObject({ id: ids.SUBACCOUNT_ID, name: "Green Shop" });
            break;
          case "PUT /v1/subaccounts/SUBACCOUNT_ID":
            expect(result.status, context).toBe(200);
            expect(result.json, context).toMatchObject({
              id: ids.SUBACCOUNT_ID,
              name: "Green Shop Ltd",
              default_portfolio_id: "demo",
            });
            break;
          case "DELETE /v1/subaccounts/SUBACCOUNT_ID": {
            expect(result.status, context).toBe(204);
            expect(result.body, context).toBe("");
            const gone = await fetch(`http://127.0.0.1:${port}/v1/subaccounts/${ids.SUBACCOUNT_ID}`, {
              headers: { authorization: `Bearer ${demoKey}` },
            });
            await gone.arrayBuffer();
            expect(gone.status).toBe(404);
            break;
          }
          default:
            // An example added to the README later: it ran and answered 2xx; a body, if any, is JSON.
            if (result.body !== "") expect(result.json, `not JSON\n${context}`).toBeDefined();
        }
      });
    }
  });

  describe.sequential('every `npx kassa` line of "Operating Kassa", beside the running server', () => {
    for (const [index, readmeCommand] of cliCommands.entries()) {
      it(`${index + 1}. ${readmeCommand.text}`, async () => {
        // Optional parts (`[--id forests] [--default]`) are left out.
        let command = readmeCommand.text
          .replace(/\s*\[[^\]]*\]/g, "")
          .replace(/^npx kassa(?=\s|$)/, "node bin/kassa.js");
        for (const name of ["ACCOUNT_ID", "KEY_ID"] as const) {
          if (!command.includes(name)) continue;
          const value = ids[name];
          if (!value) throw new Error(`no ${name} from an earlier command for: ${readmeCommand.text}`);
          command = command.replaceAll(name, value);
        }
        expect(command, "a placeholder left unsubstituted").not.toMatch(/\b[A-Z][A-Z_]{2,}\b/);

        const run = await bash(command, cliEnv);
        const context = `README command:\n${readmeCommand.text}\nran as:\n${command}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
        expect(run.code, `exit code\n${context}`).toBe(0);
        let json: Parsed;
        expect(() => {
          json = JSON.parse(run.stdout);
        }, `output is not JSON\n${context}`).not.toThrow();

        const verb = readmeCommand.text.split(/\s+/).slice(2, 4).join(" ");
        switch (verb) {
          case "accounts create":
            expect(json, context).toMatchObject({ name: "Acme" });
            ids.ACCOUNT_ID = json.id;
            break;
          case "accounts list":
            expect(json.map((a: { name: string }) => a.name).sort(), context).toEqual(["Acme", "Demo account"]);
            break;
          case "keys create": {
            // "prints the secret once"
            expect(json, context).toMatchObject({ account_id: ids.ACCOUNT_ID, revoked_on: null });
            expect(json.secret).toMatch(/^sk_test_/);
            ids.KEY_ID = json.id;
            newKey = json.secret;
            const works = await fetch(`http://127.0.0.1:${port}/v1/portfolios`, {
              headers: { authorization: `Bearer ${newKey}` },
            });
            await works.arrayBuffer();
            expect(works.status).toBe(200);
            break;
          }
          case "keys list":
            expect(
              json.map((k: { id: string }) => k.id),
              context,
            ).toEqual([ids.KEY_ID]);
            expect(run.stdout).not.toContain(newKey);
            break;
          case "keys revoke": {
            expect(json, context).toMatchObject({ id: ids.KEY_ID });
            expect(json.revoked_on).not.toBeNull();
            // "the key gets 401 at once"
            const refused = await fetch(`http://127.0.0.1:${port}/v1/portfolios`, {
              headers: { authorization: `Bearer ${newKey}` },
            });
            await refused.arrayBuffer();
            expect(refused.status).toBe(401);
            break;
          }
          case "portfolios create":
            expect(json, context).toMatchObject({
              id: "forests",
              name: "Forests",
              checkout_price_per_kg_usd_cents: "2.5",
              api_price_per_kg_usd_cents: "2",
              is_default: true,
            });
            break;
          case "portfolios list":
            expect(
              json.map((p: { name: string }) => p.name),
              context,
            ).toContain("Forests");
            expect(
              json.map((p: { id: string }) => p.id),
              context,
            ).toContain("demo");
            break;
          case "migrate":
            expect(json, context).toEqual({ applied: [] });
            break;
          default:
            expect(json, context).toBeDefined();
        }
      });
    }
  });
});
