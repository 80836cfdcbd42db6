import { describe, expect, it } from "vitest";
import { operations } from "../../src/admin/admin.operations.js";
import { parseCommand, UsageError, usage } from "../../src/cli/main.js";

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
    [["keys", "create", "--account", "acct_123"], "keys.create", { account: "acct_123" }],
    [["keys", "list", "--account", "acct_123"], "keys.list", { account: "acct_123" }],
    [["keys", "revoke", "key_abc"], "keys.revoke", { id: "key_abc" }],
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
    [["migrate"], "migrate", {}],
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
  });

  it("every command in the usage text parses", () => {
    const lines = usage().split("\n").slice(1);
    expect(lines.length).toBe(cases.map(([, op]) => op).filter((op, i, all) => all.indexOf(op) === i).length);
    for (const line of lines) {
      const words = line.trim().split(" ").slice(1); // drop "kassa"
      const argv = words
        .filter((w) => !w.startsWith("[") && !w.endsWith("]"))
        .map((w) => (w === "KEY_ID" ? "key_1" : w));
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
    ["missing --api-price", ["portfolios", "create", "--name", "P", "--checkout-price-per-kg-usd-cents", "2"]],
    ["missing --checkout-price", ["portfolios", "create", "--name", "P", "--api-price-per-kg-usd-cents", "2"]],
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
