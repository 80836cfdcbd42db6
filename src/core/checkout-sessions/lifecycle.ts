import type { Db } from "../../db/database.js";
import type { CheckoutSession } from "./checkout-sessions.types.js";

/** Where a transition happens: its transaction, and the id of the event the core recorded for it. */
export interface TransitionContext {
  tx: Db;
  eventId: string;
}

/**
 * What one API does when one of its sessions completes or expires (place an order and notify,
 * record and deliver an event, sign a proof). Runs inside the transition's transaction, after the
 * core recorded the new state and its event, so it commits with them or not at all.
 */
export interface SessionLifecycle {
  completed?(session: CheckoutSession, context: TransitionContext): Promise<void>;
  expired?(session: CheckoutSession, context: TransitionContext): Promise<void>;
}

/** Each API's lifecycle, by the `api` its sessions record. */
export type SessionLifecycles = Readonly<Record<string, SessionLifecycle>>;
