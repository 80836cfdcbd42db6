-- Opencharge (src/api/opencharge): the participants Kassa deals with, the nonces it has seen, the
-- orders it turned into checkout sessions and the transfer proofs it signed. These tables belong
-- to the adapter; they name core rows (subaccounts, sessions, deliveries) by id.

-- Known participants, filled by the operator; keys and endpoints come only from here. Each has a
-- subaccount of the Opencharge account, named as the participant: the hosted page shows it.
CREATE TABLE "opencharge_participants" (
    "ocid" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "public_key" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'merchant',
    "subaccount_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "opencharge_participants_pkey" PRIMARY KEY ("ocid")
);

-- Nonces seen within the ±300 s window, per caller; the primary key is the replay check across
-- instances (an insert that conflicts is a replay). Pruned by a worker job once past expires_at.
CREATE TABLE "opencharge_nonces" (
    "ocid" TEXT NOT NULL,
    "nonce" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "opencharge_nonces_pkey" PRIMARY KEY ("ocid","nonce")
);
CREATE INDEX "opencharge_nonces_expires_at_idx" ON "opencharge_nonces"("expires_at");

-- One session per merchant and order id: inserted in the session's own statement, so a second
-- create of the same order finds the first session instead of making another.
CREATE TABLE "opencharge_orders" (
    "merchant_ocid" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "merchant_gateway_ocid" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "opencharge_orders_pkey" PRIMARY KEY ("merchant_ocid","order_id")
);
CREATE UNIQUE INDEX "opencharge_orders_session_id_key" ON "opencharge_orders"("session_id");

-- Transfer proofs Kassa signed as issuer, one per paid session, and the outbox row delivering it.
CREATE TABLE "opencharge_proofs" (
    "txid" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "delivery_id" TEXT,
    "proof" JSONB NOT NULL,
    "signature" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "opencharge_proofs_pkey" PRIMARY KEY ("txid")
);
CREATE UNIQUE INDEX "opencharge_proofs_session_id_key" ON "opencharge_proofs"("session_id");
