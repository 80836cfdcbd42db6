import { z } from "zod";
import { sessionFromRecord, type SessionRecord } from "../../core/checkout-sessions/checkout-sessions.record.js";
import { CHECKOUT_SESSION_EVENTS } from "../../core/checkout-sessions/checkout-sessions.service.js";
import type { EventRecord, SessionEventFilter } from "../../core/events/events.repository.js";
import { LeanRailsSessionWire, toWireLeanRailsSession } from "./session-wire.js";

/** The `api` LeanRails sessions and webhook endpoints record. */
export const LEANRAILS_API = "leanrails";

/** The version events are rendered in until accounts carry their own default (X-API-Version). */
export const LEANRAILS_API_VERSION = "2026-03-09";

/** The event types LeanRails publishes, by the session transition they report. */
export const LEANRAILS_EVENT_TYPES = {
  completed: "checkout.session.completed",
  expired: "checkout.session.expired",
} as const;

/** The core's event type for each LeanRails type. */
const CORE_EVENT_TYPES: Record<string, string> = {
  [CHECKOUT_SESSION_EVENTS.completed]: LEANRAILS_EVENT_TYPES.completed,
  [CHECKOUT_SESSION_EVENTS.expired]: LEANRAILS_EVENT_TYPES.expired,
};

/** The events a LeanRails account sees: about its LeanRails sessions, of the types LeanRails publishes. */
export const leanRailsEvents = (accountId: string): SessionEventFilter => ({
  accountId,
  api: LEANRAILS_API,
  types: Object.keys(CORE_EVENT_TYPES),
});

export const LeanRailsEventWire = z
  .object({
    id: z.string().describe("evt_…"),
    object: z.literal("event"),
    type: z.enum([LEANRAILS_EVENT_TYPES.completed, LEANRAILS_EVENT_TYPES.expired]),
    created: z.number().int().describe("Unix seconds"),
    livemode: z.boolean(),
    api_version: z.string(),
    data: z.object({ object: LeanRailsSessionWire }),
  })
  .meta({ id: "LeanRailsEvent" });

export type LeanRailsEvent = z.infer<typeof LeanRailsEventWire>;

/**
 * A recorded session event as LeanRails shows it (and delivers it): the session as it was when
 * the event happened, from the snapshot the event recorded.
 */
export function toWireEvent(event: EventRecord, publicUrl: string): LeanRailsEvent {
  const type = CORE_EVENT_TYPES[event.type];
  if (!type) throw new Error(`event ${event.id} of type ${event.type} is not a LeanRails event`);
  return {
    id: event.id,
    object: "event",
    type: type as LeanRailsEvent["type"],
    created: Math.floor(event.createdAt.getTime() / 1000),
    livemode: false,
    api_version: LEANRAILS_API_VERSION,
    data: { object: toWireLeanRailsSession(sessionFromRecord(event.data as SessionRecord), publicUrl) },
  };
}

export const EventList = z
  .object({
    object: z.literal("list"),
    data: z.array(LeanRailsEventWire),
    has_more: z.boolean(),
    url: z.string(),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: "LeanRailsEventList" });
