import type { Db } from "../../db/database.js";
import { Decimal } from "../money.js";
import type { CheckoutSession, SessionState } from "./checkout-sessions.types.js";

type Row = NonNullable<Awaited<ReturnType<Db["checkoutSession"]["findUnique"]>>>;

const toSession = (row: Row): CheckoutSession => ({
  ...row,
  amountKg: new Decimal(row.amountKg.toString()),
  state: row.state as SessionState,
});

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
  };
}

export type CheckoutSessionsRepository = ReturnType<typeof createCheckoutSessionsRepository>;
