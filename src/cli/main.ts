import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { runOperation, type OperationName } from "../admin/admin.operations.js";
import { adminErrorFrom } from "../api/admin/admin.plugin.js";
import { type Config, ConfigError, loadConfig } from "../config.js";
import { createKassaServices } from "../composition.js";
import { openDatabase } from "../db/database.js";

/**
 * `kassa`: the operators' CLI. Prints JSON. It asks a running server through its loopback admin
 * API (so it works beside a server that owns the embedded store) and, when no server answers,
 * opens the store itself and runs the same operation in-process.
 */

interface Command {
  operation: OperationName;
  usage: string;
  options?: Record<
    string,
    {
      type: "string" | "boolean";
      required?: boolean;
      arg?: string;
      /** The option names a file: the CLI reads it and passes its text as this argument. */
      fileAs?: string;
    }
  >;
  positional?: string;
  /** The positional argument names a file (`-`: standard input): its text is passed instead. */
  positionalIsFile?: boolean;
}

const COMMANDS: Record<string, Command> = {
  "accounts create": {
    operation: "accounts.create",
    usage: "kassa accounts create --name NAME [--default-portfolio-id ID]",
    options: { name: { type: "string", required: true }, "default-portfolio-id": { type: "string" } },
  },
  "accounts list": { operation: "accounts.list", usage: "kassa accounts list" },
  "accounts api-version": {
    operation: "accounts.api-version",
    usage: "kassa accounts api-version --account ACCOUNT_ID --api leanrails [--set VERSION] [--clear]",
    options: {
      account: { type: "string", required: true },
      api: { type: "string", required: true },
      set: { type: "string" },
      clear: { type: "boolean" },
    },
  },
  "keys create": {
    operation: "keys.create",
    usage: "kassa keys create --account ACCOUNT_ID",
    options: { account: { type: "string", required: true } },
  },
  "keys list": {
    operation: "keys.list",
    usage: "kassa keys list --account ACCOUNT_ID",
    options: { account: { type: "string", required: true } },
  },
  "keys revoke": { operation: "keys.revoke", usage: "kassa keys revoke KEY_ID", positional: "id" },
  "keys rotate": { operation: "keys.rotate", usage: "kassa keys rotate KEY_ID", positional: "id" },
  "portfolios create": {
    operation: "portfolios.create",
    usage:
      "kassa portfolios create --name NAME --checkout-price-per-kg-usd-cents X --api-price-per-kg-usd-cents Y [--id ID] [--default]",
    options: {
      name: { type: "string", required: true },
      "checkout-price-per-kg-usd-cents": { type: "string", required: true },
      "api-price-per-kg-usd-cents": { type: "string", required: true },
      id: { type: "string" },
      default: { type: "boolean" },
    },
  },
  "portfolios list": { operation: "portfolios.list", usage: "kassa portfolios list" },
  "catalog import": {
    operation: "catalog.import",
    usage: "kassa catalog import FILE.json",
    positional: "catalogue",
    positionalIsFile: true,
  },
  "catalog export": { operation: "catalog.export", usage: "kassa catalog export" },
  "orders fulfill": {
    operation: "orders.fulfill",
    usage: "kassa orders fulfill ORDER_ID [--allocation FILE.json]",
    options: {
      allocation: { type: "string", fileAs: "allocation" },
      // Gone (the certificate is Kassa's own page now); kept so the operation can say so.
      "certificate-url": { type: "string" },
    },
    positional: "id",
  },
  "orders cancel": { operation: "orders.cancel", usage: "kassa orders cancel ORDER_ID", positional: "id" },
  "orders list": {
    operation: "orders.list",
    usage: "kassa orders list --account ACCOUNT_ID [--limit N] [--starting-after ORDER_ID] [--ending-before ORDER_ID]",
    options: {
      account: { type: "string", required: true },
      limit: { type: "string" },
      "starting-after": { type: "string" },
      "ending-before": { type: "string" },
    },
  },
  "products create": {
    operation: "products.create",
    usage: "kassa products create --account ACCOUNT_ID --name NAME [--description TEXT] [--unit-label LABEL]",
    options: {
      account: { type: "string", required: true },
      name: { type: "string", required: true },
      description: { type: "string" },
      "unit-label": { type: "string" },
    },
  },
  "products list": {
    operation: "products.list",
    usage: "kassa products list --account ACCOUNT_ID [--active true|false] [--limit N] [--starting-after PRODUCT_ID]",
    options: {
      account: { type: "string", required: true },
      active: { type: "string" },
      limit: { type: "string" },
      "starting-after": { type: "string" },
    },
  },
  "prices create": {
    operation: "prices.create",
    usage:
      "kassa prices create --account ACCOUNT_ID --product PRODUCT_ID_OR_NEW_NAME --unit-amount MINOR_UNITS --currency CODE [--tax-behavior inclusive|exclusive|unspecified] [--nickname TEXT] [--lookup-key KEY]",
    options: {
      account: { type: "string", required: true },
      product: { type: "string", required: true },
      "unit-amount": { type: "string", required: true },
      currency: { type: "string", required: true },
      "tax-behavior": { type: "string" },
      nickname: { type: "string" },
      "lookup-key": { type: "string" },
    },
  },
  "prices list": {
    operation: "prices.list",
    usage:
      "kassa prices list --account ACCOUNT_ID [--product PRODUCT_ID] [--active true|false] [--limit N] [--starting-after PRICE_ID]",
    options: {
      account: { type: "string", required: true },
      product: { type: "string" },
      active: { type: "string" },
      limit: { type: "string" },
      "starting-after": { type: "string" },
    },
  },
  "impact enable": {
    operation: "impact.enable",
    usage:
      "kassa impact enable --account ACCOUNT_ID [--subaccount SUBACCOUNT_ID] [--slug SLUG] [--equivalents cars_off_the_road,trees_planted,homes_annual_energy_usage,flights_lax_to_nyc]",
    options: {
      account: { type: "string", required: true },
      subaccount: { type: "string" },
      slug: { type: "string" },
      equivalents: { type: "string" },
    },
  },
  "impact disable": {
    operation: "impact.disable",
    usage: "kassa impact disable --account ACCOUNT_ID [--subaccount SUBACCOUNT_ID]",
    options: { account: { type: "string", required: true }, subaccount: { type: "string" } },
  },
  "webhooks secret": {
    operation: "webhooks.secret",
    usage: "kassa webhooks secret --account ACCOUNT_ID [--rotate]",
    options: { account: { type: "string", required: true }, rotate: { type: "boolean" } },
  },
  "webhooks deliveries": {
    operation: "webhooks.deliveries",
    usage:
      "kassa webhooks deliveries [--order ORDER_ID] [--account ACCOUNT_ID] [--endpoint WEBHOOK_ENDPOINT_ID] [--limit N]",
    options: {
      order: { type: "string" },
      account: { type: "string" },
      endpoint: { type: "string" },
      limit: { type: "string" },
    },
  },
  "opencharge identity": { operation: "opencharge.identity", usage: "kassa opencharge identity" },
  "opencharge participants add": {
    operation: "opencharge.participants.add",
    usage:
      "kassa opencharge participants add --ocid OCID --name NAME --public-key HEX --endpoint URL [--role merchant|merchant-gateway]",
    options: {
      ocid: { type: "string", required: true },
      name: { type: "string", required: true },
      "public-key": { type: "string", required: true },
      endpoint: { type: "string", required: true },
      role: { type: "string" },
    },
  },
  "opencharge participants import": {
    operation: "opencharge.participants.import",
    usage: "kassa opencharge participants import --ocid OCID --file METADATA_JSON [--role merchant|merchant-gateway]",
    options: {
      ocid: { type: "string", required: true },
      file: { type: "string", required: true, fileAs: "metadata" },
      role: { type: "string" },
    },
  },
  "opencharge participants list": {
    operation: "opencharge.participants.list",
    usage: "kassa opencharge participants list",
  },
  "opencharge participants remove": {
    operation: "opencharge.participants.remove",
    usage: "kassa opencharge participants remove OCID",
    positional: "ocid",
  },
  "opencharge proofs": {
    operation: "opencharge.proofs",
    usage: "kassa opencharge proofs [--limit N]",
    options: { limit: { type: "string" } },
  },
  migrate: { operation: "migrate", usage: "kassa migrate" },
};

