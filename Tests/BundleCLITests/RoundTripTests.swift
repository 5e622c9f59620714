import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// A generated lock of 50 varied bundles applies and rolls back to the start with an identical schema dump:
/// every kind of auto-generated rollback is exercised and verified by bundle itself at every step.
@Suite struct RoundTripTests {
    func bundle(_ args: [String], cwd: URL, environment: [String: String] = [:]) -> (status: Int32, stdout: String, stderr: String) {
        runBundle(args, cwd: cwd, environment: environment)
    }

    func dump(_ conninfo: String, data: Bool = false) throws -> String {
        try #require(dumpSchema(conninfo, extraArguments: data ? ["--data-only", "--table=public.cfg"] : ["--schema-only"]), "pg_dump failed")
    }

    /// Bundle `i` of the generated history (ten shapes, five rounds).
    static func bundleSQL(_ i: Int) -> String {
        switch i % 10 {
        case 0: return "CREATE TABLE t_\(i) (id int PRIMARY KEY, name text NOT NULL DEFAULT 'x', created timestamptz DEFAULT now());\n"
        case 1: return "ALTER TABLE t_\(i - 1) ADD COLUMN extra_\(i) integer DEFAULT 0;\nCREATE INDEX t_\(i - 1)_extra_idx ON t_\(i - 1) (extra_\(i));\n"
        case 2: return "CREATE VIEW v_\(i) AS SELECT id, name FROM t_\(i - 2);\nGRANT SELECT ON v_\(i) TO PUBLIC;\n"
        case 3:
            return """
                CREATE FUNCTION f_\(i)(a int, b text DEFAULT 'd') RETURNS text LANGUAGE sql AS $$ SELECT b || a $$;
                CREATE FUNCTION f_\(i)(a bigint) RETURNS text LANGUAGE sql AS $$ SELECT 'big' || a $$;

                """
        case 4:
            return """
                CREATE OR REPLACE FUNCTION f_\(i - 1)(a int, b text DEFAULT 'd') RETURNS text LANGUAGE sql AS $$ SELECT b || a || 'v2' $$;
                COMMENT ON FUNCTION f_\(i - 1)(int, text) IS 'second version';
                REVOKE EXECUTE ON FUNCTION f_\(i - 1)(bigint) FROM PUBLIC;

                """
        case 5:
            return """
                CREATE FUNCTION trg_\(i)() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.name := upper(NEW.name); RETURN NEW; END $$;
                CREATE TRIGGER trg_\(i) BEFORE INSERT ON t_\(i - 5) FOR EACH ROW EXECUTE FUNCTION trg_\(i)();

                """
        case 6: return "CREATE TYPE e_\(i) AS ENUM ('a', 'b');\nCOMMENT ON TYPE e_\(i) IS 'states';\n"
        case 7: return "ALTER TYPE e_\(i - 1) ADD VALUE 'c';\n"
        case 8: return "INSERT INTO cfg (k, v) VALUES ('key_\(i)', 'on');\nUPDATE cfg SET v = 'changed_\(i)' WHERE k = 'seed';\n"
        default:
            return """
                COMMENT ON TABLE t_\(i - 9) IS 'table \(i)';
                GRANT SELECT, INSERT ON t_\(i - 9) TO PUBLIC;
                ALTER TABLE t_\(i - 9) ALTER COLUMN name SET DEFAULT 'y';
                COMMENT ON COLUMN t_\(i - 9).name IS 'the name';

                """
        }
    }

    @Test func fiftyVariedBundlesApplyAndRollBackToAnIdenticalSchema() throws {
        let project = try TestProject(prefix: "roundtrip")
        defer { project.remove() }
        var paths: [String] = []
        for i in 0..<50 {
            paths.append(try project.write(String(format: "bundles/r/%02d-b.sql", i), Self.bundleSQL(i)))
        }
        #expect(bundle(["init", "."], cwd: project.root).status == 0)
        #expect(bundle(["lock", "r"] + paths, cwd: project.root).status == 0)
        // The config table is watched, so config rows are recorded and restored.
        let lockURL = project.root.appendingPathComponent("locks/r.lock")
        var lock = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: lockURL)) as? [String: Any])
        lock["watch"] = ["config": [["table": "public.cfg", "key": "k", "value": "v"]], "tables": ["public.cfg"]]
        try JSONSerialization.data(withJSONObject: lock).write(to: lockURL)
        #expect(bundle(["lock", "r", "--update"], cwd: project.root).status == 0)

        let db = try TestCluster.makeDatabase(prefix: "roundtrip").conninfo
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        try connection.execute("CREATE TABLE cfg (k text PRIMARY KEY, v text NOT NULL)")
        try connection.execute("INSERT INTO cfg VALUES ('seed', 'original')")
        let schemaBefore = try dump(db)
        let configBefore = try dump(db, data: true)

        let applied = bundle(["apply", "r", "--txn", "--db", db, "--target", "rt"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("50 bundles applied"))
        #expect(bundle(["drift", "--db", db, "--target", "rt"], cwd: project.root).status == 0)

        let root = runProcess("git", ["-C", project.root.path, "rev-list", "--max-parents=0", "bundle/rt"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let rolledBack = bundle(["rollback", root, "--db", db, "--target", "rt"], cwd: project.root)
        #expect(rolledBack.status == 0, "\(rolledBack.stdout)\(rolledBack.stderr)")
        #expect(rolledBack.stdout.split(separator: "\n").filter { $0.hasPrefix("undone ") }.count == 50)
        #expect(try dump(db) == schemaBefore, "after rolling back 50 bundles the schema must equal the start")
        #expect(try dump(db, data: true) == configBefore, "watched config rows are restored")
        #expect(bundle(["drift", "--db", db, "--target", "rt"], cwd: project.root).status == 0)
    }

    /// Renames change the text of other objects (views, foreign keys, defaults, argument types): the state each
    /// commit records must still equal a full capture (no drift), and the rollback must restore the start.
    @Test func renamesKeepRecordedStateExact() throws {
        let bundles = [
            "CREATE TYPE mood AS ENUM ('ok');\nCREATE SEQUENCE ids;\nCREATE TABLE parent (id int PRIMARY KEY DEFAULT nextval('ids'), m mood);\nCREATE TABLE child (pid int REFERENCES parent (id));\nCREATE VIEW pv AS SELECT id, m FROM parent;\nCREATE FUNCTION fm(x mood) RETURNS mood LANGUAGE sql AS 'select x';\n",
            "ALTER TABLE parent RENAME COLUMN id TO parent_id;\n",
            "ALTER TABLE parent RENAME TO parents;\nALTER SEQUENCE ids RENAME TO parent_ids;\n",
            "ALTER TYPE mood RENAME TO feeling;\n",
            "CREATE SCHEMA extra;\nALTER TABLE child SET SCHEMA extra;\n",
        ]
        try RoundTrip.check("renames", bundles)
    }
}
