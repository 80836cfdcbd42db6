import type { Decimal } from "../money.js";

export const SESSION_STATES = ["open", "complete", "expired"] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** How long a session stays payable, unless an adapter asks for less (LeanRails, Opencharge). */
export const DEFAULT_SESSION_LIFETIME_HOURS = 24;

/** A checkout session as the core knows it; adapters turn it into their wire shape. */
export interface CheckoutSession {
  id: string;
  accountId: string;
  subaccountId: string | null;
  portfolioId: string;
  amountKg: Decimal;
  priceUsdCents: number;
  currency: string;
  successUrl: string;
  cancelUrl: string;
  description: string | null;
  notificationUrl: string | null;
  state: SessionState;
  createdAt: Date;
  expiresAt: Date;
  completedAt: Date | null;
  /** The API that created it ("cnaught", …); its notifications use that API's format. */
  api: string;
}

/** Where the customer pays: the hosted page's path under PUBLIC_URL, the same for every API. */
export const checkoutPagePath = (sessionId: string) => `/pay/${encodeURIComponent(sessionId)}`;

/** The template a success URL may carry, replaced with the session id when the customer is sent there. */
export const SESSION_ID_TEMPLATE = "{CHECKOUT_SESSION_ID}";

/** Where a paid session sends the customer: success_url with the id put in (URL-encoded). */
export const successRedirectUrl = (session: Pick<CheckoutSession, "id" | "successUrl">) =>
  session.successUrl.replaceAll(SESSION_ID_TEMPLATE, encodeURIComponent(session.id));

/** What a merchant asks for, already in core terms (adapters parse their wire into this). */
export interface NewCheckoutSession {
  amountKg: Decimal;
  portfolioId?: string | null;
  successUrl: string;
  cancelUrl: string;
  description?: string | null;
  notificationUrl?: string | null;
  /** The API creating it; "cnaught" when not given. */
  api?: string;
}

/**
 * The state a reader sees at `now`: an open session past its expiry reads as expired even before
 * the sweeper has recorded the transition.
 */
export const effectiveState = (session: Pick<CheckoutSession, "state" | "expiresAt">, now: Date): SessionState =>
  session.state === "open" && session.expiresAt.getTime() <= now.getTime() ? "expired" : session.state;
