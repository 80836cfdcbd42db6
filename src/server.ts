import type { FastifyInstance } from "fastify";
import { buildAdminApp, buildApp } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { seedDemoIfEmpty } from "./core/bootstrap/demo.js";
import { createKassaServices } from "./composition.js";
import { type Database, openDatabase } from "./db/database.js";
import { loggerOptions } from "./logger.js";
import { createPrometheusMetrics } from "./metrics/prometheus.js";
import { startWorkers, type Workers } from "./workers/workers.js";

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

  // Signals are honoured from here on, also while the store opens or migrates (a `docker stop`
  // during the first start's initdb must not wait for SIGKILL).
  const running: Running = {};
  installShutdown(config, running);

  const db = await openDatabase(config.store);
  running.db = db;
  const metrics = createPrometheusMetrics({ db });
  const services = createKassaServices(db, undefined, config, metrics);
  await db.migrate();
  if (config.seedDemo) {
    const demo = await db.withMigrationLock(() => seedDemoIfEmpty(services));
    if (demo) printDemoBanner(config, demo.apiKey, demo.accountId);
  }

  const logger = loggerOptions(config);
  const app = await buildApp({ config, db, services, logger, metrics });
  const admin = await buildAdminApp({ config, db, services, logger, metrics });
  running.servers = [admin, app];

  // The admin port first: once /healthz answers, the CLI can reach the server too.
  await admin.listen({ host: config.admin.host, port: config.admin.port });
  await app.listen({ host: config.host, port: config.port });
  app.log.info(
    { public_url: config.publicUrl, store: config.store.kind, admin: admin.server.address() },
    "kassa is ready",
  );
  // Background work (session expiry, webhook delivery) once the store is migrated and serving.
  if (config.workers.enabled) running.workers = startWorkers({ services, config, logger: app.log });
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

interface Running {
  db?: Database;
  servers?: FastifyInstance[];
  workers?: Workers;
}

function installShutdown(config: Config, running: Running) {
  let closing = false;
  const log = (msg: string, extra: object = {}) => {
    const logger = running.servers?.[1]?.log;
    if (logger) logger.info(extra, msg);
    else process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), msg, ...extra })}\n`);
  };
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    log("shutting down: draining in-flight requests", { signal });
    const timer = setTimeout(() => {
      process.stderr.write("kassa: shutdown timed out; exiting\n");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    try {
      // Workers first: in-flight deliveries are cut short and recorded while the store is open.
      await running.workers?.stop();
      // Fastify's close stops accepting, answers new requests 503, and waits for in-flight ones.
      await Promise.all((running.servers ?? []).map((server) => server.close()));
      await running.db?.close();
      log("shutdown complete");
      process.exit(0);
    } catch (error) {
      process.stderr.write(`kassa: shutdown failed: ${(error as Error).message}\n`);
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
