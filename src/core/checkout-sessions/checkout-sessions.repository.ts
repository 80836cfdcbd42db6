import type { Db } from "../../db/database.js";
import { Decimal } from "../money.js";
import type { CheckoutSession, SessionState } from "./checkout-sessions.types.js";

type Row = NonNullable<Awaited<ReturnType<Db["checkoutSession"]["findUnique"]>>>;

const toSession = (row: Row): CheckoutSession => ({
  ...row,
  amountKg: new Decimal(row.amountKg.toString()),
  state: row.state as SessionState,
});

/** Who sells, as the hosted page shows it: the subaccount when the session has one, else the account. */
export interface Merchant {
  name: string;
  logoUrl: string | null;
}

export function createCheckoutSessionsRepository(db: Db) {
  return {
    async insert(session: CheckoutSession, tx: Db = db): Promise<CheckoutSession> {
      const row = await tx.checkoutSession.create({ data: { ...session, amountKg: session.amountKg.toFixed() } });
      return toSession(row);
    },
    /** Tenant-checked lookup: the session only if it belongs to the account. */
    async findForAccount(accountId: string, id: string, tx: Db = db): Promise<CheckoutSession | null> {
      const row = await tx.checkoutSession.findFirst({ where: { id, accountId } });
      return row ? toSession(row) : null;
    },
    /** The session and who sells it, for the public hosted page (no tenant: the id is the capability). */
    async findWithMerchant(id: string, tx: Db = db): Promise<{ session: CheckoutSession; merchant: Merchant } | null> {
      const row = await tx.checkoutSession.findUnique({
        where: { id },
        include: { account: { select: { name: true } }, subaccount: { select: { name: true, logoUrl: true } } },
      });
      if (!row) return null;
      const { account, subaccount, ...session } = row;
      return {
        session: toSession(session),
        merchant: subaccount
          ? { name: subaccount.name, logoUrl: subaccount.logoUrl }
          : { name: account.name, logoUrl: null },
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
