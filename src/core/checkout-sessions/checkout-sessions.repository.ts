import { type Db, Prisma, type Sql } from "../../db/database.js";
import { SESSION_COLUMNS, type SessionRecord, sessionFromRecord, sessionRecord } from "./checkout-sessions.record.js";
import type { CheckoutSession, CustomerDetails } from "./checkout-sessions.types.js";

const COLUMNS = SESSION_COLUMNS.join(", ");

/** How each column's value is typed in a statement (the driver sends every parameter as text). */
const CASTS: Record<(typeof SESSION_COLUMNS)[number], string> = {
  id: "text",
  account_id: "text",
  subaccount_id: "text",
  api: "text",
  currency: "text",
  line_items: "jsonb",
  amount_subtotal: "numeric",
  amount_total: "numeric",
  success_url: "text",
  cancel_url: "text",
  description: "text",
  metadata: "jsonb",
  client_reference_id: "text",
  customer_ref: "text",
  customer_email: "text",
  customer_details: "jsonb",
  collect_email: "boolean",
  collect_billing_address: "boolean",
  payment_id: "text",
  state: "text",
  created_at: "timestamptz",
  expires_at: "timestamptz",
  completed_at: "timestamptz",
  api_data: "jsonb",
};

const JSON_COLUMNS = new Set(["line_items", "metadata", "customer_details", "api_data"]);

/** The text around the row's parameters: `$n::type, $n+1::type, …` (built once: a create is the hot path). */
const ROW_STRINGS = [
  "",
  ...SESSION_COLUMNS.map((column, i) => `::${CASTS[column]}${i < SESSION_COLUMNS.length - 1 ? ", " : ""}`),
];

/** The row's values as statement parameters, in SESSION_COLUMNS order, each cast by ROW_STRINGS (JSON as text). */
function rowParams(session: CheckoutSession): unknown[] {
  const record = sessionRecord(session) as unknown as Record<string, unknown>;
  return SESSION_COLUMNS.map((column) => {
    const value = record[column];
    return JSON_COLUMNS.has(column) && value !== null ? JSON.stringify(value) : value;
  });
}

/** No guard: the insert always runs. */
const NO_GUARD = Prisma.sql`SELECT 1`;

/**
 * insertWith's statement texts by the shape of its guard and followers (their text, never their
 * values), composed once per shape: composing it on every create (flattening the nested
 * statements, numbering some forty placeholders, then finding the prepared statement by that new
 * text) was a tenth of Kassa's own work per create. The shape is found through a trie over the
 * parts' text pieces, which are the same literal strings on every call: no key is built.
 */
interface ShapeNode {
  next: Map<string, ShapeNode>;
  text?: string;
}
const insertShapes: ShapeNode = { next: new Map() };
/** Ends a part's pieces in the trie (no SQL text contains it). */
const PART_END = "\u0000";
/** Shapes are fixed in code; past this many trie nodes something builds them from values, and nothing more is kept. */
const MAX_SHAPE_NODES = 4096;
let shapeNodes = 0;

/** The trie node of these parts' shape, made as needed; null once the trie is full. */
function shapeOf(parts: readonly Prisma.Sql[]): ShapeNode | null {
  let node: ShapeNode | null = insertShapes;
  for (const part of parts) {
    for (const piece of part.strings) node = node && step(node, piece);
    node = node && step(node, PART_END);
  }
  return node;
}

function step(node: ShapeNode, piece: string): ShapeNode | null {
  let next = node.next.get(piece);
  if (!next) {
    if (shapeNodes >= MAX_SHAPE_NODES) return null;
    next = { next: new Map() };
    node.next.set(piece, next);
    shapeNodes++;
  }
  return next;
}

const fromRow = (row: SessionRecord) => sessionFromRecord(row);

/** Who sells, as the hosted page shows it: the subaccount when the session has one, else the account. */
export interface Merchant {
  name: string;
  /** The re-hosted logo's id (served at /logos/<logoId>), or null. */
  logoId: string | null;
}

/** Rows in `tx` through Prisma's raw query (the same columns, so one mapping serves both paths). */
const rowsIn = (tx: Db, statement: Prisma.Sql) => tx.$queryRaw<SessionRecord[]>(statement);

