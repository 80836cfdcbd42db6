import type { Db } from "../../db/database.js";
import type { Decimal } from "../money/money.js";

export interface PaymentRecord {
  id: string;
  accountId: string;
  checkoutSessionId: string;
  provider: string;
  status: "succeeded" | "declined";
  /** In the currency's minor unit. */
  amount: Decimal;
  currency: string;
  providerReference: string | null;
  declineCode: string | null;
  cardBrand: string | null;
  cardLast4: string | null;
  createdAt: Date;
}

/** Every charge attempt, declined ones included (never card numbers: brand and last four only). */
export function createPaymentsRepository(db: Db) {
  return {
    insert: async (payment: PaymentRecord, tx: Db = db) => {
      await tx.payment.create({ data: { ...payment, amount: payment.amount.toFixed() } });
    },
    countForSession: (checkoutSessionId: string, tx: Db = db) => tx.payment.count({ where: { checkoutSessionId } }),
    listForSession: (checkoutSessionId: string, tx: Db = db) =>
      tx.payment.findMany({ where: { checkoutSessionId }, orderBy: { createdAt: "asc" } }),
  };
}

export type PaymentsRepository = ReturnType<typeof createPaymentsRepository>;
