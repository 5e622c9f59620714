import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// A bundle (or a hand-written rollback) that puts a schema before pg_catalog in its search_path must not hand
/// bundle's own queries (post-conditions, the search for what the transaction wrote, the capture, the registry row,
/// the rollback's verification and record) to operators, functions
/// or types someone defined there: they would run with the applier's rights (CVE-2018-1058). `evil` holds an
/// `=` for every type pair bundle compares, functions bundle calls and a `text` domain, each of which records that it ran.
@Suite struct HostileSearchPathTests {
    static let trap = """
        CREATE SCHEMA evil;
        CREATE TABLE evil.calls (op text);
        GRANT ALL ON SCHEMA evil TO PUBLIC;
        GRANT ALL ON evil.calls TO PUBLIC;
        DO $do$
        DECLARE pair text[];
        BEGIN
          FOREACH pair SLICE 1 IN ARRAY ARRAY[['name', 'name'], ['name', 'text'], ['text', 'text'], ['oid', 'oid'], ['xid', 'xid'], ['"char"', '"char"'], ['regclass', 'regclass']] LOOP
            EXECUTE format($f$CREATE FUNCTION evil.hit(a %1$s, b %2$s) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog AS $b$
              BEGIN INSERT INTO evil.calls VALUES (%3$L); RETURN a::text = b::text; END $b$$f$, pair[1], pair[2], pair[1] || ' = ' || pair[2]);
            EXECUTE format('CREATE OPERATOR evil.= (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.hit)', pair[1], pair[2]);
            EXECUTE format('CREATE OPERATOR evil.<> (LEFTARG = %s, RIGHTARG = %s, FUNCTION = evil.hit)', pair[1], pair[2]);
          END LOOP;
        END $do$;
        CREATE FUNCTION evil.seen(what text) RETURNS boolean LANGUAGE plpgsql SET search_path = pg_catalog
          AS $$ BEGIN INSERT INTO evil.calls VALUES (what); RETURN true; END $$;
        CREATE FUNCTION evil.set_config(a text, b text, c boolean) RETURNS text LANGUAGE sql SET search_path = pg_catalog
          AS $$ SELECT CASE WHEN evil.seen('set_config') THEN pg_catalog.set_config(a, b, c) END $$;
        CREATE FUNCTION evil.current_setting(a text) RETURNS text LANGUAGE sql SET search_path = pg_catalog
          AS $$ SELECT CASE WHEN evil.seen('current_setting') THEN pg_catalog.current_setting(a) END $$;
        CREATE FUNCTION evil.unnest(a text[]) RETURNS SETOF text LANGUAGE sql SET search_path = pg_catalog
          AS $$ SELECT x FROM pg_catalog.unnest(a) x WHERE evil.seen('unnest') $$;
        CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE sql SET search_path = pg_catalog
          AS $$ SELECT CASE WHEN evil.seen('clock_timestamp') THEN pg_catalog.clock_timestamp() END $$;
        CREATE FUNCTION evil.quote_ident(a text) RETURNS text LANGUAGE sql SET search_path = pg_catalog
          AS $$ SELECT CASE WHEN evil.seen('quote_ident') THEN pg_catalog.quote_ident(a) END $$;
        CREATE FUNCTION evil.to_regclass(a text) RETURNS regclass LANGUAGE sql SET search_path = pg_catalog
          AS $$ SELECT CASE WHEN evil.seen('to_regclass') THEN pg_catalog.to_regclass(a) END $$;
        CREATE FUNCTION evil.pg_my_temp_schema() RETURNS oid LANGUAGE sql SET search_path = pg_catalog
          AS $$ SELECT CASE WHEN evil.seen('pg_my_temp_schema') THEN pg_catalog.pg_my_temp_schema() END $$;
        CREATE FUNCTION evil.pg_current_xact_id() RETURNS xid8 LANGUAGE sql SET search_path = pg_catalog
          AS $$ SELECT CASE WHEN evil.seen('pg_current_xact_id') THEN pg_catalog.pg_current_xact_id() END $$;
        CREATE FUNCTION evil.checked_text(v pg_catalog.text) RETURNS boolean LANGUAGE sql SET search_path = pg_catalog
          AS $$ SELECT evil.seen('domain text') $$;
        CREATE DOMAIN evil.text AS pg_catalog.text CHECK (evil.checked_text(VALUE));
        """

    @Test(arguments: ["--txn", "--atomic"])
    func ownQueriesIgnoreTheBundlesSearchPath(_ mode: String) throws {
        let project = try LockedTestProject(
            prefix: "hostile-path", lock: "h",
            bundles: [
                (
                    "bundles/h/1-path.sql",
                    """
                    SET search_path = evil, public, pg_catalog;
                    CREATE TABLE public.accounts (id int PRIMARY KEY, note text);
                    CREATE INDEX accounts_note ON public.accounts (note);
                    CREATE FUNCTION public.twice(a int) RETURNS int LANGUAGE sql AS 'select a * 2';
                    COMMENT ON TABLE public.accounts IS 'accounts';

                    """
                ),
                ("bundles/h/2-more.sql", "CREATE TABLE public.more (id int);\nDROP TABLE public.more;\nCREATE VIEW public.v AS SELECT 1 AS one;\n"),
                // A hand-written rollback with its own search_path: `bundle rollback`'s queries must not follow it either.
                ("bundles/h/2-more.rollback.sql", "SET LOCAL search_path = evil, public, pg_catalog;\nDROP VIEW public.v;\n"),
            ],
            prestate: Self.trap)
        defer { project.remove() }
        let db = project.conninfo
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        let apply = runBundle(["apply", "h", mode, "--db", db, "--target", "t"], cwd: project.root)
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        let calls = try connection.query("SELECT op, count(*) FROM evil.calls GROUP BY op ORDER BY op").rows
        #expect(calls == [], "bundle's own queries ran evil's operators: \(calls)")
        #expect(runBundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
        let rollback = runBundle(["rollback", "bundle/t~1", "--db", db, "--target", "t"], cwd: project.root)
        #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
        let afterRollback = try connection.query("SELECT op, count(*) FROM evil.calls GROUP BY op ORDER BY op").rows
        #expect(afterRollback == [], "bundle rollback's own queries ran evil's operators: \(afterRollback)")
    }
}
