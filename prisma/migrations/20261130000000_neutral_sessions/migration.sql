-- The vendor-neutral checkout session: line items and a currency instead of one portfolio's
-- kilograms in USD cents. Amounts are NUMERIC in the currency's minor unit (whole numbers for
-- ISO 4217 currencies, exact decimals for assets without an ISO exponent). What only one API
-- uses (CNaught's notification URL, LeanRails' ui_mode) lives in api_data, which the core never reads.

ALTER TABLE "checkout_sessions"
  ADD COLUMN "line_items" JSONB,
  ADD COLUMN "amount_subtotal" DECIMAL(38,18),
  ADD COLUMN "amount_total" DECIMAL(38,18),
  ADD COLUMN "metadata" JSONB,
  ADD COLUMN "client_reference_id" TEXT,
  ADD COLUMN "customer_ref" TEXT,
  ADD COLUMN "customer_email" TEXT,
  ADD COLUMN "customer_details" JSONB,
  ADD COLUMN "collect_email" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "collect_billing_address" BOOLEAN NOT NULL DEFAULT false,
  ADD COLUMN "payment_id" TEXT,
  ADD COLUMN "api_data" JSONB NOT NULL DEFAULT '{}';

-- Existing (CNaught) sessions become one line item: the portfolio's credits by the kilogram.
-- The unit price is the portfolio's checkout price now (the price at creation was not kept).
UPDATE "checkout_sessions" s SET
  "line_items" = jsonb_build_array(jsonb_build_object(
    'id', 'li_' || s."id",
    'description', p."name",
    'quantity', trim_scale(s."amount_kg")::text,
    'unit_label', 'kg',
    'unit_amount', trim_scale(p."checkout_price_per_kg_usd_cents")::text,
    'amount', s."price_usd_cents"::text,
    'product_ref', s."portfolio_id",
    'price_ref', NULL)),
  "amount_subtotal" = s."price_usd_cents",
  "amount_total" = s."price_usd_cents",
  "currency" = upper(s."currency"),
  "api_data" = jsonb_build_object('notification_url', s."notification_url"),
  "payment_id" = (SELECT py."id" FROM "payments" py
                  WHERE py."checkout_session_id" = s."id" AND py."status" = 'succeeded' LIMIT 1)
FROM "portfolios" p WHERE p."id" = s."portfolio_id";

ALTER TABLE "checkout_sessions"
  ALTER COLUMN "line_items" SET NOT NULL,
  ALTER COLUMN "amount_subtotal" SET NOT NULL,
  ALTER COLUMN "amount_total" SET NOT NULL,
  ALTER COLUMN "cancel_url" DROP NOT NULL,
  ALTER COLUMN "currency" DROP DEFAULT,
  ALTER COLUMN "api" DROP DEFAULT,
  DROP CONSTRAINT "checkout_sessions_portfolio_id_fkey",
  DROP COLUMN "portfolio_id",
  DROP COLUMN "amount_kg",
  DROP COLUMN "price_usd_cents",
  DROP COLUMN "notification_url";

-- Payments carry the amount in the session currency's minor unit.
ALTER TABLE "payments" ALTER COLUMN "amount_usd_cents" TYPE DECIMAL(38,18);
ALTER TABLE "payments" RENAME COLUMN "amount_usd_cents" TO "amount";

-- The outbox row says how its delivery is signed.
ALTER TABLE "webhook_deliveries" ADD COLUMN "signature" TEXT NOT NULL DEFAULT 'standard-webhooks';
