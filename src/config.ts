import { isIP } from "node:net";
import path from "node:path";
import { z } from "zod";

/** Variables whose values are never echoed in an error message. */
const SECRET_VARIABLES = new Set(["DATABASE_URL", "ADMIN_TOKEN"]);

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "localhost"]);

const port = z
  .string()
  .regex(/^\d{1,5}$/, "must be a port number (0-65535)")
  .transform(Number)
  .pipe(z.number().max(65535, "must be a port number (0-65535)"));
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
    TRUST_PROXY: flag.default(false),
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
