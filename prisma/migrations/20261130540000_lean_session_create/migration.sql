-- Creating a checkout session writes as little as its promises need (issue 13).
--
-- A session's account is not checked by a foreign key: the account is the authenticated
-- caller's and accounts are never deleted, while the check locked the account's row (FOR KEY
-- SHARE) in every create: a lock written into that one row (and the WAL) by each create, and
-- with a merchant's creates running concurrently a new multixact for each. Events and payments
-- keep theirs.
--
-- An idempotency key is identified by what makes it unique: (account, API, scope, key) becomes
-- the primary key, replacing the unique index beside a primary key on `id` that nothing looked
-- up by (`id` stays, the fencing token a take-over changes). Its foreign key to accounts goes:
-- the account is the authenticated caller's, accounts are never deleted, and the check locked
-- the account's row (FOR KEY SHARE) on every keyed request. Existing keys are kept as they are.

ALTER TABLE "idempotency_keys" DROP CONSTRAINT "idempotency_keys_account_id_fkey";

ALTER TABLE "idempotency_keys" DROP CONSTRAINT "idempotency_keys_pkey";
DROP INDEX "idempotency_keys_account_id_api_scope_key_key";
ALTER TABLE "idempotency_keys"
  ADD CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("account_id", "api", "scope", "key");

ALTER TABLE "checkout_sessions" DROP CONSTRAINT "checkout_sessions_account_id_fkey";
