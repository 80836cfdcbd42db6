import type { Decimal } from "../money/money.js";

export const SESSION_STATES = ["open", "complete", "expired"] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** How long a session stays payable, unless the API creating it chooses otherwise. */
export const DEFAULT_SESSION_LIFETIME_HOURS = 24;

/**
 * One thing bought. Amounts are exact decimals in the session currency's minor unit (whole
 * numbers for an ISO currency); `unitAmount` may be fractional (a price per kilogram in cents),
 * `amount` is what the line costs.
 */
export interface LineItem {
  id: string;
  description: string;
  quantity: Decimal;
  /** What one unit is called on the page ("kg"); null for plain counts ("× 2"). */
  unitLabel: string | null;
  unitAmount: Decimal;
  amount: Decimal;
  /** The catalogue entries the item came from, when it came from one. */
  productRef: string | null;
  priceRef: string | null;
}

export interface PostalAddress {
  line1: string | null;
  line2: string | null;
  city: string | null;
  postalCode: string | null;
  state: string | null;
  country: string | null;
}

/** What the customer told the page (and the merchant, when creating the session). */
export interface CustomerDetails {
  email: string | null;
  name: string | null;
  phone: string | null;
  address: PostalAddress | null;
}

/**
 * A checkout session as the core knows it, whatever API created it; adapters turn it into their
 * wire shape. `apiData` belongs to the API that created the session (its options that the core
 * does not act on): the core stores it and hands it back, never reads it.
 */
export interface CheckoutSession {
  id: string;
  accountId: string;
  subaccountId: string | null;
  /** The API that created it: its adapter renders the session and handles its completion. */
  api: string;
  /** ISO 4217 code (upper case) or an asset code without an ISO exponent. */
  currency: string;
  lineItems: LineItem[];
  amountSubtotal: Decimal;
  amountTotal: Decimal;
  successUrl: string;
  cancelUrl: string | null;
  description: string | null;
  metadata: Record<string, string> | null;
  clientReferenceId: string | null;
  /** The merchant's id for the customer, when it gave one. */
  customerRef: string | null;
  /** Prefilled on the page when given. */
  customerEmail: string | null;
  /** What the customer entered when paying; null until then. */
  customerDetails: CustomerDetails | null;
  /** Whether the page asks for an email address (required), and for a billing address. */
  collectEmail: boolean;
  collectBillingAddress: boolean;
  /** The successful payment's id, once paid. */
  paymentId: string | null;
  state: SessionState;
  createdAt: Date;
  expiresAt: Date;
  completedAt: Date | null;
  apiData: Record<string, unknown>;
}

/** A line item as an adapter asks for it: amounts already worked out, in minor units. */
export type NewLineItem = Omit<LineItem, "id">;

/** What an adapter asks for, already in core terms (adapters parse their wire into this). */
export interface NewCheckoutSession {
  api: string;
  currency: string;
  lineItems: NewLineItem[];
  successUrl: string;
  cancelUrl?: string | null;
  description?: string | null;
  metadata?: Record<string, string> | null;
  clientReferenceId?: string | null;
  customerRef?: string | null;
  customerEmail?: string | null;
  collectEmail?: boolean;
  collectBillingAddress?: boolean;
  /** When the session stops being payable; DEFAULT_SESSION_LIFETIME_HOURS from now when not given. */
  expiresAt?: Date;
  apiData?: Record<string, unknown>;
  /** Prefixes for the new ids (an API whose ids carry one, `cs_`); none by default. */
  idPrefixes?: { session?: string; lineItem?: string };
}

/** Where the customer pays: the hosted page's path under PUBLIC_URL, the same for every API. */
export const checkoutPagePath = (sessionId: string) => `/pay/${encodeURIComponent(sessionId)}`;

/** The template a success URL may carry, replaced with the session id when the customer is sent there. */
export const SESSION_ID_TEMPLATE = "{CHECKOUT_SESSION_ID}";

/** Where a paid session sends the customer: success_url with the id put in (URL-encoded). */
export const successRedirectUrl = (session: Pick<CheckoutSession, "id" | "successUrl">) =>
  session.successUrl.replaceAll(SESSION_ID_TEMPLATE, encodeURIComponent(session.id));

/**
 * The state a reader sees at `now`: an open session past its expiry reads as expired even before
 * the sweeper has recorded the transition.
 */
export const effectiveState = (session: Pick<CheckoutSession, "state" | "expiresAt">, now: Date): SessionState =>
  session.state === "open" && session.expiresAt.getTime() <= now.getTime() ? "expired" : session.state;
