import type { OrderNotificationFormats } from "../core/orders/orders.types.js";
import { cnaughtOrderNotification } from "./cnaught/orders.schemas.js";

/** How each API renders an order notification, by the `api` its sessions record. */
export const NOTIFICATION_FORMATS: OrderNotificationFormats = {
  cnaught: cnaughtOrderNotification,
};
