import type { Db } from "../../db/database.js";

export interface PaymentRecord {
  id: string;
  accountId: string;
  checkoutSessionId: string;
  provider: string;
  status: "succeeded" | "declined";
  amountUsdCents: number;
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
      await tx.payment.create({ data: payment });
    },
    countForSession: (checkoutSessionId: string, tx: Db = db) => tx.payment.count({ where: { checkoutSessionId } }),
    listForSession: (checkoutSessionId: string, tx: Db = db) =>
      tx.payment.findMany({ where: { checkoutSessionId }, orderBy: { createdAt: "asc" } }),
  };
}

export type PaymentsRepository = ReturnType<typeof createPaymentsRepository>;
