import type { Decimal } from "../money/money.js";
import type { OrderProjectAllocation } from "../projects/projects.types.js";

export const ORDER_STATES = ["placed", "fulfilled", "cancelled"] as const;
export type OrderState = (typeof ORDER_STATES)[number];

/** The order events; each is also a notification to the order's callback URL. */
export const ORDER_EVENTS = {
  placed: "order.placed",
  fulfilled: "order.fulfilled",
  cancelled: "order.cancelled",
} as const;

/** An order as the core knows it; adapters turn it into their wire shape. */
export interface Order {
  id: string;
  /** Sequential, installation-wide, as text (`"1001"`). */
  orderNumber: string;
  accountId: string;
  subaccountId: string | null;
  checkoutSessionId: string | null;
  portfolioId: string;
  amountKg: Decimal;
  priceUsdCents: number;
  description: string | null;
  metadata: string | null;
  state: OrderState;
  /** Where state changes are POSTed (the session's notification URL). */
  callbackUrl: string | null;
  certificatePublicUrl: string | null;
  certificateDownloadPublicUrl: string | null;
  /**
   * What fulfilment retired for the order, project by project; empty until it is fulfilled. A
   * cancelled order that had been fulfilled keeps them: the credits stay retired.
   */
  projectAllocations: OrderProjectAllocation[];
  createdAt: Date;
  fulfilledAt: Date | null;
  cancelledAt: Date | null;
}

/**
 * How one API renders an order notification's body (`{"order": {...}}` for CNaught). The core
 * picks the renderer of the API that created the session, so each merchant hears its own format.
 */
export type OrderNotificationFormat = (order: Order) => unknown;
export type OrderNotificationFormats = Readonly<Record<string, OrderNotificationFormat>>;

/** Where an order's certificate is published: its page and its PDF (given to the core by the certificates surface). */
export type CertificateUrls = (orderId: string) => { page: string; download: string };

/** What an order's public certificate shows besides the order: whom it was bought for. */
export interface OrderCertificate {
  order: Order;
  /** The subaccount's name when the order was placed for one, else the account's. */
  buyer: string;
}
