/**
 * The session as LeanRails' events carry it (`data.object`): the checkout-session routes' own
 * schema and renderer, so an event shows a session exactly as GET /v1/checkout_sessions/{id}
 * showed it at that moment.
 */
export {
  CheckoutSessionBody as LeanRailsSessionWire,
  paymentIntentId,
  toWireCheckoutSession as toWireLeanRailsSession,
} from "./checkout-sessions.schemas.js";
