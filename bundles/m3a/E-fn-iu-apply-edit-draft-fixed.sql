-- Bundle E (M3a TXN-5), FIXED: same patch as E-fn-iu-apply-edit-draft.sql, but the header keeps the live
-- signature exactly (p_review_note text DEFAULT NULL::text), so CREATE OR REPLACE succeeds and two-argument
-- callers keep working. Needs bundle A (iu_core.iu_lifecycle_log).
CREATE OR REPLACE FUNCTION public.fn_iu_apply_edit_draft(p_draft_id uuid, p_actor text, p_review_note text DEFAULT NULL::text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
DECLARE
    v_draft       iu_core.iu_edit_draft%ROWTYPE;
    v_unit        public.information_unit%ROWTYPE;
    v_new_version integer;
    v_log_id      bigint;
BEGIN
    IF p_actor IS NULL OR btrim(p_actor) = '' THEN
        RAISE EXCEPTION 'fn_iu_apply_edit_draft: p_actor is required' USING ERRCODE = '22004';
    END IF;

    SELECT * INTO v_draft FROM iu_core.iu_edit_draft WHERE draft_id = p_draft_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'fn_iu_apply_edit_draft: draft % not found', p_draft_id USING ERRCODE = 'P0002';
    END IF;
    IF v_draft.status <> 'pending_review' THEN
        RAISE EXCEPTION 'fn_iu_apply_edit_draft: draft % is %, expected pending_review', p_draft_id, v_draft.status
            USING ERRCODE = '55000';
    END IF;

    SELECT * INTO v_unit FROM public.information_unit WHERE unit_id = v_draft.unit_id FOR UPDATE;
    IF v_unit.version <> v_draft.base_version THEN
        RAISE EXCEPTION 'fn_iu_apply_edit_draft: draft % is stale (base version %, unit version %)',
            p_draft_id, v_draft.base_version, v_unit.version USING ERRCODE = '40001';
    END IF;

    v_new_version := v_unit.version + 1;
    UPDATE public.information_unit
       SET title = COALESCE(v_draft.proposed_title, title),
           body = COALESCE(v_draft.proposed_body, body),
           lifecycle_state = 'approved',
           version = v_new_version,
           updated_at = now()
     WHERE unit_id = v_unit.unit_id;

    UPDATE iu_core.iu_edit_draft
       SET status = 'applied', reviewed_by = p_actor, reviewed_at = now(), review_note = p_review_note
     WHERE draft_id = p_draft_id;

    -- M3a: every applied edit is a lifecycle event (an edited unit must be re-enacted).
    INSERT INTO iu_core.iu_lifecycle_log (unit_id, from_state, to_state, actor, reason, draft_id)
    VALUES (v_unit.unit_id, v_unit.lifecycle_state, 'approved', p_actor,
            COALESCE(p_review_note, 'edit draft applied'), p_draft_id)
    RETURNING log_id INTO v_log_id;

    INSERT INTO public.event_outbox (aggregate_type, aggregate_id, event_type, payload)
    VALUES ('information_unit', v_unit.unit_id, 'iu.edit_applied',
            jsonb_build_object('draft_id', p_draft_id, 'actor', p_actor, 'version', v_new_version,
                               'lifecycle_log_id', v_log_id));

    RETURN jsonb_build_object('ok', true, 'draft_id', p_draft_id, 'unit_id', v_unit.unit_id,
                              'version', v_new_version, 'review_note', p_review_note,
                              'lifecycle_log_id', v_log_id);
END;
$fn$;

REVOKE ALL ON FUNCTION public.fn_iu_apply_edit_draft(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.fn_iu_apply_edit_draft(uuid, text, text) TO directus_app, iu_gateway;
