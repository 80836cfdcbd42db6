import type { FastifyInstance } from "fastify";
import { buildAdminApp, buildApp } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { seedDemoIfEmpty } from "./core/bootstrap/demo.js";
import { createServices } from "./core/services.js";
import { type Database, openDatabase } from "./db/database.js";
import { loggerOptions } from "./logger.js";

/**
 * The process: parse config, open and migrate the store, seed the demo account on an empty
 * embedded store, listen (public port + loopback admin port), and drain on SIGTERM/SIGINT.
 */
async function main() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }

  const db = await openDatabase(config.store);
  const services = createServices(db);
  await db.migrate();
  if (config.seedDemo) {
    const demo = await db.withMigrationLock(() => seedDemoIfEmpty(services));
    if (demo) printDemoBanner(config, demo.apiKey, demo.accountId);
  }

  const logger = loggerOptions(config);
  const app = await buildApp({ config, db, services, logger });
  const admin = await buildAdminApp({ config, db, services, logger });
  installShutdown(config, app, admin, db);

  // The admin port first: once /healthz answers, the CLI can reach the server too.
  await admin.listen({ host: config.admin.host, port: config.admin.port });
  await app.listen({ host: config.host, port: config.port });
  app.log.info(
    { public_url: config.publicUrl, store: config.store.kind, admin: admin.server.address() },
    "kassa is ready",
  );
}

function printDemoBanner(config: Config, apiKey: string, accountId: string) {
  const where = config.store.kind === "pglite" ? `embedded store in ${config.store.dataDir}` : "PostgreSQL";
  process.stdout.write(
    [
      "",
      `Kassa created a demo account (${accountId}) on the empty ${where}.`,
      "Its secret API key is shown this once; keep it:",
      "",
      `  export KASSA_KEY=${apiKey}`,
      "",
      `Then try: curl -s ${config.publicUrl}/v1/portfolios -H "Authorization: Bearer $KASSA_KEY"`,
      "",
      "",
    ].join("\n"),
  );
}

function installShutdown(config: Config, app: FastifyInstance, admin: FastifyInstance, db: Database) {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down: draining in-flight requests");
    const timer = setTimeout(() => {
      app.log.error("shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    try {
      // Fastify's close stops accepting, answers new requests 503, and waits for in-flight ones.
      await Promise.all([app.close(), admin.close()]);
      await db.close();
      app.log.info("shutdown complete");
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(`kassa failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
