import BundleTestSupport
import Foundation
import Testing

@testable import BundleKit

/// Every planner rule, on a real server: the failing case predicts the server's SQLSTATE and message exactly,
/// the near miss next to it plans clean and applies.
@Suite struct PlanRuleTests {
    static let fnH = "CREATE FUNCTION h(a int, b int DEFAULT 1, c int DEFAULT 2) RETURNS int LANGUAGE sql AS 'select 1';"
    static let fnF = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 1';"
    static let view = "CREATE TABLE t (a int, b text, c varchar(10)); CREATE VIEW v AS SELECT a, b, c FROM t;"
    static let trig = """
        CREATE TABLE t (a int);
        CREATE FUNCTION notrig() RETURNS int LANGUAGE sql AS 'select 1';
        CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf();
        CREATE CONSTRAINT TRIGGER ct AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf();
        """

    static let cases: [PlanCase] = [
        // CREATE OR REPLACE FUNCTION / PROCEDURE
        PlanCase(name: "remove_default", prestate: fnH, bundle: "CREATE OR REPLACE FUNCTION h(a int, b int, c int DEFAULT 2) RETURNS int LANGUAGE sql AS 'select 1';", rule: "function-remove-param-default"),
        PlanCase(name: "keep_default", prestate: fnH, bundle: "CREATE OR REPLACE FUNCTION h(a int, b int DEFAULT 1, c int DEFAULT 2) RETURNS int LANGUAGE sql AS 'select 2';", rule: nil),
        PlanCase(name: "add_default", prestate: fnH, bundle: "CREATE OR REPLACE FUNCTION h(a int DEFAULT 0, b int DEFAULT 1, c int DEFAULT 2) RETURNS int LANGUAGE sql AS 'select 2';", rule: nil),
        PlanCase(name: "return_type", prestate: fnF, bundle: "CREATE OR REPLACE FUNCTION f(a int) RETURNS text LANGUAGE sql AS 'select 1::text';", rule: "function-change-return-type"),
        PlanCase(name: "return_setof", prestate: fnF, bundle: "CREATE OR REPLACE FUNCTION f(a int) RETURNS SETOF int LANGUAGE sql AS 'select 1';", rule: "function-change-return-type"),
        PlanCase(name: "body_only", prestate: fnF, bundle: "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 2';", rule: nil),
        PlanCase(name: "rename_param", prestate: fnF, bundle: "CREATE OR REPLACE FUNCTION f(b int) RETURNS int LANGUAGE sql AS 'select 1';", rule: "function-rename-param"),
        PlanCase(name: "unname_param", prestate: fnF, bundle: "CREATE OR REPLACE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'select 1';", rule: "function-rename-param"),
        PlanCase(name: "exists_no_replace", prestate: fnF, bundle: "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 1';", rule: "function-already-exists"),
        PlanCase(name: "new_overload", prestate: fnF, bundle: "CREATE FUNCTION f(a bigint) RETURNS int LANGUAGE sql AS 'select 1';", rule: nil),
        PlanCase(name: "change_kind", prestate: fnF, bundle: "CREATE OR REPLACE PROCEDURE f(a int) LANGUAGE sql AS 'select 1';", rule: "function-change-kind"),
        PlanCase(
            name: "out_row", prestate: "CREATE FUNCTION g(a int, OUT x int, OUT y int) LANGUAGE sql AS 'select 1, 2';",
            bundle: "CREATE OR REPLACE FUNCTION g(a int, OUT x int, OUT z int) LANGUAGE sql AS 'select 1, 2';", rule: "function-change-out-row"),
        PlanCase(
            name: "out_row_same", prestate: "CREATE FUNCTION g(a int, OUT x int, OUT y int) LANGUAGE sql AS 'select 1, 2';",
            bundle: "CREATE OR REPLACE FUNCTION g(a int, OUT x int, OUT y int) LANGUAGE sql AS 'select 3, 4';", rule: nil),
        PlanCase(
            name: "proc_out", prestate: "CREATE PROCEDURE p(a int) LANGUAGE sql AS 'select 1';",
            bundle: "CREATE OR REPLACE PROCEDURE p(a int, OUT b int) LANGUAGE sql AS 'select 1';", rule: "procedure-change-output-params"),
        PlanCase(
            name: "overlay_remove_default",
            prestate: "SELECT 1;",
            bundle: """
                CREATE FUNCTION k(a text DEFAULT NULL::text) RETURNS int LANGUAGE sql AS 'select 1';
                CREATE OR REPLACE FUNCTION k(a text) RETURNS int LANGUAGE sql AS 'select 2';
                """,
            rule: "function-remove-param-default", statement: 2),
        // CREATE OR REPLACE VIEW
        PlanCase(name: "view_drop_col", prestate: view, bundle: "CREATE OR REPLACE VIEW v AS SELECT a, b FROM t;", rule: "view-drop-column"),
        PlanCase(name: "view_rename_col", prestate: view, bundle: "CREATE OR REPLACE VIEW v AS SELECT a, b AS bb, c FROM t;", rule: "view-rename-column"),
        PlanCase(name: "view_type", prestate: view, bundle: "CREATE OR REPLACE VIEW v AS SELECT a::bigint AS a, b, c FROM t;", rule: "view-change-column-type"),
        PlanCase(name: "view_typmod", prestate: view, bundle: "CREATE OR REPLACE VIEW v AS SELECT a, b, c::varchar(20) AS c FROM t;", rule: "view-change-column-type"),
        PlanCase(name: "view_collation", prestate: view, bundle: "CREATE OR REPLACE VIEW v AS SELECT a, b COLLATE \"C\" AS b, c FROM t;", rule: "view-change-column-collation"),
        PlanCase(name: "view_not_view", prestate: view, bundle: "CREATE OR REPLACE VIEW t AS SELECT 1 AS x;", rule: "view-replace-not-a-view"),
        PlanCase(name: "view_append", prestate: view, bundle: "CREATE OR REPLACE VIEW v AS SELECT a, b, c, 1 AS d FROM t;", rule: nil),
        // Exists / does not exist
        PlanCase(name: "table_exists", prestate: "CREATE TABLE t (a int);", bundle: "CREATE TABLE t (a int);", rule: "relation-already-exists"),
        PlanCase(name: "table_if_not_exists", prestate: "CREATE TABLE t (a int);", bundle: "CREATE TABLE IF NOT EXISTS t (a int);", rule: nil),
        PlanCase(name: "table_twice_in_bundle", prestate: "SELECT 1;", bundle: "CREATE TABLE n (a int);\nCREATE TABLE n (b int);", rule: "relation-already-exists", statement: 2),
        PlanCase(name: "column_exists", prestate: "CREATE TABLE t (a int);", bundle: "ALTER TABLE t ADD COLUMN a int;", rule: "column-already-exists"),
        PlanCase(name: "column_new", prestate: "CREATE TABLE t (a int);", bundle: "ALTER TABLE t ADD COLUMN b int;", rule: nil),
        PlanCase(name: "column_missing", prestate: "CREATE TABLE t (a int);", bundle: "ALTER TABLE t DROP COLUMN nocol;", rule: "column-does-not-exist"),
        PlanCase(name: "relation_missing", prestate: "SELECT 1;", bundle: "ALTER TABLE nosuch ADD COLUMN b int;", rule: "relation-does-not-exist"),
        PlanCase(name: "drop_missing", prestate: "SELECT 1;", bundle: "DROP TABLE nosuch;", rule: "object-does-not-exist"),
        PlanCase(name: "drop_if_exists", prestate: "SELECT 1;", bundle: "DROP TABLE IF EXISTS nosuch;", rule: nil),
        PlanCase(name: "drop_index_missing", prestate: "SELECT 1;", bundle: "DROP INDEX nosuch;", rule: "object-does-not-exist"),
        PlanCase(name: "drop_view_on_table", prestate: "CREATE TABLE t (a int);", bundle: "DROP VIEW t;", rule: "drop-wrong-kind"),
        PlanCase(name: "schema_missing", prestate: "SELECT 1;", bundle: "CREATE TABLE nosuch.t (a int);", rule: "schema-does-not-exist"),
        PlanCase(name: "serial_columns (near miss)", prestate: "SELECT 1;", bundle: "CREATE TABLE sc (id serial PRIMARY KEY, b bigserial, c smallserial, d serial8);", rule: nil),
        PlanCase(name: "serial_array", prestate: "SELECT 1;", bundle: "CREATE TABLE sa (ids serial[]);", rule: "serial-array"),
        PlanCase(name: "typed_table_column_options", prestate: "CREATE TYPE pair AS (a int, b text);", bundle: "CREATE TABLE tt OF pair (a PRIMARY KEY, b NOT NULL);", rule: nil),
        PlanCase(
            name: "partition_column_options", prestate: "CREATE TABLE pp (a int, b text) PARTITION BY RANGE (a);",
            bundle: "CREATE TABLE pp1 PARTITION OF pp (b NOT NULL) FOR VALUES FROM (1) TO (10);", rule: nil),
        PlanCase(name: "serial_array_before_duplicate", prestate: "SELECT 1;", bundle: "CREATE TABLE sa (a int, a serial[]);", rule: "serial-array"),
        PlanCase(name: "serial_array_added", prestate: "CREATE TABLE sa (a int);", bundle: "ALTER TABLE sa ADD COLUMN ids bigserial[];", rule: "serial-array"),
        PlanCase(name: "serial_qualified", prestate: "SELECT 1;", bundle: "CREATE TABLE sc (c pg_catalog.serial);", rule: "type-does-not-exist"),
        PlanCase(name: "serial_added_column (near miss)", prestate: "CREATE TABLE sc (a int);", bundle: "ALTER TABLE sc ADD COLUMN id serial4;", rule: nil),
        PlanCase(name: "serial_is_no_argument_type", prestate: "SELECT 1;", bundle: "CREATE FUNCTION sf(a serial) RETURNS int LANGUAGE sql AS 'select 1';", rule: "type-does-not-exist"),
        PlanCase(name: "schema_exists", prestate: "CREATE SCHEMA s;", bundle: "CREATE SCHEMA s;", rule: "schema-already-exists"),
        PlanCase(name: "schema_if_not_exists", prestate: "CREATE SCHEMA s;", bundle: "CREATE SCHEMA IF NOT EXISTS s;", rule: nil),
        PlanCase(name: "type_exists", prestate: "CREATE TYPE mood AS ENUM ('a');", bundle: "CREATE TYPE mood AS ENUM ('b');", rule: "type-already-exists"),
        PlanCase(name: "rename_onto", prestate: "CREATE TABLE t (a int); CREATE TABLE u (a int);", bundle: "ALTER TABLE t RENAME TO u;", rule: "relation-already-exists"),
        PlanCase(name: "rename_free", prestate: "CREATE TABLE t (a int);", bundle: "ALTER TABLE t RENAME TO u;", rule: nil),
        PlanCase(name: "role_missing", prestate: "CREATE TABLE t (a int);", bundle: "GRANT SELECT ON t TO bundle_no_such_role;", rule: "role-does-not-exist"),
        PlanCase(name: "role_public", prestate: "CREATE TABLE t (a int);", bundle: "GRANT SELECT ON t TO PUBLIC;", rule: nil),
        // Sequences of serial and identity columns: named as the server names them, moved and dropped with their table
        PlanCase(
            name: "serial_sequences", prestate: "SELECT 1;",
            bundle: "CREATE TABLE t (id serial, n int GENERATED ALWAYS AS IDENTITY); GRANT USAGE ON SEQUENCE t_id_seq, t_n_seq TO PUBLIC;", rule: nil),
        PlanCase(name: "serial_name_taken", prestate: "CREATE SEQUENCE v_id_seq;", bundle: "CREATE TABLE v (id serial); GRANT USAGE ON SEQUENCE v_id_seq1 TO PUBLIC;", rule: nil),
        PlanCase(
            name: "serial_long_names", prestate: "SELECT 1;",
            bundle: """
                CREATE TABLE a_very_long_table_name_that_goes_on_and_on_and_on_xx (and_a_long_column_name_too_yes_indeed bigserial);
                GRANT USAGE ON SEQUENCE a_very_long_table_name_that_g_and_a_long_column_name_too_ye_seq TO PUBLIC;
                """, rule: nil),
        PlanCase(
            name: "add_identity", prestate: "CREATE TABLE t (id int NOT NULL);",
            bundle: "ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY; GRANT USAGE ON SEQUENCE t_id_seq TO PUBLIC;", rule: nil),
        PlanCase(name: "add_column_serial", prestate: "CREATE TABLE t (a int);", bundle: "ALTER TABLE t ADD COLUMN id bigserial; GRANT USAGE ON SEQUENCE t_id_seq TO PUBLIC;", rule: nil),
        PlanCase(
            name: "identity_sequence_elsewhere", prestate: "CREATE SCHEMA s2;",
            bundle: "CREATE TABLE u (id int GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME s2.u_ids));", rule: "relation-does-not-exist"),
        PlanCase(
            name: "identity_sequence_named", prestate: "SELECT 1;",
            bundle: "CREATE TABLE u (id int GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME public.u_ids)); GRANT USAGE ON SEQUENCE u_ids TO PUBLIC;", rule: nil),
        PlanCase(
            name: "owned_sequences_move", prestate: "CREATE SCHEMA s2; CREATE TABLE live (id serial, k int GENERATED ALWAYS AS IDENTITY);",
            bundle: "ALTER TABLE live SET SCHEMA s2; GRANT USAGE ON SEQUENCE s2.live_id_seq, s2.live_k_seq TO PUBLIC;", rule: nil),
        PlanCase(
            name: "owned_sequence_left_behind", prestate: "CREATE SCHEMA s2; CREATE TABLE live (id serial);",
            bundle: "ALTER TABLE live SET SCHEMA s2; GRANT USAGE ON SEQUENCE public.live_id_seq TO PUBLIC;", rule: "relation-does-not-exist"),
        PlanCase(
            name: "planned_sequence_moves", prestate: "CREATE SCHEMA s3;",
            bundle: "CREATE TABLE w (id serial); ALTER TABLE w SET SCHEMA s3; GRANT USAGE ON SEQUENCE s3.w_id_seq TO PUBLIC;", rule: nil),
        PlanCase(
            name: "owned_sequence_name_taken", prestate: "CREATE SCHEMA s2; CREATE TABLE live (id serial); CREATE SEQUENCE s2.live_id_seq;",
            bundle: "ALTER TABLE live SET SCHEMA s2;", rule: "relation-already-exists"),
        PlanCase(
            name: "drop_identity_drops_sequence", prestate: "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY, n serial);",
            bundle: "ALTER TABLE t ALTER COLUMN id DROP IDENTITY; CREATE SEQUENCE t_id_seq; ALTER TABLE t DROP COLUMN n; CREATE SEQUENCE t_n_seq;", rule: nil),
        PlanCase(
            name: "planned_identity_dropped", prestate: "CREATE TABLE t (id int NOT NULL);",
            bundle: "ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY; ALTER TABLE t RENAME COLUMN id TO key; ALTER TABLE t ALTER COLUMN key DROP IDENTITY; CREATE SEQUENCE t_id_seq;",
            rule: nil),
        PlanCase(name: "owned_sequence_dropped", prestate: "CREATE TABLE gone (id bigserial);", bundle: "DROP TABLE gone; CREATE SEQUENCE gone_id_seq;", rule: nil),
        // set_config('search_path', …) as pg_dump's output uses it
        PlanCase(name: "set_config_empty_path", prestate: "SELECT 1;", bundle: "SELECT pg_catalog.set_config('search_path', '', false); CREATE TABLE x (a int);", rule: "no-creation-schema"),
        PlanCase(
            name: "set_config_path", prestate: "CREATE SCHEMA s;",
            bundle: "SELECT set_config('search_path', 's, public', true); CREATE TABLE x (a int); SELECT a FROM s.x;", rule: nil),
        // Temporary and permanent tables in one hierarchy
        PlanCase(
            name: "permanent_partition_of_temp", prestate: "SELECT 1;",
            bundle: "CREATE TEMP TABLE tp (a int) PARTITION BY LIST (a); CREATE TABLE c1 PARTITION OF tp FOR VALUES IN (1);", rule: "temporary-parent"),
        PlanCase(name: "inherit_from_temp", prestate: "SELECT 1;", bundle: "CREATE TEMP TABLE tp (a int); CREATE TABLE c2 () INHERITS (tp);", rule: "temporary-parent"),
        PlanCase(
            name: "temp_partition_of_permanent", prestate: "CREATE TABLE pp (a int) PARTITION BY LIST (a);",
            bundle: "CREATE TEMP TABLE c3 PARTITION OF pp FOR VALUES IN (1);", rule: "temporary-partition"),
        PlanCase(name: "temp_inherits_permanent", prestate: "CREATE TABLE pp (a int);", bundle: "CREATE TEMP TABLE c4 () INHERITS (pp); SELECT a FROM c4;", rule: nil),
        PlanCase(
            name: "temp_partition_of_temp", prestate: "SELECT 1;",
            bundle: "CREATE TEMP TABLE tp (a int) PARTITION BY LIST (a); CREATE TEMP TABLE c5 PARTITION OF tp FOR VALUES IN (1);", rule: nil),
        // SET ROLE: `$user` and schema USAGE are the new role's (a NOINHERIT login uses the owner's schema after SET ROLE)
        PlanCase(
            name: "set_role_noinherit_schema",
            prestate: """
                ALTER ROLE {role} NOINHERIT; CREATE ROLE {role}_owner; GRANT {role}_owner TO {role};
                CREATE SCHEMA app AUTHORIZATION {role}_owner; CREATE TABLE app.t (a int); ALTER TABLE app.t OWNER TO {role}_owner;
                """,
            bundle: "SET ROLE {role}_owner; SET search_path = app; ALTER TABLE t ADD COLUMN b int;", rule: nil, role: true),
        PlanCase(
            name: "drop_table_with_policy",
            prestate: "CREATE TABLE sec (owner text); ALTER TABLE sec ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON sec USING (owner = current_user);",
            bundle: "DROP TABLE sec;", rule: nil),
        PlanCase(
            name: "unnamed_index_names", prestate: "CREATE TABLE t (id int, x text);",
            bundle: "CREATE INDEX ON t ((lower(x))); CREATE INDEX ON t ((id + 1)); CREATE INDEX ON t (id); CREATE INDEX ON t (id); DROP INDEX t_lower_idx, t_expr_idx, t_id_idx, t_id_idx1;",
            rule: nil),
        PlanCase(
            name: "constraint_indexes", prestate: "CREATE TABLE t_pkey (x int);",
            bundle: """
                CREATE TABLE t (id int PRIMARY KEY, code text UNIQUE, a int, b int, UNIQUE (a, b));
                ALTER INDEX t_pkey1 RENAME TO t_pk; ALTER INDEX t_code_key SET (fillfactor = 90); ALTER INDEX t_a_b_key RENAME TO t_ab;
                CREATE TABLE u (id int); ALTER TABLE u ADD PRIMARY KEY (id); ALTER INDEX u_pkey RENAME TO u_pk;
                """,
            rule: nil),
        PlanCase(
            name: "dropped_table_indexes", prestate: "CREATE TABLE t (id int PRIMARY KEY); CREATE INDEX t_id_idx ON t (id);",
            bundle: "DROP TABLE t; CREATE TABLE t (id int PRIMARY KEY); CREATE INDEX t_id_idx ON t (id); ALTER INDEX t_pkey RENAME TO t_pk;", rule: nil),
        PlanCase(
            name: "rename_constraint_renames_index", prestate: "CREATE TABLE items (id int PRIMARY KEY, code text CONSTRAINT items_code_uq UNIQUE);",
            bundle: "ALTER TABLE items RENAME CONSTRAINT items_pkey TO items_pk; ALTER INDEX items_pk SET (fillfactor = 90); ALTER TABLE items RENAME CONSTRAINT items_code_uq TO items_code_u; ALTER INDEX items_code_u RENAME TO items_code_k; CREATE INDEX items_pkey ON items (code);",
            rule: nil),
        // DROP CONSTRAINT (a dropped-then-re-added constraint was refused as 42710)
        PlanCase(
            name: "drop_and_readd_constraints", prestate: "CREATE TABLE t (id int PRIMARY KEY, a int CONSTRAINT t_a_check CHECK (a > 0));",
            bundle: "ALTER TABLE t DROP CONSTRAINT t_a_check; ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a >= 0); ALTER TABLE t DROP CONSTRAINT t_pkey; ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (id); ALTER TABLE t DROP CONSTRAINT t_a_check; ALTER TABLE t ADD CHECK (a > 1); ALTER TABLE t DROP CONSTRAINT t_a_check;",
            rule: nil),
        PlanCase(name: "drop_constraint_missing", prestate: "CREATE TABLE t (id int PRIMARY KEY);", bundle: "ALTER TABLE t DROP CONSTRAINT t_id_check;", rule: "constraint-does-not-exist"),
        PlanCase(
            name: "drop_constraint_dropped_twice", prestate: "CREATE TABLE t (id int PRIMARY KEY);",
            bundle: "ALTER TABLE t DROP CONSTRAINT t_pkey; ALTER TABLE t DROP CONSTRAINT IF EXISTS t_pkey; ALTER TABLE t DROP CONSTRAINT t_pkey;", rule: "constraint-does-not-exist"),
        PlanCase(
            name: "drop_key_with_foreign_keys", prestate: "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE x (id int, t_id int REFERENCES t);",
            bundle: "ALTER TABLE t DROP CONSTRAINT t_pkey;", rule: "drop-with-dependents"),
        PlanCase(
            name: "drop_key_cascade", prestate: "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE x (id int, t_id int REFERENCES t);",
            bundle: "ALTER TABLE t DROP CONSTRAINT t_pkey CASCADE; ALTER TABLE x DROP CONSTRAINT x_t_id_fkey;", rule: "constraint-does-not-exist"),
        PlanCase(
            name: "drop_key_of_planned_foreign_key", prestate: "CREATE TABLE t (id int, code text CONSTRAINT t_code_key UNIQUE); CREATE TABLE x (code text);",
            bundle: "ALTER TABLE x ADD FOREIGN KEY (code) REFERENCES t (code); ALTER TABLE t DROP CONSTRAINT t_code_key;", rule: "drop-with-dependents"),
        PlanCase(
            name: "drop_inherited_check_added_to_parent", prestate: "CREATE TABLE p (a int); CREATE TABLE c () INHERITS (p);",
            bundle: "ALTER TABLE p ADD CONSTRAINT p_a_pos CHECK (a > 0); ALTER TABLE ONLY p DROP CONSTRAINT p_a_pos; ALTER TABLE c RENAME CONSTRAINT p_a_pos TO c_a_pos; ALTER TABLE c DROP CONSTRAINT c_a_pos;",
            rule: nil),
        PlanCase(
            name: "drop_constraint_of_added_column", prestate: "CREATE TABLE t (id int);",
            bundle: "ALTER TABLE t ADD COLUMN code text UNIQUE CHECK (code <> ''); ALTER TABLE t DROP CONSTRAINT t_code_key, DROP CONSTRAINT t_code_check;", rule: nil),
        PlanCase(
            name: "add_column_inline_keys", prestate: "CREATE TABLE t (id int);",
            bundle: "ALTER TABLE t ADD COLUMN code text UNIQUE, ADD COLUMN k int PRIMARY KEY; ALTER INDEX t_code_key RENAME TO t_code_uq; ALTER INDEX t_pkey SET (fillfactor = 80); CREATE TABLE x (c text REFERENCES t (code));",
            rule: nil),
        PlanCase(
            name: "add_column_inline_check_misnamed", prestate: "CREATE TABLE t (id int);",
            bundle: "ALTER TABLE t ADD COLUMN n int CHECK (n > 0); ALTER TABLE t DROP CONSTRAINT t_n_chk;", rule: "constraint-does-not-exist"),
        // Near misses a review found (each was refused before)
        PlanCase(name: "drop_constraint_after_index_rename", prestate: "CREATE TABLE t (id int PRIMARY KEY, x int);", bundle: "ALTER INDEX t_pkey RENAME TO t_pk; ALTER TABLE t DROP CONSTRAINT t_pk;", rule: nil),
        PlanCase(
            name: "drop_constraint_added_by_do", prestate: "CREATE TABLE t (id int PRIMARY KEY, x int);",
            bundle: "DO $$ BEGIN ALTER TABLE t ADD CONSTRAINT c1 CHECK (x > 0); END $$; ALTER TABLE t DROP CONSTRAINT c1;", rule: nil),
        PlanCase(
            name: "drop_key_after_drop_column", prestate: "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (pid int REFERENCES p);",
            bundle: "ALTER TABLE c DROP COLUMN pid; ALTER TABLE p DROP CONSTRAINT p_pkey;", rule: nil),
        PlanCase(
            name: "drop_key_after_partitioned_foreign_key",
            prestate: "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE cp (pid int, CONSTRAINT cp_fk FOREIGN KEY (pid) REFERENCES p) PARTITION BY RANGE (pid); CREATE TABLE cp1 PARTITION OF cp FOR VALUES FROM (0) TO (10);",
            bundle: "ALTER TABLE cp DROP CONSTRAINT cp_fk; ALTER TABLE p DROP CONSTRAINT p_pkey;", rule: nil),
        PlanCase(
            name: "drop_one_of_two_matching_keys", prestate: "CREATE TABLE p (id int); ALTER TABLE p ADD CONSTRAINT zz_uq UNIQUE (id); ALTER TABLE p ADD CONSTRAINT aa_uq UNIQUE (id); CREATE TABLE c (pid int);",
            bundle: "ALTER TABLE c ADD CONSTRAINT c_fk FOREIGN KEY (pid) REFERENCES p (id); ALTER TABLE p DROP CONSTRAINT aa_uq;", rule: nil),
        PlanCase(
            name: "identity_after_parent_set_not_null", prestate: "CREATE TABLE par (id int); CREATE TABLE ch () INHERITS (par);",
            bundle: "ALTER TABLE par ALTER COLUMN id SET NOT NULL; ALTER TABLE ch ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;", rule: nil),
        PlanCase(
            name: "identity_after_drop_sequence_cascade", prestate: "CREATE TABLE t (id serial, x int);",
            bundle: "DROP SEQUENCE t_id_seq CASCADE; ALTER TABLE t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;", rule: nil),
        PlanCase(
            name: "planned_view_whole_row_distinct_alias", prestate: "CREATE TABLE t (id int PRIMARY KEY, a int, b int, k int);",
            bundle: "CREATE VIEW v AS SELECT id, row_to_json(t.*) AS j FROM t; CREATE VIEW w AS SELECT DISTINCT ON (k) a AS k, b FROM t ORDER BY k; CREATE VIEW x AS SELECT k FROM t AS q(k, a, b, kk); ALTER TABLE t DROP COLUMN k;",
            rule: nil),
        PlanCase(
            name: "rename_constraint_missing", prestate: "CREATE TABLE t (id int PRIMARY KEY);", bundle: "ALTER TABLE t RENAME CONSTRAINT t_key TO t_k;",
            rule: "constraint-does-not-exist"),
        PlanCase(
            name: "constraint_using_index", prestate: "CREATE TABLE t (id int, a int CONSTRAINT t_a_key UNIQUE);",
            bundle: "CREATE UNIQUE INDEX t_a_idx ON t (a); ALTER TABLE t DROP CONSTRAINT t_a_key, ADD CONSTRAINT t_a_key UNIQUE USING INDEX t_a_idx; ALTER INDEX t_a_key RENAME TO t_a_uq; CREATE UNIQUE INDEX t_id_idx ON t (id); ALTER TABLE t ADD PRIMARY KEY USING INDEX t_id_idx; ALTER TABLE t DROP CONSTRAINT t_id_idx;",
            rule: nil),
        // ALTER COLUMN … ADD GENERATED AS IDENTITY on the column as the catalog has it
        PlanCase(
            name: "identity_on_nullable", prestate: "CREATE TABLE t (id int, n int);", bundle: "ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;",
            rule: "identity-column-nullable"),
        PlanCase(
            name: "identity_over_serial_default", prestate: "CREATE TABLE t (id serial PRIMARY KEY);",
            bundle: "ALTER TABLE t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY;", rule: "identity-column-has-default"),
        PlanCase(
            name: "identity_twice", prestate: "CREATE TABLE t (id int GENERATED BY DEFAULT AS IDENTITY);",
            bundle: "ALTER TABLE t ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;", rule: "identity-column-exists"),
        PlanCase(
            name: "identity_prerequisites_in_plan", prestate: "CREATE TABLE t (id int, b serial, d int);",
            bundle: "ALTER TABLE t ALTER COLUMN id SET NOT NULL, ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY; ALTER TABLE t ALTER COLUMN b DROP DEFAULT; DROP SEQUENCE t_b_seq; ALTER TABLE t ALTER COLUMN b ADD GENERATED BY DEFAULT AS IDENTITY; ALTER TABLE t ADD PRIMARY KEY (d), ALTER d ADD GENERATED ALWAYS AS IDENTITY;",
            rule: nil),
        PlanCase(
            name: "constraint_using_missing_index", prestate: "CREATE TABLE t (id int);", bundle: "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY USING INDEX t_id_idx;",
            rule: "index-does-not-exist"),
        // Renames of routines and triggers, and composite type attributes (found by comparing plans with the server)
        PlanCase(
            name: "rename_procedure", prestate: "SELECT 1;",
            bundle: "CREATE PROCEDURE pr(a int) LANGUAGE sql AS 'select 1'; ALTER PROCEDURE pr(int) RENAME TO pr2; CALL pr2(1); DROP PROCEDURE pr2;", rule: nil),
        PlanCase(name: "rename_routine", prestate: fnF, bundle: "ALTER ROUTINE f(int) RENAME TO g; DROP ROUTINE g(int); CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 2';", rule: nil),
        PlanCase(
            name: "rename_function_taken", prestate: fnF + " CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql AS 'select 2';",
            bundle: "ALTER FUNCTION f(int) RENAME TO g;", rule: "function-already-exists"),
        PlanCase(
            name: "rename_trigger", prestate: trig,
            bundle: "ALTER TRIGGER tr ON t RENAME TO tr2; DROP TRIGGER tr2 ON t; CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf();", rule: nil),
        PlanCase(name: "rename_trigger_missing", prestate: trig, bundle: "ALTER TRIGGER nope ON t RENAME TO tr3;", rule: "trigger-does-not-exist"),
        PlanCase(
            name: "composite_attributes", prestate: "CREATE TYPE pair AS (a int, b text);",
            bundle: "ALTER TYPE pair ADD ATTRIBUTE c int; ALTER TYPE pair ALTER ATTRIBUTE a TYPE bigint; CREATE TYPE pair2 AS (x int); ALTER TYPE pair2 ADD ATTRIBUTE y int;", rule: nil),
        // search_path that lists pg_catalog first: unqualified relations would go there
        PlanCase(name: "catalog_first_table", prestate: "SELECT 1;", bundle: "SET search_path = pg_catalog, public; CREATE TABLE x (a int);", rule: "system-catalog-create"),
        PlanCase(name: "catalog_first_view", prestate: "SELECT 1;", bundle: "SET LOCAL search_path = pg_catalog; CREATE VIEW v AS SELECT 1 AS one;", rule: "system-catalog-create"),
        PlanCase(
            name: "catalog_first_denied", prestate: "SELECT 1;", bundle: "SET search_path = pg_catalog, public; CREATE TABLE x (a int);", rule: "schema-create-denied",
            role: true),
        PlanCase(name: "catalog_last_table", prestate: "SELECT 1;", bundle: "SET search_path = public, pg_catalog; CREATE TABLE x (a int); SELECT a FROM public.x;", rule: nil),
        PlanCase(
            name: "catalog_first_function", prestate: "SELECT 1;",
            bundle: "SET search_path = pg_catalog, public; CREATE FUNCTION bundle_rule_f() RETURNS int LANGUAGE sql AS 'select 1'; SELECT pg_catalog.bundle_rule_f();", rule: nil),
        // ALTER DEFAULT PRIVILEGES: grantees, FOR ROLE, IN SCHEMA, in the server's order
        PlanCase(name: "adp_grantee_missing", prestate: "SELECT 1;", bundle: "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bundle_no_such_role;", rule: "role-does-not-exist"),
        PlanCase(
            name: "adp_for_role_missing", prestate: "SELECT 1;", bundle: "ALTER DEFAULT PRIVILEGES FOR ROLE bundle_no_such_role GRANT SELECT ON TABLES TO PUBLIC;",
            rule: "role-does-not-exist"),
        PlanCase(name: "adp_schema_missing", prestate: "SELECT 1;", bundle: "ALTER DEFAULT PRIVILEGES IN SCHEMA nope GRANT SELECT ON TABLES TO PUBLIC;", rule: "schema-does-not-exist"),
        PlanCase(
            name: "adp_schema_created", prestate: "SELECT 1;",
            bundle: "CREATE SCHEMA s; ALTER DEFAULT PRIVILEGES IN SCHEMA public, s GRANT SELECT ON TABLES TO PUBLIC;", rule: nil),
        PlanCase(name: "adp_on_schemas", prestate: "SELECT 1;", bundle: "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SCHEMAS TO PUBLIC;", rule: "in-schema-on-schemas"),
        PlanCase(name: "adp_on_schemas_global", prestate: "SELECT 1;", bundle: "ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO PUBLIC;", rule: nil),
        PlanCase(name: "adp_revoke_public", prestate: "SELECT 1;", bundle: "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;", rule: nil),
        PlanCase(name: "drop_fn_ambiguous", prestate: "CREATE FUNCTION ov(int) RETURNS int LANGUAGE sql AS 'select 1'; CREATE FUNCTION ov(text) RETURNS int LANGUAGE sql AS 'select 1';", bundle: "DROP FUNCTION ov;", rule: "function-name-not-unique"),
        PlanCase(name: "drop_fn_args", prestate: "CREATE FUNCTION ov(int) RETURNS int LANGUAGE sql AS 'select 1'; CREATE FUNCTION ov(text) RETURNS int LANGUAGE sql AS 'select 1';", bundle: "DROP FUNCTION ov(int);", rule: nil),
        PlanCase(name: "drop_fn_missing", prestate: "CREATE FUNCTION ov(int) RETURNS int LANGUAGE sql AS 'select 1';", bundle: "DROP FUNCTION ov(bigint);", rule: "function-does-not-exist"),
        PlanCase(
            name: "grant_fn_ambiguous_after_overload", prestate: "CREATE FUNCTION ov(int) RETURNS int LANGUAGE sql AS 'select 1';",
            bundle: "CREATE OR REPLACE FUNCTION ov(bigint) RETURNS int LANGUAGE sql AS 'select 1';\nGRANT EXECUTE ON FUNCTION ov TO PUBLIC;",
            rule: "function-name-not-unique", statement: 2),
        // Triggers
        PlanCase(name: "trigger_fn_missing", prestate: trig, bundle: "CREATE TRIGGER tr2 BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION nofunc();", rule: "trigger-function-does-not-exist"),
        PlanCase(name: "trigger_fn_not_trigger", prestate: trig, bundle: "CREATE TRIGGER tr2 BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION notrig();", rule: "trigger-function-return-type"),
        PlanCase(name: "trigger_exists", prestate: trig, bundle: "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf();", rule: "trigger-already-exists"),
        PlanCase(name: "trigger_replace", prestate: trig, bundle: "CREATE OR REPLACE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf();", rule: nil),
        PlanCase(name: "trigger_replace_constraint", prestate: trig, bundle: "CREATE OR REPLACE TRIGGER ct AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION tf();", rule: "trigger-replace-constraint"),
        // Dependents
        PlanCase(name: "drop_table_view", prestate: view, bundle: "DROP TABLE t;", rule: "drop-with-dependents"),
        PlanCase(name: "drop_table_cascade", prestate: view, bundle: "DROP TABLE t CASCADE;", rule: nil),
        PlanCase(
            name: "drop_cascade_rebuild",
            prestate: "CREATE TABLE t (id int PRIMARY KEY, a text); CREATE VIEW v AS SELECT id, a FROM t; CREATE VIEW w AS SELECT id FROM v; CREATE FUNCTION f(i int) RETURNS int LANGUAGE sql AS $$ SELECT i $$; CREATE VIEW fv AS SELECT f(1) AS x; CREATE VIEW fw AS SELECT x FROM fv; CREATE TABLE o (t_id int REFERENCES t);",
            bundle: "DROP TABLE t CASCADE; CREATE VIEW w AS SELECT 1 AS x; DROP FUNCTION f(int) CASCADE; CREATE VIEW fw AS SELECT 2 AS y; CREATE TABLE t (id int PRIMARY KEY, a text, b int); CREATE VIEW v AS SELECT id, a, b FROM t; ALTER TABLE o ADD CONSTRAINT o_t_id_fkey FOREIGN KEY (t_id) REFERENCES t;",
            rule: nil),
        // Views the plan creates depend on what they read
        PlanCase(
            name: "planned_view_drop_table", prestate: "CREATE TABLE t (id int, a text, b int);", bundle: "CREATE VIEW v AS SELECT id, a FROM t; DROP TABLE t;",
            rule: "drop-with-dependents"),
        PlanCase(
            name: "planned_view_drop_column", prestate: "SELECT 1;",
            bundle: "CREATE TABLE t (id int, a text, b int); CREATE VIEW v AS SELECT id, a FROM t; ALTER TABLE t DROP COLUMN b; ALTER TABLE t DROP COLUMN a;",
            rule: "drop-with-dependents"),
        PlanCase(
            name: "planned_view_alter_type", prestate: "CREATE TABLE t (id int, a text, b int);",
            bundle: "CREATE VIEW v AS SELECT id, upper(a) AS a FROM t; ALTER TABLE t ALTER COLUMN b TYPE bigint; ALTER TABLE t ALTER COLUMN a TYPE varchar(10);",
            rule: "alter-column-type-used-by-view"),
        PlanCase(
            name: "planned_view_near_miss", prestate: "CREATE TABLE t (id int, a text, b int); CREATE VIEW lv AS SELECT id FROM t;",
            bundle: "CREATE OR REPLACE VIEW lv AS SELECT 1 AS id; CREATE VIEW v AS SELECT x.id AS b FROM t x ORDER BY b; ALTER TABLE t ALTER COLUMN b TYPE bigint; ALTER TABLE t RENAME COLUMN id TO ident; CREATE MATERIALIZED VIEW mv AS SELECT * FROM v; DROP VIEW v CASCADE; ALTER TABLE t ALTER COLUMN ident TYPE bigint; CREATE VIEW v2 AS SELECT * FROM t; ALTER TABLE t RENAME TO t2; ALTER TABLE t2 DROP COLUMN a CASCADE; DROP TABLE t2;",
            rule: nil),
        PlanCase(name: "alter_type_view", prestate: view, bundle: "ALTER TABLE t ALTER COLUMN a TYPE bigint;", rule: "alter-column-type-used-by-view"),
        PlanCase(name: "alter_type_free", prestate: "CREATE TABLE t (a int, b text); CREATE VIEW v AS SELECT b FROM t;", bundle: "ALTER TABLE t ALTER COLUMN a TYPE bigint;", rule: nil),
        PlanCase(name: "drop_constraint_index", prestate: "CREATE TABLE t (a int PRIMARY KEY);", bundle: "DROP INDEX t_pkey;", rule: "drop-index-owned-by-constraint"),
        PlanCase(name: "drop_column_view", prestate: view, bundle: "ALTER TABLE t DROP COLUMN b;", rule: "drop-with-dependents"),
        // Constraints and indexes
        PlanCase(name: "fk_no_unique", prestate: "CREATE TABLE p (id int, x int);", bundle: "CREATE TABLE c (pid int REFERENCES p (id));", rule: "foreign-key-no-unique-key"),
        PlanCase(name: "fk_unique", prestate: "CREATE TABLE p (id int PRIMARY KEY, x int);", bundle: "CREATE TABLE c (pid int REFERENCES p (id));", rule: nil),
        PlanCase(name: "fk_no_pk", prestate: "CREATE TABLE p (id int, x int);", bundle: "CREATE TABLE c (pid int REFERENCES p);", rule: "foreign-key-no-primary-key"),
        // Foreign keys to tables the plan creates: a self-reference was refused as 42P01
        PlanCase(
            name: "fk_self_reference", prestate: "SELECT 1;",
            bundle: "CREATE TABLE tree (id int PRIMARY KEY, parent int REFERENCES tree (id), c text UNIQUE, d text REFERENCES tree (c)); CREATE TABLE pair (a int, b int, PRIMARY KEY (a, b), pa int, pb int, FOREIGN KEY (pb, pa) REFERENCES pair (b, a));",
            rule: nil),
        PlanCase(
            name: "fk_new_table_keys", prestate: "SELECT 1;",
            bundle: "CREATE TABLE orders (id int, code text); ALTER TABLE orders ADD PRIMARY KEY (id); CREATE UNIQUE INDEX ON orders (code); CREATE TABLE copy (LIKE orders INCLUDING ALL); CREATE TABLE items (o int REFERENCES orders, oc text REFERENCES orders (code), c int REFERENCES copy);",
            rule: nil),
        PlanCase(
            name: "fk_new_table_not_unique", prestate: "SELECT 1;",
            bundle: "CREATE TABLE orders (id int PRIMARY KEY, code text); CREATE TABLE items (o int REFERENCES orders, oc text REFERENCES orders (code));",
            rule: "foreign-key-no-unique-key"),
        // Partitions: bounds checked by the server in a rolled-back transaction
        // Sequences: OWNED BY, ALTER SEQUENCE; owners; CREATE SCHEMA AUTHORIZATION
        PlanCase(
            name: "sequence_owned_by", prestate: "CREATE SEQUENCE s; CREATE TABLE t (id int, b serial);",
            bundle: "ALTER SEQUENCE s RESTART WITH 5; ALTER SEQUENCE s OWNED BY t.id; ALTER SEQUENCE t_b_seq OWNED BY NONE; ALTER SEQUENCE IF EXISTS nope OWNED BY NONE; ALTER TABLE t DROP COLUMN b; DROP SEQUENCE t_b_seq; ALTER TABLE t DROP COLUMN id; ALTER SEQUENCE s RESTART;",
            rule: "relation-does-not-exist"),
        PlanCase(
            name: "sequence_owned_by_missing_column", prestate: "CREATE TABLE t (id int);", bundle: "CREATE SEQUENCE t_seq OWNED BY t.ident;",
            rule: "column-does-not-exist"),
        PlanCase(
            name: "sequence_owner_mismatch",
            prestate: "CREATE ROLE {role}_o; GRANT {role}_o TO {role}; GRANT CREATE ON SCHEMA public TO {role}, {role}_o; CREATE TABLE t (id int); ALTER TABLE t OWNER TO {role};",
            bundle: "ALTER TABLE t OWNER TO {role}_o; CREATE SEQUENCE t_seq OWNED BY t.id;", rule: "sequence-owner-mismatch", role: true),
        PlanCase(
            name: "schema_authorization", prestate: "SELECT 1;",
            bundle: "CREATE SCHEMA AUTHORIZATION CURRENT_USER; CREATE TABLE postgres.t (id int); CREATE SCHEMA AUTHORIZATION nosuch_role_h;",
            rule: "role-does-not-exist"),
        PlanCase(
            name: "partition_detach_reattach_and_more",
            prestate: "CREATE TABLE events (id bigint, at date NOT NULL, payload jsonb) PARTITION BY RANGE (at); CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01'); CREATE TABLE cfg (k text PRIMARY KEY, v text);",
            bundle: "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01'); CREATE INDEX events_at_idx ON events (at); ALTER TABLE events ADD PRIMARY KEY (id, at); CREATE TABLE events_old (LIKE events INCLUDING ALL); ALTER TABLE events DETACH PARTITION events_2026; ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01'); CREATE TABLE events_default PARTITION OF events DEFAULT; INSERT INTO cfg VALUES ('a', '1') ON CONFLICT (k) DO UPDATE SET v = excluded.v; CREATE DOMAIN posint AS int CHECK (VALUE > 0); ALTER DOMAIN posint ADD CONSTRAINT posint_small CHECK (VALUE < 1000000); CREATE TABLE counts (n posint); CREATE FUNCTION cfg_get(key text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT v FROM cfg WHERE k = key $$; COMMENT ON FUNCTION cfg_get(text) IS 'get'; GRANT EXECUTE ON FUNCTION cfg_get(text) TO PUBLIC; REVOKE ALL ON FUNCTION cfg_get(text) FROM PUBLIC; CREATE MATERIALIZED VIEW cfg_mv AS SELECT k, v FROM cfg; CREATE UNIQUE INDEX ON cfg_mv (k); REFRESH MATERIALIZED VIEW cfg_mv; CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; CREATE OR REPLACE TRIGGER cfg_t BEFORE INSERT ON cfg FOR EACH ROW EXECUTE FUNCTION trg(); CREATE OR REPLACE TRIGGER cfg_t BEFORE UPDATE ON cfg FOR EACH ROW EXECUTE FUNCTION trg(); DROP TRIGGER IF EXISTS nope ON cfg; ALTER TABLE cfg RENAME TO config; CREATE VIEW cfg AS SELECT * FROM config;",
            rule: nil),
        PlanCase(
            name: "partition_overlap", prestate: "CREATE TABLE m (id int, at int) PARTITION BY RANGE (at); CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10);",
            bundle: "CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (5) TO (20);", rule: "partition-bound-conflict"),
        PlanCase(
            name: "partition_adjacent", prestate: "CREATE TABLE m (id int, at int) PARTITION BY RANGE (at); CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10);",
            bundle: "CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (10) TO (20);", rule: nil),
        PlanCase(
            name: "partition_second_default", prestate: "CREATE TABLE l (id int, k text) PARTITION BY LIST (k); CREATE TABLE ld PARTITION OF l DEFAULT;",
            bundle: "CREATE TABLE ld2 PARTITION OF l DEFAULT;", rule: "partition-bound-conflict"),
        PlanCase(
            name: "partition_default_rows", prestate: "CREATE TABLE l (id int, k text) PARTITION BY LIST (k); CREATE TABLE ld PARTITION OF l DEFAULT; INSERT INTO l VALUES (1, 'a');",
            bundle: "CREATE TABLE la PARTITION OF l FOR VALUES IN ('a');", rule: "partition-bound-conflict"),
        PlanCase(
            name: "partition_list_new_value", prestate: "CREATE TABLE l (id int, k text) PARTITION BY LIST (k); CREATE TABLE ld PARTITION OF l DEFAULT; INSERT INTO l VALUES (1, 'a');",
            bundle: "CREATE TABLE lb PARTITION OF l FOR VALUES IN ('b');", rule: nil),
        PlanCase(
            name: "attach_overlap",
            prestate: "CREATE TABLE m (id int, at int) PARTITION BY RANGE (at); CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10); CREATE TABLE m9 (id int, at int);",
            bundle: "ALTER TABLE m ATTACH PARTITION m9 FOR VALUES FROM (9) TO (12);", rule: "partition-bound-conflict"),
        PlanCase(
            name: "attach_free",
            prestate: "CREATE TABLE m (id int, at int) PARTITION BY RANGE (at); CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10); CREATE TABLE m9 (id int, at int);",
            bundle: "ALTER TABLE m ATTACH PARTITION m9 FOR VALUES FROM (10) TO (12);", rule: nil),
        // Transaction hazards
        PlanCase(name: "concurrent_index", prestate: "CREATE TABLE t (a int);", bundle: "CREATE INDEX CONCURRENTLY t_a ON t (a);", rule: "not-in-transaction-block"),
        PlanCase(name: "plain_index", prestate: "CREATE TABLE t (a int);", bundle: "CREATE INDEX t_a ON t (a);", rule: nil),
        PlanCase(name: "vacuum", prestate: "CREATE TABLE t (a int);", bundle: "VACUUM t;", rule: "not-in-transaction-block"),
        PlanCase(name: "embedded_commit", prestate: "CREATE TABLE t (a int);", bundle: "INSERT INTO t VALUES (1);\nCOMMIT;", rule: "transaction-control", statement: 2),
        PlanCase(
            name: "enum_new_value", prestate: "CREATE TYPE mood AS ENUM ('ok');",
            bundle: "ALTER TYPE mood ADD VALUE 'meh';\nCREATE TABLE tm (m mood DEFAULT 'meh');", rule: "enum-unsafe-new-value", statement: 2),
        PlanCase(
            name: "enum_old_value", prestate: "CREATE TYPE mood AS ENUM ('ok');",
            bundle: "ALTER TYPE mood ADD VALUE 'meh';\nCREATE TABLE tm (m mood DEFAULT 'ok');", rule: nil),
        // Data-dependent
        PlanCase(name: "not_null_nulls", prestate: "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (NULL);", bundle: "ALTER TABLE t ALTER COLUMN a SET NOT NULL;", rule: "set-not-null-violated-by-rows"),
        PlanCase(name: "not_null_clean", prestate: "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2);", bundle: "ALTER TABLE t ALTER COLUMN a SET NOT NULL;", rule: nil),
        PlanCase(name: "add_not_null_rows", prestate: "CREATE TABLE t (a int); INSERT INTO t VALUES (1);", bundle: "ALTER TABLE t ADD COLUMN b int NOT NULL;", rule: "add-column-not-null-without-default"),
        PlanCase(name: "add_not_null_default", prestate: "CREATE TABLE t (a int); INSERT INTO t VALUES (1);", bundle: "ALTER TABLE t ADD COLUMN b int NOT NULL DEFAULT 0;", rule: nil),
        PlanCase(name: "unique_dupes", prestate: "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (1);", bundle: "CREATE UNIQUE INDEX t_a_uniq ON t (a);", rule: "unique-violated-by-rows"),
        PlanCase(name: "unique_clean", prestate: "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (2);", bundle: "CREATE UNIQUE INDEX t_a_uniq ON t (a);", rule: nil),
        PlanCase(name: "pk_dupes", prestate: "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (1);", bundle: "ALTER TABLE t ADD PRIMARY KEY (a);", rule: "unique-violated-by-rows"),
        PlanCase(name: "check_rows", prestate: rowsT, bundle: "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", rule: "check-constraint-violated-by-rows"),
        PlanCase(name: "check_rows_auto_name", prestate: rowsT, bundle: "ALTER TABLE t ADD CHECK (a > 0);", rule: "check-constraint-violated-by-rows"),
        PlanCase(name: "check_rows_two_columns", prestate: rowsT, bundle: "ALTER TABLE t ADD CHECK (a > b);", rule: "check-constraint-violated-by-rows"),
        PlanCase(
            name: "check_rows_name_taken", prestate: "CREATE TABLE t (a int CONSTRAINT t_a_check CHECK (a > -5)); INSERT INTO t VALUES (1), (-1);",
            bundle: "ALTER TABLE t ADD CHECK (a > 0);", rule: "check-constraint-violated-by-rows"),
        PlanCase(name: "check_rows_clean", prestate: "CREATE TABLE t (a int); INSERT INTO t VALUES (1), (NULL);", bundle: "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", rule: nil),
        PlanCase(name: "check_not_valid", prestate: rowsT, bundle: "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;", rule: nil),
        PlanCase(
            name: "check_validate", prestate: rowsT + " ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;", bundle: "ALTER TABLE t VALIDATE CONSTRAINT c;",
            rule: "check-constraint-violated-by-rows"),
        PlanCase(
            name: "check_validate_after_fix", prestate: rowsT + " ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;",
            bundle: "UPDATE t SET a = 1 WHERE a <= 0;\nALTER TABLE t VALIDATE CONSTRAINT c;", rule: nil),
        PlanCase(name: "check_after_fix", prestate: rowsT, bundle: "DELETE FROM t WHERE a <= 0;\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", rule: nil),
        PlanCase(
            name: "constraint_exists", prestate: "CREATE TABLE t (a int CONSTRAINT c CHECK (a > 0));", bundle: "ALTER TABLE t ADD CONSTRAINT c CHECK (a < 10);",
            rule: "constraint-already-exists"),
        PlanCase(name: "fk_rows", prestate: fkRows + "INSERT INTO c VALUES (1), (5);", bundle: "ALTER TABLE c ADD FOREIGN KEY (pid) REFERENCES p;", rule: "foreign-key-violated-by-rows"),
        PlanCase(
            name: "fk_rows_named", prestate: fkRows + "INSERT INTO c VALUES (5);", bundle: "ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (pid) REFERENCES p (id);",
            rule: "foreign-key-violated-by-rows"),
        PlanCase(name: "fk_rows_clean", prestate: fkRows + "INSERT INTO c VALUES (1), (NULL);", bundle: "ALTER TABLE c ADD FOREIGN KEY (pid) REFERENCES p;", rule: nil),
        PlanCase(name: "fk_not_valid", prestate: fkRows + "INSERT INTO c VALUES (5);", bundle: "ALTER TABLE c ADD FOREIGN KEY (pid) REFERENCES p NOT VALID;", rule: nil),
        PlanCase(name: "alter_type_no_cast", prestate: "CREATE TABLE t (a text); INSERT INTO t VALUES ('1');", bundle: "ALTER TABLE t ALTER COLUMN a TYPE integer;", rule: "alter-column-type-no-cast"),
        PlanCase(name: "alter_type_bad_rows", prestate: textRows, bundle: "ALTER TABLE t ALTER COLUMN a TYPE integer USING a::integer;", rule: "alter-column-type-conversion-failure"),
        PlanCase(
            name: "alter_type_too_long", prestate: "CREATE TABLE t (a varchar(10)); INSERT INTO t VALUES ('ab'), ('abcdef');", bundle: "ALTER TABLE t ALTER COLUMN a TYPE varchar(3);",
            rule: "alter-column-type-conversion-failure"),
        PlanCase(name: "alter_type_good_rows", prestate: "CREATE TABLE t (a text); INSERT INTO t VALUES ('1'), ('2');", bundle: "ALTER TABLE t ALTER COLUMN a TYPE integer USING a::integer;", rule: nil),
        PlanCase(
            name: "alter_type_bad_rows_big",
            prestate: "CREATE TABLE t (a text); INSERT INTO t SELECT 'row number ' || g FROM generate_series(1, 250000) g; INSERT INTO t VALUES ('x');",
            bundle: "ALTER TABLE t ALTER COLUMN a TYPE integer USING a::integer;", rule: "alter-column-type-conversion-failure", severity: .warning),
        // Privileges (run as a non-superuser role)
        PlanCase(
            name: "routine_not_owner", prestate: fnF + " GRANT CREATE ON SCHEMA public TO {role};",
            bundle: "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 2';", rule: "routine-not-owner", role: true),
        PlanCase(
            name: "routine_owner", prestate: fnF + " GRANT CREATE ON SCHEMA public TO {role}; ALTER FUNCTION f(int) OWNER TO {role};",
            bundle: "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 2';", rule: nil, role: true),
        PlanCase(name: "schema_create_denied", prestate: "CREATE SCHEMA s; GRANT USAGE ON SCHEMA s TO {role};", bundle: "CREATE TABLE s.x (a int);", rule: "schema-create-denied", role: true),
        PlanCase(name: "public_create_denied", prestate: "SELECT 1;", bundle: "CREATE TABLE x (a int);", rule: "schema-create-denied", role: true),
        PlanCase(name: "schema_create_granted", prestate: "CREATE SCHEMA s; GRANT USAGE, CREATE ON SCHEMA s TO {role};", bundle: "CREATE TABLE s.x (a int);", rule: nil, role: true),
        // Indexes
        PlanCase(name: "index_no_opclass", prestate: "CREATE TABLE t (j json);", bundle: "CREATE INDEX ON t USING btree (j);", rule: "no-default-operator-class"),
        PlanCase(name: "index_no_opclass_hash", prestate: "CREATE TABLE t (p point);", bundle: "CREATE INDEX t_p ON t USING hash (p);", rule: "no-default-operator-class"),
        PlanCase(name: "unique_no_opclass", prestate: "CREATE TABLE t (a int, j json);", bundle: "ALTER TABLE t ADD UNIQUE (a, j);", rule: "no-default-operator-class"),
        PlanCase(name: "index_jsonb", prestate: "CREATE TABLE t (j jsonb);", bundle: "CREATE INDEX ON t USING btree (j);", rule: nil),
        PlanCase(
            name: "index_coercible", prestate: "CREATE DOMAIN posint AS int CHECK (VALUE > 0); CREATE TABLE t (v varchar(10), d posint, p point);",
            bundle: "CREATE INDEX ON t (v);\nCREATE INDEX ON t (d);\nCREATE INDEX ON t USING gist (p);", rule: nil),
        PlanCase(name: "index_missing_column", prestate: "CREATE TABLE t (a int);", bundle: "CREATE INDEX ON t (nocol);", rule: "column-does-not-exist"),
        // Calls after a new overload
        PlanCase(
            name: "call_not_unique", prestate: "CREATE FUNCTION f(a bigint) RETURNS int LANGUAGE sql AS 'select 1';",
            bundle: "CREATE OR REPLACE FUNCTION f(a numeric) RETURNS int LANGUAGE sql AS 'select 2';\nSELECT f(1);", rule: "function-call-not-unique", statement: 2),
        PlanCase(
            name: "call_not_unique_two_args", prestate: "CREATE FUNCTION f(a bigint, b int) RETURNS int LANGUAGE sql AS 'select 1';",
            bundle: "CREATE OR REPLACE FUNCTION f(a int, b bigint) RETURNS int LANGUAGE sql AS 'select 2';\nSELECT f(1, 2);", rule: "function-call-not-unique", statement: 2),
        PlanCase(
            name: "call_preferred", prestate: "CREATE FUNCTION f(a bigint) RETURNS int LANGUAGE sql AS 'select 1';",
            bundle: "CREATE OR REPLACE FUNCTION f(a double precision) RETURNS int LANGUAGE sql AS 'select 2';\nSELECT f(1);", rule: nil),
        PlanCase(
            name: "call_exact", prestate: "CREATE FUNCTION f(a bigint) RETURNS int LANGUAGE sql AS 'select 1';",
            bundle: "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'select 2';\nSELECT f(1);", rule: nil),
        PlanCase(name: "call_builtins", prestate: "SELECT 1;", bundle: "SELECT round(1), sqrt(2), power(2, 3), trunc(1), log(100);", rule: nil),
        // DROP SCHEMA
        PlanCase(name: "drop_schema_not_empty", prestate: "CREATE SCHEMA s; CREATE TABLE s.t (a int);", bundle: "DROP SCHEMA s;", rule: "drop-schema-not-empty"),
        PlanCase(name: "drop_schema_planned_object", prestate: "CREATE SCHEMA s;", bundle: "CREATE TABLE s.t (a int);\nDROP SCHEMA s;", rule: "drop-schema-not-empty", statement: 2),
        PlanCase(name: "drop_schema_emptied", prestate: "CREATE SCHEMA s; CREATE TABLE s.t (a int);", bundle: "DROP TABLE s.t;\nDROP SCHEMA s;", rule: nil),
        PlanCase(
            name: "drop_schema_cascade_rebuild",
            prestate: "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, a text); CREATE VIEW app.v AS SELECT * FROM app.t; CREATE VIEW public.pv AS SELECT id FROM app.v; CREATE FUNCTION app.f(i int) RETURNS int LANGUAGE sql AS $$ SELECT i $$; CREATE TYPE app.mood AS ENUM ('a');",
            bundle: "DROP SCHEMA app CASCADE; CREATE SCHEMA app; CREATE TYPE app.mood AS ENUM ('a', 'b'); CREATE TABLE app.t (id int PRIMARY KEY, a text, m app.mood); CREATE VIEW app.v AS SELECT * FROM app.t; CREATE VIEW public.pv AS SELECT id FROM app.v; CREATE FUNCTION app.f(i int) RETURNS int LANGUAGE sql AS $$ SELECT i + 1 $$; ALTER TYPE app.mood RENAME VALUE 'b' TO 'c';",
            rule: nil),
        PlanCase(name: "drop_schema_cascade", prestate: "CREATE SCHEMA s; CREATE TABLE s.t (a int);", bundle: "DROP SCHEMA s CASCADE;", rule: nil),
        // Deferred trigger events
        PlanCase(name: "pending_alter", prestate: deferredFK, bundle: "INSERT INTO c VALUES (NULL);\nALTER TABLE c ADD COLUMN x int;", rule: "pending-trigger-events", statement: 2),
        PlanCase(
            name: "pending_constraint_trigger", prestate: "SELECT 1;",
            bundle: "CREATE TABLE acct (id int PRIMARY KEY, bal numeric); CREATE FUNCTION chk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; CREATE CONSTRAINT TRIGGER acct_chk AFTER INSERT OR UPDATE ON acct DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION chk(); INSERT INTO acct VALUES (1, 10); ALTER TABLE acct ADD COLUMN z int;",
            rule: "pending-trigger-events"),
        PlanCase(name: "pending_drop", prestate: deferredFK, bundle: "INSERT INTO c VALUES (NULL);\nDROP TABLE c;", rule: "pending-trigger-events", statement: 2),
        PlanCase(
            name: "pending_delete_referenced", prestate: deferredFK + " INSERT INTO p VALUES (1);", bundle: "DELETE FROM p;\nALTER TABLE p ADD COLUMN x int;",
            rule: "pending-trigger-events", statement: 2),
        PlanCase(
            name: "pending_planned_fk", prestate: "SELECT 1;",
            bundle: """
                CREATE TABLE p (id int PRIMARY KEY);
                CREATE TABLE c (pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);
                INSERT INTO c VALUES (NULL);
                ALTER TABLE c ADD COLUMN x int;
                """, rule: "pending-trigger-events", statement: 4),
        PlanCase(name: "pending_set_immediate", prestate: deferredFK, bundle: "INSERT INTO c VALUES (NULL);\nSET CONSTRAINTS ALL IMMEDIATE;\nALTER TABLE c ADD COLUMN x int;", rule: nil),
        PlanCase(name: "pending_immediate_fk", prestate: fkRows + "ALTER TABLE c ADD FOREIGN KEY (pid) REFERENCES p;", bundle: "INSERT INTO c VALUES (NULL);\nALTER TABLE c ADD COLUMN x int;", rule: nil),
        // Generated columns
        PlanCase(name: "drop_column_generated", prestate: generated, bundle: "ALTER TABLE t DROP COLUMN b;", rule: "drop-with-dependents"),
        PlanCase(name: "drop_table_generated", prestate: generated, bundle: "DROP TABLE t;", rule: nil),
        PlanCase(name: "alter_type_generated", prestate: generated, bundle: "ALTER TABLE t ALTER COLUMN b TYPE bigint;", rule: "alter-column-type-used-by-generated-column"),
        PlanCase(name: "add_generated_on_generated", prestate: generated, bundle: "ALTER TABLE t ADD COLUMN h int GENERATED ALWAYS AS (g * 2) STORED;", rule: "generated-column-uses-generated-column"),
        PlanCase(name: "add_generated_missing", prestate: generated, bundle: "ALTER TABLE t ADD COLUMN h int GENERATED ALWAYS AS (x * 2) STORED;", rule: "column-does-not-exist"),
        PlanCase(name: "add_generated", prestate: generated, bundle: "ALTER TABLE t ADD COLUMN h int GENERATED ALWAYS AS (b * 3) STORED;", rule: nil),
        // Temporary objects live in the session's own schema, searched first for relations and types.
        PlanCase(
            name: "temp_shadows_table", prestate: "CREATE TABLE t (a int); INSERT INTO t VALUES (1);",
            bundle: "CREATE TEMP TABLE t (a int, note text); INSERT INTO t (a, note) VALUES (2, 'x'); ALTER TABLE t ADD COLUMN more int; DROP TABLE t; INSERT INTO t (a) VALUES (3);",
            rule: nil),
        PlanCase(
            name: "pg_temp_qualified", prestate: "CREATE TABLE scratch (a int);",
            bundle: "CREATE TABLE pg_temp.scratch (b int); INSERT INTO scratch (b) VALUES (1); CREATE TEMPORARY TABLE other (c int); DROP TABLE pg_temp.other;",
            rule: nil),
        PlanCase(name: "temp_in_permanent_schema", prestate: "", bundle: "CREATE TEMP TABLE public.x (a int);", rule: "temporary-in-permanent-schema"),
        PlanCase(name: "temp_name_taken", prestate: "", bundle: "CREATE TEMP TABLE s (a int); CREATE TEMPORARY TABLE s (a int);", rule: "relation-already-exists"),
        // CREATE TABLE … AS / CREATE MATERIALIZED VIEW create relations later statements use.
        PlanCase(
            name: "ctas_then_drop", prestate: "CREATE TABLE src (a int, b text);",
            bundle: "CREATE TABLE copy AS SELECT a, b FROM src; CREATE MATERIALIZED VIEW mv (x) AS SELECT a FROM src; ALTER TABLE copy RENAME COLUMN b TO c; DROP MATERIALIZED VIEW mv; DROP TABLE copy;",
            rule: nil),
        PlanCase(name: "ctas_name_taken", prestate: "CREATE TABLE copy (a int);", bundle: "CREATE TABLE copy AS SELECT 1 AS a;", rule: "relation-already-exists"),
        PlanCase(
            name: "ctas_column_missing", prestate: "CREATE TABLE src (a int);",
            bundle: "CREATE TABLE copy (x) AS SELECT a FROM src; ALTER TABLE copy RENAME COLUMN a TO y;", rule: "column-does-not-exist"),
        PlanCase(
            name: "view_over_temp_is_temporary", prestate: "",
            bundle: "CREATE TEMP TABLE tt (a int); CREATE VIEW tv AS SELECT a FROM tt; CREATE VIEW public.pv AS SELECT a FROM tt;", rule: "temporary-in-permanent-schema"),
        PlanCase(
            name: "set_search_path", prestate: "CREATE SCHEMA app;",
            bundle: "SET search_path = app, public; CREATE TABLE h1 (a int); INSERT INTO app.h1 VALUES (1); SET search_path TO DEFAULT; CREATE TABLE h1 (a int); INSERT INTO public.h1 VALUES (1);",
            rule: nil),
        PlanCase(name: "set_search_path_missing", prestate: "", bundle: "SET search_path = nowhere; CREATE TABLE h2 (a int);", rule: "no-creation-schema"),
        // `pg_temp` names the session's temporary schema only once it has one (its first temporary object).
        PlanCase(name: "pg_temp_before_any_temp", prestate: "", bundle: "ALTER TABLE pg_temp.nosuch ADD COLUMN a int;", rule: "schema-does-not-exist"),
        PlanCase(
            name: "pg_temp_relation_missing", prestate: "", bundle: "CREATE TEMP TABLE t0 (a int); ALTER TABLE pg_temp.nosuch ADD COLUMN a int;",
            rule: "relation-does-not-exist"),
        // Names that differ only in Unicode normalization are different names to PostgreSQL.
        PlanCase(name: "schema_other_normalization", prestate: "CREATE SCHEMA \"\u{E9}\";", bundle: "CREATE TABLE \"e\u{301}\".t (a int);", rule: "schema-does-not-exist"),
        PlanCase(name: "schema_same_normalization", prestate: "CREATE SCHEMA \"\u{E9}\";", bundle: "CREATE TABLE \"\u{E9}\".t (a int);", rule: nil),
        // SET search_path, as the server reads it.
        PlanCase(
            name: "set_search_path_later_schema", prestate: "",
            bundle: "SET search_path = s2, public; CREATE SCHEMA s2; CREATE TABLE tj (a int); INSERT INTO s2.tj VALUES (1); RESET ALL; CREATE TABLE tj (a int); INSERT INTO public.tj VALUES (1);",
            rule: nil),
        PlanCase(name: "set_search_path_string_is_one_schema", prestate: "CREATE SCHEMA app;", bundle: "SET search_path = 'app, public'; CREATE TABLE ta (a int);", rule: "no-creation-schema"),
        PlanCase(
            name: "cte_named_like_temp", prestate: "",
            bundle: "CREATE TEMP TABLE tt (id int); CREATE VIEW public.v AS WITH tt AS (SELECT 1 AS id) SELECT * FROM tt; SELECT * FROM public.v;", rule: nil),
        PlanCase(name: "select_into_union", prestate: "", bundle: "SELECT 1 AS a INTO sx UNION SELECT 2; CREATE INDEX sx_a ON sx (a);", rule: nil),
        // Moves and renames keep the object (and a table's indexes and triggers) under the new name.
        PlanCase(
            name: "set_schema_then_use", prestate: "CREATE SCHEMA us; CREATE TABLE ut (a int); CREATE INDEX ut_a ON ut (a); CREATE TYPE uty AS ENUM ('x');",
            bundle: "ALTER TABLE ut SET SCHEMA us; CREATE INDEX ut_a2 ON us.ut (a); DROP INDEX us.ut_a; ALTER TYPE uty RENAME TO uty2; DROP TYPE uty2;",
            rule: nil),
        PlanCase(name: "set_schema_taken", prestate: "CREATE SCHEMA us; CREATE TABLE ut (a int); CREATE TABLE us.ut (b int);", bundle: "ALTER TABLE ut SET SCHEMA us;", rule: "relation-already-exists"),
        PlanCase(name: "type_rename_taken", prestate: "CREATE TYPE uty AS ENUM ('x'); CREATE TYPE uty2 AS ENUM ('y');", bundle: "ALTER TYPE uty RENAME TO uty2;", rule: "type-already-exists"),
        PlanCase(name: "on_commit_not_temporary", prestate: "", bundle: "CREATE TABLE oc (a int) ON COMMIT DROP;", rule: "on-commit-not-temporary"),
        PlanCase(
            name: "matview_over_temp", prestate: "", bundle: "CREATE TEMP TABLE tt (a int); CREATE MATERIALIZED VIEW mv AS SELECT a FROM tt;",
            rule: "materialized-view-uses-temporary"),
        PlanCase(
            name: "cte_body_reads_temp", prestate: "",
            bundle: "CREATE TEMP TABLE stage (a int); CREATE VIEW v AS WITH stage AS (SELECT a FROM stage WHERE a > 0) SELECT a FROM stage; CREATE VIEW public.pv AS WITH stage AS (SELECT a FROM stage WHERE a > 0) SELECT a FROM stage;",
            rule: "temporary-in-permanent-schema"),
        PlanCase(name: "set_schema_same_schema", prestate: "CREATE TABLE t (a int);", bundle: "ALTER TABLE public.t SET SCHEMA public; INSERT INTO public.t VALUES (1);", rule: nil),
        PlanCase(name: "domain_rename", prestate: "", bundle: "CREATE DOMAIN d AS int; ALTER DOMAIN d RENAME TO d2; DROP DOMAIN d2;", rule: nil),
        PlanCase(
            name: "set_schema_index_taken", prestate: "",
            bundle: "CREATE SCHEMA s; CREATE TABLE t (a int); CREATE INDEX i ON t (a); CREATE TABLE s.i (x int); ALTER TABLE t SET SCHEMA s;",
            rule: "relation-already-exists"),
        PlanCase(name: "set_schema_temporary", prestate: "CREATE SCHEMA s;", bundle: "CREATE TEMP TABLE tt (a int); ALTER TABLE tt SET SCHEMA s;", rule: "move-temporary"),
        PlanCase(name: "rename_row_type", prestate: "CREATE TABLE t (a int);", bundle: "ALTER TYPE t RENAME TO t2;", rule: "rename-row-type"),
        PlanCase(name: "temp_gone_after_drop", prestate: "", bundle: "CREATE TEMP TABLE s (a int); DROP TABLE s; INSERT INTO s VALUES (1);", rule: "relation-does-not-exist"),
    ]

