-- Bundle B (M3a TXN-2): make iu_core.iu_lifecycle_log append-only.
-- Row triggers refuse UPDATE and DELETE; a statement trigger refuses TRUNCATE. Depends on bundle A.

CREATE OR REPLACE FUNCTION iu_core.fn_iu_lifecycle_log_block_mutation()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $fn$
BEGIN
    RAISE EXCEPTION 'iu_core.iu_lifecycle_log is append-only: % of log_id % refused', TG_OP, OLD.log_id
        USING ERRCODE = '55000',
              HINT = 'Record a new lifecycle transition instead of changing history.';
END;
$fn$;

CREATE OR REPLACE FUNCTION iu_core.fn_iu_lifecycle_log_block_truncate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $fn$
BEGIN
    RAISE EXCEPTION 'iu_core.iu_lifecycle_log is append-only: TRUNCATE refused'
        USING ERRCODE = '55000';
END;
$fn$;

CREATE TRIGGER trg_iu_lifecycle_log_no_update
    BEFORE UPDATE ON iu_core.iu_lifecycle_log
    FOR EACH ROW EXECUTE FUNCTION iu_core.fn_iu_lifecycle_log_block_mutation();

CREATE TRIGGER trg_iu_lifecycle_log_no_delete
    BEFORE DELETE ON iu_core.iu_lifecycle_log
    FOR EACH ROW EXECUTE FUNCTION iu_core.fn_iu_lifecycle_log_block_mutation();

CREATE TRIGGER trg_iu_lifecycle_log_no_truncate
    BEFORE TRUNCATE ON iu_core.iu_lifecycle_log
    FOR EACH STATEMENT EXECUTE FUNCTION iu_core.fn_iu_lifecycle_log_block_truncate();
