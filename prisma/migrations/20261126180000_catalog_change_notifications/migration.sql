-- Instances remember what a purchase is priced from (portfolios, and the accounts' and
-- subaccounts' default portfolios). Any change to those tables, by any code path or by hand,
-- NOTIFYs kassa_catalog when it commits, and every instance forgets what it remembered.
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
