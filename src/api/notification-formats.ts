import type { SessionLifecycles } from "../core/checkout-sessions/lifecycle.js";
import type { OrderNotificationFormats } from "../core/orders/orders.types.js";
import type { LifecycleCore } from "../core/services.js";
import { cnaughtLifecycle } from "./cnaught/cnaught.lifecycle.js";
import { cnaughtOrderNotification } from "./cnaught/orders.schemas.js";
import { OPENCHARGE_API, type OpenchargeRuntime } from "./opencharge/opencharge.js";
import { openchargeLifecycle } from "./opencharge/opencharge.lifecycle.js";

/** How each API renders an order notification, by the `api` its sessions record. */
export const NOTIFICATION_FORMATS: OrderNotificationFormats = {
  cnaught: cnaughtOrderNotification,
};

/** What each API does when its sessions complete or expire, by the `api` its sessions record. */
export const apiLifecycles = (
  core: LifecycleCore,
  apis: { opencharge?: OpenchargeRuntime } = {},
): SessionLifecycles => ({
  cnaught: cnaughtLifecycle(core),
  ...(apis.opencharge ? { [OPENCHARGE_API]: openchargeLifecycle(core, apis.opencharge) } : {}),
});
