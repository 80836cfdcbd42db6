import type { Db } from "../../db/database.js";
import { newId } from "../ids.js";

export interface NewEvent {
  accountId: string;
  type: string;
  subjectType: string;
  subjectId: string;
  data: Record<string, unknown>;
}

/**
 * The event log: every state change records its events through here, inside the same
 * transaction as the change (webhook delivery reads from this table).
 */
export function createEventsRepository(db: Db) {
  return {
    async record(event: NewEvent, tx: Db = db) {
      const id = newId.event();
      await tx.event.create({ data: { id, ...event, data: event.data as object } });
      return id;
    },
    async listForSubject(subjectType: string, subjectId: string, tx: Db = db) {
      return tx.event.findMany({ where: { subjectType, subjectId }, orderBy: { createdAt: "asc" } });
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
