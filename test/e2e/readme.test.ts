import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  cleanEnv,
  cleanUp,
  freePorts,
  kill,
  launch,
  ROOT,
  type Server,
  startServer,
  stop,
  tempDir,
  waitReady,
  within,
} from "../helpers/processes.js";
import { newWebhookSecret, webhookHeaders } from "../../src/core/webhooks/signing.js";

/**
 * The README's examples, run verbatim: every `curl` of "The API, by example" through bash against
 * a real server (`node --import tsx src/server.ts` on a fresh embedded store), and every
 * `npx kassa` line of "Operating Kassa" (as `node bin/kassa.js`) beside it. The only edits to a
 * command are the port (`http://localhost:3000` -> the free port chosen here), the ids the README
 * tells the reader to substitute, and a `-w` to capture the HTTP status.
 */

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

/** The example catalogue file of "The carbon catalogue" (the one JSON block of "Operating Kassa"). */
const catalogueExample = codeBlocks(section(README, "Operating Kassa")).filter((b) => b.lang === "json");

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

afterAll(cleanUp);

interface BashResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `bash -c script` in its own process group, killed (with everything it started) on timeout. */
async function bash(script: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<BashResult> {
  const proc = launch("bash", ["-c", script], env, { group: true });
  try {
    const { code } = await within(proc.exited, timeoutMs, script);
    return { code, stdout: proc.stdout, stderr: proc.stderr };
  } catch (error) {
    kill(proc);
    throw new Error(`${(error as Error).message}\nstdout: ${proc.stdout}\nstderr: ${proc.stderr}`);
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
  let server: Server | undefined;
  let demoKey: string;
  let curlEnv: NodeJS.ProcessEnv;
  let cliEnv: NodeJS.ProcessEnv;
  /** Values the README tells the reader to substitute, filled by the commands that return them. */
  const ids: {
    SUBACCOUNT_ID?: string;
    SESSION_ID?: string;
    ACCOUNT_ID?: string;
    KEY_ID?: string;
    LEANRAILS_SESSION_ID?: string;
    ORDER_ID?: string;
  } = {};
  let createdSession: Record<string, unknown> | undefined;
  let newKey: string | undefined;

  beforeAll(async () => {
    dataDir = await tempDir("kassa-readme-");
    port = (await freePorts(2, { consecutive: true }))[0]!;
    // The README's defaults: no HOST, no ADMIN_PORT (PORT + 1), no DATABASE_URL (embedded store).
    server = startServer(cleanEnv({ PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: "info" }));
    await waitReady(server);

    // "Run that `export` line in the shell you use for the examples below."
    const banner = /^\s*export KASSA_KEY=(\S+)\s*$/m.exec(server.stdout);
    if (!banner) throw new Error(`no "export KASSA_KEY=..." line in the server's output:\n${server.stdout}`);
    demoKey = banner[1]!;
    expect(demoKey).toMatch(/^sk_test_/);
    expect(server.stdout).toContain(`on the empty embedded store in ${dataDir}`);
    // /readyz answers as soon as the port listens, a moment before the ready line is written.
    await vi.waitFor(() =>
      expect(server!.stdout).toMatch(
        /"store":"pglite"[^\n]*"msg":"kassa is ready"|"msg":"kassa is ready"[^\n]*"store":"pglite"/,
      ),
    );

    curlEnv = cleanEnv({ KASSA_KEY: demoKey });
    cliEnv = cleanEnv({ PORT: String(port), DATA_DIR: dataDir });
  });

  afterAll(async () => {
    if (server && !server.exit) {
      const exit = await stop(server);
      expect(exit.code, `server exit code; stderr:\n${server.stderr}`).toBe(0);
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
        "POST /v1/checkout_sessions",
        "GET /v1/checkout_sessions",
        "GET /v1/projects/demoRidge",
        "GET /v1/project-categories/demoForest",
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
        if (command.includes("ORDER_ID")) {
          if (!ids.ORDER_ID) throw new Error(`no order placed before: ${readmeCommand.text}`);
          command = command.replaceAll("ORDER_ID", ids.ORDER_ID);
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

        // The idempotency example: "run this twice" — the second answer replays the first.
        const idempotencyKey = /-H "Idempotency-Key: ([^"]+)"/.exec(command)?.[1];
        if (label === "POST /v1/checkout/sessions" && idempotencyKey) {
          expect(result.status, context).toBe(201);
          expect(headerValue(result.headers, "x-idempotent-replay"), context).toBeUndefined();
          const again = await bash(`${command} -w '${STATUS_MARKER}'`, curlEnv);
          const replay = parseCurlOutput(again.stdout, true);
          expect(replay.status, `second run\n${again.stdout}`).toBe(201);
          expect(headerValue(replay.headers, "x-idempotent-replay")).toBe("true");
          expect(replay.body).toBe(result.body);
          expect(headerValue(replay.headers, "location")).toBe(headerValue(result.headers, "location"));
          expect(result.json).toMatchObject({ amount_kg: 25, state: "open" });
          return;
        }

        switch (label) {
          case "POST /v1/checkout_sessions":
            expect(result.status, context).toBe(200);
            expect(result.json, context).toMatchObject({
              object: "checkout.session",
              status: "open",
              payment_status: "unpaid",
              currency: "eur",
              amount_total: 4850,
              customer_email: "jane@example.com",
              livemode: false,
            });
            expect(result.json.id, context).toMatch(/^cs_/);
            ids.LEANRAILS_SESSION_ID = result.json.id;
            break;
          case "GET /v1/checkout_sessions":
            expect(result.status, context).toBe(200);
            expect(result.json, context).toMatchObject({ object: "list", url: "/v1/checkout_sessions" });
            expect(
              result.json.data.map((s: { id: string }) => s.id),
              context,
            ).toEqual([ids.LEANRAILS_SESSION_ID]);
            break;
          case "GET /v1/orders":
            expect(result.status, context).toBe(200);
            expect(result.json, context).toEqual({ data: [] });
            break;
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
          case "POST /v1/orders":
            expect(result.status, context).toBe(201);
            // 100 kg at the demo portfolio's API price, 1.8 cents/kg, as the comment under it shows.
            expect(result.json, context).toMatchObject({ amount_kg: 100, price_usd_cents: 180, state: "placed" });
            ids.ORDER_ID = result.json.id;
            break;
          case "POST /v1/orders/ORDER_ID/cancel":
            expect(result.status, context).toBe(200);
            expect(result.json, context).toMatchObject({ id: ids.ORDER_ID, state: "cancelled" });
            break;
          case "POST /v1/quotes/flight":
          case "POST /v1/quotes/ground-transport":
            // Exactly the output the README shows under the command.
            expect(result.status, context).toBe(200);
            expect(readmeCommand.comments, context).toContain(result.body);
            break;
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
            // The demo catalogue: three fictional categories, each with its projects.
            expect(
              result.json.category_allocations.map((a: { allocated_fraction: number }) => a.allocated_fraction),
              context,
            ).toEqual([0.5, 0.3, 0.2]);
            break;
          case "GET /v1/projects/demoRidge":
            expect(result.status, context).toBe(200);
            expect(result.json, context).toMatchObject({
              id: "demoRidge",
              name: "Example Ridge Reforestation (fictional)",
              credit_issuances: [
                { vintage_year: 2022, total_amount: 5000 },
                { vintage_year: 2023, total_amount: 8000 },
              ],
            });
            break;
          case "GET /v1/project-categories/demoForest":
            expect(result.status, context).toBe(200);
            expect(
              result.json.projects.map((p: { id: string }) => p.id),
              context,
            ).toEqual(["demoRidge", "demoMangrove"]);
            break;
          case "POST /v1/subaccounts":
            expect(result.status, context).toBe(201);
            expect(result.json, context).toMatchObject({
              name: "Green Shop",
              email: "shop@example.com",
              logo_url: null,
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
          case "PUT /v1/subaccounts/SUBACCOUNT_ID/logo": {
            expect(result.status, context).toBe(200);
            // Re-hosted under PUBLIC_URL (here the default, http://HOST:PORT), served as sent.
            const logoUrl = result.json.logo_url as string;
            expect(logoUrl, context).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/logos/\\w+\\.svg$`));
            const file = await fetch(logoUrl);
            expect(file.headers.get("content-type")).toBe("image/svg+xml");
            expect(await file.text()).toContain("<circle");
            break;
          }
          case "DELETE /v1/subaccounts/SUBACCOUNT_ID/logo":
            expect(result.status, context).toBe(200);
            expect(result.json, context).toMatchObject({ id: ids.SUBACCOUNT_ID, logo_url: null });
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
        if (command.includes("catalog import catalogue.json")) {
          // The file is the README's example, as written.
          expect(catalogueExample.length, "one example catalogue file").toBe(1);
          const file = path.join(await tempDir("kassa-readme-catalogue-"), "catalogue.json");
          await writeFile(file, catalogueExample[0]!.body);
          command = command.replace("catalogue.json", file);
        }

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
          case "keys rotate": {
            // "a new key for the same account; the old one works until revoked"
            expect(json, context).toMatchObject({ account_id: ids.ACCOUNT_ID, replaces: ids.KEY_ID });
            expect(json.secret).toMatch(/^sk_test_/);
            for (const key of [json.secret, newKey]) {
              const works = await fetch(`http://127.0.0.1:${port}/v1/portfolios`, {
                headers: { authorization: `Bearer ${key}` },
              });
              await works.arrayBuffer();
              expect(works.status).toBe(200);
            }
            break;
          }
          case "webhooks secret":
            expect(json, context).toMatchObject({ account_id: ids.ACCOUNT_ID });
            expect(json.secret).toMatch(/^whsec_/);
            break;
          case "webhooks deliveries":
            expect(Array.isArray(json), context).toBe(true);
            break;
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
          case "prices create":
            expect(json, context).toMatchObject({
              id: expect.stringMatching(/^price_/),
              object: "price",
              product: expect.stringMatching(/^prod_/),
              currency: "eur",
              unit_amount: 2000,
            });
            break;
          case "impact enable": {
            // "turns it on at PUBLIC_URL/impact/<slug>, for example http://localhost:3000/impact/acme"
            expect(json, context).toMatchObject({
              account_id: ids.ACCOUNT_ID,
              subaccount_id: null,
              enabled: true,
              slug: "acme",
              url: `http://127.0.0.1:${port}/impact/acme`,
            });
            const page = await fetch(json.url);
            expect(page.status).toBe(200);
            expect(await page.text()).toContain("Acme");
            break;
          }
          case "impact disable": {
            expect(json, context).toMatchObject({ account_id: ids.ACCOUNT_ID, enabled: false, slug: "acme" });
            const page = await fetch(json.url);
            await page.arrayBuffer();
            expect(page.status).toBe(404);
            break;
          }
          case "migrate":
            expect(json, context).toEqual({ applied: [] });
            break;
          case "catalog import": {
            expect(json.imported, context).toMatchObject({
              categories: { total: 1 },
              projects: { total: 1 },
              credit_issuances: { total: 1 },
              portfolios: { total: 1, changed: 1 },
            });
            const portfolio = await fetch(`http://127.0.0.1:${port}/v1/portfolios/demo`, {
              headers: { authorization: `Bearer ${demoKey}` },
            });
            const allocations = ((await portfolio.json()) as { category_allocations: unknown[] }).category_allocations;
            expect(allocations).toEqual([
              { allocated_fraction: 0.6, category: expect.objectContaining({ id: "reforestation" }) },
              { allocated_fraction: 0.4, category: expect.objectContaining({ id: "demoSoil" }) },
            ]);
            break;
          }
          case "catalog export":
            expect(
              json.projects.map((p: { id: string }) => p.id),
              context,
            ).toEqual(expect.arrayContaining(["demoRidge", "ridgeRefo"]));
            expect(
              json.portfolios.find((p: { id: string }) => p.id === "demo"),
              context,
            ).toMatchObject({
              summary: "A sample portfolio for trying Kassa",
              category_allocations: [
                { category_id: "reforestation", allocated_fraction: 0.6 },
                { category_id: "demoSoil", allocated_fraction: 0.4 },
              ],
            });
            break;
          default:
            expect(json, context).toBeDefined();
        }
      });
    }
  });
});