export class UsageError extends Error {}

/** argv (after `kassa`) -> the operation and its arguments (snake_case, strings and booleans). */
export function parseCommand(argv: string[]): { command: Command; args: Record<string, unknown> } {
  // The command is the first one to three words; own keys only (not "constructor", "toString", ...).
  const key = [argv.slice(0, 3).join(" "), argv.slice(0, 2).join(" "), argv[0] ?? ""].find((k) =>
    Object.hasOwn(COMMANDS, k),
  );
  const command = key ? COMMANDS[key] : undefined;
  if (!command || !key) throw new UsageError(`Unknown command.\n\n${usage()}`);
  const rest = argv.slice(key.split(" ").length);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: command.options ?? {},
      allowPositionals: Boolean(command.positional),
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\nUsage: ${command.usage}`);
  }
  const args: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(command.options ?? {})) {
    const value = parsed.values[name];
    if (value === undefined && spec.required) throw new UsageError(`Missing --${name}\nUsage: ${command.usage}`);
    if (value !== undefined && spec.fileAs) args[spec.fileAs] = readArgumentFile(String(value), command.usage);
    else if (value !== undefined) args[name.replaceAll("-", "_")] = value;
  }
  if (command.positional) {
    const value = parsed.positionals[0];
    if (!value) throw new UsageError(`Missing ${command.positional.toUpperCase()}\nUsage: ${command.usage}`);
    args[command.positional] = command.positionalIsFile ? readArgumentFile(value, command.usage) : value;
  }
  return { command, args };
}

function readArgumentFile(path: string, usage: string): string {
  try {
    return readFileSync(path === "-" ? 0 : path, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: ${(error as Error).message}\nUsage: ${usage}`);
  }
}

