import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// Identifiers that break naive quoting, round-tripped on a real server: apply, drift, rollback to the baseline.
@Suite struct HostileIdentifierTests {
    /// 63 bytes (the longest identifier PostgreSQL keeps), half of them in 2-byte characters.
    static let long63 = String(repeating: "é", count: 31) + "x"
    static let column63 = String(repeating: "c", count: 63)
    /// 70 characters: PostgreSQL truncates it to 63 (with a NOTICE).
    static let long70 = String(repeating: "L", count: 70)
    static let schema = #""Sch.ema ""q""""#

    static func bundles(role: String) -> (String, String) {
        let s = schema
        let one = #"""
            CREATE SCHEMA \#(s);
            CREATE TYPE \#(s)."Mood ""e""" AS ENUM ('ha''ppy', 'sa d');
            CREATE TABLE \#(s)."select" (
              "table" int PRIMARY KEY,
              "col with space" text DEFAULT 'it''s',
              "Ünïcödé列" numeric(10,2),
              "UPPER" boolean NOT NULL DEFAULT true,
              "a.b" int CONSTRAINT "chk ""a.b""" CHECK ("a.b" > 0),
              "\#(column63)" int,
              "mood" \#(s)."Mood ""e""" DEFAULT 'sa d'
            );
            CREATE TABLE public."\#(long63)" (id int REFERENCES \#(s)."select"("table"), "x""y" text);
            CREATE TABLE "\#(long70)" (a int);
            CREATE INDEX "idx ""quoted"" ☃" ON \#(s)."select" ("col with space", lower("UPPER"::text));
            CREATE VIEW \#(s)."view.of ""select""" AS SELECT "table", "col with space" AS "Alias ""x""" FROM \#(s)."select";
            CREATE FUNCTION \#(s)."fn ""quoted"" ☃"("in put" int DEFAULT 1, "select" text DEFAULT 'a''b', "Ünï" numeric DEFAULT NULL)
              RETURNS text LANGUAGE sql AS $$ SELECT "select" || "in put"::text $$;
            CREATE FUNCTION \#(s)."trg fn"() RETURNS trigger LANGUAGE plpgsql
              AS $$ BEGIN NEW."col with space" := coalesce(NEW."col with space", 'x'); RETURN NEW; END $$;
            CREATE TRIGGER "trg ""on"" select" BEFORE INSERT ON \#(s)."select" FOR EACH ROW EXECUTE FUNCTION \#(s)."trg fn"();
            GRANT USAGE ON SCHEMA \#(s) TO \#(role);
            GRANT SELECT ("table", "col with space") ON \#(s)."select" TO \#(role);
            GRANT SELECT ON \#(s)."view.of ""select""" TO \#(role);
            GRANT EXECUTE ON FUNCTION \#(s)."fn ""quoted"" ☃"(int, text, numeric) TO \#(role);
            COMMENT ON COLUMN \#(s)."select"."col with space" IS 'it''s a "comment"';

            """#
        let two = #"""
            ALTER TABLE \#(s)."select" ADD COLUMN "new ""col""" int DEFAULT 7;
            CREATE OR REPLACE VIEW \#(s)."view.of ""select""" AS
              SELECT "table", "col with space" AS "Alias ""x""", "new ""col""" FROM \#(s)."select";
            CREATE OR REPLACE FUNCTION \#(s)."fn ""quoted"" ☃"("in put" int DEFAULT 2, "select" text DEFAULT 'c''d', "Ünï" numeric DEFAULT NULL)
              RETURNS text LANGUAGE sql AS $$ SELECT "select" || ("in put" + 1)::text $$;
            ALTER TABLE public."\#(long63)" ALTER COLUMN "x""y" SET DEFAULT 'd"q';
            REVOKE SELECT ON \#(s)."view.of ""select""" FROM \#(role);
            DROP TRIGGER "trg ""on"" select" ON \#(s)."select";
            CREATE INDEX "\#(column63)" ON public."\#(long63)" ("x""y");

            """#
        return (one, two)
    }

    @Test func quotedUnicodeReservedAndLongNamesRoundTrip() throws {
        let project = try TestProject(prefix: "hostile-names")
        defer { project.remove() }
        let roleName = #"Ro"le. x ☃ "# + String(UInt32.random(in: 0...UInt32.max))
        let role = "\"" + roleName.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let admin = try PostgresConnection(conninfo: try TestCluster.shared().conninfo)
        defer { admin.close() }
        try admin.execute("CREATE ROLE \(role)")
        let (one, two) = Self.bundles(role: role)
        try project.write("bundles/1-names.sql", one)
        try project.write("bundles/2-alter.sql", two)
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        #expect(Hostile.bundle(["lock", "names", "bundles/1-names.sql", "bundles/2-alter.sql"], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "hostile_names").conninfo
        let before = try Hostile.schemaDump(db)

        let plan = Hostile.bundle(["plan", "names", "--db", db], cwd: project.root)
        #expect(plan.status == 0, "no false findings for odd names: \(plan.stdout)\(plan.stderr)")
        let apply = Hostile.bundle(["apply", "names", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        Hostile.expectNoCrash(apply)
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(Hostile.subjects("bundle/t", cwd: project.root).count == 3)

        // The result is exactly what psql -1 makes of the same files.
        let reference = try TestCluster.makeDatabase(prefix: "hostile_names_ref").conninfo
        for file in ["bundles/1-names.sql", "bundles/2-alter.sql"] {
            let load = loadSQLFile(conninfo: reference, path: project.root.appendingPathComponent(file).path)
            #expect(load.status == 0, "\(load.stderr)")
        }
        let applied = try Hostile.schemaDump(db)
        #expect(applied == (try Hostile.schemaDump(reference)))
        #expect(applied.contains(#"CREATE TRIGGER"#) == false, "TXN-2 dropped the trigger")
        #expect(applied.contains(#"GRANT USAGE ON SCHEMA "Sch.ema ""q""" TO \#(role)"#))

        let drift = Hostile.bundle(["drift", "--db", db, "--target", "t"], cwd: project.root)
        #expect(drift.status == 0, "no drift right after apply: \(drift.stdout)\(drift.stderr)")

        let baseline = Hostile.git(["rev-list", "--max-parents=0", "bundle/t"], cwd: project.root).trimmingCharacters(in: .whitespacesAndNewlines)
        let rollback = Hostile.bundle(["rollback", baseline, "--db", db, "--target", "t"], cwd: project.root)
        Hostile.expectNoCrash(rollback)
        #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
        #expect(try Hostile.schemaDump(db) == before, "rollback to the baseline restores the schema exactly")
        #expect(Hostile.bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)

        // And forward again.
        let again = Hostile.bundle(["apply", "names", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(try Hostile.schemaDump(db) == applied)
    }

    /// PostgreSQL compares names and text byte for byte; Swift's `String ==` by canonical equivalence. Two tables
    /// and two functions named "é" precomposed (U+00E9) and decomposed (e + U+0301) are four objects: each has
    /// its own state file, a comment changed only in its normalization is recorded, the plan tells the twins
    /// apart, and rollback drops exactly the decomposed table a bundle created.
    @Test func namesThatDifferOnlyInNormalizationStayApart() throws {
        let composed = "\u{E9}"
        let decomposed = "e\u{301}"
        let project = try TestProject(prefix: "hostile-nfd")
        defer { project.remove() }
        try project.write("bundles/1-comment.sql", "COMMENT ON TABLE \"\(composed)\" IS '\(decomposed)';\n")
        try project.write(
            "bundles/2-create.sql",
            "CREATE TABLE \"\(decomposed)x\" (c int);\nALTER TABLE \"\(decomposed)\" ADD COLUMN d int;\nCREATE TABLE \"\(composed)x\" (c int);\n")
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        #expect(Hostile.bundle(["lock", "n", "bundles/1-comment.sql", "bundles/2-create.sql"], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "hostile_nfd").conninfo
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        try connection.execute(
            """
            CREATE TABLE "\(composed)" (a int); CREATE TABLE "\(decomposed)" (b text);
            COMMENT ON TABLE "\(composed)" IS '\(composed)';
            CREATE FUNCTION "f\(composed)"(x int) RETURNS int LANGUAGE sql AS 'SELECT 1';
            CREATE FUNCTION "f\(decomposed)"(x int) RETURNS int LANGUAGE sql AS 'SELECT 2';
            """)
        let plan = Hostile.bundle(["plan", "n", "--db", db], cwd: project.root)
        #expect(plan.status == 0, "the twins are two tables to the plan: \(plan.stdout)\(plan.stderr)")
        let apply = Hostile.bundle(["apply", "n", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")

        let files = Hostile.git(["ls-tree", "-r", "--name-only", "-z", "bundle/t", "state/"], cwd: project.root).split(separator: "\0").map(String.init)
        let tables = files.filter { $0.hasPrefix("state/public/tables/") }
        #expect(tables.count == 4, "\(tables.map { Array($0.utf8) })")
        let routines = files.filter { $0.hasPrefix("state/public/functions/") }
        #expect(routines.count == 2, "\(routines.map { Array($0.utf8) })")
        let signatures = Hostile.git(["show", "bundle/t:state/signatures.tsv"], cwd: project.root)
        #expect(signatures.split(separator: "\n").count == 3, "\(signatures)")
        // Bundle 1 changed the comment's bytes only: its commit records that.
        let changed = Hostile.git(["diff", "--name-only", "bundle/t~2", "bundle/t~1"], cwd: project.root)
        #expect(changed.contains("state/public/tables/"), "\(changed)")
        #expect(Hostile.bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)

        let baseline = Hostile.git(["rev-list", "--max-parents=0", "bundle/t"], cwd: project.root).trimmingCharacters(in: .whitespacesAndNewlines)
        let rollback = Hostile.bundle(["rollback", baseline, "--db", db, "--target", "t"], cwd: project.root)
        #expect(rollback.status == 0, "\(rollback.stdout)\(rollback.stderr)")
        let names = try connection.query("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'").rows.map { $0[0] ?? "" }
        #expect(Set(names.map { Array($0.utf8) }) == [Array(composed.utf8), Array(decomposed.utf8)], "\(names)")
        #expect(try connection.query("SELECT obj_description('\"\(composed)\"'::regclass)").rows[0][0].map { Array($0.utf8) } == Array(composed.utf8))
        let after = Hostile.bundle(["drift", "--db", db, "--target", "t"], cwd: project.root)
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
    }

    /// A bundle may create a role and grant to it in later statements (the plan tracks created roles).
    @Test func roleCreatedInTheBundleCanBeGrantedTo() throws {
        let project = try TestProject(prefix: "hostile-role")
        defer { project.remove() }
        let role = #""new ""role"" \#(UInt32.random(in: 0...UInt32.max))""#
        try project.write("bundles/1-role.sql", "CREATE ROLE \(role);\nCREATE TABLE granted (a int);\nGRANT SELECT ON granted TO \(role);\n")
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        #expect(Hostile.bundle(["lock", "r", "bundles/1-role.sql"], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "hostile_role").conninfo
        let plan = Hostile.bundle(["plan", "r", "--db", db], cwd: project.root)
        #expect(plan.status == 0, "\(plan.stdout)")
        #expect(!plan.stdout.contains("role-does-not-exist"))
    }
}