    static let rowsT = "CREATE TABLE t (a int, b int); INSERT INTO t VALUES (1, 0), (-1, 0);"
    static let textRows = "CREATE TABLE t (a text); INSERT INTO t VALUES ('1'), ('x'), ('y');"
    static let fkRows = "CREATE TABLE p (id int PRIMARY KEY); INSERT INTO p VALUES (1); CREATE TABLE c (pid int); "
    static let deferredFK = "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);"
    static let generated = "CREATE TABLE t (b int, g int GENERATED ALWAYS AS (b * 2) STORED); INSERT INTO t (b) VALUES (1);"

    /// Cases whose rehearsal (`PlanOptions(rehearse: true)`) must match the prediction: failing cases and near misses.
    static let rehearsed = cases.filter {
        [
            "check_rows", "check_rows_clean", "fk_rows", "fk_rows_clean", "alter_type_no_cast", "alter_type_bad_rows", "alter_type_good_rows",
            "routine_not_owner", "routine_owner", "schema_create_denied", "schema_create_granted", "index_no_opclass", "index_jsonb",
            "call_not_unique", "call_preferred", "drop_schema_not_empty", "drop_schema_emptied", "pending_alter", "pending_set_immediate",
            "drop_column_generated", "add_generated", "remove_default", "keep_default", "temp_shadows_table", "temp_in_permanent_schema",
        ].contains($0.name)
    }

