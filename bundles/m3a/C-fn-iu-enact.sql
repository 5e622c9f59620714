-- Bundle C (M3a TXN-3): iu_core.fn_iu_enact, SECURITY DEFINER with a pinned search_path.
-- Moves an approved information unit to 'enacted' and logs the transition. p_dry_run defaults to
-- true, so fn_iu_enact(id, actor) only reports; fn_iu_enact(id, actor, false) really enacts
-- (the call the M3a gate forbids during the rollout). Depends on bundles A and B.

CREATE OR REPLACE FUNCTION iu_core.fn_iu_enact(p_unit_id uuid, p_actor text, p_dry_run boolean DEFAULT true)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
DECLARE
    v_state  text;
    v_log_id bigint;
BEGIN
    IF p_actor IS NULL OR btrim(p_actor) = '' THEN
        RAISE EXCEPTION 'fn_iu_enact: p_actor is required' USING ERRCODE = '22004';
    END IF;

    SELECT lifecycle_state INTO v_state FROM public.information_unit WHERE unit_id = p_unit_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'fn_iu_enact: information unit % not found', p_unit_id USING ERRCODE = 'P0002';
    END IF;
    IF v_state <> 'approved' THEN
        RAISE EXCEPTION 'fn_iu_enact: unit % is %, expected approved', p_unit_id, v_state USING ERRCODE = '55000';
    END IF;

    IF p_dry_run THEN
        RETURN jsonb_build_object('dry_run', true, 'unit_id', p_unit_id, 'from_state', v_state, 'to_state', 'enacted');
    END IF;

    UPDATE public.information_unit SET lifecycle_state = 'enacted', updated_at = now() WHERE unit_id = p_unit_id;

    INSERT INTO iu_core.iu_lifecycle_log (unit_id, from_state, to_state, actor, reason)
    VALUES (p_unit_id, v_state, 'enacted', p_actor, 'fn_iu_enact')
    RETURNING log_id INTO v_log_id;

    INSERT INTO public.event_outbox (aggregate_type, aggregate_id, event_type, payload)
    VALUES ('information_unit', p_unit_id, 'iu.enacted', jsonb_build_object('actor', p_actor, 'log_id', v_log_id));

    RETURN jsonb_build_object('dry_run', false, 'unit_id', p_unit_id, 'from_state', v_state,
                              'to_state', 'enacted', 'log_id', v_log_id);
END;
$fn$;

REVOKE ALL ON FUNCTION iu_core.fn_iu_enact(uuid, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION iu_core.fn_iu_enact(uuid, text, boolean) TO iu_gateway;
