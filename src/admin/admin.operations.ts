import { z } from "zod";
import { equivalentFromWire, impactPageUrl, WIRE_EQUIVALENTS } from "../api/cnaught/impact.schemas.js";
import { toWireOrder } from "../api/cnaught/orders.schemas.js";
import { parseCatalogueFile, toCatalogueFile, withFilePaths } from "./catalogue-file.js";
import type { OpenchargeRuntime } from "../api/opencharge/opencharge.js";
import type { ProofWithDelivery } from "../api/opencharge/opencharge.repository.js";
import { participantOperations, participantView } from "../api/opencharge/participants.js";
import { openchargeOf } from "../composition.js";
import { API_VERSIONS } from "../api/notification-formats.js";
import { toWirePrice } from "../api/leanrails/prices.schemas.js";
import { toWireProduct } from "../api/leanrails/products.schemas.js";
import { TAX_BEHAVIORS } from "../core/catalog/catalog.types.js";
import type { ImpactPage } from "../core/impact/impact.types.js";
import type { ApiKeyView } from "../core/api-keys/api-keys.service.js";
import { unstorableFieldErrors } from "../api/validation.js";
import { invalidRequestFields, invalidState } from "../core/errors.js";
import { Decimal, decimalFromJsonNumber } from "../core/money/money.js";
import type { Portfolio } from "../core/portfolios/portfolios.repository.js";
import type { Written } from "../core/idempotency/idempotency.types.js";
import type { Services } from "../core/services.js";
import type { DeliveryWithAttempts } from "../core/webhooks/webhooks.repository.js";
import type { WebhookSecretView } from "../core/webhooks/webhooks.service.js";
import type { Database } from "../db/database.js";

/**
 * Every operator command, once. The admin API (src/api/admin) runs them for a CLI talking to a
 * running server; the CLI runs them in-process when no server is running. Arguments arrive as
 * strings (command-line flags), results are plain JSON.
 */
export interface OperationContext {
  services: Services;
  db: Pick<Database, "migrate">;
  /** PUBLIC_URL, for the URLs an operation prints (without it, paths). */
  publicUrl?: string;
}

const decimalText = z
  .string()
  .regex(/^\d+(\.\d+)?$/, "must be a non-negative decimal number")
  .transform((v) => new Decimal(v));
/** A whole number of minor units, as a flag's text or a JSON number. */
const minorUnits = z
  .union([
    z.number().int().min(0),
    z.string().regex(/^\d{1,15}$/, "must be a whole number of minor units (at most 15 digits)"),
  ])
  .transform((v) => new Decimal(String(v)));
/**
 * An explicit allocation for `orders.fulfill`: the JSON text of a file (the CLI's --allocation
 * FILE) or, over the admin API, the array itself: `[{"project_id": "…", "amount_kg": 12.5}, …]`.
 */
const allocationArg = z
  .union([z.string(), z.array(z.unknown())])
  .transform((value, ctx) => {
    if (typeof value !== "string") return value;
    try {
      return JSON.parse(value) as unknown;
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `must be JSON: ${(error as Error).message}` });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(
        z.object({
          project_id: z.string().min(1),
          amount_kg: z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/, "must be a decimal number of kilograms")]),
        }),
        { error: 'must be a JSON array of {"project_id", "amount_kg"}' },
      )
      .min(1, "must name at least one project"),
  )
  .transform((shares) =>
    shares.map((s) => ({ projectId: s.project_id, amountKg: decimalFromJsonNumber(s.amount_kg) })),
  );

const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);