    @Test(arguments: cases)
    func rule(_ planCase: PlanCase) throws {
        try PlanHarness.check(planCase)
    }

    /// A temporary table created ON COMMIT DROP is gone for the next bundle (apply runs each in its own
    /// transaction), while one without it stays for the session.
    @Test func onCommitDropEndsWithTheBundle() throws {
        let conninfo = try TestCluster.makeDatabase(prefix: "plan_oncommit").conninfo
        let (report, project) = try PlanHarness.plan(conninfo: conninfo, bundles: [
            ("1", "CREATE TEMP TABLE gone (a int) ON COMMIT DROP; INSERT INTO gone VALUES (1); CREATE TEMP TABLE kept (a int);"),
            ("2", "INSERT INTO kept VALUES (2); INSERT INTO gone VALUES (2);"),
        ])
        defer { project.remove() }
        #expect(report.bundles[0].firstError == nil, "\(report.bundles[0].findings)")
        let error = try #require(report.bundles[1].firstError)
        #expect(error.rule == "relation-does-not-exist" && error.statement == 2, "\(error)")

        // Dropped and created again without ON COMMIT DROP: the new table stays.
        let (again, second) = try PlanHarness.plan(conninfo: conninfo, bundles: [
            ("1", "CREATE TEMP TABLE t (a int) ON COMMIT DROP; DROP TABLE t; CREATE TEMP TABLE t (a int);"), ("2", "INSERT INTO t VALUES (1);"),
        ])
        defer { second.remove() }
        #expect(again.bundles.allSatisfy { $0.firstError == nil }, "\(again.bundles.map(\.findings))")
    }