export function createCheckoutSessionsRepository(db: Db, sql: Sql) {
  return {
    /**
     * Inserts a new session and what goes with it in one statement (one round trip, atomic):
     * `guard`, when given, runs first as a CTE and the session is inserted only if it returns a
     * row; `followers(source)`, when given, gives statements run for the inserted row, reading the CTE
     * named `source`. Returns whether the session was inserted.
     */
    async insertWith(
      session: CheckoutSession,
      parts: { guard?: Prisma.Sql; followers?: (source: string) => Prisma.Sql[] } = {},
    ): Promise<boolean> {
      const guard = parts.guard ?? NO_GUARD;
      const followers = parts.followers?.("inserted") ?? [];
      const row = rowParams(session);
      const values: unknown[] = guard.values.slice();
      for (const value of row) values.push(value);
      for (const follower of followers) for (const value of follower.values) values.push(value);
      const shape = shapeOf(followers.length > 0 ? [guard, ...followers] : [guard]);
      let text = shape?.text;
      if (text === undefined) {
        const composed = Prisma.sql`
        WITH guard AS (${guard}),
        inserted AS (
          INSERT INTO checkout_sessions (${Prisma.raw(COLUMNS)})
          SELECT ${new Prisma.Sql(ROW_STRINGS, row)} WHERE EXISTS (SELECT 1 FROM guard)
          RETURNING id
        )${
          followers.length > 0
            ? Prisma.join(
                followers.map((statement, i) => Prisma.sql`, ${Prisma.raw(`then_${i}`)} AS (${statement})`),
                "",
              )
            : Prisma.empty
        }
        SELECT count(*)::int AS inserted FROM inserted`;
        if (composed.values.length !== values.length)
          throw new Error("insertWith: a part's values do not match its text");
        text = composed.text;
        if (shape) shape.text = text;
      }
      const [result] = await sql.query<{ inserted: number }>({ text, values });
      return result?.inserted === 1;
    },
    /** Tenant-checked lookup: the session only if it belongs to the account. */
    async findForAccount(accountId: string, id: string, tx?: Db): Promise<CheckoutSession | null> {
      const [row] = tx
        ? await rowsIn(
            tx,
            Prisma.sql`SELECT ${Prisma.raw(COLUMNS)} FROM checkout_sessions WHERE id = ${id} AND account_id = ${accountId}`,
          )
        : await sql.query<SessionRecord>({
            text: `SELECT ${COLUMNS} FROM checkout_sessions WHERE id = $1 AND account_id = $2`,
            values: [id, accountId],
          });
      return row ? fromRow(row) : null;
    },
    /**
     * One page of the scope's sessions of one API, newest first (ties by id), after or before a
     * cursor session; null when the cursor is not a session of that scope and API.
     */
    async page(
      scope: { accountId: string; subaccountId: string | null; api: string },
      page: { limit: number; startingAfter?: string | null; endingBefore?: string | null },
    ): Promise<{ sessions: CheckoutSession[]; hasMore: boolean } | null> {
      const cursorId = page.startingAfter ?? page.endingBefore ?? null;
      const where = Prisma.sql`account_id = ${scope.accountId} AND api = ${scope.api}
        AND (${scope.subaccountId}::text IS NULL OR subaccount_id = ${scope.subaccountId})`;
      let cursor: { created_at: Date; id: string } | undefined;
      if (cursorId) {
        [cursor] = await db.$queryRaw<{ created_at: Date; id: string }[]>`
          SELECT created_at, id FROM checkout_sessions WHERE id = ${cursorId} AND ${where}`;
        if (!cursor) return null;
      }
      const before = page.endingBefore != null;
      const condition = cursor
        ? before
          ? Prisma.sql`AND (created_at, id) > (${cursor.created_at}, ${cursor.id})`
          : Prisma.sql`AND (created_at, id) < (${cursor.created_at}, ${cursor.id})`
        : Prisma.empty;
      const order = before ? Prisma.sql`created_at ASC, id ASC` : Prisma.sql`created_at DESC, id DESC`;
      const rows = await rowsIn(
        db,
        Prisma.sql`SELECT ${Prisma.raw(COLUMNS)} FROM checkout_sessions WHERE ${where} ${condition}
          ORDER BY ${order} LIMIT ${page.limit + 1}`,
      );
      const hasMore = rows.length > page.limit;
      const sessions = rows.slice(0, page.limit).map(fromRow);
      return { sessions: before ? sessions.reverse() : sessions, hasMore };
    },
    /** The session and who sells it, for the public hosted page (no tenant: the id is the capability). */
    async findWithMerchant(id: string): Promise<{ session: CheckoutSession; merchant: Merchant } | null> {
      const [row] = await sql.query<
        SessionRecord & { account_name: string; subaccount_name: string | null; subaccount_logo_id: string | null }
      >({
        text: `SELECT ${SESSION_COLUMNS.map((c) => `s.${c}`).join(", ")}, a.name AS account_name,
            sub.name AS subaccount_name, sub.logo_id AS subaccount_logo_id
          FROM checkout_sessions s
          JOIN accounts a ON a.id = s.account_id
          LEFT JOIN subaccounts sub ON sub.id = s.subaccount_id
          WHERE s.id = $1`,
        values: [id],
      });
      if (!row) return null;
      return {
        session: fromRow(row),
        merchant:
          row.subaccount_name !== null
            ? { name: row.subaccount_name, logoId: row.subaccount_logo_id }
            : { name: row.account_name, logoId: null },
      };
    },
    /** Reads the session and locks its row until `tx` ends: payments of one session run one at a time. */
    async lockById(id: string, tx: Db): Promise<CheckoutSession | null> {
      const [row] = await rowsIn(
        tx,
        Prisma.sql`SELECT ${Prisma.raw(COLUMNS)} FROM checkout_sessions WHERE id = ${id} FOR UPDATE`,
      );
      return row ? fromRow(row) : null;
    },
    async apiOf(id: string, tx: Db = db): Promise<string | null> {
      const row = await tx.checkoutSession.findUnique({ where: { id }, select: { api: true } });
      return row?.api ?? null;
    },
    /** open -> complete, with the payment and what the customer entered; null when it was not open. */
    async complete(
      id: string,
      completion: { at: Date; paymentId: string; customerDetails: CustomerDetails | null },
      tx: Db,
    ): Promise<CheckoutSession | null> {
      const details = completion.customerDetails === null ? null : JSON.stringify(completion.customerDetails);
      const [row] = await rowsIn(
        tx,
        Prisma.sql`UPDATE checkout_sessions
          SET state = 'complete', completed_at = ${completion.at}, payment_id = ${completion.paymentId},
            customer_details = ${details}::jsonb
          WHERE id = ${id} AND state = 'open' AND expires_at > ${completion.at}
          RETURNING ${Prisma.raw(COLUMNS)}`,
      );
      return row ? fromRow(row) : null;
    },
    /** open -> expired now (an API's explicit expiry); null when the session was not open. */
    async expireNow(id: string, accountId: string, at: Date, tx: Db): Promise<CheckoutSession | null> {
      const [row] = await rowsIn(
        tx,
        Prisma.sql`UPDATE checkout_sessions SET state = 'expired'
          WHERE id = ${id} AND account_id = ${accountId} AND state = 'open' AND expires_at > ${at}
          RETURNING ${Prisma.raw(COLUMNS)}`,
      );
      return row ? fromRow(row) : null;
    },
    /**
     * Whether any open session is past its expiry: one prepared statement, so the sweep opens
     * its transaction only when it has something to do (on the embedded store a transaction
     * holds the one connection while Prisma works between its statements).
     */
    async anyDue(now: Date): Promise<boolean> {
      const [row] = await sql.query<{ due: boolean }>({
        text: `SELECT EXISTS (SELECT 1 FROM checkout_sessions WHERE state = 'open' AND expires_at <= $1) AS due`,
        values: [now],
      });
      return row?.due === true;
    },
    /**
     * Marks up to `limit` open sessions past their expiry as expired and returns them. Rows another
     * transaction holds (a payment in progress, another instance's sweep) are skipped, so
     * several sweepers never expire one session twice.
     */
    async expireDue(now: Date, limit: number, tx: Db): Promise<CheckoutSession[]> {
      const rows = await rowsIn(
        tx,
        Prisma.sql`UPDATE checkout_sessions SET state = 'expired'
          WHERE id IN (
            SELECT id FROM checkout_sessions
            WHERE state = 'open' AND expires_at <= ${now}
            ORDER BY expires_at
            LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
          )
          RETURNING ${Prisma.raw(COLUMNS)}`,
      );
      return rows.map(fromRow);
    },
  };
}

export type CheckoutSessionsRepository = ReturnType<typeof createCheckoutSessionsRepository>;
