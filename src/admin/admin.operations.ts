import { z } from "zod";
import type { ApiKeyView } from "../core/api-keys/api-keys.service.js";
import { Decimal } from "../core/money.js";
import type { Portfolio } from "../core/portfolios/portfolios.repository.js";
import type { Services } from "../core/services.js";
import type { Database } from "../db/database.js";

/**
 * Every operator command, once. The admin API (src/api/admin) runs them for a CLI talking to a
 * running server; the CLI runs them in-process when no server is running. Arguments arrive as
 * strings (command-line flags), results are plain JSON.
 */
export interface OperationContext {
  services: Services;
  db: Pick<Database, "migrate">;
}

const decimalText = z
  .string()
  .regex(/^\d+(\.\d+)?$/, "must be a non-negative decimal number")
  .transform((v) => new Decimal(v));
const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

const keyView = (k: ApiKeyView) => ({
  ...k,
  created_on: k.created_on.toISOString(),
  revoked_on: k.revoked_on?.toISOString() ?? null,
});

const portfolioView = (p: Portfolio) => ({
  id: p.id,
  name: p.name,
  checkout_price_per_kg_usd_cents: p.checkoutPricePerKgUsdCents.toFixed(),
  api_price_per_kg_usd_cents: p.apiPricePerKgUsdCents.toFixed(),
  is_default: p.isDefault,
  created_on: p.createdAt.toISOString(),
});

const accountView = (a: { id: string; name: string; defaultPortfolioId: string | null; createdAt: Date }) => ({
  id: a.id,
  name: a.name,
  default_portfolio_id: a.defaultPortfolioId,
  created_on: a.createdAt.toISOString(),
});

const op = <S extends z.ZodType>(args: S, run: (ctx: OperationContext, args: z.output<S>) => Promise<unknown>) => ({
  args,
  run,
});

export const operations = {
  "accounts.create": op(
    z.object({ name: z.string().min(1), default_portfolio_id: z.string().optional() }),
    async ({ services }, a) =>
      accountView(await services.accounts.create({ name: a.name, defaultPortfolioId: a.default_portfolio_id })),
  ),
  "accounts.list": op(z.object({}), async ({ services }) => (await services.accounts.list()).map(accountView)),
  "keys.create": op(z.object({ account: z.string().min(1) }), async ({ services }, a) =>
    keyView(await services.apiKeys.create(a.account)),
  ),
  "keys.list": op(z.object({ account: z.string().min(1) }), async ({ services }, a) =>
    (await services.apiKeys.list(a.account)).map(keyView),
  ),
  "keys.revoke": op(z.object({ id: z.string().min(1) }), async ({ services }, a) =>
    keyView(await services.apiKeys.revoke(a.id)),
  ),
  "portfolios.create": op(
    z.object({
      name: z.string().min(1),
      checkout_price_per_kg_usd_cents: decimalText,
      api_price_per_kg_usd_cents: decimalText,
      id: z.string().optional(),
      default: flag.optional(),
    }),
    async ({ services }, a) =>
      portfolioView(
        await services.portfolios.create({
          id: a.id,
          name: a.name,
          checkoutPricePerKgUsdCents: a.checkout_price_per_kg_usd_cents,
          apiPricePerKgUsdCents: a.api_price_per_kg_usd_cents,
          isDefault: a.default ?? false,
        }),
      ),
  ),
  "portfolios.list": op(z.object({}), async ({ services }) => (await services.portfolios.list()).map(portfolioView)),
  migrate: op(z.object({}), async ({ db }) => ({ applied: await db.migrate() })),
} as const;

export type OperationName = keyof typeof operations;

export const isOperationName = (name: string): name is OperationName => Object.hasOwn(operations, name);

/** Validates raw arguments and runs the operation; invalid arguments throw a ZodError. */
export async function runOperation(ctx: OperationContext, name: OperationName, rawArgs: unknown): Promise<unknown> {
  const operation = operations[name];
  const args = operation.args.parse(rawArgs ?? {});
  return (operation.run as (ctx: OperationContext, args: unknown) => Promise<unknown>)(ctx, args);
}
