-- The carbon-credit catalogue behind portfolios: project categories, projects with their credit
-- issuances by vintage, each portfolio's allocation to categories (fractions summing to 1), and
-- each fulfilled order's allocation to projects with its retirements (provenance).
--
-- A project belongs to at most one category. Its required descriptive fields are columns; the
-- optional ones (developer, registry links, location, methodology, ...) are one JSONB object of
-- camelCase keys, read only when a project is shown. Credit issuances count whole credits (one
-- credit is one tonne of CO2e); retired_kg is how much of an issuance orders have retired, so a
-- retirement's serial numbers never overlap another's. Portfolios' allocations move from the
-- category_allocations JSON column into rows (categories named there become catalogue rows).

-- CreateTable
CREATE TABLE "project_categories" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "primary_image_url" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "project_categories_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "projects" (
    "id" TEXT NOT NULL,
    "category_id" TEXT,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "un_sdg_goals" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
    "details" JSONB NOT NULL DEFAULT '{}',
    "position" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "credit_issuances" (
    "project_id" TEXT NOT NULL,
    "vintage_year" INTEGER NOT NULL,
    "total_amount" DECIMAL(18,6) NOT NULL,
    "serial_prefix" TEXT,
    "retired_kg" DECIMAL(18,6) NOT NULL DEFAULT 0,

    CONSTRAINT "credit_issuances_pkey" PRIMARY KEY ("project_id","vintage_year")
);

-- CreateTable
CREATE TABLE "portfolio_category_allocations" (
    "portfolio_id" TEXT NOT NULL,
    "category_id" TEXT NOT NULL,
    "allocated_fraction" DECIMAL(9,8) NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "portfolio_category_allocations_pkey" PRIMARY KEY ("portfolio_id","category_id")
);

-- CreateTable
CREATE TABLE "order_project_allocations" (
    "order_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "amount_kg" DECIMAL(18,6) NOT NULL,
    "vintage_years" INTEGER[] DEFAULT ARRAY[]::INTEGER[],
    "retirements" JSONB NOT NULL DEFAULT '[]',
    "position" INTEGER NOT NULL,

    CONSTRAINT "order_project_allocations_pkey" PRIMARY KEY ("order_id","project_id")
);

-- CreateIndex
CREATE INDEX "projects_category_id_position_idx" ON "projects"("category_id", "position");

-- CreateIndex
CREATE INDEX "portfolio_category_allocations_category_id_idx" ON "portfolio_category_allocations"("category_id");

-- CreateIndex
CREATE INDEX "order_project_allocations_project_id_idx" ON "order_project_allocations"("project_id");

-- AddForeignKey
ALTER TABLE "projects" ADD CONSTRAINT "projects_category_id_fkey" FOREIGN KEY ("category_id") REFERENCES "project_categories"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "credit_issuances" ADD CONSTRAINT "credit_issuances_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "portfolio_category_allocations" ADD CONSTRAINT "portfolio_category_allocations_portfolio_id_fkey" FOREIGN KEY ("portfolio_id") REFERENCES "portfolios"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "portfolio_category_allocations" ADD CONSTRAINT "portfolio_category_allocations_category_id_fkey" FOREIGN KEY ("category_id") REFERENCES "project_categories"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_project_allocations" ADD CONSTRAINT "order_project_allocations_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_project_allocations" ADD CONSTRAINT "order_project_allocations_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Move allocations out of the JSON column: each named category becomes a row (first one wins).
INSERT INTO "project_categories" ("id", "name", "description", "primary_image_url")
SELECT DISTINCT ON (a.value -> 'category' ->> 'id')
       a.value -> 'category' ->> 'id', a.value -> 'category' ->> 'name',
       a.value -> 'category' ->> 'description', a.value -> 'category' ->> 'primary_image_url'
FROM "portfolios" p, jsonb_array_elements(p."category_allocations") a
WHERE jsonb_typeof(a.value -> 'category') = 'object'
  AND a.value -> 'category' ->> 'id' IS NOT NULL AND a.value -> 'category' ->> 'name' IS NOT NULL
ORDER BY a.value -> 'category' ->> 'id'
ON CONFLICT ("id") DO NOTHING;

INSERT INTO "portfolio_category_allocations" ("portfolio_id", "category_id", "allocated_fraction", "position")
SELECT p."id", a.value -> 'category' ->> 'id', (a.value ->> 'allocated_fraction')::DECIMAL(9,8), a.ordinality::INTEGER
FROM "portfolios" p, jsonb_array_elements(p."category_allocations") WITH ORDINALITY a
WHERE a.value -> 'category' ->> 'id' IN (SELECT "id" FROM "project_categories")
  AND jsonb_typeof(a.value -> 'allocated_fraction') = 'number'
ON CONFLICT DO NOTHING;

-- AlterTable
ALTER TABLE "portfolios" DROP COLUMN "category_allocations";
