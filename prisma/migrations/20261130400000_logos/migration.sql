-- Subaccount logos are re-hosted: Kassa keeps the image bytes (PNG, JPEG, WebP or SVG, checked by
-- content and type) in the store, so every instance serves them, at PUBLIC_URL/logos/<id>. A
-- logo's id is its file name (a random id and the type's extension); a new logo gets a new id, so
-- a URL always names the same bytes. The URL a subaccount's logo was downloaded from is kept as
-- logo_source_url (null for uploads); a logo_url stored before this migration was never
-- downloaded and is kept there too, with no logo until one is set again.

-- CreateTable
CREATE TABLE "logos" (
    "id" TEXT NOT NULL,
    "content_type" TEXT NOT NULL,
    "content" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "logos_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "subaccounts" RENAME COLUMN "logo_url" TO "logo_source_url";
ALTER TABLE "subaccounts" ADD COLUMN "logo_id" TEXT;

-- AddForeignKey
ALTER TABLE "subaccounts" ADD CONSTRAINT "subaccounts_logo_id_fkey" FOREIGN KEY ("logo_id") REFERENCES "logos"("id") ON DELETE SET NULL ON UPDATE CASCADE;
