import { type PGlite, parse, protocol } from "@electric-sql/pglite";
import type { Sql, SqlStatement } from "./database.js";

type BackendMessage = Parameters<typeof parse.parseResults>[0][number];

/** A statement parsed once: its name in PGlite's backend, its parameters' types and its rows' description. */
interface Prepared {
  name: string;
  paramTypes: number[];
  /** The RowDescription message (null for a statement that returns no rows), put before each run's rows. */
  rowDescription: BackendMessage | null;
}

/**
 * Past this many distinct texts something builds statements from values: run them unprepared
 * (as on PostgreSQL, `src/db/postgres-store.ts`).
 */
const MAX_PREPARED_STATEMENTS = 500;

/**
 * `Sql.query` on PGlite with named prepared statements, as the `pg` driver gives them on
 * PostgreSQL. PGlite's own `query()` parses, describes and plans its text on every call
 * (an unnamed statement), which for the hot statements (creating a session is a 30-parameter
 * CTE) costs about as much as running them. Here a text is parsed and described once; each run
 * is one Bind, Execute and Sync sent together, its rows read with PGlite's own parsers.
 *
 * It holds PGlite's two locks as `query()` does (the transaction lock, so it never runs inside
 * a transaction Prisma has open, and the query lock), and syncs the files afterwards as
 * `query()` does outside a transaction.
 */
export function preparedStatements(pglite: PGlite): Sql {
  let statements = instances.get(pglite);
  if (!statements) {
    statements = createPreparedStatements(pglite);
    instances.set(pglite, statements);
  }
  return statements;
}

/** One set per PGlite: statement names are the backend's, so two sets on one PGlite would clash. */
const instances = new WeakMap<PGlite, Sql>();

function createPreparedStatements(pglite: PGlite): Sql {
  const prepared = new Map<string, Prepared>();
  const { serialize } = protocol;

  const exec = async (message: Uint8Array): Promise<BackendMessage[]> =>
    (await pglite.execProtocol(message, { syncToFs: false })).messages;

  /** Parse and Describe (statement), then Sync: the statement's parameter types and rows. */
  async function prepare(text: string): Promise<Prepared> {
    const name = `kassa_${prepared.size}`;
    const messages = await exec(
      concat([serialize.parse({ name, text }), serialize.describe({ type: "S", name }), serialize.sync()]),
    );
    const paramTypes = parse.parseDescribeStatementResults(messages);
    const rowDescription = messages.find((m) => m.name === "rowDescription") ?? null;
    const statement = { name, paramTypes, rowDescription };
    prepared.set(text, statement);
    return statement;
  }

  function serializeParam(value: unknown, type: number | undefined): string | null {
    if (value === null || value === undefined) return null;
    const serializer = type === undefined ? undefined : pglite.serializers[type];
    return serializer ? serializer(value) : String(value);
  }

  async function run<R>(statement: Prepared, values: unknown[]): Promise<R[]> {
    const params = values.map((value, i) => serializeParam(value, statement.paramTypes[i]));
    let messages: BackendMessage[];
    try {
      messages = await exec(
        concat([
          serialize.bind({ statement: statement.name, values: params }),
          serialize.execute({}),
          serialize.sync(),
        ]),
      );
    } finally {
      await pglite.syncToFs();
    }
    const described = statement.rowDescription ? [statement.rowDescription, ...messages] : messages;
    return (parse.parseResults(described, pglite.parsers)[0]?.rows ?? []) as R[];
  }

  return {
    async query<R>({ text, values }: SqlStatement): Promise<R[]> {
      if (!prepared.has(text) && prepared.size >= MAX_PREPARED_STATEMENTS) {
        return (await pglite.query<R>(text, values)).rows;
      }
      return pglite._runExclusiveTransaction(() =>
        pglite._runExclusiveQuery(async () => run<R>(prepared.get(text) ?? (await prepare(text)), values)),
      );
    },
  };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
