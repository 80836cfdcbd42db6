-- Instances remember valid API keys and what a purchase is priced from (portfolios, and the
-- accounts' and subaccounts' default portfolios). Every change to those rows, made by any code
-- path or by hand in SQL, NOTIFYs when it commits, and every instance forgets what it remembered.

-- A key revoked, re-hashed or deleted: its secret hash on kassa_api_keys ('' when truncated: all).
CREATE FUNCTION kassa_notify_api_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kassa_api_keys', CASE WHEN TG_OP = 'TRUNCATE' THEN '' ELSE OLD.secret_hash END);
  RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_change AFTER UPDATE OF revoked_at, secret_hash OR DELETE ON "api_keys"
  FOR EACH ROW EXECUTE FUNCTION kassa_notify_api_key_change();
CREATE TRIGGER api_keys_truncate AFTER TRUNCATE ON "api_keys"
  FOR EACH STATEMENT EXECUTE FUNCTION kassa_notify_api_key_change();

-- Portfolios, accounts, subaccounts: any change, on kassa_catalog (the table's name).
CREATE FUNCTION kassa_notify_catalog_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('kassa_catalog', TG_TABLE_NAME);
  RETURN NULL;
END
$$;

CREATE TRIGGER portfolios_catalog_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "portfolios"
  FOR EACH STATEMENT EXECUTE FUNCTION kassa_notify_catalog_change();
CREATE TRIGGER accounts_catalog_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "accounts"
  FOR EACH STATEMENT EXECUTE FUNCTION kassa_notify_catalog_change();
CREATE TRIGGER subaccounts_catalog_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "subaccounts"
  FOR EACH STATEMENT EXECUTE FUNCTION kassa_notify_catalog_change();
