-- The catalogue: products and their prices, per account, which a checkout session's line items
-- may point into (a LeanRails `line_items[].price`). Amounts are NUMERIC in the currency's minor
-- unit; currencies are ISO 4217 codes stored upper case. Prices are never deleted, only made
-- inactive, so a session's price_ref always names a row.

-- CreateTable
CREATE TABLE "products" (
    "id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "images" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "active" BOOLEAN NOT NULL DEFAULT true,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "default_price_id" TEXT,
    "shippable" BOOLEAN,
    "statement_descriptor" TEXT,
    "unit_label" TEXT,
    "tax_code" TEXT,
    "url" TEXT,
    "marketing_features" JSONB NOT NULL DEFAULT '[]',
    "package_dimensions" JSONB,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "products_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "prices" (
    "id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "product_id" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "unit_amount" DECIMAL(38,18) NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'one_time',
    "tax_behavior" TEXT NOT NULL DEFAULT 'unspecified',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "nickname" TEXT,
    "lookup_key" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "prices_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "products_account_id_created_at_idx" ON "products"("account_id", "created_at");

-- CreateIndex
CREATE INDEX "prices_account_id_created_at_idx" ON "prices"("account_id", "created_at");

-- CreateIndex
CREATE INDEX "prices_product_id_idx" ON "prices"("product_id");

-- CreateIndex
CREATE UNIQUE INDEX "prices_account_id_lookup_key_key" ON "prices"("account_id", "lookup_key");

-- AddForeignKey
ALTER TABLE "products" ADD CONSTRAINT "products_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "products" ADD CONSTRAINT "products_default_price_id_fkey" FOREIGN KEY ("default_price_id") REFERENCES "prices"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prices" ADD CONSTRAINT "prices_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "prices" ADD CONSTRAINT "prices_product_id_fkey" FOREIGN KEY ("product_id") REFERENCES "products"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
