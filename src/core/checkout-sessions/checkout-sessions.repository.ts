import { type Db, Prisma, type Sql } from "../../db/database.js";
import { Decimal } from "../money.js";
import type { CheckoutSession, SessionState } from "./checkout-sessions.types.js";

type Row = NonNullable<Awaited<ReturnType<Db["checkoutSession"]["findUnique"]>>>;

const toSession = (row: Row): CheckoutSession => ({
  ...row,
  amountKg: new Decimal(row.amountKg.toString()),
  state: row.state as SessionState,
});

/** A session row as the driver returns it (see Sql). */
interface SessionRow {
  id: string;
  account_id: string;
  subaccount_id: string | null;
  portfolio_id: string;
  amount_kg: string;
  price_usd_cents: number;
  currency: string;
  success_url: string;
  cancel_url: string;
  description: string | null;
  notification_url: string | null;
  state: string;
  created_at: Date;
  expires_at: Date;
  completed_at: Date | null;
  api: string;
}

const SESSION_COLUMNS =
  "id, account_id, subaccount_id, portfolio_id, amount_kg, price_usd_cents, currency, success_url, cancel_url, " +
  "description, notification_url, state, created_at, expires_at, completed_at, api";

const fromRow = (row: SessionRow): CheckoutSession => ({
  id: row.id,
  accountId: row.account_id,
  subaccountId: row.subaccount_id,
  portfolioId: row.portfolio_id,
  amountKg: new Decimal(row.amount_kg),
  priceUsdCents: row.price_usd_cents,
  currency: row.currency,
  successUrl: row.success_url,
  cancelUrl: row.cancel_url,
  description: row.description,
  notificationUrl: row.notification_url,
  state: row.state as SessionState,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  completedAt: row.completed_at,
  api: row.api,
});

/** Who sells, as the hosted page shows it: the subaccount when the session has one, else the account. */
export interface Merchant {
  name: string;
  logoUrl: string | null;
}

export function createCheckoutSessionsRepository(db: Db, sql: Sql) {
  return {
    /**
     * Inserts a new session and what goes with it in one statement (one round trip, atomic):
     * `guard`, when given, runs first as a CTE and the session is inserted only if it returns a
     * row; `then(source)` gives statements run for the inserted row (its events), reading the
     * CTE named `source`. Returns whether the session was inserted.
     */
    async insertWith(
      session: CheckoutSession,
      then: (source: string) => Prisma.Sql[],
      guard?: Prisma.Sql,
    ): Promise<boolean> {
      const s = session;
      const values = Prisma.sql`${s.id}::text, ${s.accountId}::text, ${s.subaccountId}::text, ${s.portfolioId}::text,
        ${s.amountKg.toFixed()}::numeric, ${s.priceUsdCents}::int, ${s.currency}::text, ${s.successUrl}::text,
        ${s.cancelUrl}::text, ${s.description}::text, ${s.notificationUrl}::text, ${s.state}::text,
        ${s.createdAt}::timestamptz, ${s.expiresAt}::timestamptz, ${s.completedAt}::timestamptz, ${s.api}::text`;
      const followers = then("inserted").map(
        (statement, i) => Prisma.sql`, ${Prisma.raw(`then_${i}`)} AS (${statement})`,
      );
      const statement = Prisma.sql`
        WITH guard AS (${guard ?? Prisma.sql`SELECT 1`}),
        inserted AS (
          INSERT INTO checkout_sessions (${Prisma.raw(SESSION_COLUMNS)})
          SELECT ${values} WHERE EXISTS (SELECT 1 FROM guard)
          RETURNING id
        )${Prisma.join(followers, "")}
        SELECT count(*)::int AS inserted FROM inserted`;
      const [row] = await sql.query<{ inserted: number }>(statement);
      return row?.inserted === 1;
    },
    /** Tenant-checked lookup: the session only if it belongs to the account. */
    async findForAccount(accountId: string, id: string, tx?: Db): Promise<CheckoutSession | null> {
      if (tx) {
        const row = await tx.checkoutSession.findFirst({ where: { id, accountId } });
        return row ? toSession(row) : null;
      }
      const [row] = await sql.query<SessionRow>({
        text: `SELECT ${SESSION_COLUMNS} FROM checkout_sessions WHERE id = $1 AND account_id = $2`,
        values: [id, accountId],
      });
      return row ? fromRow(row) : null;
    },
    /** The session and who sells it, for the public hosted page (no tenant: the id is the capability). */
    async findWithMerchant(id: string): Promise<{ session: CheckoutSession; merchant: Merchant } | null> {
      const [row] = await sql.query<
        SessionRow & { account_name: string; subaccount_name: string | null; subaccount_logo_url: string | null }
      >({
        text: `SELECT ${SESSION_COLUMNS.replace(/(^|, )/g, "$1s.")}, a.name AS account_name,
            sub.name AS subaccount_name, sub.logo_url AS subaccount_logo_url
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
            ? { name: row.subaccount_name, logoUrl: row.subaccount_logo_url }
            : { name: row.account_name, logoUrl: null },
      };
    },
    /** Reads the session and locks its row until `tx` ends: payments of one session run one at a time. */
    async lockById(id: string, tx: Db): Promise<CheckoutSession | null> {
      const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM checkout_sessions WHERE id = ${id} FOR UPDATE`;
      if (locked.length === 0) return null;
      const row = await tx.checkoutSession.findUnique({ where: { id } });
      return row ? toSession(row) : null;
    },
    async apiOf(id: string, tx: Db = db): Promise<string | null> {
      const row = await tx.checkoutSession.findUnique({ where: { id }, select: { api: true } });
      return row?.api ?? null;
    },
    /** open -> complete; null when the session was not open (already paid, or expired). */
    async complete(id: string, at: Date, tx: Db): Promise<CheckoutSession | null> {
      const [row] = await tx.checkoutSession.updateManyAndReturn({
        where: { id, state: "open", expiresAt: { gt: at } },
        data: { state: "complete", completedAt: at },
      });
      return row ? toSession(row) : null;
    },
    /**
     * Marks up to `limit` open sessions past their expiry as expired and returns them. Rows another
     * transaction holds (a payment in progress, another instance's sweep) are skipped, so
     * several sweepers never expire one session twice.
     */
    async expireDue(now: Date, limit: number, tx: Db): Promise<CheckoutSession[]> {
      const ids = await tx.$queryRaw<{ id: string }[]>`
        UPDATE checkout_sessions SET state = 'expired'
        WHERE id IN (
          SELECT id FROM checkout_sessions
          WHERE state = 'open' AND expires_at <= ${now}
          ORDER BY expires_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        RETURNING id`;
      if (ids.length === 0) return [];
      const rows = await tx.checkoutSession.findMany({ where: { id: { in: ids.map((r) => r.id) } } });
      return rows.map(toSession);
    },
  };
}

export type CheckoutSessionsRepository = ReturnType<typeof createCheckoutSessionsRepository>;
