-- Bundle D (M3a TXN-4): gateway runtime gates in public.dot_config (all closed) + read grant for iu_gateway.
-- Existing keys are left untouched (ON CONFLICT DO NOTHING).

INSERT INTO public.dot_config (key, value, description) VALUES
    ('gateway.enabled',               'false',         'master switch for the IU gateway'),
    ('gateway.enact.enabled',         'false',         'gateway may call iu_core.fn_iu_enact(..., false)'),
    ('gateway.edit_apply.enabled',    'false',         'gateway may call fn_iu_apply_edit_draft'),
    ('gateway.mode',                  'dry_run',       'dry_run | live'),
    ('gateway.allowed_actors',        'operator',      'comma-separated actors the gateway accepts'),
    ('gateway.rate_limit_per_minute', '30',            'per-actor request budget')
ON CONFLICT (key) DO NOTHING;

GRANT SELECT ON public.dot_config TO iu_gateway;
