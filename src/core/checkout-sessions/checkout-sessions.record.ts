import { Decimal } from "../money/money.js";
import type { CheckoutSession, CustomerDetails, LineItem, SessionState } from "./checkout-sessions.types.js";

/**
 * A session as plain JSON, the shape of its row: snake_case columns, decimals as strings, times
 * as Dates (rows) or ISO strings (event snapshots). One mapping serves the store's rows, the
 * driver's rows and the snapshot an event records, so a reader of an event sees the session
 * exactly as it was.
 */
export interface LineItemRecord {
  id: string;
  description: string;
  quantity: string;
  unit_label: string | null;
  unit_amount: string;
  amount: string;
  product_ref: string | null;
  price_ref: string | null;
}

export interface SessionRecord {
  id: string;
  account_id: string;
  subaccount_id: string | null;
  api: string;
  currency: string;
  line_items: LineItemRecord[];
  amount_subtotal: string | { toString(): string };
  amount_total: string | { toString(): string };
  success_url: string;
  cancel_url: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  client_reference_id: string | null;
  customer_ref: string | null;
  customer_email: string | null;
  customer_details: CustomerDetails | null;
  collect_email: boolean;
  collect_billing_address: boolean;
  payment_id: string | null;
  state: string;
  created_at: Date | string;
  expires_at: Date | string;
  completed_at: Date | string | null;
  api_data: Record<string, unknown>;
}

/** The columns, in the order `recordValues` gives them. */
export const SESSION_COLUMNS = [
  "id",
  "account_id",
  "subaccount_id",
  "api",
  "currency",
  "line_items",
  "amount_subtotal",
  "amount_total",
  "success_url",
  "cancel_url",
  "description",
  "metadata",
  "client_reference_id",
  "customer_ref",
  "customer_email",
  "customer_details",
  "collect_email",
  "collect_billing_address",
  "payment_id",
  "state",
  "created_at",
  "expires_at",
  "completed_at",
  "api_data",
] as const;

const date = (value: Date | string) => (value instanceof Date ? value : new Date(value));

export const lineItemRecord = (item: LineItem): LineItemRecord => ({
  id: item.id,
  description: item.description,
  quantity: item.quantity.toFixed(),
  unit_label: item.unitLabel,
  unit_amount: item.unitAmount.toFixed(),
  amount: item.amount.toFixed(),
  product_ref: item.productRef,
  price_ref: item.priceRef,
});

const lineItemFrom = (r: LineItemRecord): LineItem => ({
  id: r.id,
  description: r.description,
  quantity: new Decimal(r.quantity),
  unitLabel: r.unit_label,
  unitAmount: new Decimal(r.unit_amount),
  amount: new Decimal(r.amount),
  productRef: r.product_ref,
  priceRef: r.price_ref,
});

export function sessionRecord(s: CheckoutSession): SessionRecord {
  return {
    id: s.id,
    account_id: s.accountId,
    subaccount_id: s.subaccountId,
    api: s.api,
    currency: s.currency,
    line_items: s.lineItems.map(lineItemRecord),
    amount_subtotal: s.amountSubtotal.toFixed(),
    amount_total: s.amountTotal.toFixed(),
    success_url: s.successUrl,
    cancel_url: s.cancelUrl,
    description: s.description,
    metadata: s.metadata,
    client_reference_id: s.clientReferenceId,
    customer_ref: s.customerRef,
    customer_email: s.customerEmail,
    customer_details: s.customerDetails,
    collect_email: s.collectEmail,
    collect_billing_address: s.collectBillingAddress,
    payment_id: s.paymentId,
    state: s.state,
    created_at: s.createdAt,
    expires_at: s.expiresAt,
    completed_at: s.completedAt,
    api_data: s.apiData,
  };
}

export function sessionFromRecord(r: SessionRecord): CheckoutSession {
  return {
    id: r.id,
    accountId: r.account_id,
    subaccountId: r.subaccount_id,
    api: r.api,
    currency: r.currency,
    lineItems: r.line_items.map(lineItemFrom),
    amountSubtotal: new Decimal(r.amount_subtotal.toString()),
    amountTotal: new Decimal(r.amount_total.toString()),
    successUrl: r.success_url,
    cancelUrl: r.cancel_url,
    description: r.description,
    metadata: r.metadata,
    clientReferenceId: r.client_reference_id,
    customerRef: r.customer_ref,
    customerEmail: r.customer_email,
    customerDetails: r.customer_details,
    collectEmail: r.collect_email,
    collectBillingAddress: r.collect_billing_address,
    paymentId: r.payment_id,
    state: r.state as SessionState,
    createdAt: date(r.created_at),
    expiresAt: date(r.expires_at),
    completedAt: r.completed_at === null ? null : date(r.completed_at),
    apiData: r.api_data ?? {},
  };
}

/** The session as an event records it: its record, times as ISO strings (plain JSON, built once). */
export const sessionSnapshot = (s: CheckoutSession): SessionRecord => ({
  ...sessionRecord(s),
  created_at: s.createdAt.toISOString(),
  expires_at: s.expiresAt.toISOString(),
  completed_at: s.completedAt?.toISOString() ?? null,
});

/**
 * A session's creation is an event (`checkout_session.created`) with no row of its own: the
 * session's row, written in the same statement, is the record of it. The event log reads it from
 * there (`src/core/events/events.repository.ts`): its id is derived from the session's, its time
 * is the session's creation, its data the session as its creation left it (`asCreated`). Sessions
 * created before this (migration `lean_session_create`) keep their logged rows.
 */
export const SESSION_CREATED = "checkout_session.created";

const CREATION_EVENT_PREFIX = "evt_created_";

export const creationEventId = (sessionId: string) => `${CREATION_EVENT_PREFIX}${sessionId}`;

/** The session whose creation event `eventId` is, or null when it names a logged event. */
export const sessionOfCreationEvent = (eventId: string): string | null =>
  eventId.startsWith(CREATION_EVENT_PREFIX) ? eventId.slice(CREATION_EVENT_PREFIX.length) : null;

/**
 * The session as its creation left it: what changes afterwards (the state, the payment, the
 * customer's details, the completion time) set back to how a new session has them. A column a
 * later change writes belongs here too, or the creation event would show its later value.
 */
export const asCreated = (s: CheckoutSession): CheckoutSession => ({
  ...s,
  state: "open",
  paymentId: null,
  customerDetails: null,
  completedAt: null,
});
