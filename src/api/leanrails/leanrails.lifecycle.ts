import type { SessionLifecycle, TransitionContext } from "../../core/checkout-sessions/lifecycle.js";
import type { CheckoutSession } from "../../core/checkout-sessions/checkout-sessions.types.js";
import type { LifecycleCore } from "../../core/services.js";
import { LEANRAILS_API, LEANRAILS_EVENT_TYPES, toWireEvent } from "./events.schemas.js";
import { LEANRAILS_SIGNATURE } from "./webhook-signing.js";

/**
 * A LeanRails session that completes or expires publishes its event (`checkout.session.completed`
 * or `.expired`, the core's event id) to every enabled webhook endpoint of its account subscribed
 * to that type: one outbox row each, the same bytes for all, signed with LeanRails' scheme. All in
 * the transition's transaction, so an event is delivered exactly when its change committed. The
 * body is rendered from the recorded event, as GET /v1/events/{id} renders it.
 */
export const leanRailsLifecycle = (
  core: Pick<LifecycleCore, "events" | "webhookEndpoints">,
  options: { publicUrl: string },
): SessionLifecycle => {
  async function publish(session: CheckoutSession, to: keyof typeof LEANRAILS_EVENT_TYPES, context: TransitionContext) {
    /** The body, read from the recorded event (its time is the row's), only when an endpoint wants it. */
    const payload = async () => {
      const event = await core.events.find(context.eventId, context.tx);
      if (!event) throw new Error(`event ${context.eventId} of checkout session ${session.id} is missing`);
      return JSON.stringify(toWireEvent(event, options.publicUrl));
    };
    await core.webhookEndpoints.enqueueEvent(
      {
        accountId: session.accountId,
        api: LEANRAILS_API,
        eventId: context.eventId,
        type: LEANRAILS_EVENT_TYPES[to],
        subjectType: "checkout_session",
        subjectId: session.id,
        payload,
        signature: LEANRAILS_SIGNATURE,
      },
      context.tx,
    );
  }
  return {
    completed: (session, context) => publish(session, "completed", context),
    expired: (session, context) => publish(session, "expired", context),
  };
};