const keyView = (k: ApiKeyView) => ({
  ...k,
  created_on: k.created_on.toISOString(),
  last_used_on: k.last_used_on?.toISOString() ?? null,
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

const secretView = (s: WebhookSecretView) => ({
  account_id: s.accountId,
  secret: s.secret,
  previous_secret: s.previousSecret,
  previous_secret_expires_on: s.previousSecretExpiresAt?.toISOString() ?? null,
});

const deliveryView = (d: DeliveryWithAttempts) => ({
  id: d.id,
  account_id: d.accountId,
  event: d.event.type,
  subject: `${d.subjectType} ${d.subjectId}`,
  /** The registered webhook endpoint it goes to; null for an order's callback URL. */
  endpoint_id: d.endpointId,
  signature: d.signature,
  url: d.url,
  status: d.status,
  attempt_count: d.attemptCount,
  next_attempt_on: d.status === "pending" ? d.nextAttemptAt.toISOString() : null,
  created_on: d.createdAt.toISOString(),
  completed_on: d.completedAt?.toISOString() ?? null,
  attempts: d.attempts.map((a) => ({
    attempt: a.attempt,
    started_on: a.startedAt.toISOString(),
    status_code: a.responseStatus,
    duration_ms: a.durationMs,
    outcome: a.outcome,
    error: a.error,
    next_attempt_on: a.nextAttemptAt?.toISOString() ?? null,
  })),
});

const proofView = (p: ProofWithDelivery) => ({
  txid: p.txid,
  session_id: p.sessionId,
  proof: p.proof,
  signature: p.signature,
  created_on: p.createdAt.toISOString(),
  delivery: p.delivery && {
    id: p.deliveryId,
    status: p.delivery.status,
    attempt_count: p.delivery.attemptCount,
    last_status_code: p.delivery.lastResponseStatus,
    last_error: p.delivery.lastError,
    next_attempt_on: p.delivery.nextAttemptAt?.toISOString() ?? null,
    completed_on: p.delivery.completedAt?.toISOString() ?? null,
  },
});

/** A public impact page's settings, equivalents by their CNaught names (as GET /v1/impact/hosted-page-config shows them). */
const impactPageView = (p: ImpactPage, publicUrl: string | undefined) => ({
  account_id: p.accountId,
  subaccount_id: p.subaccountId,
  enabled: p.enabled,
  slug: p.slug,
  url: impactPageUrl(publicUrl ?? "", p.slug),
  enabled_equivalents: p.equivalents.map((k) => WIRE_EQUIVALENTS[k]),
  updated_on: p.updatedAt.toISOString(),
});

/** `--equivalents cars_off_the_road,trees_planted`: CNaught's names, comma-separated (or a JSON list). */
const equivalentNames = z
  .union([z.string().transform((v) => v.split(",").map((name) => name.trim())), z.array(z.string())])
  .transform((names, ctx) => {
    const known = names.filter((n) => n !== "").map((n) => equivalentFromWire(n) ?? n);
    const unknown = known.filter((k) => !Object.hasOwn(WIRE_EQUIVALENTS, k));
    if (unknown.length) {
      ctx.addIssue({
        code: "custom",
        message: `unknown equivalents: ${unknown.join(", ")}; known: ${Object.values(WIRE_EQUIVALENTS).join(", ")}`,
      });
      return z.NEVER;
    }
    return known;
  });

const impactOwner = { account: z.string().min(1), subaccount: z.string().min(1).optional() };
const ownerOf = (a: { account: string; subaccount?: string }) => ({
  accountId: a.account,
  subaccountId: a.subaccount ?? null,
});

/** The Opencharge runtime, when the API is on (OPENCHARGE_OCID set). */
function opencharge(services: Services): OpenchargeRuntime {
  const runtime = openchargeOf(services);
  if (!runtime?.enabled) throw invalidState("Opencharge is off: set OPENCHARGE_OCID to Kassa's OCID");
  return runtime;
}

const participantArgs = {
  ocid: z.string().min(1),
  name: z.string().min(1),
  public_key: z.string().min(1),
  endpoint: z.string().min(1),
  role: z.string().min(1).optional(),
};

/** An operation's write has no idempotency record, so it is always its own result. */
const resultOf = <T>(written: Written<T>): T => {
  if (written.kind !== "written") throw new Error("an operator's write cannot be a replay");
  return written.result;
};

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
  "accounts.api-version": op(
    z.object({
      account: z.string().min(1),
      api: z.string().min(1),
      set: z.string().min(1).optional(),
      clear: flag.optional(),
    }),
    async ({ services }, a) => {
      if (a.set !== undefined && a.clear) throw invalidRequestFields({ set: ["not with clear"] });
      const versions =
        a.set !== undefined || a.clear
          ? await services.accounts.setDefaultApiVersion(a.account, a.api, a.set ?? null, API_VERSIONS)
          : null;
      const version = versions
        ? (versions[a.api] ?? null)
        : await services.accounts.defaultApiVersion(a.account, a.api);
      if (!versions) await services.accounts.get(a.account); // an unknown account is not_found
      return { account_id: a.account, api: a.api, version, known_versions: API_VERSIONS[a.api] ?? [] };
    },
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
  "keys.rotate": op(z.object({ id: z.string().min(1) }), async ({ services }, a) => {
    const { replaces, ...key } = await services.apiKeys.rotate(a.id);
    return {
      ...keyView(key),
      replaces,
      next_step: `Both keys work now. Once every client uses the new key, revoke the old one: kassa keys revoke ${replaces}`,
    };
  }),
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
  // The carbon catalogue (projects, categories, portfolios' descriptions and allocations) as one
  // file: `catalogue` is the file's text or its parsed JSON (see catalogue-file.ts).
  "catalog.import": op(
    z.object({ catalogue: z.unknown().refine((v) => v !== undefined, "is required") }),
    async ({ services }, a) => {
      const catalogue = parseCatalogueFile(a.catalogue);
      const result = await withFilePaths(() => services.projects.importCatalogue(catalogue));
      return {
        imported: {
          categories: result.categories,
          projects: result.projects,
          credit_issuances: result.creditIssuances,
          portfolios: result.portfolios,
        },
      };
    },
  ),
  "catalog.export": op(z.object({}), async ({ services }) =>
    toCatalogueFile(await services.projects.exportCatalogue()),
  ),
  // Orders are shown as the CNaught API shows them (GET /v1/orders/{id}).
  // Retires credits by the portfolio's category fractions, or by an explicit allocation.
  "orders.fulfill": op(
    z.object({
      id: z.string().min(1),
      allocation: allocationArg.optional(),
      // Before fulfilment published its own certificate, an operator gave its URL.
      certificate_url: z
        .undefined({
          error:
            "is no longer taken: Kassa publishes each fulfilled order's certificate itself, at PUBLIC_URL/certificates/<order id> (and .pdf)",
        })
        .optional(),
    }),
    async ({ services }, a) => toWireOrder(await services.orders.fulfill(a.id, { allocation: a.allocation })),
  ),
  "orders.cancel": op(z.object({ id: z.string().min(1) }), async ({ services }, a) =>
    toWireOrder(await services.orders.cancel(a.id)),
  ),
  "orders.list": op(
    z.object({
      account: z.string().min(1),
      limit: z.coerce.number().optional(),
      starting_after: z.string().min(1).optional(),
      ending_before: z.string().min(1).optional(),
    }),
    async ({ services }, a) => {
      await services.accounts.get(a.account); // an unknown account is not found, not an empty list
      const orders = await services.orders.list(
        { accountId: a.account, subaccountId: null },
        { limit: a.limit, startingAfter: a.starting_after, endingBefore: a.ending_before },
      );
      return orders.map(toWireOrder);
    },
  ),
  // The catalogue is shown as the LeanRails API shows it (GET /v1/prices/{id}, /v1/products/{id}).
  "products.create": op(
    z.object({
      account: z.string().min(1),
      name: z.string().min(1),
      description: z.string().min(1).optional(),
      unit_label: z.string().min(1).optional(),
    }),
    async ({ services }, a) => {
      await services.accounts.get(a.account); // an unknown account is not found
      const written = await services.catalog.createProduct(a.account, {
        name: a.name,
        description: a.description,
        unitLabel: a.unit_label,
      });
      return toWireProduct(resultOf(written));
    },
  ),
  "products.list": op(
    z.object({
      account: z.string().min(1),
      active: flag.optional(),
      limit: z.coerce.number().optional(),
      starting_after: z.string().min(1).optional(),
    }),
    async ({ services }, a) => {
      await services.accounts.get(a.account);
      const page = await services.catalog.listProducts(
        a.account,
        { active: a.active },
        { limit: a.limit, startingAfter: a.starting_after },
      );
      return page.products.map(toWireProduct);
    },
  ),
  // --product takes a product's id (prod_…) or the name of a new product made with the price.
  "prices.create": op(
    z.object({
      account: z.string().min(1),
      product: z.string().min(1),
      unit_amount: minorUnits,
      currency: z.string().min(1),
      tax_behavior: z.enum(TAX_BEHAVIORS).optional(),
      nickname: z.string().min(1).optional(),
      lookup_key: z.string().min(1).optional(),
    }),
    async ({ services }, a) => {
      await services.accounts.get(a.account);
      const byId = a.product.startsWith("prod_");
      const written = await services.catalog.createPrice(a.account, {
        ...(byId ? { productId: a.product } : { productData: { name: a.product } }),
        currency: a.currency,
        unitAmount: a.unit_amount,
        taxBehavior: a.tax_behavior,
        nickname: a.nickname,
        lookupKey: a.lookup_key,
      });
      return toWirePrice(resultOf(written));
    },
  ),
  "prices.list": op(
    z.object({
      account: z.string().min(1),
      product: z.string().min(1).optional(),
      active: flag.optional(),
      limit: z.coerce.number().optional(),
      starting_after: z.string().min(1).optional(),
    }),
    async ({ services }, a) => {
      await services.accounts.get(a.account);
      const page = await services.catalog.listPrices(
        a.account,
        { productId: a.product, active: a.active },
        { limit: a.limit, startingAfter: a.starting_after },
      );
      return page.prices.map(toWirePrice);
    },
  ),
  // The public impact page of an account (or, with --subaccount, of one subaccount).
  "impact.enable": op(
    z.object({ ...impactOwner, slug: z.string().min(1).optional(), equivalents: equivalentNames.optional() }),
    async ({ services, publicUrl }, a) =>
      impactPageView(await services.impact.enable(ownerOf(a), { slug: a.slug, equivalents: a.equivalents }), publicUrl),
  ),
  "impact.disable": op(z.object(impactOwner), async ({ services, publicUrl }, a) =>
    impactPageView(await services.impact.disable(ownerOf(a)), publicUrl),
  ),
  "webhooks.secret": op(z.object({ account: z.string().min(1), rotate: flag.optional() }), async ({ services }, a) =>
    secretView(await services.webhooks.secret(a.account, { rotate: a.rotate ?? false })),
  ),
  "webhooks.deliveries": op(
    z.object({
      order: z.string().min(1).optional(),
      account: z.string().min(1).optional(),
      endpoint: z.string().min(1).optional(),
      limit: z.coerce.number().int().min(1).max(1000).optional(),
    }),
    async ({ services }, a) =>
      (
        await services.webhooks.deliveries({
          orderId: a.order,
          accountId: a.account,
          endpointId: a.endpoint,
          limit: a.limit,
        })
      ).map(deliveryView),
  ),
  "opencharge.identity": op(z.object({}), async ({ services }) => {
    const identity = await opencharge(services).identity();
    return { ocid: identity.ocid, public_key: identity.publicKey, account_id: identity.accountId };
  }),
  "opencharge.participants.add": op(z.object(participantArgs), async ({ services }, a) =>
    participantView(
      await participantOperations(services, opencharge(services)).add({
        ocid: a.ocid,
        name: a.name,
        publicKey: a.public_key,
        endpoint: a.endpoint,
        role: a.role,
      }),
    ),
  ),
  "opencharge.participants.import": op(
    z.object({ ocid: z.string().min(1), metadata: z.string().min(1), role: z.string().min(1).optional() }),
    async ({ services }, a) =>
      participantView(await participantOperations(services, opencharge(services)).importMetadata(a)),
  ),
  "opencharge.participants.list": op(z.object({}), async ({ services }) =>
    (await participantOperations(services, opencharge(services)).list()).map(participantView),
  ),
  "opencharge.participants.remove": op(z.object({ ocid: z.string().min(1) }), async ({ services }, a) =>
    participantView(await participantOperations(services, opencharge(services)).remove(a.ocid)),
  ),
  "opencharge.proofs": op(
    z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
    async ({ services }, a) => (await opencharge(services).repository.listProofs(a.limit ?? 50)).map(proofView),
  ),
  migrate: op(z.object({}), async ({ db }) => ({ applied: await db.migrate() })),
} as const;

export type OperationName = keyof typeof operations;

export const isOperationName = (name: string): name is OperationName => Object.hasOwn(operations, name);

/**
 * Validates raw arguments and runs the operation; invalid arguments throw a ZodError, and a string
 * the store could not keep (a NUL, a lone surrogate) an invalid_parameters AppError.
 */
export async function runOperation(ctx: OperationContext, name: OperationName, rawArgs: unknown): Promise<unknown> {
  const unstorable = unstorableFieldErrors(rawArgs, "args");
  if (unstorable) throw invalidRequestFields(unstorable, "Invalid arguments");
  const operation = operations[name];
  const args = operation.args.parse(rawArgs ?? {});
  return (operation.run as (ctx: OperationContext, args: unknown) => Promise<unknown>)(ctx, args);
}
