-- CreateIndex: an owner's fulfilled orders by fulfilment time, for the impact reports and the
-- public impact pages (which read every fulfilled order of an account, and none of the others).
-- Partial: placed and cancelled orders are not in it. schema.prisma declares it with
-- `where: raw(...)` (the partialIndexes preview feature), spelled as PostgreSQL prints it.
CREATE INDEX "orders_account_id_fulfilled_at_idx" ON "orders"("account_id", "fulfilled_at") WHERE "state" = 'fulfilled';
