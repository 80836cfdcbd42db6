import type { SessionLifecycle } from "../../core/checkout-sessions/lifecycle.js";
import type { LifecycleCore } from "../../core/services.js";
import { CNAUGHT_API, cnaughtPurchase, notificationUrlOf } from "./checkout-sessions.schemas.js";

/**
 * A paid CNaught session places an order for its credits, which notifies the session's
 * notification URL (as every later change of the order does). An expired one does nothing more.
 */
export const cnaughtLifecycle = (core: Pick<LifecycleCore, "orders">): SessionLifecycle => ({
  async completed(session, { tx }) {
    const { amountKg, portfolioId } = cnaughtPurchase(session);
    await core.orders.place(
      {
        accountId: session.accountId,
        subaccountId: session.subaccountId,
        checkoutSessionId: session.id,
        portfolioId,
        amountKg,
        priceUsdCents: session.amountTotal.toNumber(),
        description: session.description,
        metadata: null,
        callbackUrl: notificationUrlOf(session),
      },
      CNAUGHT_API,
      tx,
    );
  },
});
