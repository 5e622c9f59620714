#!/usr/bin/env bash
# m3a-check.sh: prove the M3a example bundles (bundles/m3a) on a real, throwaway PostgreSQL 15 cluster.
#
#   db m3a_fixed: prestate, then A, B, C, D, E-fixed, each as one transaction (psql -1), all must succeed.
#   db m3a_gap:   prestate, then A..D, then E (as authored in the incident) must fail with
#                 42P13 "cannot remove parameter defaults from existing function" and leave the function unchanged.
#
# Prints the D30 probe of public.fn_iu_apply_edit_draft before/after. Exits non-zero on any mismatch.
# Run as root (the server is started as the `postgres` OS user via runuser) or as a non-root user.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B="$ROOT/bundles/m3a"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PORT=${M3A_PORT:-$((54000 + $$ % 1000))}

failures=0
pass() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }
die()  { printf 'FATAL %s\n' "$*" >&2; exit 2; }

if [ "$(id -u)" = 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

TMP=$(mktemp -d /tmp/m3a-check.XXXXXX)
SOCK="$TMP/sock"
mkdir -p "$SOCK"
[ "$(id -u)" = 0 ] && chown -R postgres: "$TMP"
chmod 700 "$TMP"

cleanup() {
    if [ -f "$TMP/data/postmaster.pid" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

q() { # q DB SQL  -> unaligned, tuples only
    "$PGBIN/psql" -X -q -h "$SOCK" -p "$PORT" -U postgres -d "$1" -v ON_ERROR_STOP=1 -At -c "$2"
}

# apply DB FILE -> sets RC, leaves stdout/stderr in $TMP/out, $TMP/err
apply() {
    if "$PGBIN/psql" -X -q -h "$SOCK" -p "$PORT" -U postgres -d "$1" \
            -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -1 -f "$B/$2" >"$TMP/out" 2>"$TMP/err"; then
        RC=0
    else
        RC=$?
    fi
}

apply_ok() { # apply_ok DB FILE
    apply "$1" "$2"
    if [ "$RC" = 0 ]; then pass "[$1] $2 applied"; else fail "[$1] $2 exited $RC"; sed 's/^/     /' "$TMP/err"; fi
}

PROBE="SELECT 'fn_apply_args_gap' AS probe,
       pg_get_function_identity_arguments(p.oid) AS identity_args,
       pg_get_function_arguments(p.oid) AS full_args,
       md5(p.prosrc) AS body_md5,
       length(p.prosrc) AS body_len,
       p.prosecdef,
       p.proconfig
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND p.proname = 'fn_iu_apply_edit_draft'"

probe() { # probe DB LABEL -> prints the probe with header, stores the row in PROBE_ROW
    echo "--- D30 probe [$1] $2"
    "$PGBIN/psql" -X -q -h "$SOCK" -p "$PORT" -U postgres -d "$1" -v ON_ERROR_STOP=1 -A -P footer=off -c "$PROBE"
    PROBE_ROW=$(q "$1" "$PROBE")
}

expect_eq() { # expect_eq LABEL EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then pass "$1 = $3"; else fail "$1: expected '$2', got '$3'"; fi
}

# --- static checks: every bundle must run inside one transaction -----------------------------------
# outside_bodies FILE: the file without dollar-quoted bodies ($fn$ ... $fn$), which contain plpgsql BEGIN/END.
outside_bodies() {
    awk '/\$[A-Za-z_]*\$/ { n = gsub(/\$[A-Za-z_]*\$/, "&"); if (n % 2 == 1) inbody = !inbody; next } !inbody' "$1"
}
for f in "$B"/[A-E]-*.sql; do
    if outside_bodies "$f" | grep -Eiq '^[[:space:]]*(BEGIN|COMMIT|END|ABORT|ROLLBACK|START[[:space:]]+TRANSACTION)([[:space:];]|$)' \
        || grep -qi 'CONCURRENTLY' "$f"; then
        fail "$(basename "$f") contains transaction control or CONCURRENTLY"
    else
        pass "$(basename "$f") is free of transaction control and CONCURRENTLY"
    fi
done

# --- throwaway cluster --------------------------------------------------------------------------
as_pg "$PGBIN/initdb" -D "$TMP/data" -U postgres --auth=trust --locale=C -E UTF8 >"$TMP/initdb.log" 2>&1 \
    || { cat "$TMP/initdb.log"; die "initdb failed"; }
as_pg "$PGBIN/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories='$SOCK' -p $PORT -c lc_messages=C -c fsync=off" start \
    >/dev/null || { cat "$TMP/server.log"; die "pg_ctl start failed"; }
echo "server: $(q postgres 'SHOW server_version'), socket $SOCK, port $PORT"

# --- db 1: the fixed rollout applies cleanly -----------------------------------------------------
DB=m3a_fixed
q postgres "CREATE DATABASE $DB" >/dev/null
apply_ok $DB prestate.sql
[ "$RC" = 0 ] || die "prestate does not load"

expect_eq "[$DB] baseline counts (heartbeat,staging_record,staging_payload,iu,job_queue,dlq,queue.* keys)" \
    "1|4|7|20|0|0|12" \
    "$(q $DB "SELECT (SELECT count(*) FROM queue_heartbeat), (SELECT count(*) FROM iu_core.iu_staging_record),
                     (SELECT count(*) FROM iu_core.iu_staging_payload), (SELECT count(*) FROM information_unit),
                     (SELECT count(*) FROM job_queue), (SELECT count(*) FROM job_dead_letter),
                     (SELECT count(*) FROM dot_config WHERE key LIKE 'queue.%')")"
expect_eq "[$DB] D30 alias signatures" \
    "fn_iu_op_cleanup_dry_run(p_older_than_days integer, p_actor text)
fn_iu_op_cut(p_staging_record_id uuid, p_apply boolean, p_actor text, p_open_composer boolean)
fn_iu_op_mark_file(p_source_text text, p_source_ref text, p_pieces jsonb, p_actor text, p_source_kind text, p_idempotency_key text, p_mark_report_md text, p_workflow_ref text)
fn_iu_op_verify_cut(p_run_id uuid, p_actor text)
fn_iu_op_verify_mark(p_staging_record_id uuid, p_approve boolean, p_approval_doc_id text, p_approver text, p_actor text)" \
    "$(q $DB "SELECT proname || '(' || pg_get_function_arguments(oid) || ')' FROM pg_proc
               WHERE proname LIKE 'fn\_iu\_op\_%' ORDER BY proname")"

probe $DB "before"
before=$PROBE_ROW
for f in A-lifecycle-vocab-and-log.sql B-immutability-triggers.sql C-fn-iu-enact.sql D-gateway-config.sql \
         E-fn-iu-apply-edit-draft-fixed.sql; do
    apply_ok $DB "$f"
done
probe $DB "after E-fixed"
after=$PROBE_ROW

IFS='|' read -r _ b_id b_full b_md5 _ b_sec b_cfg <<<"$before"
IFS='|' read -r _ a_id a_full a_md5 _ a_sec a_cfg <<<"$after"
expect_eq "[$DB] identity_args unchanged" "$b_id" "$a_id"
expect_eq "[$DB] full_args keep the default" "p_draft_id uuid, p_actor text, p_review_note text DEFAULT NULL::text" "$a_full"
[ "$b_md5" != "$a_md5" ] && pass "[$DB] body replaced ($b_md5 -> $a_md5)" || fail "[$DB] body md5 did not change"
expect_eq "[$DB] prosecdef" "t" "$a_sec"
expect_eq "[$DB] proconfig" '{"search_path=pg_catalog, public"}' "$a_cfg"

expect_eq "[$DB] C verify (fn_iu_enact SECURITY DEFINER + pinned search_path)" "t" "$(q $DB "$(cat "$B/C-fn-iu-enact.verify.sql")")"
expect_eq "[$DB] gateway.* rows" "6" "$(q $DB "SELECT count(*) FROM dot_config WHERE key LIKE 'gateway.%'")"
expect_eq "[$DB] lifecycle vocab rows" "6" "$(q $DB "SELECT count(*) FROM iu_core.iu_lifecycle_vocab")"

# Behaviour after the rollout: two-argument callers still work, the log is append-only, enact defaults to dry run.
draft=$(q $DB "SELECT md5('m3a-draft-1')::uuid")
expect_eq "[$DB] 2-arg fn_iu_apply_edit_draft call" "true" \
    "$(q $DB "SELECT fn_iu_apply_edit_draft('$draft', 'm3a-check')->>'ok'")"
expect_eq "[$DB] lifecycle log row written by the patched body" "1" \
    "$(q $DB "SELECT count(*) FROM iu_core.iu_lifecycle_log WHERE draft_id = '$draft'")"
if q $DB "UPDATE iu_core.iu_lifecycle_log SET actor = 'x'" >/dev/null 2>"$TMP/err"; then
    fail "[$DB] UPDATE of iu_lifecycle_log was allowed"
else
    grep -q 'append-only' "$TMP/err" && pass "[$DB] UPDATE of iu_lifecycle_log refused" \
        || { fail "[$DB] UPDATE refused for the wrong reason"; cat "$TMP/err"; }
fi
unit=$(q $DB "SELECT unit_id FROM iu_core.iu_edit_draft WHERE draft_id = '$draft'")
expect_eq "[$DB] fn_iu_enact(id, actor) is a dry run" "true|approved" \
    "$(q $DB "SELECT iu_core.fn_iu_enact('$unit', 'm3a-check')->>'dry_run',
                     (SELECT lifecycle_state FROM information_unit WHERE unit_id = '$unit')")"

# --- db 2: E as authored fails and changes nothing -----------------------------------------------
DB=m3a_gap
q postgres "CREATE DATABASE $DB" >/dev/null
apply_ok $DB prestate.sql
[ "$RC" = 0 ] || die "prestate does not load"
for f in A-lifecycle-vocab-and-log.sql B-immutability-triggers.sql C-fn-iu-enact.sql D-gateway-config.sql; do
    apply_ok $DB "$f"
done
probe $DB "before E"
before=$PROBE_ROW
apply $DB E-fn-iu-apply-edit-draft.sql
echo "--- psql stderr of E (VERBOSITY=verbose)"
sed 's/^/     /' "$TMP/err"
expect_eq "[$DB] E psql exit status (3 = script error with ON_ERROR_STOP)" "3" "$RC"
grep -q '^psql:[^ ]*E-fn-iu-apply-edit-draft.sql:[0-9]*: ERROR:  42P13: cannot remove parameter defaults from existing function$' "$TMP/err" \
    && pass "[$DB] E: ERROR 42P13 cannot remove parameter defaults from existing function" \
    || fail "[$DB] E: expected ERROR line not found"
grep -qx 'HINT:  Use DROP FUNCTION fn_iu_apply_edit_draft(uuid,text,text) first.' "$TMP/err" \
    && pass "[$DB] E: HINT Use DROP FUNCTION fn_iu_apply_edit_draft(uuid,text,text) first." \
    || fail "[$DB] E: expected HINT line not found"
probe $DB "after failed E"
expect_eq "[$DB] probe unchanged by failed E" "$before" "$PROBE_ROW"

# Hand-written rollback of D removes exactly what D added; D can then be re-applied.
apply_ok $DB D-gateway-config.rollback.sql
expect_eq "[$DB] gateway.* rows after D rollback" "0|f" \
    "$(q $DB "SELECT count(*), has_table_privilege('iu_gateway', 'public.dot_config', 'SELECT')
               FROM dot_config WHERE key LIKE 'gateway.%'")"
apply_ok $DB D-gateway-config.sql
apply_ok $DB D-gateway-config.sql
expect_eq "[$DB] gateway.* rows after applying D twice" "6" "$(q $DB "SELECT count(*) FROM dot_config WHERE key LIKE 'gateway.%'")"

echo
if [ "$failures" -eq 0 ]; then
    echo "m3a-check: PASS"
else
    echo "m3a-check: FAIL ($failures mismatches)"
    exit 1
fi
