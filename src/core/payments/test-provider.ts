import { randomUUID } from "node:crypto";
import type { ChargeRequest, ChargeResult, DeclineCode, PaymentProvider } from "./payment-provider.js";

/** The built-in test-mode provider's cards, as Stripe's test mode has them. */
export const TEST_CARDS = {
  success: "4242424242424242",
  declined: "4000000000000002",
  insufficientFunds: "4000000000009995",
} as const;

const SUCCEEDING = new Set([TEST_CARDS.success, "5555555555554444", "378282246310005"]);
const DECLINING: Record<string, { code: DeclineCode; message: string }> = {
  [TEST_CARDS.declined]: { code: "card_declined", message: "Your card was declined." },
  [TEST_CARDS.insufficientFunds]: { code: "insufficient_funds", message: "Your card has insufficient funds." },
};

export function cardBrand(number: string): string {
  if (/^4/.test(number)) return "visa";
  if (/^(5[1-5]|2[2-7])/.test(number)) return "mastercard";
  if (/^3[47]/.test(number)) return "amex";
  if (/^6(011|5)/.test(number)) return "discover";
  return "unknown";
}

/**
 * Test mode: no money moves. The test cards behave as documented; any other number is declined
 * (a real card in test mode is a mistake worth saying so). Charges are remembered by idempotency
 * key, as a real provider's would be, so a retried charge answers the same.
 */
export function createTestPaymentProvider(): PaymentProvider {
  const seen = new Map<string, ChargeResult>();
  return {
    name: "test",
    async charge(request: ChargeRequest): Promise<ChargeResult> {
      const earlier = seen.get(request.idempotencyKey);
      if (earlier) return earlier;
      const number = request.card.number;
      const card = { cardBrand: cardBrand(number), cardLast4: number.slice(-4) };
      const decline = DECLINING[number];
      const result: ChargeResult = decline
        ? { status: "declined", ...decline, ...card }
        : SUCCEEDING.has(number)
          ? { status: "succeeded", reference: `test_ch_${randomUUID()}`, ...card }
          : {
              status: "declined",
              code: "card_declined",
              message: "Your card was declined: this is test mode, use a test card such as 4242 4242 4242 4242.",
              ...card,
            };
      seen.set(request.idempotencyKey, result);
      if (seen.size > 10_000) seen.delete(seen.keys().next().value as string);
      return result;
    },
  };
}