describe("README.md's notification-verifying snippet, run as written", () => {
  const snippet = codeBlocks(section(README, "Order notifications (webhooks)")).find((b) => b.lang === "js");
  let verify: (secret: string, headers: Record<string, string>, body: string) => boolean;

  beforeAll(async () => {
    if (!snippet) throw new Error('README.md has no js block in "Order notifications (webhooks)"');
    const file = path.join(await tempDir("kassa-readme-js-"), "verify.mjs");
    await writeFile(file, snippet.body);
    ({ verifyKassaWebhook: verify } = await import(pathToFileURL(file).href));
  });

  const secret = newWebhookSecret();
  const body = JSON.stringify({ order: { id: "o1", state: "placed" } });
  const signed = (at = new Date(), secrets = [secret]) =>
    webhookHeaders({ webhookId: "msg_readme", timestamp: at, body, secrets });

  it("accepts what Kassa signs, also when a rotated-out secret's signature comes first", () => {
    expect(verify(secret, signed(), body)).toBe(true);
    expect(verify(secret, signed(new Date(), [newWebhookSecret(), secret]), body)).toBe(true);
  });

  it("refuses a changed body, another secret, a stale timestamp and missing headers", () => {
    expect(verify(secret, signed(), body.replace("placed", "fulfilled"))).toBe(false);
    expect(verify(newWebhookSecret(), signed(), body)).toBe(false);
    expect(verify(secret, signed(new Date(Date.now() - 10 * 60_000)), body)).toBe(false);
    const { "webhook-signature": _, ...unsigned } = signed();
    expect(verify(secret, unsigned, body)).toBe(false);
  });
});
