-- Public impact pages: one per account (subaccount_id NULL) and one per subaccount, each at
-- PUBLIC_URL/impact/<slug>. Operators turn them on and off with `kassa impact enable|disable`;
-- a page that was turned off keeps its slug and its chosen equivalents for when it is turned on
-- again. Slugs are unique across all pages (a subaccount's page names no parent account).
-- enabled_equivalents holds the core's names of the equivalents the page shows, in display order.

-- CreateTable
CREATE TABLE "impact_pages" (
    "id" TEXT NOT NULL,
    "account_id" TEXT NOT NULL,
    "subaccount_id" TEXT,
    "slug" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "enabled_equivalents" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "impact_pages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "impact_pages_slug_key" ON "impact_pages"("slug");

-- CreateIndex: one page per account and one per subaccount. NULLS NOT DISTINCT makes the
-- account's own page (subaccount_id NULL) unique too; Prisma's schema cannot say so.
CREATE UNIQUE INDEX "impact_pages_account_id_subaccount_id_key" ON "impact_pages"("account_id", "subaccount_id") NULLS NOT DISTINCT;

-- AddForeignKey
ALTER TABLE "impact_pages" ADD CONSTRAINT "impact_pages_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "impact_pages" ADD CONSTRAINT "impact_pages_subaccount_id_fkey" FOREIGN KEY ("subaccount_id") REFERENCES "subaccounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