export const usage = () =>
  `Usage:\n${Object.values(COMMANDS)
    .map((c) => `  ${c.usage}`)
    .join("\n")}`;

type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

async function viaAdminApi(
  baseUrl: string,
  token: string | null,
  operation: OperationName,
  args: unknown,
): Promise<Outcome | null> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/admin/operations/${operation}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(args),
    });
  } catch {
    return null; // nothing listening: no server running
  }
  const body = (await response.json()) as { result?: unknown; error?: unknown };
  return response.ok ? { ok: true, result: body.result } : { ok: false, error: body };
}

async function inProcess(config: Config, operation: OperationName, args: unknown): Promise<Outcome> {
  const db = await openDatabase(config.store);
  try {
    if (operation !== "migrate") await db.migrate();
    return {
      ok: true,
      result: await runOperation(
        { services: createKassaServices(db, undefined, config), db, publicUrl: config.publicUrl },
        operation,
        args,
      ),
    };
  } catch (error) {
    const { status, body } = adminErrorFrom(error);
    // In-process there is no server log to point at: show the cause itself.
    if (status === 500) {
      const message = error instanceof Error ? error.message : String(error);
      return { ok: false, error: { error: { code: "internal_error", message } } };
    }
    return { ok: false, error: body };
  } finally {
    await db.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${usage()}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  try {
    const { command, args } = parseCommand(argv);
    const config = loadConfig();
    const adminUrl = `http://${config.admin.host.includes(":") ? `[${config.admin.host}]` : config.admin.host}:${config.admin.port}`;
    const outcome =
      (await viaAdminApi(adminUrl, config.admin.token, command.operation, args)) ??
      (await inProcess(config, command.operation, args));
    if (outcome.ok) {
      process.stdout.write(`${JSON.stringify(outcome.result, null, 2)}\n`);
      return 0;
    }
    process.stderr.write(`${JSON.stringify(outcome.error, null, 2)}\n`);
    return 1;
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(`${JSON.stringify({ error: { code: "failed", message: (error as Error).message } })}\n`);
    return 1;
  }
}
