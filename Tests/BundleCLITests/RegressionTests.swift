import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// Regressions found in review: each scenario must keep the recorded state exact (no drift after apply) and
/// roll back to a pg_dump-identical start.
/// Applies `bundles` (in order) with `mode`, checks drift is clean, rolls back to the baseline, compares dumps.
enum RoundTrip {
    static func check(_ prefix: String, _ bundles: [String], prestate: String? = nil, mode: String = "--txn") throws {
        let project = try TestProject(prefix: prefix)
        defer { project.remove() }
        var paths: [String] = []
        for (index, sql) in bundles.enumerated() { paths.append(try project.write("bundles/r/\(index)-b.sql", sql)) }
        #expect(runBundle(["init", "."], cwd: project.root).status == 0)
        #expect(runBundle(["lock", "r"] + paths, cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: prefix).conninfo
        if let prestate {
            let connection = try PostgresConnection(conninfo: db)
            try connection.execute(prestate)
            connection.close()
        }
        let start = try #require(dumpSchema(db))
        let applied = runBundle(["apply", "r", mode, "--db", db, "--target", "t"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let drift = runBundle(["drift", "--db", db, "--target", "t"], cwd: project.root)
        #expect(drift.status == 0, "the recorded state must equal a full capture: \(drift.stdout)")
        let root = runProcess("git", ["-C", project.root.path, "rev-list", "--max-parents=0", "bundle/t"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let rolledBack = runBundle(["rollback", root, "--db", db, "--target", "t"], cwd: project.root)
        #expect(rolledBack.status == 0, "\(rolledBack.stdout)\(rolledBack.stderr)")
        #expect(dumpSchema(db) == start)
    }
}

@Suite struct RegressionTests {
    func roundTrip(_ prefix: String, _ bundles: [String], prestate: String? = nil, mode: String = "--txn") throws {
        try RoundTrip.check(prefix, bundles, prestate: prestate, mode: mode)
    }

    @Test func atomicBundlesChangingTheSameObjectTwice() throws {
        try roundTrip(
            "reg_atomic",
            [
                "CREATE TABLE t1 (id int);\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
                "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 2';\nALTER TABLE t1 ADD COLUMN v text;\n",
            ], mode: "--atomic")
    }

    @Test func dataOnlyBundleDoesNotBlockRollback() throws {
        try roundTrip("reg_dataonly", ["CREATE TABLE a1 (id int);\n", "INSERT INTO a1 VALUES (1);\n", "CREATE TABLE a2 (id int);\n"])
    }

    @Test func columnTypePoliciesAndRowLevelSecurityAreUndone() throws {
        try roundTrip(
            "reg_tablechanges",
            [
                "ALTER TABLE acct ALTER COLUMN amount TYPE bigint;\n",
                "ALTER TABLE acct ENABLE ROW LEVEL SECURITY;\nCREATE POLICY p_all ON acct USING (true);\n",
                "DROP POLICY p_all ON acct;\nCREATE POLICY p_all ON acct USING (amount > 0);\nALTER TABLE acct ADD COLUMN note text;\n",
            ], prestate: "CREATE TABLE acct (id int PRIMARY KEY, amount int)")
    }

    @Test func schemaRenameSeenByObjectsThatReferToIt() throws {
        try roundTrip(
            "reg_schemarename",
            [
                "CREATE SCHEMA s2;\nCREATE TABLE s2.t (id int PRIMARY KEY);\nCREATE TABLE r (tid int REFERENCES s2.t (id));\nCREATE VIEW v AS SELECT id FROM s2.t;\n",
                "ALTER SCHEMA s2 RENAME TO s3;\n",
            ])
    }

    @Test func addingAFileKeepsTheNamesOfAppliedBundles() throws {
        let project = try TestProject(prefix: "reg-names")
        defer { project.remove() }
        try project.write("bundles/A-x.sql", "CREATE TABLE x (id int);\n")
        try project.write("bundles/B-y.sql", "CREATE TABLE y (id int);\n")
        #expect(runBundle(["init", "."], cwd: project.root).status == 0)
        #expect(runBundle(["lock", "n", "bundles/A-x.sql", "bundles/B-y.sql"], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "reg_names").conninfo
        #expect(runBundle(["apply", "n", "--txn", "--db", db], cwd: project.root).status == 0)
        try project.write("bundles/A-z.sql", "CREATE TABLE z (id int);\n")
        #expect(runBundle(["lock", "n", "bundles/A-x.sql", "bundles/B-y.sql", "bundles/A-z.sql"], cwd: project.root).status == 0)
        let status = runBundle(["status", "n", "--db", db], cwd: project.root)
        #expect(status.stdout.split(separator: "\n").filter { $0.hasPrefix("applied ") }.count == 2, "\(status.stdout)")
        #expect(status.stdout.split(separator: "\n").filter { $0.hasPrefix("pending ") }.count == 1)
        let again = runBundle(["apply", "n", "--txn", "--db", db], cwd: project.root)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("1 bundle applied"))
    }
}

@Suite struct CommitFailureTests {
    @Test func deferredConstraintFailingAtCommitIsReportedAndRolledBack() throws {
        let project = try TestProject(prefix: "reg-commit")
        defer { project.remove() }
        try project.write(
            "bundles/c/1-deferred.sql",
            "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (pid int REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO c VALUES (42);\n")
        #expect(runBundle(["init", "."], cwd: project.root).status == 0)
        #expect(runBundle(["lock", "c", "bundles/c/1-deferred.sql"], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "reg_commit").conninfo
        let result = runBundle(["apply", "c", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("bundles/c/1-deferred.sql:3:"), "\(result.stdout)")
        #expect(result.stdout.contains("ERROR 23503"))
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*) FROM pg_class WHERE relname IN ('p', 'c')").rows[0][0] == "0")
        #expect(try connection.query("SELECT count(*) FROM bundle.registry").rows[0][0] == "0")
    }

    /// A deferred constraint trigger runs at COMMIT with the bundle's own session settings, not with the
    /// settings pinned while the state was captured (an empty search_path would hide `public.audit`).
    @Test func deferredTriggersRunWithTheSessionSettings() throws {
        try RoundTrip.check(
            "reg_deferred",
            ["INSERT INTO cfg VALUES ('gate', 'on');\n"],
            prestate: """
                CREATE TABLE audit (n int);
                CREATE TABLE cfg (key text PRIMARY KEY, value text);
                CREATE FUNCTION note_cfg() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN INSERT INTO audit VALUES (1); RETURN NULL; END$$;
                CREATE CONSTRAINT TRIGGER cfg_noted AFTER INSERT ON cfg DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION note_cfg();
                """)
    }

    /// Applies `CREATE TABLE one` with `verify` pinned as its verify script; returns the apply's output and database.
    func applyWithVerify(_ prefix: String, verify: String) throws -> (result: (status: Int32, stdout: String, stderr: String), db: String) {
        let project = try TestProject(prefix: prefix)
        defer { project.remove() }
        let bundle = try project.write("bundles/v/1-one.sql", "CREATE TABLE one (a int);\n")
        _ = try project.write("bundles/v/1-one.verify.sql", verify)
        #expect(runBundle(["init", "."], cwd: project.root).status == 0)
        #expect(runBundle(["lock", "v", bundle], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: prefix).conninfo
        return (runBundle(["apply", "v", "--txn", "--db", db, "--target", "t"], cwd: project.root), db)
    }

    /// A verify script checks, it never changes the target: what it does is rolled back, and so is not missing
    /// from the recorded state.
    @Test func verifyScriptChangesAreRolledBack() throws {
        let project = try TestProject(prefix: "reg_verify")
        defer { project.remove() }
        let bundle = try project.write("bundles/v/1-one.sql", "CREATE TABLE one (a int);\n")
        _ = try project.write("bundles/v/1-one.verify.sql", "CREATE TABLE made_by_verify (a int);\nSELECT to_regclass('public.one') IS NOT NULL;\n")
        #expect(runBundle(["init", "."], cwd: project.root).status == 0)
        #expect(runBundle(["lock", "v", bundle], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "reg_verify").conninfo
        let applied = runBundle(["apply", "v", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        #expect(try connection.query("SELECT to_regclass('public.one') IS NOT NULL, to_regclass('public.made_by_verify') IS NULL").rows.first == ["t", "t"])
        #expect(runBundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
    }

    /// A verify script cannot end the bundle's transaction from inside its check.
    @Test func verifyScriptWithTransactionControlFailsTheBundle() throws {
        let (applied, db) = try applyWithVerify("reg_verify_tx", verify: "ROLLBACK;\nSELECT true;\n")
        #expect(applied.status == 1, "\(applied.stdout)\(applied.stderr)")
        #expect(applied.stdout.contains("must not contain transaction control"), "\(applied.stdout)")
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        #expect(try connection.query("SELECT to_regclass('public.one') IS NULL, (SELECT count(*) FROM bundle.registry)").rows.first == ["t", "0"])
    }

    /// A quote followed by a combining mark is still a quote when the rollback generator splits a state file.
    @Test func quoteFollowedByCombiningMarkInAComment() throws {
        try RoundTrip.check(
            "reg_combining",
            ["GRANT SELECT ON tc TO PUBLIC;\nCOMMENT ON COLUMN tc.a IS 'c';\n"],
            prestate: "CREATE TABLE tc (a int); COMMENT ON TABLE tc IS E'x''\\u0301y'")
    }

    /// A run killed after its last bundle's COMMIT leaves that commit only as a recipe; the next apply has nothing
    /// to run but still writes it, and the branch, the registry and the catalog agree.
    @Test func killedAfterTheLastCommitIsRepairedByAnApplyWithNothingToRun() throws {
        let project = try TestProject(prefix: "reg_kill_last")
        defer { project.remove() }
        let bundle = try project.write("bundles/k/1-one.sql", "CREATE TABLE one (a int);\n")
        #expect(runBundle(["init", "."], cwd: project.root).status == 0)
        #expect(runBundle(["lock", "k", bundle], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "reg_kill_last").conninfo
        let killed = runBundle(["apply", "k", "--txn", "--db", db, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_KILL_AT": "after-commit"])
        #expect(killed.status != 0 && killed.status != 1, "killed: \(killed.status)")
        let again = runBundle(["apply", "k", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("from the registry"), "\(again.stdout)")
        let subjects = runProcess("git", ["-C", project.root.path, "log", "--format=%s", "bundle/t"]).stdout.split(separator: "\n")
        #expect(subjects.count == 2, "\(subjects)")
        #expect(runBundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
    }
}
