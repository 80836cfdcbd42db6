import { isIP } from "node:net";
import path from "node:path";
import { z } from "zod";
import { LATEST_LEANRAILS_API_VERSION, LEANRAILS_API_VERSIONS } from "./api/leanrails/api-versions.js";

/** Variables whose values are never echoed in an error message. */
const SECRET_VARIABLES = new Set([
  "DATABASE_URL",
  "ADMIN_TOKEN",
  "REDIS_URL",
  "CHECKOUT_PAGE_SECRET",
  "OPENCHARGE_PRIVATE_KEY",
]);

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);

const port = z
  .string()
  .regex(/^\d{1,5}$/, "must be a port number (0-65535)")
  .transform(Number)
  .pipe(z.number().max(65535, "must be a port number (0-65535)"));
/** proxy-addr's names for address ranges, usable in TRUST_PROXY's list. */
const PROXY_RANGE_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGE_NAMES.has(entry)) return true;
  const [address = "", prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Whom to believe about the client's address (X-Forwarded-For): nobody (`false`), or the proxies
 * at these addresses (a comma-separated list of addresses, CIDR ranges and proxy-addr's range
 * names), Fastify's trustProxy forms that check who is speaking. `true` is refused (Fastify would
 * take the left-most X-Forwarded-For entry, which the client writes itself), and so is a hop count
 * (Fastify 5.12 disabled them: they cannot tell a proxy from a client that reached Kassa directly).
 */
const trustProxy = z.string().transform((value, ctx): false | string[] => {
  const text = value.trim().toLowerCase();
  if (text === "false" || text === "no" || text === "0") return false;
  const entries = text.split(",").map((entry) => entry.trim());
  if (entries.every(isProxyAddress)) return entries;
  ctx.addIssue({
    code: "custom",
    message:
      "must be false or a comma-separated list of the reverse proxies' addresses or CIDR ranges " +
      "(127.0.0.1 for a proxy on this machine); true and hop counts are not accepted, as they would " +
      "believe an X-Forwarded-For address a client wrote itself",
  });
  return z.NEVER;
});

const flag = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");

