/**
 * The reference the bench measures Kassa against: the least a server can do for the same two
 * routes. Fastify and a `pg` Pool of Kassa's size; POST inserts one row as wide as a checkout
 * session (its table is `LIKE checkout_sessions INCLUDING ALL`: same columns, types, defaults and
 * indexes, no foreign keys) and answers it as JSON; GET selects one row by primary key. No auth,
 * no idempotency, no events: the headers Kassa needs are sent and ignored.
 *
 * Run by run.ts on a database Kassa has migrated. Environment: DATABASE_URL, PORT, HOST,
 * DATABASE_POOL_SIZE.
 */
import { randomInt } from "node:crypto";
import Fastify from "fastify";
import pg from "pg";

const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TABLE = "bench_reference_sessions";
const PRICE_PER_KG_CENTS = 2;

/** A 10-character alphanumeric id, as Kassa's session ids. */
function newId(): string {
  let id = "";
  for (let i = 0; i < 10; i++) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return id;
}

interface CreateBody {
  amount_kg: number;
  success_url: string;
  cancel_url: string;
  description?: string;
}

const createSchema = {
  body: {
    type: "object",
    required: ["amount_kg", "success_url", "cancel_url"],
    properties: {
      amount_kg: { type: "number", exclusiveMinimum: 0 },
      success_url: { type: "string", minLength: 1 },
      cancel_url: { type: "string", minLength: 1 },
      description: { type: "string" },
    },
  },
} as const;

async function main() {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error("DATABASE_URL is required");
  const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
  // Made anew on every start, so it always has the shape of the current checkout_sessions.
  await pool.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await pool.query(`CREATE TABLE ${TABLE} (LIKE checkout_sessions INCLUDING ALL)`);

  // One access line per request at info, as Kassa logs by default (run.ts sends stdout to /dev/null).
  const app = Fastify({ logger: { level: "info" }, disableRequestLogging: true });
  app.addHook("onResponse", async (request, reply) => {
    request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, "request completed");
  });

  app.get("/readyz", async () => {
    await pool.query("SELECT 1");
    return { status: "ok" };
  });

  app.post<{ Body: CreateBody }>("/v1/checkout/sessions", { schema: createSchema }, async (request, reply) => {
    const body = request.body;
    const { rows } = await pool.query(
      `INSERT INTO ${TABLE} (id, account_id, api, currency, line_items, amount_subtotal, amount_total, success_url,
         cancel_url, description, expires_at)
       VALUES ($1, $2, 'reference', 'USD', $3, $4, $4, $5, $6, $7, now() + interval '24 hours')
       RETURNING *`,
      [
        newId(),
        "acct_reference",
        JSON.stringify([{ description: "reference", quantity: String(body.amount_kg), unit_amount: "2" }]),
        Math.ceil(body.amount_kg * PRICE_PER_KG_CENTS),
        body.success_url,
        body.cancel_url,
        body.description ?? null,
      ],
    );
    return reply.code(201).send(rows[0]);
  });

  app.get<{ Params: { id: string } }>("/v1/checkout/sessions/:id", async (request, reply) => {
    const { rows } = await pool.query(`SELECT * FROM ${TABLE} WHERE id = $1`, [request.params.id]);
    if (rows.length === 0) return reply.code(404).send({ status: 404, title: "not found" });
    return rows[0];
  });

  const shutdown = async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown());
  process.once("SIGINT", () => void shutdown());

  await app.listen({ host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 3100) });
}

main().catch((error) => {
  process.stderr.write(`reference server failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
