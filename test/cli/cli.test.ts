import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { operations } from "../../src/admin/admin.operations.js";
import { parseCommand, UsageError, usage } from "../../src/cli/main.js";
import { Decimal } from "../../src/core/money/money.js";

/** An allocation file as an operator writes one for `kassa orders fulfill --allocation`. */
const ALLOCATION_FILE = path.join(mkdtempSync(path.join(os.tmpdir(), "kassa-cli-")), "allocation.json");
const ALLOCATION_JSON = '[{"project_id": "prj_1", "amount_kg": 60.5}, {"project_id": "prj_2", "amount_kg": "39.5"}]';
writeFileSync(ALLOCATION_FILE, ALLOCATION_JSON);

describe("parseCommand: each command maps to its operation and snake_case arguments", () => {
  const cases: Array<[string[], string, Record<string, unknown>]> = [
    [["accounts", "create", "--name", "Corner Shop"], "accounts.create", { name: "Corner Shop" }],
    [["accounts", "create", "--name=Corner Shop"], "accounts.create", { name: "Corner Shop" }],
    [
      ["accounts", "create", "--name", "Shop", "--default-portfolio-id", "demo"],
      "accounts.create",
      { name: "Shop", default_portfolio_id: "demo" },
    ],
    [["accounts", "list"], "accounts.list", {}],
    [
      ["accounts", "api-version", "--account", "acct_1", "--api", "leanrails", "--set", "2026-03-09"],
      "accounts.api-version",
      { account: "acct_1", api: "leanrails", set: "2026-03-09" },
    ],
    [
      ["accounts", "api-version", "--account", "acct_1", "--api", "leanrails", "--clear"],
      "accounts.api-version",
      { account: "acct_1", api: "leanrails", clear: true },
    ],
    [["keys", "create", "--account", "acct_123"], "keys.create", { account: "acct_123" }],
    [["keys", "list", "--account", "acct_123"], "keys.list", { account: "acct_123" }],
    [["keys", "revoke", "key_abc"], "keys.revoke", { id: "key_abc" }],
    [["keys", "rotate", "key_abc"], "keys.rotate", { id: "key_abc" }],
    [["webhooks", "secret", "--account", "acct_1"], "webhooks.secret", { account: "acct_1" }],
    [["webhooks", "secret", "--account", "acct_1", "--rotate"], "webhooks.secret", { account: "acct_1", rotate: true }],
    [["webhooks", "deliveries"], "webhooks.deliveries", {}],
    [
      ["webhooks", "deliveries", "--order", "o1", "--account", "a1", "--limit", "5"],
      "webhooks.deliveries",
      { order: "o1", account: "a1", limit: "5" },
    ],
    [
      [
        "portfolios",
        "create",
        "--name",
        "Forests",
        "--checkout-price-per-kg-usd-cents",
        "2.5",
        "--api-price-per-kg-usd-cents",
        "1.75",
      ],
      "portfolios.create",
      { name: "Forests", checkout_price_per_kg_usd_cents: "2.5", api_price_per_kg_usd_cents: "1.75" },
    ],
    [
      [
        "portfolios",
        "create",
        "--default",
        "--id",
        "forests",
        "--api-price-per-kg-usd-cents",
        "1",
        "--name",
        "Forests",
        "--checkout-price-per-kg-usd-cents",
        "3",
      ],
      "portfolios.create",
      {
        name: "Forests",
        checkout_price_per_kg_usd_cents: "3",
        api_price_per_kg_usd_cents: "1",
        id: "forests",
        default: true,
      },
    ],
    [["portfolios", "list"], "portfolios.list", {}],
    [["catalog", "import", "package.json"], "catalog.import", { catalogue: readFileSync("package.json", "utf8") }],
    [["catalog", "export"], "catalog.export", {}],
    [["orders", "fulfill", "ord_1"], "orders.fulfill", { id: "ord_1" }],
    [
      ["orders", "fulfill", "ord_1", "--allocation", ALLOCATION_FILE],
      "orders.fulfill",
      { id: "ord_1", allocation: ALLOCATION_JSON },
    ],
    [
      ["orders", "fulfill", `--allocation=${ALLOCATION_FILE}`, "ord_2"],
      "orders.fulfill",
      { id: "ord_2", allocation: ALLOCATION_JSON },
    ],
    [["orders", "cancel", "ord_1"], "orders.cancel", { id: "ord_1" }],
    [["orders", "list", "--account", "acct_123"], "orders.list", { account: "acct_123" }],
    [
      ["orders", "list", "--account", "acct_123", "--limit", "5", "--starting-after", "ord_9"],
      "orders.list",
      { account: "acct_123", limit: "5", starting_after: "ord_9" },
    ],
    [
      ["orders", "list", "--ending-before", "ord_3", "--account=acct_123"],
      "orders.list",
      { account: "acct_123", ending_before: "ord_3" },
    ],
    [
      ["products", "create", "--account", "acct_1", "--name", "T-shirt", "--unit-label", "shirt"],
      "products.create",
      { account: "acct_1", name: "T-shirt", unit_label: "shirt" },
    ],
    [
      ["products", "list", "--account", "acct_1", "--active", "true", "--limit", "5"],
      "products.list",
      { account: "acct_1", active: "true", limit: "5" },
    ],
    [
      ["prices", "create", "--account", "acct_1", "--product", "T-shirt", "--unit-amount", "2000", "--currency", "eur"],
      "prices.create",
      { account: "acct_1", product: "T-shirt", unit_amount: "2000", currency: "eur" },
    ],
    [
      [
        "prices",
        "create",
        "--account=acct_1",
        "--product=prod_1",
        "--unit-amount=500",
        "--currency=JPY",
        "--tax-behavior=inclusive",
      ],
      "prices.create",
      { account: "acct_1", product: "prod_1", unit_amount: "500", currency: "JPY", tax_behavior: "inclusive" },
    ],
    [
      ["prices", "list", "--account", "acct_1", "--product", "prod_1", "--starting-after", "price_9"],
      "prices.list",
      { account: "acct_1", product: "prod_1", starting_after: "price_9" },
    ],
    [["migrate"], "migrate", {}],
    [["opencharge", "identity"], "opencharge.identity", {}],
    [
      [
        "opencharge",
        "participants",
        "add",
        "--ocid",
        "5",
        "--name",
        "S",
        "--public-key",
        "ab",
        "--endpoint",
        "https://x",
      ],
      "opencharge.participants.add",
      { ocid: "5", name: "S", public_key: "ab", endpoint: "https://x" },
    ],
    [
      ["opencharge", "participants", "import", "--ocid", "5", "--file", "package.json"],
      "opencharge.participants.import",
      { ocid: "5", metadata: readFileSync("package.json", "utf8") },
    ],
    [["opencharge", "participants", "list"], "opencharge.participants.list", {}],
    [["opencharge", "participants", "remove", "5"], "opencharge.participants.remove", { ocid: "5" }],
    [["opencharge", "proofs"], "opencharge.proofs", {}],
    [["impact", "enable", "--account", "acct_1"], "impact.enable", { account: "acct_1" }],
    [
      [
        "impact",
        "enable",
        "--account",
        "acct_1",
        "--subaccount",
        "sub1",
        "--slug",
        "green-shop",
        "--equivalents",
        "cars_off_the_road,trees_planted",
      ],
      "impact.enable",
      { account: "acct_1", subaccount: "sub1", slug: "green-shop", equivalents: "cars_off_the_road,trees_planted" },
    ],
    [["impact", "disable", "--account", "acct_1"], "impact.disable", { account: "acct_1" }],
    [
      ["impact", "disable", "--account=acct_1", "--subaccount=sub1"],
      "impact.disable",
      { account: "acct_1", subaccount: "sub1" },
    ],
  ];

  it.each(cases)("%j", (argv, operation, args) => {
    const parsed = parseCommand(argv);
    expect(parsed.command.operation).toBe(operation);
    expect(parsed.args).toEqual(args);
    // What the CLI sends is what the operation (admin API or in-process) accepts.
    expect(operations[parsed.command.operation].args.safeParse(parsed.args).success).toBe(true);
  });

  it("flag values that look like command words are values, not commands", () => {
    expect(parseCommand(["accounts", "create", "--name", "list"]).args).toEqual({ name: "list" });
    expect(parseCommand(["keys", "list", "--account", "create"]).args).toEqual({ account: "create" });
    expect(parseCommand(["keys", "revoke", "revoke"]).args).toEqual({ id: "revoke" });
    expect(parseCommand(["orders", "cancel", "fulfill"]).args).toEqual({ id: "fulfill" });
    expect(parseCommand(["orders", "list", "--account", "list"]).args).toEqual({ account: "list" });
  });

  it("the orders operations check what the admin API may send them", () => {
    const ok = (name: keyof typeof operations, args: unknown) => operations[name].args.safeParse(args).success;
    expect(ok("orders.fulfill", {})).toBe(false);
    // The allocation: a file's JSON text (from the CLI) or the array itself (over the admin API).
    expect(operations["orders.fulfill"].args.parse({ id: "o1", allocation: ALLOCATION_JSON })).toEqual({
      id: "o1",
      allocation: [
        { projectId: "prj_1", amountKg: new Decimal("60.5") },
        { projectId: "prj_2", amountKg: new Decimal("39.5") },
      ],
    });
    expect(ok("orders.fulfill", { id: "o1", allocation: [{ project_id: "p", amount_kg: 1 }] })).toBe(true);
    for (const allocation of [
      "not json",
      "{}",
      "[]",
      '[{"project_id": "p"}]',
      '[{"project_id": "p", "amount_kg": "1e3"}]',
    ]) {
      expect(ok("orders.fulfill", { id: "o1", allocation }), allocation).toBe(false);
    }
    // Before fulfilment published its own certificates, operators gave a URL: now refused, saying why.
    const refused = operations["orders.fulfill"].args.safeParse({
      id: "o1",
      certificate_url: "https://certs.example/1",
    });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toEqual([
      expect.objectContaining({
        path: ["certificate_url"],
        message: expect.stringContaining("PUBLIC_URL/certificates/"),
      }),
    ]);
    expect(ok("orders.cancel", { id: "" })).toBe(false);
    expect(ok("orders.list", {})).toBe(false);
    expect(ok("orders.list", { account: "a", limit: "many" })).toBe(false);
    expect(operations["orders.list"].args.parse({ account: "a", limit: "7" })).toEqual({ account: "a", limit: 7 });
  });

  it("README's allocation file is one `orders fulfill --allocation` takes", () => {
    const readme = readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf("## Fulfilment and certificates"));
    const example = /```json\n([\s\S]*?)```/.exec(section)![1]!;
    expect(section).toContain("npx kassa orders fulfill ORDER_ID --allocation allocation.json");
    const parsed = operations["orders.fulfill"].args.parse({ id: "o1", allocation: example });
    expect(parsed.allocation!.map((a) => [a.projectId, a.amountKg.toFixed()])).toEqual([
      ["tbCjWP", "60.5"],
      ["PziVGB", "39.5"],
    ]);
  });

  it("the catalogue operations check what the admin API may send them", () => {
    const ok = (name: keyof typeof operations, args: unknown) => operations[name].args.safeParse(args).success;
    const price = { account: "a", product: "T-shirt", currency: "eur" };
    expect(ok("prices.create", { ...price, unit_amount: "20.5" })).toBe(false);
    expect(ok("prices.create", { ...price, unit_amount: "-1" })).toBe(false);
    expect(ok("prices.create", { ...price, unit_amount: 2000 })).toBe(true);
    expect(ok("prices.create", { ...price, unit_amount: "1", tax_behavior: "sometimes" })).toBe(false);
    expect(ok("products.list", { account: "a", active: "maybe" })).toBe(false);
    expect(operations["prices.create"].args.parse({ ...price, unit_amount: "2000" }).unit_amount.toFixed()).toBe(
      "2000",
    );
  });

  it("every command in the usage text parses", () => {
    const lines = usage().split("\n").slice(1);
    expect(lines.length).toBe(cases.map(([, op]) => op).filter((op, i, all) => all.indexOf(op) === i).length);
    for (const line of lines) {
      const words = line.trim().split(" ").slice(1); // drop "kassa"
      const argv = words
        .filter((w) => !w.startsWith("[") && !w.endsWith("]"))
        .map((w) => (w === "KEY_ID" ? "key_1" : w === "METADATA_JSON" || w === "FILE.json" ? "package.json" : w));
      expect(() => parseCommand(argv)).not.toThrow();
    }
  });
});

