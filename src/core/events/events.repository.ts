import { type Db, Prisma } from "../../db/database.js";
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
    /**
     * The event as part of a write made in one statement: an INSERT that records it once for each
     * row the CTE `source` returns (none when the write did not happen).
     */
    insertAfter(source: string, event: NewEvent): Prisma.Sql {
      return Prisma.sql`
        INSERT INTO events (id, account_id, type, subject_type, subject_id, data)
        SELECT ${newId.event()}::text, ${event.accountId}::text, ${event.type}::text, ${event.subjectType}::text,
          ${event.subjectId}::text, ${JSON.stringify(event.data)}::jsonb
        FROM ${Prisma.raw(source)}`;
    },
    async listForSubject(subjectType: string, subjectId: string, tx: Db = db) {
      return tx.event.findMany({ where: { subjectType, subjectId }, orderBy: { createdAt: "asc" } });
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
