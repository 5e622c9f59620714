-- Rollback for bundle D: remove the gateway.* rows that D inserts and the grant it adds.
-- Note: deletes these keys even if they existed before D (D's ON CONFLICT DO NOTHING would have kept them).

DELETE FROM public.dot_config
 WHERE key IN ('gateway.enabled', 'gateway.enact.enabled', 'gateway.edit_apply.enabled',
               'gateway.mode', 'gateway.allowed_actors', 'gateway.rate_limit_per_minute');

REVOKE SELECT ON public.dot_config FROM iu_gateway;
