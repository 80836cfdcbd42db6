-- CreateIndex: an owner's fulfilled orders by fulfilment time, for the impact reports and the
-- public impact pages (which read every fulfilled order of an account, and none of the others).
-- Partial: placed and cancelled orders are not in it. schema.prisma declares it with
-- `where: raw(...)` (the partialIndexes preview feature), spelled as PostgreSQL prints it.
CREATE INDEX "orders_account_id_fulfilled_at_idx" ON "orders"("account_id", "fulfilled_at") WHERE "state" = 'fulfilled';

-- An issuance never holds less than orders retired from it, in the store itself: a backstop
-- behind the row locks catalogue imports and fulfilments take (Prisma's schema cannot express a
-- CHECK constraint; the drift test does not compare them). Before those locks, an import racing a
-- fulfilment could shrink an issuance below what was retired; such an issuance is first raised to
-- what was retired (rounded up to the gram, the column's 6 decimals of tonnes), which is what the
-- registry must have issued, so that the constraint holds for every row.
UPDATE "credit_issuances"
SET "total_amount" = CEIL("retired_kg" * 1000) / 1000000
WHERE "retired_kg" > "total_amount" * 1000;

-- AddCheckConstraint
ALTER TABLE "credit_issuances" ADD CONSTRAINT "credit_issuances_retired_within_total" CHECK ("retired_kg" <= "total_amount" * 1000);
