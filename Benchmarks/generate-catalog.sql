-- generate-catalog.sql: adds about :objects catalog objects to the current database, for scripts/bench.
--
--   psql -X -v ON_ERROR_STOP=1 -v objects=5000 -f Benchmarks/generate-catalog.sql
--
-- Run it (not inside -1/--single-transaction: the generator commits every batch) on a database that already holds
-- bundles/m3a/prestate.sql. It creates "units" spread over a few schemas bench_s01..bench_sNN; one unit is
--
--   table    bench_sKK.t_NNNNN  (8 columns: identity PK, FK to the previous table of the schema, CHECK, defaults,
--                                 jsonb, varchar; an index on the FK column, on every other unit a UNIQUE index)
--   view     bench_sKK.v_NNNNN  (the table LEFT JOINed to its parent)
--   functions bench_sKK.f_NNNNN(bigint, int DEFAULT 10) RETURNS SETOF t_NNNNN      -- plpgsql, overloads:
--             bench_sKK.f_NNNNN(text, int DEFAULT 10, boolean DEFAULT false) RETURNS int
--   trigger  BEFORE UPDATE ... EXECUTE FUNCTION bench_sKK.touch_updated_at()  (one trigger function per schema)
--   grants   SELECT on table and view to bench_ro; SELECT, INSERT, UPDATE to bench_rw; EXECUTE on both functions
--            to bench_app
--
-- Counted as pg_class + pg_proc + pg_trigger + pg_constraint rows in user schemas, one unit is about 16.5 objects
-- (table, identity sequence, 2-3 indexes, view; 2 functions; 1 trigger + 4 internal FK triggers; PK, FK, CHECK and
-- every other unit a UNIQUE constraint), so the generator makes objects / 16.5 units. Names never collide with the
-- names the M3a bundles refer to, so the plan's work should not grow with the catalog.

\set ON_ERROR_STOP 1
SELECT set_config('bench.objects', :'objects', false) \gset

DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_ro') THEN CREATE ROLE bench_ro NOLOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_rw') THEN CREATE ROLE bench_rw NOLOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_app') THEN CREATE ROLE bench_app NOLOGIN; END IF;
END
$do$;

-- Schemas and their trigger functions.
DO $do$
DECLARE
    units   int := greatest(1, round(current_setting('bench.objects')::int / 16.5)::int);
    schemas int := least(12, 3 + units / 500);
    s       text;
BEGIN
    FOR k IN 1 .. schemas LOOP
        s := format('bench_s%s', lpad(k::text, 2, '0'));
        EXECUTE format('CREATE SCHEMA %I', s);
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO bench_ro, bench_rw, bench_app', s);
        EXECUTE format($f$
            CREATE FUNCTION %I.touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
                NEW.updated_at := now();
                RETURN NEW;
            END
            $body$$f$, s);
    END LOOP;
    PERFORM set_config('bench.units', units::text, false);
    PERFORM set_config('bench.schemas', schemas::text, false);
END
$do$;

-- Units, committed in batches of 100 (a single transaction would need one lock per new relation).
DO $do$
DECLARE
    units   int := current_setting('bench.units')::int;
    schemas int := current_setting('bench.schemas')::int;
    r       record;
    i       int;
    s       text;
    t       text;
    parent  text;
    v       text;
    f       text;
BEGIN
    -- The names of every unit come from one set-based query; the loop only EXECUTEs the DDL.
    -- The first table of a schema references itself; later ones the previous table of the same schema.
    FOR r IN
        SELECT g AS i,
               format('bench_s%s', lpad((1 + (g - 1) % schemas)::text, 2, '0')) AS s,
               format('t_%s', lpad(g::text, 5, '0')) AS t,
               format('t_%s', lpad((CASE WHEN g <= schemas THEN g ELSE g - schemas END)::text, 5, '0')) AS parent,
               format('v_%s', lpad(g::text, 5, '0')) AS v,
               format('f_%s', lpad(g::text, 5, '0')) AS f
        FROM generate_series(1, units) AS g ORDER BY g
    LOOP
        i := r.i; s := r.s; t := r.t; parent := r.parent; v := r.v; f := r.f;
        EXECUTE format($sql$
            CREATE TABLE %1$I.%2$I (
                id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                parent_id  bigint REFERENCES %1$I.%3$I (id) ON DELETE SET NULL,
                code       text NOT NULL,
                amount     numeric(12,2) NOT NULL DEFAULT 0 CONSTRAINT %4$I CHECK (amount >= 0),
                status     text NOT NULL DEFAULT 'new',
                payload    jsonb,
                note       varchar(200),
                updated_at timestamptz NOT NULL DEFAULT now()
            )$sql$, s, t, parent, t || '_amount_check');
        EXECUTE format('CREATE INDEX %I ON %I.%I (parent_id)', t || '_parent_idx', s, t);
        IF i % 2 = 0 THEN
            EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I UNIQUE (code)', s, t, t || '_code_key');
        ELSE
            EXECUTE format('CREATE INDEX %I ON %I.%I (status, updated_at)', t || '_status_idx', s, t);
        END IF;
        EXECUTE format($sql$
            CREATE VIEW %1$I.%2$I AS
            SELECT c.id, c.code, c.amount, c.status, p.code AS parent_code
            FROM %1$I.%3$I c LEFT JOIN %1$I.%4$I p ON p.id = c.parent_id$sql$, s, v, t, parent);
        EXECUTE format($sql$
            CREATE FUNCTION %1$I.%2$I(p_id bigint, p_limit int DEFAULT 10) RETURNS SETOF %1$I.%3$I
            LANGUAGE plpgsql STABLE AS $body$
            BEGIN
                RETURN QUERY SELECT * FROM %1$I.%3$I WHERE id >= p_id ORDER BY id LIMIT p_limit;
            END
            $body$$sql$, s, f, t);
        EXECUTE format($sql$
            CREATE FUNCTION %1$I.%2$I(p_code text, p_limit int DEFAULT 10, p_strict boolean DEFAULT false) RETURNS int
            LANGUAGE plpgsql STABLE AS $body$
            DECLARE
                n int;
            BEGIN
                SELECT count(*) INTO n FROM (SELECT 1 FROM %1$I.%3$I WHERE code = p_code LIMIT p_limit) x;
                IF p_strict AND n = 0 THEN
                    RAISE EXCEPTION 'no row with code %%', p_code;
                END IF;
                RETURN n;
            END
            $body$$sql$, s, f, t);
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I.%I FOR EACH ROW EXECUTE FUNCTION %I.touch_updated_at()',
                       t || '_touch', s, t, s);
        EXECUTE format('GRANT SELECT ON %1$I.%2$I, %1$I.%3$I TO bench_ro', s, t, v);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I.%I TO bench_rw', s, t);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %1$I.%2$I(bigint, int), %1$I.%2$I(text, int, boolean) TO bench_app', s, f);
        IF i % 100 = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END
$do$;
