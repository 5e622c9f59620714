-- M3a prestate: the "live database" that the M3a lifecycle rollout (bundles A..E) runs against.
-- Modelled on the phase-3 baseline snapshot: queue/composer gates in public.dot_config, the job
-- substrate tables, the iu_core staging area, information units, the event outbox, the five
-- fn_iu_op_* alias functions (D30 signatures) and the pre-patch public.fn_iu_apply_edit_draft,
-- whose third parameter carries DEFAULT NULL::text (the default that bundle E forgets).
-- Load into a fresh, empty database with: psql -v ON_ERROR_STOP=1 -1 -f prestate.sql
-- (not idempotent; roles are cluster-wide and are therefore created only if missing).

-- Roles used by grants ------------------------------------------------------------------------

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'directus_app') THEN
        CREATE ROLE directus_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'iu_gateway') THEN
        CREATE ROLE iu_gateway NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'iu_readonly') THEN
        CREATE ROLE iu_readonly NOLOGIN;
    END IF;
END
$$;

CREATE SCHEMA iu_core;
GRANT USAGE ON SCHEMA iu_core TO directus_app, iu_gateway, iu_readonly;

-- Runtime gates -------------------------------------------------------------------------------

CREATE TABLE public.dot_config (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    description text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO public.dot_config (key, value, description) VALUES
    ('queue.dlq.replay_enabled',                'false',             'allow replay from job_dead_letter'),
    ('queue.heartbeat.enabled',                 'true',              'workers write queue_heartbeat'),
    ('queue.heartbeat.stale_threshold_seconds', '300',               'heartbeat age that counts as stale'),
    ('queue.job_substrate.enabled',             'false',             'master switch for job_queue'),
    ('queue.lease.duration_sec',                '300',               'job lease length'),
    ('queue.lease.reaper_dry_run_only',         'true',              'reaper only reports expired leases'),
    ('queue.lease.reaper_enabled',              'false',             'run the lease reaper'),
    ('queue.notify.enabled',                    'false',             'LISTEN/NOTIFY wake-ups'),
    ('queue.retry.backoff_base_sec',            '10',                'exponential backoff base'),
    ('queue.retry.max_attempts_default',        '5',                 'attempts before dead-lettering'),
    ('queue.runtime.phase',                     'phase2_governance', 'current rollout phase'),
    ('queue.worker.enabled',                    'false',             'workers may claim jobs'),
    ('iu_core.composer_enabled',                'false',             'allow fn_iu_op_cut to open the composer');

GRANT SELECT, INSERT, UPDATE ON public.dot_config TO directus_app;
GRANT SELECT ON public.dot_config TO iu_readonly;

-- Job substrate (empty at baseline, one heartbeat) ---------------------------------------------

CREATE TABLE public.job_queue (
    job_id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_kind        text NOT NULL,
    payload         jsonb NOT NULL DEFAULT '{}'::jsonb,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'leased', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    leased_until    timestamptz,
    idempotency_key text UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_queue_status_idx ON public.job_queue (status, created_at);

CREATE TABLE public.job_dead_letter (
    job_id        uuid PRIMARY KEY,
    job_kind      text NOT NULL,
    payload       jsonb NOT NULL,
    last_error    text,
    attempts      integer NOT NULL,
    dead_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.queue_heartbeat (
    worker_id    text PRIMARY KEY,
    last_beat_at timestamptz NOT NULL DEFAULT now(),
    note         text
);
INSERT INTO public.queue_heartbeat (worker_id, last_beat_at, note)
VALUES ('baseline_probe', '2026-05-26 14:20:00+00', 'baseline heartbeat');

-- Information units and outbox -----------------------------------------------------------------

CREATE TABLE public.information_unit (
    unit_id         uuid PRIMARY KEY,
    unit_code       text NOT NULL UNIQUE,
    title           text NOT NULL,
    body            text NOT NULL,
    lifecycle_state text NOT NULL DEFAULT 'draft',
    version         integer NOT NULL DEFAULT 1,
    cut_run_id      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

INSERT INTO public.information_unit (unit_id, unit_code, title, body, lifecycle_state, version, cut_run_id)
SELECT md5('m3a-iu-' || g)::uuid,
       format('DIEU37-%s', lpad(g::text, 3, '0')),
       format('Dieu 37 clause %s', g),
       format('Body of clause %s of the governance organization law.', g),
       CASE WHEN g <= 12 THEN 'enacted' WHEN g <= 16 THEN 'approved' ELSE 'draft' END,
       1 + g % 3,
       md5('m3a-cut-run-1')::uuid
FROM generate_series(1, 20) AS g;

GRANT SELECT ON public.information_unit TO directus_app, iu_gateway, iu_readonly;

CREATE TABLE public.event_outbox (
    event_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    aggregate_type text NOT NULL,
    aggregate_id   uuid NOT NULL,
    event_type     text NOT NULL,
    payload        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX event_outbox_unpublished_idx ON public.event_outbox (created_at) WHERE published_at IS NULL;

INSERT INTO public.event_outbox (aggregate_type, aggregate_id, event_type, payload, created_at, published_at)
SELECT 'information_unit',
       md5('m3a-iu-' || (1 + g % 20))::uuid,
       (ARRAY['iu.created', 'iu.updated', 'iu.approved', 'iu.enacted'])[1 + g % 4],
       jsonb_build_object('seq', g),
       timestamptz '2026-05-01 00:00:00+00' + g * interval '1 hour',
       timestamptz '2026-05-01 00:00:05+00' + g * interval '1 hour'
FROM generate_series(1, 300) AS g;

-- iu_core staging area --------------------------------------------------------------------------

CREATE TABLE iu_core.iu_staging_record (
    staging_record_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source_ref        text NOT NULL,
    source_kind       text NOT NULL DEFAULT 'markdown',
    status            text NOT NULL DEFAULT 'pending_review'
                      CHECK (status IN ('pending_review', 'verified', 'rejected', 'consumed')),
    idempotency_key   text NOT NULL UNIQUE,
    workflow_ref      text,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);

INSERT INTO iu_core.iu_staging_record
    (staging_record_id, source_ref, status, idempotency_key, workflow_ref, created_by, created_at) VALUES
    ('c3f3f073-24a4-4ed2-b9e9-88f45a11b322', 'dieu37-proof-mark-manifest', 'consumed',
     'op-mark-dieu37-proof-110500', 'wf-110500', 'operator', '2026-05-24 11:05:00+00'),
    ('06a2fc30-9eae-4b1e-a9f6-6cb41e080b68', 'knowledge/dev/laws/dieu37-governance-organization-law.md', 'pending_review',
     'op-mark-dieu37-full-v3.3-20260526-mark-only', 'wf-codex-attempt', 'codex', '2026-05-26 09:12:00+00'),
    ('5b1c9a77-0d4e-4f3b-9a51-2f7f3c0e8a10', 'knowledge/dev/laws/dieu36-records-law.md', 'consumed',
     'op-mark-dieu36-20260518', 'wf-dieu36', 'operator', '2026-05-18 08:30:00+00'),
    ('9e0d2c41-7a8b-4c6d-8e1f-3a2b4c5d6e7f', 'knowledge/dev/laws/dieu35-draft.md', 'rejected',
     'op-mark-dieu35-20260512', 'wf-dieu35', 'operator', '2026-05-12 16:45:00+00');

CREATE TABLE iu_core.iu_staging_payload (
    payload_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staging_record_id uuid NOT NULL REFERENCES iu_core.iu_staging_record (staging_record_id),
    payload_kind      text NOT NULL,
    body              jsonb NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (staging_record_id, payload_kind)
);

INSERT INTO iu_core.iu_staging_payload (staging_record_id, payload_kind, body) VALUES
    ('c3f3f073-24a4-4ed2-b9e9-88f45a11b322', 'cut_manifest',   '{"pieces": 17}'),
    ('c3f3f073-24a4-4ed2-b9e9-88f45a11b322', 'mark_report',    '{"md": "# mark report"}'),
    ('c3f3f073-24a4-4ed2-b9e9-88f45a11b322', 'coverage_proof', '{"covered": true}'),
    ('06a2fc30-9eae-4b1e-a9f6-6cb41e080b68', 'source_text',    '{"chars": 48211}'),
    ('06a2fc30-9eae-4b1e-a9f6-6cb41e080b68', 'mark_report',    '{"md": "# mark report v3.3"}'),
    ('5b1c9a77-0d4e-4f3b-9a51-2f7f3c0e8a10', 'cut_manifest',   '{"pieces": 9}'),
    ('9e0d2c41-7a8b-4c6d-8e1f-3a2b4c5d6e7f', 'source_text',    '{"chars": 1200}');

GRANT SELECT ON iu_core.iu_staging_record, iu_core.iu_staging_payload TO iu_readonly;

-- Edit drafts (input of fn_iu_apply_edit_draft) -------------------------------------------------

CREATE TABLE iu_core.iu_edit_draft (
    draft_id       uuid PRIMARY KEY,
    unit_id        uuid NOT NULL REFERENCES public.information_unit (unit_id),
    base_version   integer NOT NULL,
    proposed_title text,
    proposed_body  text,
    status         text NOT NULL DEFAULT 'pending_review'
                   CHECK (status IN ('pending_review', 'applied', 'rejected')),
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    reviewed_by    text,
    reviewed_at    timestamptz,
    review_note    text
);

INSERT INTO iu_core.iu_edit_draft (draft_id, unit_id, base_version, proposed_title, proposed_body, status, created_by)
SELECT md5('m3a-draft-' || g)::uuid,
       md5('m3a-iu-' || g)::uuid,
       1 + g % 3,
       format('Dieu 37 clause %s (revised)', g),
       format('Revised body of clause %s.', g),
       'pending_review',
       'editor'
FROM generate_series(1, 3) AS g;

GRANT SELECT ON iu_core.iu_edit_draft TO iu_readonly;

-- D30 alias functions (signatures must stay identical) -------------------------------------------

CREATE FUNCTION public.fn_iu_op_mark_file(p_source_text text, p_source_ref text, p_pieces jsonb, p_actor text,
                                          p_source_kind text, p_idempotency_key text, p_mark_report_md text,
                                          p_workflow_ref text)
RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_id uuid;
BEGIN
    SELECT staging_record_id INTO v_id
      FROM iu_core.iu_staging_record WHERE idempotency_key = p_idempotency_key;
    IF FOUND THEN
        RETURN jsonb_build_object('staging_record_id', v_id, 'replayed', true);
    END IF;
    INSERT INTO iu_core.iu_staging_record (source_ref, source_kind, idempotency_key, workflow_ref, created_by)
    VALUES (p_source_ref, p_source_kind, p_idempotency_key, p_workflow_ref, p_actor)
    RETURNING staging_record_id INTO v_id;
    INSERT INTO iu_core.iu_staging_payload (staging_record_id, payload_kind, body) VALUES
        (v_id, 'source_text', jsonb_build_object('text', p_source_text)),
        (v_id, 'cut_manifest', jsonb_build_object('pieces', p_pieces)),
        (v_id, 'mark_report', jsonb_build_object('md', p_mark_report_md));
    RETURN jsonb_build_object('staging_record_id', v_id, 'replayed', false);
END;
$fn$;

CREATE FUNCTION public.fn_iu_op_verify_mark(p_staging_record_id uuid, p_approve boolean,
                                            p_approval_doc_id text, p_approver text, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
BEGIN
    UPDATE iu_core.iu_staging_record
       SET status = CASE WHEN p_approve THEN 'verified' ELSE 'rejected' END
     WHERE staging_record_id = p_staging_record_id AND status = 'pending_review';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'staging record % is not pending_review', p_staging_record_id;
    END IF;
    RETURN jsonb_build_object('staging_record_id', p_staging_record_id, 'approved', p_approve,
                              'approval_doc_id', p_approval_doc_id, 'approver', p_approver, 'actor', p_actor);
END;
$fn$;

CREATE FUNCTION public.fn_iu_op_cut(p_staging_record_id uuid, p_apply boolean, p_actor text, p_open_composer boolean)
RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
DECLARE
    v_pieces jsonb;
BEGIN
    SELECT body -> 'pieces' INTO v_pieces
      FROM iu_core.iu_staging_payload
     WHERE staging_record_id = p_staging_record_id AND payload_kind = 'cut_manifest';
    IF NOT p_apply THEN
        RETURN jsonb_build_object('dry_run', true, 'pieces', v_pieces);
    END IF;
    IF p_open_composer AND (SELECT value FROM public.dot_config WHERE key = 'iu_core.composer_enabled') <> 'true' THEN
        RAISE EXCEPTION 'composer is disabled (iu_core.composer_enabled)';
    END IF;
    UPDATE iu_core.iu_staging_record SET status = 'consumed'
     WHERE staging_record_id = p_staging_record_id AND status = 'verified';
    RETURN jsonb_build_object('dry_run', false, 'pieces', v_pieces, 'actor', p_actor);
END;
$fn$;

CREATE FUNCTION public.fn_iu_op_verify_cut(p_run_id uuid, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
BEGIN
    RETURN jsonb_build_object('run_id', p_run_id, 'actor', p_actor,
                              'units', (SELECT count(*) FROM public.information_unit WHERE cut_run_id = p_run_id));
END;
$fn$;

CREATE FUNCTION public.fn_iu_op_cleanup_dry_run(p_older_than_days integer, p_actor text)
RETURNS jsonb
LANGUAGE plpgsql
AS $fn$
BEGIN
    RETURN jsonb_build_object(
        'dry_run', true,
        'actor', p_actor,
        'candidates', (SELECT count(*) FROM iu_core.iu_staging_record
                        WHERE status IN ('consumed', 'rejected')
                          AND created_at < now() - make_interval(days => p_older_than_days)));
END;
$fn$;

-- Pre-patch edit-draft apply (bundle E replaces this) ----------------------------------------------

CREATE FUNCTION public.fn_iu_apply_edit_draft(p_draft_id uuid, p_actor text, p_review_note text DEFAULT NULL::text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $fn$
DECLARE
    v_draft       iu_core.iu_edit_draft%ROWTYPE;
    v_unit        public.information_unit%ROWTYPE;
    v_new_version integer;
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
           version = v_new_version,
           updated_at = now()
     WHERE unit_id = v_unit.unit_id;

    UPDATE iu_core.iu_edit_draft
       SET status = 'applied', reviewed_by = p_actor, reviewed_at = now(), review_note = p_review_note
     WHERE draft_id = p_draft_id;

    INSERT INTO public.event_outbox (aggregate_type, aggregate_id, event_type, payload)
    VALUES ('information_unit', v_unit.unit_id, 'iu.edit_applied',
            jsonb_build_object('draft_id', p_draft_id, 'actor', p_actor, 'version', v_new_version));

    RETURN jsonb_build_object('ok', true, 'draft_id', p_draft_id, 'unit_id', v_unit.unit_id,
                              'version', v_new_version, 'review_note', p_review_note);
END;
$fn$;

REVOKE ALL ON FUNCTION public.fn_iu_apply_edit_draft(uuid, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.fn_iu_apply_edit_draft(uuid, text, text) TO directus_app, iu_gateway;
