-- Verify for bundle C: true when iu_core.fn_iu_enact exists, is SECURITY DEFINER and pins search_path.
SELECT EXISTS (
    SELECT 1
      FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'iu_core'
       AND p.proname = 'fn_iu_enact'
       AND p.prosecdef
       AND p.proconfig @> ARRAY['search_path=pg_catalog, public']
) AS fn_iu_enact_ok;