    /// SET LOCAL ends with the bundle's transaction, even after SET LOCAL … FROM CURRENT; a plain SET stays.
    @Test func setLocalEndsWithTheBundle() throws {
        let conninfo = try TestCluster.makeDatabase(prefix: "plan_setlocal").conninfo
        try PlanHarness.load(conninfo, sql: "CREATE SCHEMA s; CREATE TABLE s.t (a int);")
        let (report, project) = try PlanHarness.plan(conninfo: conninfo, bundles: [
            ("1", "SET LOCAL search_path = s; SET LOCAL search_path FROM CURRENT; INSERT INTO t VALUES (1);"), ("2", "CREATE TABLE t (a int);"),
            ("3", "SET search_path = s;"), ("4", "CREATE TABLE t (a int);"),
        ])
        defer { project.remove() }
        #expect(report.bundles[0].firstError == nil && report.bundles[1].firstError == nil && report.bundles[2].firstError == nil, "\(report.bundles.map(\.findings))")
        #expect(report.bundles[3].firstError?.rule == "relation-already-exists", "\(report.bundles[3].findings)")
    }

    /// `$user` in search_path is the current role: after SET ROLE, unqualified new tables go to that role's schema
    /// (RESET ROLE goes back), as the server does. Compared with the server running the same statements.
    @Test func setRoleChangesTheUserSchema() throws {
        let database = try TestCluster.makeDatabase(prefix: "plan_setrole")
        let role = "owner_\(database.name)"
        try PlanHarness.load(database.conninfo, sql: "CREATE ROLE \(role); CREATE SCHEMA \(role) AUTHORIZATION \(role); GRANT CREATE ON SCHEMA public TO \(role);")
        let sql = """
            SET search_path = "$user", public;
            SET ROLE \(role);
            CREATE TABLE t (a int);
            RESET ROLE;
            SELECT a FROM \(role).t;
            CREATE TABLE t (a int);
            SELECT a FROM public.t;
            SET ROLE \(role);
            CREATE TABLE t (b int);
            """
        let (report, project) = try PlanHarness.plan(conninfo: database.conninfo, bundles: [("1", sql)])
        defer { project.remove() }
        let predicted = try #require(report.bundles[0].firstError, "\(report.bundles[0].findings)")
        #expect(predicted.statement == 9 && predicted.rule == "relation-already-exists", "\(predicted)")
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("setrole-\(UUID().uuidString).sql")
        try Data(sql.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let server = PlanHarness.psql(database.conninfo, file: file)
        #expect(!server.ok && predicted.sqlstate == server.sqlstate && predicted.message == server.message, "\(predicted) vs \(server.stderr)")
    }

    /// A session whose search_path is empty (`-c search_path=`) has no schema to create in: 3F000 for a table and a
    /// function alike, as the server says.
    @Test func emptySessionSearchPathHasNoCreationSchema() throws {
        let conninfo = try TestCluster.makeDatabase(prefix: "plan_emptypath").conninfo + " options='-csearch_path='"
        for sql in ["CREATE TABLE x (a int);", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';"] {
            let (report, project) = try PlanHarness.plan(conninfo: conninfo, bundles: [("1", sql)])
            defer { project.remove() }
            let predicted = try #require(report.bundles[0].firstError, "\(sql)")
            let server = PlanHarness.psql(conninfo, file: project.root.appendingPathComponent("bundles/t/1.sql"))
            #expect(predicted.rule == "no-creation-schema" && predicted.sqlstate == server.sqlstate && predicted.message == server.message, "\(predicted) vs \(server.stderr)")
        }
    }

    /// A plain SET keeps only its own setting past the transaction: SET LOCAL search_path still ends with the bundle
    /// when the same bundle also runs a plain SET ROLE; RESET ALL leaves the role alone.
    @Test func plainSetKeepsOnlyItsOwnSetting() throws {
        let conninfo = try TestCluster.makeDatabase(prefix: "plan_plainset").conninfo
        try PlanHarness.load(conninfo, sql: "CREATE SCHEMA app;")
        let (report, project) = try PlanHarness.plan(conninfo: conninfo, bundles: [
            ("1", "SET LOCAL search_path = app; SET ROLE postgres; CREATE TABLE t1 (id int); SELECT id FROM app.t1;"),
            ("2", "CREATE TABLE t2 (id int); ALTER TABLE public.t2 ADD COLUMN x int; RESET ALL; CREATE TABLE t3 (id int); SELECT id FROM public.t3;"),
        ])
        defer { project.remove() }
        #expect(report.bundles.allSatisfy { $0.firstError == nil }, "\(report.bundles.map(\.findings))")
    }

    /// With --atomic the bundles share one transaction: a new enum value stays unusable, a deferred trigger event
    /// stays queued, and SET LOCAL lasts, across bundles. Checked against the server running the same bundles as
    /// one transaction.
    @Test func atomicPlanKeepsTransactionScopedFacts() throws {
        let conninfo = try TestCluster.makeDatabase(prefix: "plan_atomic").conninfo
        try PlanHarness.load(conninfo, sql: "CREATE TYPE mood AS ENUM ('calm'); CREATE TABLE t (m mood); CREATE SCHEMA s;")
        let bundles = [("1", "ALTER TYPE mood ADD VALUE 'busy'; SET LOCAL search_path = s;"), ("2", "INSERT INTO public.t VALUES ('busy');")]
        let (separate, project) = try PlanHarness.plan(conninfo: conninfo, bundles: bundles)
        defer { project.remove() }
        #expect(separate.bundles.allSatisfy { $0.firstError == nil }, "\(separate.bundles.map(\.findings))")
        let (atomic, atomicProject) = try PlanHarness.plan(conninfo: conninfo, bundles: bundles, atomic: true)
        defer { atomicProject.remove() }
        let predicted = try #require(atomic.bundles[1].firstError, "\(atomic.bundles.map(\.findings))")
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("atomic-\(UUID().uuidString).sql")
        try Data(bundles.map(\.1).joined(separator: "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let server = PlanHarness.psql(conninfo, file: file)
        #expect(!server.ok && predicted.sqlstate == server.sqlstate && predicted.message == server.message, "\(predicted) vs \(server.stderr)")
    }

    @Test(arguments: rehearsed)
    func rehearsalMatchesPrediction(_ planCase: PlanCase) throws {
        let (conninfo, sql) = try PlanHarness.prepare(planCase)
        let (report, project) = try PlanHarness.plan(conninfo: conninfo, bundles: [("bundle", sql)], rehearse: true)
        defer { project.remove() }
        let bundle = try #require(report.bundles.first)
        let rehearsal = try #require(bundle.rehearsal)
        #expect(rehearsal.matchesPrediction, "prediction \(String(describing: bundle.firstError)); rehearsal \(rehearsal)")
        #expect(rehearsal.ok == (planCase.rule == nil))
        #expect(!bundle.findings.contains { $0.rule.hasPrefix("rehearsal-") }, "\(bundle.findings)")
    }
}