describe("parseCommand: bad input throws UsageError", () => {
  const bad: Array<[string, string[]]> = [
    ["no command", []],
    ["unknown command", ["frobnicate"]],
    ["unknown subcommand", ["accounts", "delete"]],
    ["group without subcommand", ["accounts"]],
    ["inherited object key", ["constructor"]],
    ["inherited object key", ["toString"]],
    ["inherited object key", ["__proto__"]],
    ["flag before the command", ["--verbose", "accounts", "list"]],
    ["missing --name", ["accounts", "create"]],
    ["missing --account", ["keys", "create"]],
    ["missing --account", ["keys", "list"]],
    ["--account without a value", ["keys", "create", "--account"]],
    ["missing KEY_ID", ["keys", "revoke"]],
    ["missing ORDER_ID", ["orders", "fulfill"]],
    ["missing ORDER_ID", ["orders", "cancel"]],
    ["missing ORDER_ID, flag only", ["orders", "fulfill", "--allocation", ALLOCATION_FILE]],
    ["--allocation without a value", ["orders", "fulfill", "ord_1", "--allocation"]],
    ["--allocation naming no file", ["orders", "fulfill", "ord_1", "--allocation", "/nonexistent/allocation.json"]],
    ["flag of another command", ["orders", "cancel", "ord_1", "--allocation", ALLOCATION_FILE]],
    ["missing --account", ["orders", "list"]],
    ["missing FILE", ["catalog", "import"]],
    ["unreadable FILE", ["catalog", "import", "no/such/catalogue.json"]],
    ["catalog group without subcommand", ["catalog"]],
    ["orders group without subcommand", ["orders"]],
    ["unknown orders subcommand", ["orders", "ship", "ord_1"]],
    ["missing --api-price", ["portfolios", "create", "--name", "P", "--checkout-price-per-kg-usd-cents", "2"]],
    ["missing --checkout-price", ["portfolios", "create", "--name", "P", "--api-price-per-kg-usd-cents", "2"]],
    ["missing --unit-amount", ["prices", "create", "--account", "a", "--product", "T-shirt", "--currency", "eur"]],
    ["missing --product", ["prices", "create", "--account", "a", "--unit-amount", "1", "--currency", "eur"]],
    ["missing --account", ["prices", "list"]],
    ["missing --name", ["products", "create", "--account", "a"]],
    ["unknown flag", ["accounts", "list", "--all"]],
    ["unexpected positional", ["accounts", "list", "extra"]],
    ["unexpected positional", ["migrate", "now"]],
    [
      "value for a boolean flag",
      [
        "portfolios",
        "create",
        "--name",
        "P",
        "--checkout-price-per-kg-usd-cents",
        "2",
        "--api-price-per-kg-usd-cents",
        "1",
        "--default=yes",
      ],
    ],
  ];

  it.each(bad)("%s: %j", (_why, argv) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
  });

  it("the message names what is missing and shows the usage", () => {
    try {
      parseCommand(["keys", "create"]);
      expect.unreachable("parseCommand accepted a command without --account");
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toContain("--account");
      expect((error as Error).message).toContain("Usage: kassa keys create --account ACCOUNT_ID");
    }
  });

  it("an unknown command's message lists every command", () => {
    try {
      parseCommand(["frobnicate"]);
      expect.unreachable("parseCommand accepted an unknown command");
    } catch (error) {
      expect((error as Error).message).toContain("Unknown command");
      expect((error as Error).message).toContain("kassa portfolios create");
      expect((error as Error).message).toContain("kassa migrate");
    }
  });
});
