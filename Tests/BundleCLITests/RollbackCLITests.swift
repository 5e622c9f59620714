import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// `bundle rollback`, `drift`, `diff` and `show` on real histories: verified, not trusted.
@Suite struct RollbackCLITests {
    func bundle(_ args: [String], cwd: URL, environment: [String: String] = [:]) -> (status: Int32, stdout: String, stderr: String) {
        runBundle(args, cwd: cwd, environment: environment)
    }

    func git(_ args: [String], cwd: URL) -> String { runProcess("git", ["-C", cwd.path] + args).stdout }

    func schemaDump(_ conninfo: String) throws -> String {
        try #require(dumpSchema(conninfo), "pg_dump failed")
    }

    func m3a() throws -> (TestProject, String) {
        let project = try TestProject(prefix: "rollback-m3a")
        for name in try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("bundles/m3a").path) {
            try project.write("bundles/m3a/\(name)", try Data(contentsOf: repositoryRoot.appendingPathComponent("bundles/m3a/\(name)")))
        }
        try project.write("locks/m3a-fixed.lock", try Data(contentsOf: repositoryRoot.appendingPathComponent("locks/m3a-fixed.lock")))
        #expect(bundle(["init", "."], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "rb_m3a").conninfo
        #expect(loadSQLFile(conninfo: db, path: repositoryRoot.appendingPathComponent("bundles/m3a/prestate.sql").path).status == 0)
        return (project, db)
    }

    /// The schema after loading the pre-state and applying the first `count` M3a bundles with psql.
    func referenceDump(bundles count: Int) throws -> String {
        let db = try TestCluster.makeDatabase(prefix: "rb_ref").conninfo
        #expect(loadSQLFile(conninfo: db, path: repositoryRoot.appendingPathComponent("bundles/m3a/prestate.sql").path).status == 0)
        let files = ["A-lifecycle-vocab-and-log.sql", "B-immutability-triggers.sql", "C-fn-iu-enact.sql", "D-gateway-config.sql"]
        for file in files.prefix(count) {
            #expect(loadSQLFile(conninfo: db, path: repositoryRoot.appendingPathComponent("bundles/m3a/\(file)").path).status == 0)
        }
        return try schemaDump(db)
    }

    @Test func m3aRollbackToTxn3AndToThePreState() throws {
        let (project, db) = try m3a()
        defer { project.remove() }
        let preState = try schemaDump(db)
        #expect(bundle(["apply", "m3a-fixed", "--txn", "--db", db, "--target", "m3a"], cwd: project.root).status == 0)
        // The commit of TXN-3 is bundle/m3a~2.
        #expect(git(["log", "-1", "--format=%s", "bundle/m3a~2"], cwd: project.root).hasPrefix("apply m3a-fixed TXN-3 C"))
        let txn3 = git(["rev-parse", "bundle/m3a~2"], cwd: project.root).trimmingCharacters(in: .whitespacesAndNewlines)
        let dry = bundle(["rollback", txn3, "--db", db, "--target", "m3a", "--dry-run"], cwd: project.root)
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("undo TXN-5 E") && dry.stdout.contains("undo TXN-4 D"))
        let result = bundle(["rollback", txn3, "--db", db, "--target", "m3a"], cwd: project.root)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try schemaDump(db) == (try referenceDump(bundles: 3)), "rollback to TXN-3 must leave the schema of pre-state + A, B, C")
        let subjects = git(["log", "-2", "--format=%s", "bundle/m3a"], cwd: project.root)
        #expect(subjects.contains("rollback m3a-fixed to \(txn3.prefix(7)): undo TXN-5 E"))
        #expect(subjects.contains("undo TXN-4 D"))
        #expect(bundle(["drift", "--db", db, "--target", "m3a"], cwd: project.root).status == 0)

        let root = git(["rev-list", "--max-parents=0", "bundle/m3a"], cwd: project.root).trimmingCharacters(in: .whitespacesAndNewlines)
        let toBaseline = bundle(["rollback", root, "--db", db, "--target", "m3a"], cwd: project.root)
        #expect(toBaseline.status == 0, "\(toBaseline.stdout)\(toBaseline.stderr)")
        #expect(try schemaDump(db) == preState, "rollback to the baseline must return to the pre-state exactly")
        // Apply again after a full rollback: every bundle applies once more.
        let again = bundle(["apply", "m3a-fixed", "--txn", "--db", db, "--target", "m3a"], cwd: project.root)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("5 bundles applied"))
    }

    @Test func handWrittenRollbackThatForgetsAnIndexIsCaught() throws {
        let project = try TestProject(prefix: "rollback-forget")
        defer { project.remove() }
        try project.write("bundles/x/1-table.sql", "CREATE TABLE items (id int PRIMARY KEY, sku text);\n")
        try project.write("bundles/x/2-index.sql", "CREATE INDEX items_sku_idx ON items (sku);\nCOMMENT ON TABLE items IS 'catalog items';\n")
        try project.write("bundles/x/2-index.rollback.sql", "COMMENT ON TABLE items IS NULL;\n")
        #expect(bundle(["init", "."], cwd: project.root).status == 0)
        #expect(bundle(["lock", "x", "bundles/x/1-table.sql", "bundles/x/2-index.sql"], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "rb_forget").conninfo
        #expect(bundle(["apply", "x", "--txn", "--db", db, "--target", "t"], cwd: project.root).status == 0)
        let before = try schemaDump(db)
        let result = bundle(["rollback", "bundle/t~1", "--db", db, "--target", "t"], cwd: project.root)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("items_sku_idx"), "the difference names the forgotten index: \(result.stdout)")
        #expect(try schemaDump(db) == before, "the failed step was rolled back")
        #expect(git(["log", "-1", "--format=%s", "bundle/t"], cwd: project.root).hasPrefix("apply x TXN-2"))
    }

    @Test func driftFindsHandMadeChanges() throws {
        let project = try TestProject(prefix: "drift")
        defer { project.remove() }
        try project.write(
            "bundles/d/1-all.sql",
            """
            CREATE TABLE accounts (id int PRIMARY KEY, status text DEFAULT 'new');
            CREATE FUNCTION score(a int) RETURNS int LANGUAGE sql AS 'select a * 2';
            CREATE ROLE drift_reader_\(UInt32.random(in: 0...UInt32.max));
            """)
        #expect(bundle(["init", "."], cwd: project.root).status == 0)
        #expect(bundle(["lock", "d", "bundles/d/1-all.sql"], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "drift").conninfo
        #expect(bundle(["apply", "d", "--txn", "--db", db, "--target", "t"], cwd: project.root).status == 0)
        #expect(bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        try connection.execute("CREATE OR REPLACE FUNCTION score(a int) RETURNS int LANGUAGE sql AS 'select a * 3'")
        try connection.execute("GRANT SELECT ON accounts TO PUBLIC")
        try connection.execute("ALTER TABLE accounts ALTER COLUMN status SET DEFAULT 'open'")
        let drift = bundle(["drift", "--db", db, "--target", "t"], cwd: project.root)
        #expect(drift.status == 1)
        #expect(drift.stdout.contains("functions/score("))
        #expect(drift.stdout.contains("a * 3"))
        #expect(drift.stdout.contains("tables/accounts.sql"))
        #expect(drift.stdout.contains("PUBLIC"))
        #expect(drift.stdout.contains("'open'"))
        let show = bundle(["show", "bundle/t", "--target", "t"], cwd: project.root)
        #expect(show.status == 0)
        #expect(show.stdout.contains("Bundle-Sha256:"))
        let diff = bundle(["diff", "bundle/t~1", "bundle/t"], cwd: project.root)
        #expect(diff.status == 0)
        #expect(diff.stdout.contains("added    public/tables/accounts.sql"), "\(diff.stdout)")
    }

    /// ALTER DEFAULT PRIVILEGES is recorded in `state/default-privileges.sql`, undone by the generated rollback
    /// (per-schema grants revoked before their schema is dropped, a global REVOKE granted back), and a hand-made
    /// change shows in `bundle drift`. pg_dump prints default privileges too, so the dumps compare them.
    @Test func defaultPrivilegesAreRecordedUndoneAndSeenByDrift() throws {
        let project = try TestProject(prefix: "rollback-defacl")
        defer { project.remove() }
        let database = try TestCluster.makeDatabase(prefix: "rb_defacl")
        let db = database.conninfo
        let reader = "reader_\(database.name)"
        let odd = "Odd \"Role\" o'brien\n\(database.name)"
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        try connection.execute("CREATE ROLE \(quoteIdentifier(reader)); CREATE ROLE \(quoteIdentifier(odd)); CREATE SCHEMA app")
        try connection.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO \(quoteIdentifier(reader))")
        try project.write(
            "bundles/p/1-defaults.sql",
            """
            CREATE SCHEMA reports;
            ALTER DEFAULT PRIVILEGES IN SCHEMA reports GRANT SELECT, UPDATE ON TABLES TO \(quoteIdentifier(reader));
            ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE ON SEQUENCES TO \(quoteIdentifier(odd)) WITH GRANT OPTION;
            ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE SELECT ON TABLES FROM \(quoteIdentifier(reader));
            ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
            CREATE TABLE reports.daily (id int);
            """)
        #expect(bundle(["init", "."], cwd: project.root).status == 0)
        // Default privileges follow a renamed schema: undoing the rename is all the rollback needs.
        try project.write("bundles/p/2-rename.sql", "ALTER SCHEMA reports RENAME TO \"Reports \"\"2\"\"\";\n")
        #expect(bundle(["lock", "p", "bundles/p/1-defaults.sql", "bundles/p/2-rename.sql"], cwd: project.root).status == 0)
        let plan = bundle(["plan", "p", "--db", db], cwd: project.root)
        #expect(plan.status == 0 && !plan.stdout.contains("not-recorded"), "\(plan.stdout)\(plan.stderr)")
        let preState = try schemaDump(db)
        let applied = bundle(["apply", "p", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")

        let user = try #require(try connection.query("SELECT quote_ident(current_user)").rows.first?[0] ?? nil)
        #expect(git(["show", "bundle/t:state/default-privileges.sql"], cwd: project.root).contains(#"IN SCHEMA "Reports ""2""" GRANT SELECT, UPDATE"#))
        let recorded = git(["show", "bundle/t~1:state/default-privileges.sql"], cwd: project.root)
        #expect(
            recorded == """
                ALTER DEFAULT PRIVILEGES FOR ROLE \(user) IN SCHEMA app GRANT USAGE ON SEQUENCES TO \(quoteIdentifier(odd)) WITH GRANT OPTION;
                ALTER DEFAULT PRIVILEGES FOR ROLE \(user) IN SCHEMA reports GRANT SELECT, UPDATE ON TABLES TO \(quoteIdentifier(reader));
                ALTER DEFAULT PRIVILEGES FOR ROLE \(user) REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

                """, "\(recorded)")
        #expect(git(["show", "bundle/t~2:state/default-privileges.sql"], cwd: project.root).contains("IN SCHEMA app GRANT SELECT ON TABLES"))
        let script = git(["show", "bundle/t~1:rollback/TXN-1-1.sql"], cwd: project.root)
        #expect(script.contains("IN SCHEMA reports REVOKE SELECT, UPDATE ON TABLES FROM") && script.contains("GRANT EXECUTE ON FUNCTIONS TO PUBLIC;"), "\(script)")
        #expect(!script.contains("NOT UNDONE"), "\(script)")
        #expect(bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)

        // A hand-made change is drift.
        try connection.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT DELETE ON TABLES TO \(quoteIdentifier(reader))")
        let drift = bundle(["drift", "--db", db, "--target", "t"], cwd: project.root)
        #expect(drift.status == 1 && drift.stdout.contains("default-privileges.sql"), "\(drift.stdout)")
        try connection.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE DELETE ON TABLES FROM \(quoteIdentifier(reader))")

        let root = git(["rev-list", "--max-parents=0", "bundle/t"], cwd: project.root).trimmingCharacters(in: .whitespacesAndNewlines)
        let back = bundle(["rollback", root, "--db", db, "--target", "t"], cwd: project.root)
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        #expect(try schemaDump(db) == preState, "the rollback must put the default privileges back exactly")
        #expect(bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
    }

    /// Applies the project's lock to target `t`, runs `between` (checks or hand-made changes), rolls the last
    /// `bundles` bundles back and expects the schema exactly as before the apply and no drift.
    func expectRollbackRestoresSchema(
        _ project: LockedTestProject, bundles: Int, _ why: Comment, between: (String) throws -> Void = { _ in }
    ) throws {
        let db = project.conninfo
        let preState = try schemaDump(db)
        let applied = bundle(["apply", "r", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        try between(db)
        let back = bundle(["rollback", "bundle/t~\(bundles)", "--db", db, "--target", "t"], cwd: project.root)
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        #expect(try schemaDump(db) == preState, why)
        #expect(bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
    }

    /// Views rebuilt by a bundle (DROP VIEW … CASCADE, created again, one more view over them) are put back in
    /// dependency order: dropped in one statement, re-created each after the views it reads (here the view named
    /// first reads the one named last). Each of the three orders was a failed rollback before.
    @Test func viewsRebuiltWithCascadeRollBackInDependencyOrder() throws {
        let prestate = """
            CREATE TABLE t (id int PRIMARY KEY, a text);
            CREATE VIEW z_base AS SELECT id, a FROM t;
            CREATE VIEW a_top AS SELECT id FROM z_base;
            COMMENT ON VIEW a_top IS 'top';
            """
        let project = try LockedTestProject(
            prefix: "rollback-views", lock: "r",
            bundles: [
                (
                    "bundles/r/1-rebuild.sql",
                    "DROP VIEW z_base CASCADE;\nCREATE VIEW z_base AS SELECT id, a, 1 AS one FROM t;\nCREATE VIEW a_top AS SELECT id, one FROM z_base;\nCREATE VIEW m_new AS SELECT one FROM a_top;\n"
                )
            ],
            prestate: prestate)
        defer { project.remove() }
        try expectRollbackRestoresSchema(project, bundles: 1, "the rollback must put both views back exactly and drop the new one")
    }

    /// The serial-to-identity migration (DROP DEFAULT, DROP SEQUENCE, ADD GENERATED AS IDENTITY) rolls back: the
    /// identity is dropped, the old sequence created again and moved past the column's values, the default
    /// restored. Before, the rollback failed (SET DEFAULT on an identity column).
    @Test func serialToIdentityMigrationRollsBack() throws {
        let project = try LockedTestProject(
            prefix: "rollback-identity", lock: "r",
            bundles: [
                (
                    "bundles/r/1-identity.sql",
                    "ALTER TABLE t ALTER COLUMN id DROP DEFAULT;\nDROP SEQUENCE t_id_seq;\nALTER TABLE t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (START WITH 100);\n"
                )
            ],
            prestate: "CREATE TABLE t (id serial PRIMARY KEY, a text); INSERT INTO t (a) VALUES ('a'), ('b'), ('c');")
        defer { project.remove() }
        try expectRollbackRestoresSchema(project, bundles: 1, "the rollback must restore the serial column exactly")
        let connection = try PostgresConnection(conninfo: project.conninfo)
        defer { connection.close() }
        let next = try connection.query("INSERT INTO t (a) VALUES ('d') RETURNING id").rows.first?.first ?? nil
        #expect(next == "4", "the restored sequence must continue after the existing keys")
    }

    /// Two realistic bundles over a table that one of them renames: a column renamed and made NOT NULL with a new
    /// type in the first, columns and a check added to the renamed table in the second, partitions attached,
    /// detached and moved. Rolling both back gives the exact schema again. Before, a column renamed and changed in
    /// one bundle counted as dropped (the rollback was refused), and changes inside a renamed table were not undone.
    @Test func renamedAndChangedTablesRollBack() throws {
        let prestate = """
            CREATE TABLE events (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
            CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE acct (id int PRIMARY KEY, owner text, bal numeric);
            GRANT SELECT ON acct TO PUBLIC;
            INSERT INTO acct VALUES (1, 'a', 1.5);
            """
        let first = """
            CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
            ALTER TABLE events DETACH PARTITION events_2025;
            ALTER TABLE acct ENABLE ROW LEVEL SECURITY;
            CREATE POLICY own ON acct USING (owner = current_user);
            GRANT UPDATE (bal) ON acct TO PUBLIC;
            REVOKE SELECT ON acct FROM PUBLIC;
            COMMENT ON COLUMN acct.bal IS 'balance';
            ALTER TABLE acct ALTER COLUMN owner SET NOT NULL;
            ALTER TABLE acct ALTER COLUMN bal TYPE numeric(12,2);
            ALTER TABLE acct RENAME COLUMN owner TO owner_name;
            CREATE INDEX acct_owner_idx ON acct (owner_name) WHERE bal > 0;

            """
        let second = """
            ALTER TABLE acct RENAME TO accounts;
            ALTER TABLE accounts ADD COLUMN status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed'));
            CREATE TYPE acct_kind AS ENUM ('a', 'b');
            ALTER TABLE accounts ADD COLUMN kind acct_kind;
            ALTER TABLE accounts RENAME COLUMN bal TO balance;
            CREATE SCHEMA archive;
            ALTER TABLE events_2025 SET SCHEMA archive;

            """
        let project = try LockedTestProject(
            prefix: "rollback-renamed", lock: "r", bundles: [("bundles/r/1.sql", first), ("bundles/r/2.sql", second)], prestate: prestate)
        defer { project.remove() }
        try expectRollbackRestoresSchema(project, bundles: 2, "the rollback must give the schema exactly as before")
    }

    /// Domains and sequences changed in place are put back in place: the domain's constraints, default and NOT NULL
    /// with ALTER DOMAIN (a column uses it, so DROP DOMAIN fails), the sequence's options with ALTER SEQUENCE
    /// (they were only quoted in a comment). Also a key replaced with CASCADE, renamed constraints and indexes,
    /// a trigger and its function replaced, a policy altered.
    @Test func domainsSequencesAndKeysRollBackInPlace() throws {
        let prestate = #"""
            CREATE DOMAIN price AS numeric CHECK (VALUE >= 0);
            CREATE TABLE items (id serial PRIMARY KEY, sku text NOT NULL, name text, price price CONSTRAINT items_price_check CHECK (price > 0), updated timestamptz);
            CREATE INDEX items_name_idx ON items (name);
            CREATE TABLE orders (id int, item_id int REFERENCES items);
            CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := now(); RETURN NEW; END $$;
            CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();
            ALTER TABLE items ENABLE ROW LEVEL SECURITY;
            CREATE POLICY items_read ON items USING (true);
            CREATE VIEW items_v AS SELECT id, name, price FROM items;
            INSERT INTO items (sku, name, price) VALUES ('a', 'x', 1);
            """#
        let change = #"""
            ALTER TABLE items RENAME CONSTRAINT items_price_check TO items_price_positive;
            ALTER INDEX items_name_idx RENAME TO items_name_i;
            ALTER TABLE items DROP CONSTRAINT items_pkey CASCADE;
            ALTER TABLE items ADD CONSTRAINT items_pkey PRIMARY KEY (id, sku);
            ALTER SEQUENCE items_id_seq INCREMENT BY 10 RESTART WITH 1000;
            CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := now(); NEW.name := upper(NEW.name); RETURN NEW; END $$;
            DROP TRIGGER items_touch ON items;
            CREATE TRIGGER items_touch BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();
            ALTER DOMAIN price ADD CONSTRAINT price_max CHECK (VALUE < 1000000);
            ALTER DOMAIN price SET DEFAULT 1;
            ALTER DOMAIN price SET NOT NULL;
            ALTER POLICY items_read ON items USING (price > 0);
            CREATE OR REPLACE VIEW items_v AS SELECT id, name, price, sku FROM items;
            ALTER FUNCTION touch() SET search_path = public, pg_temp;

            """#
        let project = try LockedTestProject(prefix: "rollback-inplace", lock: "r", bundles: [("bundles/r/1.sql", change)], prestate: prestate)
        defer { project.remove() }
        try expectRollbackRestoresSchema(project, bundles: 1, "the rollback must give the schema exactly as before") { _ in
            let script = git(["show", "bundle/t:rollback/TXN-1-1.sql"], cwd: project.root)
            #expect(script.contains("ALTER DOMAIN public.price DROP CONSTRAINT IF EXISTS price_max;"), "\(script)")
            #expect(script.contains("ALTER SEQUENCE public.items_id_seq AS integer START WITH 1 INCREMENT BY 1"), "\(script)")
        }
    }

    /// Enum labels added by a bundle (ALTER TYPE … ADD VALUE) are taken away by converting the columns back to the
    /// previous type (defaults and arrays included); a row holding an added label makes the rollback fail and
    /// change nothing. A renamed label is renamed back. Before, the rollback always failed (DROP TYPE with columns).
    @Test func enumLabelsAddedOrRenamedRollBack() throws {
        let project = try LockedTestProject(
            prefix: "rollback-enum", lock: "r",
            bundles: [("bundles/r/1.sql", "ALTER TYPE mood ADD VALUE 'c';\nALTER TYPE mood ADD VALUE 'a0' BEFORE 'b';\nALTER TYPE kind RENAME VALUE 'x' TO 'y';\n")],
            prestate: """
                CREATE TYPE mood AS ENUM ('a', 'b'); CREATE TYPE kind AS ENUM ('x', 'it''s'); COMMENT ON TYPE mood IS 'm';
                CREATE TABLE t (id int, m mood DEFAULT 'a', ms mood[], k kind); CREATE INDEX ON t (m);
                INSERT INTO t VALUES (1, 'b', '{a,b}', 'x');
                """)
        defer { project.remove() }
        let db = project.conninfo
        let preState = try schemaDump(db)
        let applied = bundle(["apply", "r", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        try connection.execute("INSERT INTO t VALUES (2, 'c', NULL, 'y')")
        let refused = bundle(["rollback", "bundle/t~1", "--db", db, "--target", "t"], cwd: project.root)
        #expect(refused.status == 1 && refused.stderr.contains("invalid input value for enum"), "\(refused.stdout)\(refused.stderr)")
        #expect(bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0, "a failed step changes nothing")
        try connection.execute("DELETE FROM t WHERE id = 2")
        let back = bundle(["rollback", "bundle/t~1", "--db", db, "--target", "t"], cwd: project.root)
        #expect(back.status == 0, "\(back.stdout)\(back.stderr)")
        #expect(try schemaDump(db) == preState, "the rollback must give the types and columns exactly as before")
        let row = try connection.query("SELECT m::text, ms::text, k::text FROM t").rows.first
        #expect(row == ["b", "{a,b}", "x"])
    }

    /// Column renames come from the bundle's RENAME COLUMN statements, never from the look of the state: a column
    /// renamed and a new one added under the old name is put back with its data; a column dropped and another
    /// added at the same place (in another schema's table of the same name) is a dropped column, and the rollback
    /// refuses. Both used to exit 0 with the wrong data (a review found them).
    @Test func columnRenamesComeFromTheBundleOnly() throws {
        let renamed = try LockedTestProject(
            prefix: "rollback-rename-add", lock: "r", bundles: [("bundles/r/1.sql", "ALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t ADD COLUMN a int;\n")],
            prestate: "CREATE TABLE t (id int, a int); INSERT INTO t VALUES (1, 10);")
        defer { renamed.remove() }
        try expectRollbackRestoresSchema(renamed, bundles: 1, "the renamed column must be back")
        let connection = try PostgresConnection(conninfo: renamed.conninfo)
        defer { connection.close() }
        #expect(try connection.query("SELECT a FROM t").rows.first?.first == "10", "with its data")

        let lookalike = try LockedTestProject(
            prefix: "rollback-lookalike", lock: "r",
            bundles: [("bundles/r/1.sql", "ALTER TABLE s1.t RENAME COLUMN a TO b;\nALTER TABLE s2.t DROP COLUMN a;\nALTER TABLE s2.t ADD COLUMN b int;\n")],
            prestate: "CREATE SCHEMA s1; CREATE SCHEMA s2; CREATE TABLE s1.t (id int, a int); CREATE TABLE s2.t (id int, a int); INSERT INTO s2.t VALUES (1, 20);")
        defer { lookalike.remove() }
        expectRollbackRefusedForDroppedData(lookalike)
    }

    /// Applies the lock to target `t`, runs `between`, and expects the rollback of its last bundle to be refused
    /// because that bundle dropped data.
    func expectRollbackRefusedForDroppedData(_ project: LockedTestProject, between: () -> Void = {}) {
        let applied = bundle(["apply", "r", "--txn", "--db", project.conninfo, "--target", "t"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        between()
        let refused = bundle(["rollback", "bundle/t~1", "--db", project.conninfo, "--target", "t"], cwd: project.root)
        #expect(refused.status != 0 && refused.stderr.contains("dropped data"), "\(refused.stdout)\(refused.stderr)")
    }

    /// A table dropped and created again in one bundle has a recorded state before and after, like a changed one,
    /// but its rows are gone: the generated rollback says so and `bundle rollback` refuses it.
    @Test func droppedAndRecreatedTableIsIrreversible() throws {
        let project = try LockedTestProject(
            prefix: "rollback-recreate", lock: "r",
            bundles: [("bundles/r/1-recreate.sql", "DROP TABLE public.items;\nCREATE TABLE items (id int, extra int);\n")],
            prestate: "CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2);")
        defer { project.remove() }
        expectRollbackRefusedForDroppedData(project) {
            let script = git(["show", "bundle/t:rollback/TXN-1-1.sql"], cwd: project.root)
            #expect(script.contains("-- IRREVERSIBLE: public.items was dropped and created again"), "\(script)")
        }
    }
}
