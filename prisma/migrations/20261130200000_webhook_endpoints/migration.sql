-- Webhook endpoints a merchant registers through an API (LeanRails' POST /v1/webhook_endpoints):
-- each has its own signing secret and the event types it is subscribed to ("*" for all).
CREATE TABLE "webhook_endpoints" (
    "id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "api" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "enabled_events" TEXT[],
    "status" TEXT NOT NULL DEFAULT 'enabled',
    "description" TEXT,
    "secret" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "webhook_endpoints_account_id_api_created_at_idx" ON "webhook_endpoints"("account_id", "api", "created_at");

ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- One event now goes to every endpoint subscribed to it: a delivery names its endpoint, and an
-- event has at most one delivery per endpoint. NULLS NOT DISTINCT keeps the rule of the rows
-- without an endpoint (an order's callback URL): at most one per event, as before.
ALTER TABLE "webhook_deliveries" ADD COLUMN "endpoint_id" TEXT;

DROP INDEX "webhook_deliveries_event_id_key";

CREATE UNIQUE INDEX "webhook_deliveries_event_id_endpoint_id_key" ON "webhook_deliveries"("event_id", "endpoint_id") NULLS NOT DISTINCT;

ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
