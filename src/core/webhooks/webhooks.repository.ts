import type { Db } from "../../db/database.js";
import { newId } from "../ids.js";

/** A notification to send, written in the same transaction as the state change and its event. */
export interface NewDelivery {
  accountId: string;
  eventId: string;
  subjectType: string;
  subjectId: string;
  url: string;
  /** The exact body sent (and signed) on every attempt. */
  payload: string;
  /** When the first attempt is due (normally now). */
  nextAttemptAt: Date;
}

/** The webhook outbox: deliveries and their attempts. */
export function createWebhooksRepository(db: Db) {
  return {
    /** Returns the delivery id, which is also the `webhook-id` every attempt carries. */
    async enqueue(delivery: NewDelivery, tx: Db = db): Promise<string> {
      const id = newId.webhookDelivery();
      await tx.webhookDelivery.create({ data: { id, ...delivery } });
      return id;
    },
  };
}

export type WebhooksRepository = ReturnType<typeof createWebhooksRepository>;
