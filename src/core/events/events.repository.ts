import { type Db, Prisma } from "../../db/database.js";
import {
  asCreated,
  creationEventId,
  SESSION_COLUMNS,
  SESSION_CREATED,
  type SessionRecord,
  sessionFromRecord,
  sessionOfCreationEvent,
  sessionSnapshot,
} from "../checkout-sessions/checkout-sessions.record.js";
import { newId } from "../ids.js";

/** An event as recorded: `data` is what its change recorded (a session's snapshot, an order). */
export interface EventRecord {
  id: string;
  accountId: string;
  type: string;
  subjectType: string;
  subjectId: string;
  data: unknown;
  createdAt: Date;
}

/**
 * Events of one account about the checkout sessions of one API, of some types: types logged as
 * rows (a session's creation, which its own row records, is not among them).
 */
export interface SessionEventFilter {
  accountId: string;
  api: string;
  types: readonly string[];
}

interface EventRow {
  id: string;
  account_id: string;
  type: string;
  subject_type: string;
  subject_id: string;
  data: unknown;
  created_at: Date;
}

const eventFrom = (r: EventRow): EventRecord => ({
  id: r.id,
  accountId: r.account_id,
  type: r.type,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  data: r.data,
  createdAt: new Date(r.created_at),
});

/** The session events matching `filter` (SQL for a WHERE clause over `events e JOIN checkout_sessions s`). */
const sessionEventsWhere = (f: SessionEventFilter) => Prisma.sql`
  e.account_id = ${f.accountId} AND e.subject_type = 'checkout_session' AND s.api = ${f.api}
  AND e.type = ANY(${[...f.types]}::text[])`;

const SESSION_EVENTS_FROM = Prisma.sql`
  SELECT e.id, e.account_id, e.type, e.subject_type, e.subject_id, e.data, e.created_at
  FROM events e JOIN checkout_sessions s ON s.id = e.subject_id`;

export interface NewEvent {
  accountId: string;
  type: string;
  subjectType: string;
  subjectId: string;
  data: Record<string, unknown>;
}

/** A session's creation event, read from its row (see SESSION_CREATED). */
const creationEvent = (row: SessionRecord): EventRecord => {
  const session = sessionFromRecord(row);
  return {
    id: creationEventId(session.id),
    accountId: session.accountId,
    type: SESSION_CREATED,
    subjectType: "checkout_session",
    subjectId: session.id,
    data: sessionSnapshot(asCreated(session)),
    createdAt: session.createdAt,
  };
};

/**
 * The event log: every state change records its events through here, inside the same
 * transaction as the change (webhook delivery reads from this table). A session's creation is
 * the exception: its row is its record, and the log reads the event from it.
 */
export function createEventsRepository(db: Db) {
  /** The creation event of a session that has no logged one (sessions created before its row sufficed have one). */
  async function unloggedCreation(sessionId: string, tx: Db): Promise<EventRecord | null> {
    const [row] = await tx.$queryRaw<SessionRecord[]>`
      SELECT ${Prisma.raw(SESSION_COLUMNS.join(", "))} FROM checkout_sessions s
      WHERE s.id = ${sessionId} AND NOT EXISTS (
        SELECT 1 FROM events e
        WHERE e.subject_type = 'checkout_session' AND e.subject_id = s.id AND e.type = ${SESSION_CREATED})`;
    return row ? creationEvent(row) : null;
  }

  return {
    async record(event: NewEvent, tx: Db = db) {
      const id = newId.event();
      await tx.event.create({ data: { id, ...event, data: event.data as object } });
      return id;
    },
    async find(id: string, tx: Db = db): Promise<EventRecord | null> {
      const sessionId = sessionOfCreationEvent(id);
      return sessionId === null ? tx.event.findUnique({ where: { id } }) : unloggedCreation(sessionId, tx);
    },
    /** One event about a session of the filter's account and API, of its types; null otherwise. */
    async findSessionEvent(filter: SessionEventFilter, id: string, tx: Db = db): Promise<EventRecord | null> {
      const [row] = await tx.$queryRaw<
        EventRow[]
      >`${SESSION_EVENTS_FROM} WHERE e.id = ${id} AND ${sessionEventsWhere(filter)}`;
      return row ? eventFrom(row) : null;
    },
    /**
     * One page of session events, newest first (ties by id), after or before a cursor event;
     * null when the cursor is not an event the filter matches.
     */
    async pageSessionEvents(
      filter: SessionEventFilter,
      page: { limit: number; startingAfter?: string | null; endingBefore?: string | null },
      tx: Db = db,
    ): Promise<{ events: EventRecord[]; hasMore: boolean } | null> {
      const cursorId = page.startingAfter ?? page.endingBefore ?? null;
      const cursor = cursorId ? await this.findSessionEvent(filter, cursorId, tx) : null;
      if (cursorId && !cursor) return null;
      const before = page.endingBefore != null;
      const condition = cursor
        ? before
          ? Prisma.sql`AND (e.created_at, e.id) > (${cursor.createdAt}, ${cursor.id})`
          : Prisma.sql`AND (e.created_at, e.id) < (${cursor.createdAt}, ${cursor.id})`
        : Prisma.empty;
      const order = before ? Prisma.sql`e.created_at ASC, e.id ASC` : Prisma.sql`e.created_at DESC, e.id DESC`;
      const rows = await tx.$queryRaw<
        EventRow[]
      >`${SESSION_EVENTS_FROM} WHERE ${sessionEventsWhere(filter)} ${condition}
        ORDER BY ${order} LIMIT ${page.limit + 1}`;
      const events = rows.slice(0, page.limit).map(eventFrom);
      return { events: before ? events.reverse() : events, hasMore: rows.length > page.limit };
    },
    /** The events about one subject, oldest first (a session's creation included). */
    async listForSubject(subjectType: string, subjectId: string, tx: Db = db): Promise<EventRecord[]> {
      const logged: EventRecord[] = await tx.event.findMany({
        where: { subjectType, subjectId },
        orderBy: { createdAt: "asc" },
      });
      const created = subjectType === "checkout_session" ? await unloggedCreation(subjectId, tx) : null;
      return created ? [created, ...logged] : logged;
    },
  };
}

export type EventsRepository = ReturnType<typeof createEventsRepository>;
