-- Bundle A (M3a TXN-1): lifecycle vocabulary + append-only lifecycle log + indexes + grants.
-- Depends on prestate: schema iu_core, public.information_unit, roles directus_app/iu_gateway/iu_readonly.

CREATE TABLE iu_core.iu_lifecycle_vocab (
    state_code  text PRIMARY KEY,
    label       text NOT NULL,
    ordinal     smallint NOT NULL UNIQUE,
    is_terminal boolean NOT NULL DEFAULT false,
    description text
);

INSERT INTO iu_core.iu_lifecycle_vocab (state_code, label, ordinal, is_terminal, description) VALUES
    ('draft',          'Draft',          10, false, 'authored, not yet reviewed'),
    ('pending_review', 'Pending review', 20, false, 'waiting for a reviewer'),
    ('approved',       'Approved',       30, false, 'reviewed; ready to enact'),
    ('enacted',        'Enacted',        40, false, 'in force'),
    ('superseded',     'Superseded',     50, true,  'replaced by a later unit'),
    ('retired',        'Retired',        60, true,  'withdrawn without replacement');

CREATE TABLE iu_core.iu_lifecycle_log (
    log_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id     uuid NOT NULL REFERENCES public.information_unit (unit_id),
    from_state  text REFERENCES iu_core.iu_lifecycle_vocab (state_code),
    to_state    text NOT NULL REFERENCES iu_core.iu_lifecycle_vocab (state_code),
    actor       text NOT NULL,
    reason      text,
    draft_id    uuid,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (from_state IS DISTINCT FROM to_state OR draft_id IS NOT NULL)
);

CREATE INDEX iu_lifecycle_log_unit_idx     ON iu_core.iu_lifecycle_log (unit_id, recorded_at DESC);
CREATE INDEX iu_lifecycle_log_to_state_idx ON iu_core.iu_lifecycle_log (to_state);
CREATE INDEX iu_lifecycle_log_actor_idx    ON iu_core.iu_lifecycle_log (actor, recorded_at DESC);

-- Readers only: rows are written by the SECURITY DEFINER functions of bundles C and E.
GRANT SELECT ON iu_core.iu_lifecycle_vocab TO directus_app, iu_gateway, iu_readonly;
GRANT SELECT ON iu_core.iu_lifecycle_log   TO directus_app, iu_gateway, iu_readonly;
