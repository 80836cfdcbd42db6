import type { Decimal } from "../money/money.js";

/**
 * Where money moves. The lifecycle charges through this interface only, so a real provider can be
 * added beside the built-in test provider without touching sessions, orders or events.
 */

/** Card details as the hosted page collected them, already checked by `validateCard`. */
export interface CardDetails {
  number: string; // digits only
  expMonth: number; // 1-12
  expYear: number; // four digits
  cvc: string;
  /** Cardholder name, optional. */
  name?: string | null;
}

export interface ChargeRequest {
  /** In the currency's minor unit (see src/core/money). */
  amount: Decimal;
  currency: string;
  card: CardDetails;
  description: string | null;
  /**
   * The same for every retry of one charge (the checkout session id plus the attempt): a real
   * provider must charge at most once per key.
   */
  idempotencyKey: string;
}

export type DeclineCode = "card_declined" | "insufficient_funds" | "processing_error" | "too_many_attempts";

export type ChargeResult =
  | { status: "succeeded"; reference: string; cardBrand: string; cardLast4: string }
  | { status: "declined"; code: DeclineCode; message: string; cardBrand: string; cardLast4: string };

export interface PaymentProvider {
  readonly name: string;
  charge(request: ChargeRequest): Promise<ChargeResult>;
}