/**
 * Every setting Kassa reads from the environment, in one place. Parsed once at boot; a bad value
 * stops the process with a message naming the variable (see loadConfig).
 */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    HOST: z.string().min(1).default("127.0.0.1"),
    PORT: port.default(3000),
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// connection URL")
      .optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
    DATA_DIR: z.string().min(1).default("./data"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    ADMIN_HOST: z
      .string()
      .refine((h) => LOOPBACK_HOSTS.has(h), "must be a loopback address (127.0.0.1, ::1 or localhost)")
      .default("127.0.0.1"),
    ADMIN_PORT: port.optional(),
    ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(64 * 1024),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
    DEMO_SEED: z.enum(["auto", "true", "false"]).default("auto"),
    TRUST_PROXY: trustProxy.default(false),

    // Background work (session expiry, webhook delivery, pruning); off for an instance that should only serve.
    WORKERS: flag.default(true),
    WORKER_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),

    // Hosted checkout page. The CSRF secret defaults to one generated once and kept in the store.
    CHECKOUT_PAGE_SECRET: z.string().min(32, "must be at least 32 characters").optional(),

    // Success and cancel URLs on localhost or a private IP (the customer's own machine or network).
    REDIRECT_ALLOW_PRIVATE_URLS: flag.optional(),

    // Webhooks (order notifications).
    WEBHOOK_ALLOW_PRIVATE_URLS: flag.optional(),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).default(30_000),
    WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).default(3_600_000),
    WEBHOOK_SECRET_ROTATION_HOURS: z.coerce.number().min(0).max(720).default(24),

    // Subaccount logos, downloaded from the URL a client gives (LOGO_ALLOW_PRIVATE_URLS as for webhooks).
    LOGO_ALLOW_PRIVATE_URLS: flag.optional(),
    LOGO_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(10 * 1024 * 1024)
      .default(1024 * 1024),
    LOGO_FETCH_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),

    // Request limits.
    RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(100),
    RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(100).default(1000),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      .optional(),
    MAX_HEADER_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024)
      .default(16 * 1024),
    REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
    KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(0).default(72_000),
    // Slowloris: the whole header block must arrive within this (capped at REQUEST_TIMEOUT_MS).
    HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    // Failed authentications per client address and window before that address gets 429 (0 = off).
    AUTH_FAILURE_LIMIT_MAX: z.coerce.number().int().min(0).default(100),
    AUTH_FAILURE_WINDOW_MS: z.coerce.number().int().min(100).default(60_000),
    // Card-form submissions (POST /pay/<id>) per client address and window, across all sessions
    // (0 = off): each session already stops after 10 attempts, this bounds card testing over many.
    PAY_LIMIT_MAX: z.coerce.number().int().min(0).default(20),
    PAY_LIMIT_WINDOW_MS: z.coerce.number().int().min(100).default(600_000),

    // LeanRails: the API version a request gets when it sends no X-API-Version header.
    LEANRAILS_API_VERSION: z.enum(LEANRAILS_API_VERSIONS).default(LATEST_LEANRAILS_API_VERSION),

    // Opencharge (payment gateway API): off while no OCID is set. The secp256k1 key defaults to
    // one generated on first start and kept in the store; the account defaults to one created then.
    OPENCHARGE_OCID: z
      .string()
      .regex(/^(0|[1-9][0-9]{0,77})$/, "must be an OCID (a decimal integer without leading zeros)")
      .optional(),
    OPENCHARGE_PRIVATE_KEY: z
      .string()
      .regex(/^(0x)?[0-9a-fA-F]{64}$/, "must be a secp256k1 private key (64 hex characters)")
      .optional(),
    OPENCHARGE_BASE_PATH: z
      .string()
      .regex(/^(\/[A-Za-z0-9._~-]+)+$/, "must be a path such as /opencharge (no trailing slash, no query)")
      .refine((p) => !["/v1", "/pay", "/docs", "/healthz", "/readyz"].some((t) => p === t || p.startsWith(`${t}/`)), {
        message: "must not be under a path another surface serves (/v1, /pay, /docs, /healthz, /readyz)",
      })
      .default("/opencharge"),
    OPENCHARGE_ACCOUNT: z.string().min(1).optional(),
    // What metadata.json publishes: the gateway's name and its settlement currencies.
    OPENCHARGE_NAME: z.string().min(1).max(200).default("Kassa"),
    OPENCHARGE_CURRENCIES: z
      .string()
      .regex(
        /^[A-Z][A-Z0-9]{1,11}(,[A-Z][A-Z0-9]{1,11})*$/,
        "must be a comma-separated list of upper-case codes (USD,EUR)",
      )
      .default("USD"),
  })
  .superRefine((env, ctx) => {
    // The admin port defaults to PORT+1, which is no port when PORT is the last one.
    if (env.ADMIN_PORT === undefined && env.PORT === 65535) {
      ctx.addIssue({
        code: "custom",
        path: ["ADMIN_PORT"],
        message: "must be set when PORT is 65535 (its default is PORT+1)",
      });
    }
  })
  .transform((env) => {
    const store = env.DATABASE_URL
      ? ({ kind: "postgres", url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE } as const)
      : ({ kind: "pglite", dataDir: path.resolve(env.DATA_DIR) } as const);
    const publicHost = isIP(env.HOST) === 6 ? `[${env.HOST}]` : env.HOST;
    const publicUrl = (
      env.PUBLIC_URL ?? `http://${env.HOST === "0.0.0.0" || env.HOST === "::" ? "localhost" : publicHost}:${env.PORT}`
    ).replace(/\/+$/, "");
    return {
      env: env.NODE_ENV,
      host: env.HOST,
      port: env.PORT,
      publicUrl,
      store,
      logLevel: env.LOG_LEVEL,
      admin: {
        host: env.ADMIN_HOST,
        port: env.ADMIN_PORT ?? (env.PORT === 0 ? 0 : env.PORT + 1),
        token: env.ADMIN_TOKEN ?? null,
      },
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      // The demo account is for the embedded store a new user starts on; a PostgreSQL deployment
      // gets one only when asked, so production databases never grow an account nobody created.
      seedDemo: env.DEMO_SEED === "auto" ? store.kind === "pglite" : env.DEMO_SEED === "true",
      trustProxy: env.TRUST_PROXY,
      workers: { enabled: env.WORKERS, intervalMs: env.WORKER_INTERVAL_MS },
      checkoutPage: { secret: env.CHECKOUT_PAGE_SECRET ?? null },
      // Redirects to localhost are how a shop is developed, and in production send customers'
      // browsers to whatever listens on their own machines.
      redirectUrls: { allowPrivate: env.REDIRECT_ALLOW_PRIVATE_URLS ?? env.NODE_ENV !== "production" },
      webhooks: {
        // Receivers on loopback or private networks are normal in development and tests, and a
        // server-side request forgery risk in production.
        allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS ?? env.NODE_ENV !== "production",
        timeoutMs: env.WEBHOOK_TIMEOUT_MS,
        retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
        retryMaxMs: env.WEBHOOK_RETRY_MAX_MS,
        /** How long the previous secret keeps signing after a rotation. */
        secretRotationHours: env.WEBHOOK_SECRET_ROTATION_HOURS,
      },
      logos: {
        // Like webhook receivers: a server-side request forgery risk in production.
        allowPrivateUrls: env.LOGO_ALLOW_PRIVATE_URLS ?? env.NODE_ENV !== "production",
        timeoutMs: env.LOGO_FETCH_TIMEOUT_MS,
        maxBytes: env.LOGO_MAX_BYTES,
      },
      limits: {
        rateLimit: { max: env.RATE_LIMIT_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS },
        redisUrl: env.REDIS_URL ?? null,
        maxHeaderBytes: env.MAX_HEADER_BYTES,
        requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
        keepAliveTimeoutMs: env.KEEP_ALIVE_TIMEOUT_MS,
        headersTimeoutMs:
          env.REQUEST_TIMEOUT_MS > 0
            ? Math.min(env.HEADERS_TIMEOUT_MS, env.REQUEST_TIMEOUT_MS)
            : env.HEADERS_TIMEOUT_MS,
        authFailures: { max: env.AUTH_FAILURE_LIMIT_MAX, windowMs: env.AUTH_FAILURE_WINDOW_MS },
        pay: { max: env.PAY_LIMIT_MAX, windowMs: env.PAY_LIMIT_WINDOW_MS },
      },
      leanrails: { defaultApiVersion: env.LEANRAILS_API_VERSION },
      opencharge: {
        /** Kassa's OCID; null: the Opencharge API is off. */
        ocid: env.OPENCHARGE_OCID ?? null,
        /** 64 hex; null: generated on first start and kept in the store. */
        privateKey: env.OPENCHARGE_PRIVATE_KEY ?? null,
        basePath: env.OPENCHARGE_BASE_PATH,
        /** The account that owns Opencharge sessions; null: one created on first start ("Opencharge"). */
        accountId: env.OPENCHARGE_ACCOUNT ?? null,
        name: env.OPENCHARGE_NAME,
        currencies: env.OPENCHARGE_CURRENCIES.split(","),
      },
    };
  });

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws a ConfigError whose message names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset", as in most shells' `VAR= cmd`.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = configSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "environment";
    const key = issue.path[0];
    // Connection URLs carry passwords: name them, never echo them.
    const value = typeof key === "string" && !SECRET_VARIABLES.has(key) ? cleaned[key] : undefined;
    return `  ${name}: ${issue.message}${value === undefined ? "" : ` (got ${JSON.stringify(value)})`}`;
  });
  throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
}
