import { invalidPagination, notFound } from "../errors.js";
import type { EventRecord, EventsRepository, SessionEventFilter } from "./events.repository.js";

export const DEFAULT_EVENT_PAGE_LIMIT = 10;
export const MAX_EVENT_PAGE_LIMIT = 100;

/**
 * Reading the event log as an API shows it to merchants: the events about the checkout sessions
 * an API created, of the types that API publishes. Another account's, another API's or another
 * type's event is not found.
 */
export function createEventsService(deps: {
  events: Pick<EventsRepository, "findSessionEvent" | "pageSessionEvents">;
}) {
  const { events } = deps;
  return {
    async getSessionEvent(filter: SessionEventFilter, id: string): Promise<EventRecord> {
      const event = await events.findSessionEvent(filter, id);
      if (!event) throw notFound("event", id);
      return event;
    },

    /** One page, newest first. */
    async listSessionEvents(
      filter: SessionEventFilter,
      query: { limit?: number | null; startingAfter?: string | null; endingBefore?: string | null } = {},
    ): Promise<{ events: EventRecord[]; hasMore: boolean }> {
      const limit = query.limit ?? DEFAULT_EVENT_PAGE_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENT_PAGE_LIMIT) {
        throw invalidPagination(`'limit' must be an integer between 1 and ${MAX_EVENT_PAGE_LIMIT}`);
      }
      if (query.startingAfter && query.endingBefore) {
        throw invalidPagination("Pass at most one of 'starting_after' and 'ending_before'");
      }
      const page = await events.pageSessionEvents(filter, { ...query, limit });
      if (!page) {
        const cursor = query.startingAfter ? "starting_after" : "ending_before";
        throw invalidPagination(`'${cursor}' is not the id of an event of this account`);
      }
      return page;
    },
  };
}

export type EventsService = ReturnType<typeof createEventsService>;
