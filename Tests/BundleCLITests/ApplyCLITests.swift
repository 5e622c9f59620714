import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// `bundle apply` end to end with the real executable, a real server and a real git repository.
@Suite struct ApplyCLITests {
    func bundle(_ args: [String], cwd: URL, environment: [String: String] = [:]) -> (status: Int32, stdout: String, stderr: String) {
        runBundle(args, cwd: cwd, environment: environment)
    }

    func gitOutput(_ args: [String], cwd: URL) -> String {
        runProcess("git", ["-C", cwd.path] + args).stdout
    }

    /// `bundle init .` and `bundle lock LOCK-ARGUMENTS…` in the project, each expected to succeed.
    func initAndLock(_ project: TestProject, _ lockArguments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(bundle(["init", "."], cwd: project.root).status == 0, sourceLocation: sourceLocation)
        #expect(bundle(["lock"] + lockArguments, cwd: project.root).status == 0, sourceLocation: sourceLocation)
    }

    func schemaDump(_ conninfo: String) throws -> String {
        try #require(dumpSchema(conninfo), "pg_dump failed")
    }

    /// A project with the M3a bundles and locks, in its own git repository, and a database with the M3a pre-state.
    func m3aProject() throws -> (TestProject, String) {
        let project = try TestProject(prefix: "apply-m3a")
        for name in try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("bundles/m3a").path) {
            try project.write("bundles/m3a/\(name)", try Data(contentsOf: repositoryRoot.appendingPathComponent("bundles/m3a/\(name)")))
        }
        for name in ["m3a.lock", "m3a-fixed.lock"] {
            try project.write("locks/\(name)", try Data(contentsOf: repositoryRoot.appendingPathComponent("locks/\(name)")))
        }
        #expect(bundle(["init", "."], cwd: project.root).status == 0)
        let database = try TestCluster.makeDatabase(prefix: "apply_m3a")
        let load = loadSQLFile(conninfo: database.conninfo, path: repositoryRoot.appendingPathComponent("bundles/m3a/prestate.sql").path)
        #expect(load.status == 0, "\(load.stderr)")
        return (project, database.conninfo)
    }

    @Test func m3aRefusesThenAppliesFixedAsFiveCommits() throws {
        let (project, db) = try m3aProject()
        defer { project.remove() }
        let before = try schemaDump(db)
        let refused = bundle(["apply", "locks/m3a.lock", "--txn", "--db", db, "--target", "m3a"], cwd: project.root)
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stdout.contains("apply refused"))
        #expect(refused.stdout.contains("42P13"))
        #expect(try schemaDump(db) == before, "a refused apply must not touch the target")
        #expect(gitOutput(["rev-parse", "--verify", "-q", "bundle/m3a"], cwd: project.root).isEmpty, "no branch for a refused apply")

        let applied = bundle(["apply", "locks/m3a-fixed.lock", "--txn", "--db", db, "--target", "m3a"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let subjects = gitOutput(["log", "--format=%s", "bundle/m3a"], cwd: project.root).split(separator: "\n")
        #expect(subjects.count == 6, "\(subjects)")
        #expect(subjects.first?.hasPrefix("apply m3a-fixed TXN-5 E: replace public.fn_iu_apply_edit_draft(uuid,text,text)") == true)
        #expect(subjects.last?.hasPrefix("baseline m3a") == true)
        let trailers = gitOutput(["log", "-1", "--format=%(trailers:only,unfold)", "bundle/m3a"], cwd: project.root)
        for key in ["Bundle-Sha256:", "Lock: m3a-fixed", "Lock-Sha256:", "Txn: 5", "Target: m3a", "Database:", "Server-Version: 15", "Role: postgres"] {
            #expect(trailers.contains(key), "missing trailer \(key) in \(trailers)")
        }
        // Each commit records the applied bytes and a rollback script.
        let tree = gitOutput(["ls-tree", "-r", "--name-only", "bundle/m3a"], cwd: project.root)
        for txn in 1...5 {
            #expect(tree.contains("applied/TXN-\(txn)-"))
            #expect(tree.contains("rollback/TXN-\(txn)-"))
        }
        let appliedE = gitOutput(["show", "bundle/m3a:applied/TXN-5-E.sql"], cwd: project.root)
        #expect(appliedE == String(decoding: project.read("bundles/m3a/E-fn-iu-apply-edit-draft-fixed.sql")!, as: UTF8.self))
        let rollbackE = gitOutput(["show", "bundle/m3a:rollback/TXN-5-E.sql"], cwd: project.root)
        #expect(rollbackE.contains("p_review_note text DEFAULT NULL::text"), "the rollback restores the exact previous definition")
        // The diff of TXN-5 touches only the function's state file (plus applied/ and rollback/).
        let changed = gitOutput(["diff", "--name-only", "bundle/m3a~1", "bundle/m3a"], cwd: project.root).split(separator: "\n")
        #expect(changed.filter { $0.hasPrefix("state/") && !$0.hasPrefix("state/signatures") }.allSatisfy { $0.contains("fn_iu_apply_edit_draft") }, "\(changed)")
        // The working tree and HEAD are untouched.
        #expect(gitOutput(["status", "--porcelain", "--untracked-files=no"], cwd: project.root).isEmpty)

        let again = bundle(["apply", "m3a-fixed", "--txn", "--db", db, "--target", "m3a"], cwd: project.root)
        #expect(again.status == 0)
        #expect(again.stdout.contains("nothing to apply"))
        #expect(gitOutput(["log", "--format=%s", "bundle/m3a"], cwd: project.root).split(separator: "\n").count == 6)
        let status = bundle(["status", "m3a-fixed", "--db", db, "--target", "m3a"], cwd: project.root)
        #expect(status.status == 0)
        #expect(status.stdout.split(separator: "\n").filter { $0.hasPrefix("applied ") }.count == 5)
        let log = bundle(["log", "public.fn_iu_apply_edit_draft(uuid,text,text)", "--target", "m3a"], cwd: project.root)
        #expect(log.status == 0, "\(log.stderr)")
        #expect(log.stdout.contains("TXN-5 E"))
        #expect(!log.stdout.contains("TXN-4 D"))
    }

    /// A lock whose third bundle fails at run time (division by zero: no plan can see it).
    func failingProject(prefix: String) throws -> (TestProject, String) {
        let project = try TestProject(prefix: prefix)
        try project.write("bundles/f/1-one.sql", "CREATE TABLE one (a int);\n")
        try project.write("bundles/f/2-two.sql", "CREATE TABLE two (a int);\n")
        try project.write("bundles/f/3-three.sql", "CREATE TABLE three (a int);\nINSERT INTO three SELECT 1 / 0;\n")
        initAndLock(project, ["f", "bundles/f/1-one.sql", "bundles/f/2-two.sql", "bundles/f/3-three.sql"])
        let database = try TestCluster.makeDatabase(prefix: prefix)
        return (project, database.conninfo)
    }

    @Test func failureInTxn3KeepsOneAndTwoAndRollsBackThree() throws {
        let (project, db) = try failingProject(prefix: "apply_fail")
        defer { project.remove() }
        let result = bundle(["apply", "f", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(result.status == 1)
        #expect(result.stdout.contains("bundles/f/3-three.sql:2:"), "\(result.stdout)")
        #expect(result.stdout.contains("ERROR 22012: division by zero"))
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        let tables = try connection.query("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relname IN ('one','two','three')").rows[0][0]
        #expect(tables == "one,two")
        let rows = try connection.query("SELECT string_agg(bundle_name, ',' ORDER BY id) FROM bundle.registry").rows[0][0]
        #expect(rows == "1,2")
        let subjects = gitOutput(["log", "--format=%s", "bundle/t"], cwd: project.root).split(separator: "\n")
        #expect(subjects.count == 3, "baseline + TXN-1 + TXN-2: \(subjects)")
        #expect(!subjects.contains { $0.contains("TXN-3") })
    }

    /// The registry row, the settings restore and COMMIT go to the server in one round trip: a COMMIT that fails
    /// there (a deferred foreign key) is still reported at the end of the bundle, with nothing of it left behind.
    @Test func failingCommitLeavesNothingOfTheBundle() throws {
        let project = try LockedTestProject(prefix: "apply-commit-fails", lock: "d", bundles: [
            ("bundles/d/1-parent.sql", "CREATE TABLE parent (id int PRIMARY KEY);\n"),
            ("bundles/d/2-child.sql", "CREATE TABLE child (pid int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);\nINSERT INTO child VALUES (42);\n"),
        ])
        defer { project.remove() }
        let db = project.conninfo
        let result = bundle(["apply", "d", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(result.status == 1)
        // Reported at the end of the bundle file (where COMMIT failed), with the server's error.
        #expect(result.stdout.contains("bundles/d/2-child.sql:2:29:"), "\(result.stdout)")
        #expect(result.stdout.contains("ERROR 23503"), "\(result.stdout)")
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        #expect(try connection.query("SELECT to_regclass('public.child') IS NULL").rows[0][0] == "t")
        #expect(try connection.query("SELECT string_agg(bundle_name, ',' ORDER BY id) FROM bundle.registry").rows[0][0] == "1")
        let subjects = gitOutput(["log", "--format=%s", "bundle/t"], cwd: project.root).split(separator: "\n")
        #expect(subjects.count == 2, "baseline + TXN-1: \(subjects)")
        // The session is usable afterwards: the next apply (after fixing the lock) runs on the same target.
        #expect(bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
    }

    /// Review finding: a `$1` outside strings is reported as the server reports it run alone (42P02, at the `$1`),
    /// not as a protocol error of a pipelined statement.
    @Test func parameterReferenceIsReportedWhereItIs() throws {
        let project = try LockedTestProject(prefix: "apply-param", lock: "p", bundles: [("bundles/p/1-p.sql", "CREATE TABLE p1 (x int);\nINSERT INTO p1 VALUES ($1);\n")])
        defer { project.remove() }
        let db = project.conninfo
        let result = bundle(["apply", "p", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        let report = result.stdout + result.stderr
        #expect(report.contains("1-p.sql:2:") && report.contains("42P02"), "\(report)")
    }

    /// Scratch tables a bundle creates, uses and drops again (a temporary one named like a permanent table, and a
    /// permanent one) are not expected to exist after the bundle: it applies, the next bundle of the same session
    /// still sees the temporary table it kept, and the recorded state has none of them.
    @Test func scratchTablesCreatedAndDroppedInABundleApply() throws {
        let project = try TestProject(prefix: "apply-scratch")
        defer { project.remove() }
        try project.write("bundles/s/1-s.sql", """
            CREATE TEMP TABLE accounts (id int, note text);
            INSERT INTO accounts (id, note) VALUES (1, 'scratch');
            CREATE TABLE public.staging AS SELECT id FROM accounts;
            UPDATE public.accounts SET balance = balance + 1 WHERE id IN (SELECT id FROM public.staging);
            DROP TABLE public.staging;
            DROP TABLE accounts;
            CREATE TEMP TABLE kept (n int);
            CREATE TEMP TABLE indexed (id int);
            CREATE INDEX ON indexed (id);
            DROP TABLE indexed;
            CREATE VIEW kept_view AS SELECT n FROM kept;
            CREATE TABLE public.renamed (a int);
            CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
            CREATE TRIGGER renamed_touch BEFORE INSERT ON public.renamed FOR EACH ROW EXECUTE FUNCTION public.touch();
            ALTER TABLE public.renamed RENAME TO renamed_too;
            CREATE FUNCTION public.k1() RETURNS int LANGUAGE sql AS 'SELECT 1';
            CREATE FUNCTION public.k2() RETURNS int LANGUAGE sql AS 'SELECT 2';
            DROP FUNCTION public.k1(), public.k2();
            CREATE SCHEMA sa;
            CREATE SCHEMA sb;
            CREATE TABLE sa.x (a int);
            CREATE TABLE sb.y (a int);
            DROP SCHEMA sa, sb CASCADE;
            SET search_path = public;
            CREATE TABLE h1 (a int);
            SELECT 1 AS a INTO archived;
            ALTER TABLE archived ADD COLUMN b int;

            """)
        try project.write("bundles/s/2-s.sql", "INSERT INTO kept VALUES (1);\nSELECT n FROM kept_view;\nCREATE TABLE public.audit (n int);\n")
        initAndLock(project, ["s", "bundles/s/1-s.sql", "bundles/s/2-s.sql"])
        let db = try TestCluster.makeDatabase(prefix: "apply_scratch").conninfo
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        try connection.execute("CREATE TABLE public.accounts (id int, balance int); INSERT INTO public.accounts VALUES (1, 10)")
        let plan = bundle(["plan", "s", "--db", db], cwd: project.root)
        #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
        let result = bundle(["apply", "s", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try connection.query("SELECT balance FROM public.accounts").rows == [["11"]])
        let files = gitOutput(["ls-tree", "-r", "--name-only", "bundle/t", "state/"], cwd: project.root)
        for table in ["audit", "accounts", "renamed_too", "h1", "archived"] {
            #expect(files.contains("state/public/tables/\(table).sql"), "\(table): \(files)")
        }
        #expect(!files.contains("staging") && !files.contains("kept") && !files.contains("pg_temp") && !files.contains("/k1") && !files.contains("sa/"), "\(files)")
        #expect(bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
    }

    /// Post-conditions read the catalogs by name: they need no privilege the statement's role lacks (the bundle
    /// switched to a role without USAGE on the schema), do not guess the server's name for an unnamed index, and do
    /// not parse a function's argument types (a type whose name needs quotes).
    @Test func postConditionsNeedNoPrivilegeAndGuessNoNames() throws {
        let project = try TestProject(prefix: "apply-postcond")
        defer { project.remove() }
        let role = "pc_role_\(UInt32.random(in: 0...UInt32.max))"
        let db = try TestCluster.makeDatabase(prefix: "apply_postcond").conninfo
        let connection = try PostgresConnection(conninfo: db)
        defer {
            _ = try? connection.execute("DROP OWNED BY \(role); DROP ROLE IF EXISTS \(role)")
            connection.close()
        }
        try connection.execute("CREATE ROLE \(role); CREATE SCHEMA s; GRANT CREATE ON SCHEMA s TO \(role)")
        try project.write("bundles/c/1-c.sql", """
            SET ROLE \(role);
            CREATE TABLE s.owned_by_role (id int);
            RESET ROLE;
            CREATE TABLE public.emails (email text);
            CREATE INDEX ON public.emails (lower(email));
            CREATE TYPE "My Type" AS (a int);
            CREATE FUNCTION fmt(x "My Type") RETURNS int LANGUAGE sql AS 'SELECT 1';

            """)
        initAndLock(project, ["c", "bundles/c/1-c.sql"])
        let result = bundle(["apply", "c", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(try connection.query("SELECT count(*) FROM pg_indexes WHERE tablename = 'emails'").rows == [["1"]])
        #expect(bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
    }

    /// A bundle that changes what the recorded state does not hold (an aggregate, a collation): the plan
    /// warns, and the generated rollback script names each such statement as not undone.
    @Test func unrecordedChangesAreNamedInThePlanAndTheRollbackScript() throws {
        let project = try LockedTestProject(prefix: "apply-unrecorded", lock: "u", bundles: [
            (
                "bundles/u/1-u.sql",
                """
                CREATE FUNCTION add2(int, int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1 + $2';
                CREATE AGGREGATE mysum(int) (SFUNC = add2, STYPE = int, INITCOND = '0');
                CREATE COLLATION bytes_order (provider = libc, locale = 'C');

                """
            )
        ])
        defer { project.remove() }
        let db = project.conninfo
        let plan = bundle(["plan", "u", "--db", db], cwd: project.root)
        #expect(plan.status == 0, "warnings do not block: \(plan.stdout)\(plan.stderr)")
        let report = plan.stdout + plan.stderr
        #expect(report.contains("1-u.sql:2:1: warning: [not-recorded] aggregates") && report.contains("1-u.sql:3:1: warning: [not-recorded] collations"), "\(report)")
        let apply = bundle(["apply", "u", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        let script = gitOutput(["show", "bundle/t:rollback/TXN-1-1.sql"], cwd: project.root)
        #expect(script.contains("-- NOT UNDONE: statement 2 (line 2) changes aggregates"), "\(script)")
        #expect(script.contains("-- NOT UNDONE: statement 3 (line 3) changes collations"), "\(script)")
        #expect(!script.contains("statement 1 "), "\(script)")
    }

    /// `plan --atomic` plans the lock as `apply --atomic` runs it: a value added to an enum in one bundle cannot be
    /// used by the next in the same transaction. apply --atomic is refused before anything runs; --txn applies.
    @Test func planAtomicSeesOneTransaction() throws {
        let project = try LockedTestProject(
            prefix: "plan-atomic", lock: "e",
            bundles: [("bundles/e/1-add.sql", "ALTER TYPE mood ADD VALUE 'busy';\n"), ("bundles/e/2-use.sql", "INSERT INTO moods VALUES ('busy');\n")],
            prestate: "CREATE TYPE mood AS ENUM ('calm'); CREATE TABLE moods (m mood)")
        defer { project.remove() }
        let db = project.conninfo
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        #expect(bundle(["plan", "e", "--db", db], cwd: project.root).status == 0)
        let plan = bundle(["plan", "e", "--atomic", "--db", db], cwd: project.root)
        #expect(plan.status == 1 && plan.stdout.contains("2-use.sql:1:1: error: [enum-unsafe-new-value] ERROR 55P04"), "\(plan.stdout)\(plan.stderr)")
        let before = try schemaDump(db)
        #expect(bundle(["apply", "e", "--atomic", "--db", db, "--target", "t"], cwd: project.root).status == 1)
        #expect(try schemaDump(db) == before)
        let apply = bundle(["apply", "e", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(apply.status == 0, "\(apply.stdout)\(apply.stderr)")
        #expect(try connection.query("SELECT m::text FROM moods").rows == [["busy"]])
    }

    @Test func atomicLeavesNothing() throws {
        let (project, db) = try failingProject(prefix: "apply_atomic")
        defer { project.remove() }
        let before = try schemaDump(db)
        let result = bundle(["apply", "f", "--atomic", "--db", db, "--target", "t"], cwd: project.root)
        #expect(result.status == 1)
        #expect(try schemaDump(db) == before)
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*) FROM bundle.registry").rows[0][0] == "0")
        let subjects = gitOutput(["log", "--format=%s", "bundle/t"], cwd: project.root).split(separator: "\n")
        #expect(subjects.count == 1 && subjects[0].hasPrefix("baseline"), "\(subjects)")
    }

    @Test func concurrentAppliesApplyEachBundleOnce() throws {
        let project = try TestProject(prefix: "apply-concurrent")
        defer { project.remove() }
        var paths: [String] = []
        for index in 1...6 {
            paths.append(try project.write("bundles/c/\(index)-b.sql", "CREATE TABLE c\(index) (a int);\nSELECT pg_sleep(0.05);\n"))
        }
        #expect(bundle(["init", "."], cwd: project.root).status == 0)
        #expect(bundle(["lock", "c"] + paths, cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "apply_conc").conninfo
        let lock = NSLock()
        nonisolated(unsafe) var results: [Int32] = []
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let status = bundle(["apply", "c", "--txn", "--db", db, "--target", "t"], cwd: project.root).status
            lock.lock()
            results.append(status)
            lock.unlock()
        }
        #expect(results.count == 4 && results.allSatisfy { $0 == 0 }, "\(results)")
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*), count(DISTINCT bundle_name) FROM bundle.registry").rows[0] == ["6", "6"])
        let subjects = gitOutput(["log", "--format=%s", "bundle/t"], cwd: project.root).split(separator: "\n")
        #expect(subjects.count == 7, "baseline + one commit per bundle: \(subjects)")
    }

    @Test func killedBetweenCommitAndBranchUpdateIsReconciled() throws {
        let (project, db) = try failingProject(prefix: "apply_kill")
        defer { project.remove() }
        try project.write("bundles/f/3-three.sql", "CREATE TABLE three (a int);\n")
        #expect(bundle(["lock", "f", "--update"], cwd: project.root).status == 0)
        let killed = bundle(["apply", "f", "--txn", "--db", db, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_KILL_AT": "after-commit"])
        #expect(killed.status != 0 && killed.status != 1, "the process must have been killed: \(killed.status)")
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        // TXN-1 committed in the database, but the branch still points at the baseline.
        #expect(try connection.query("SELECT count(*) FROM bundle.registry").rows[0][0] == "1")
        #expect(gitOutput(["log", "--format=%s", "bundle/t"], cwd: project.root).split(separator: "\n").count == 1)
        let next = bundle(["apply", "f", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(next.stdout.contains("reconciled"))
        #expect(try connection.query("SELECT string_agg(bundle_name, ',' ORDER BY id) FROM bundle.registry").rows[0][0] == "1,2,3")
        let subjects = gitOutput(["log", "--format=%s", "bundle/t"], cwd: project.root).split(separator: "\n")
        #expect(subjects.count == 4, "\(subjects)")
        // The registry's commit ids are exactly the branch's commits.
        let ids = Set(try connection.query("SELECT commit_id FROM bundle.registry").rows.map { $0[0]! })
        let branch = Set(gitOutput(["log", "--format=%H", "bundle/t~3..bundle/t"], cwd: project.root).split(separator: "\n").map(String.init))
        #expect(ids == branch)
    }

    @Test func killedMidBundleLeavesNothingOfIt() throws {
        let (project, db) = try failingProject(prefix: "apply_kill_mid")
        defer { project.remove() }
        try project.write("bundles/f/3-three.sql", "CREATE TABLE three (a int);\n")
        try project.write("bundles/f/1-one.sql", "CREATE TABLE one (a int);\nCREATE TABLE one_b (a int);\n")
        #expect(bundle(["lock", "f", "--update"], cwd: project.root).status == 0)
        let killed = bundle(["apply", "f", "--txn", "--db", db, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_KILL_AT": "mid-bundle"])
        #expect(killed.status != 0 && killed.status != 1)
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try connection.query("SELECT count(*) FROM pg_class WHERE relname IN ('one', 'one_b')").rows[0][0] == "0")
        let next = bundle(["apply", "f", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(try connection.query("SELECT count(*) FROM bundle.registry").rows[0][0] == "3")
    }

    @Test func serverStoppedImmediatelyMidBundleLeavesNothingOfIt() throws {
        let directory = URL(fileURLWithPath: "/tmp/bundle-crash-\(UUID().uuidString.prefix(8))")
        let cluster = LocalCluster(stateDirectory: directory, durable: false)
        try cluster.start()
        defer { try? cluster.remove() }
        let project = try TestProject(prefix: "apply-crash")
        defer { project.remove() }
        try project.write("bundles/s/1-one.sql", "CREATE TABLE one (a int);\nCREATE TABLE one_b (a int);\n")
        initAndLock(project, ["s", "bundles/s/1-one.sql"])
        let db = cluster.conninfo
        let group = DispatchGroup()
        nonisolated(unsafe) var result: (status: Int32, stdout: String, stderr: String) = (0, "", "")
        DispatchQueue.global().async(group: group) {
            result = bundle(["apply", "s", "--txn", "--db", db, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_SLEEP_AT": "mid-bundle:2"])
        }
        Thread.sleep(forTimeInterval: 1.0)
        try cluster.stop(mode: "immediate")
        group.wait()
        #expect(result.status != 0, "apply must fail when the server dies: \(result.stdout)")
        #expect(!result.stderr.contains("Fatal error"), "no crash trace: \(result.stderr)")
        try cluster.start()
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*) FROM pg_class WHERE relname IN ('one', 'one_b')").rows[0][0] == "0")
        let next = bundle(["apply", "s", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(try connection.query("SELECT count(*) FROM pg_class WHERE relname IN ('one', 'one_b')").rows[0][0] == "2")
        #expect(try connection.query("SELECT count(*) FROM bundle.registry").rows[0][0] == "1")
    }

    @Test func lockTimeoutRetriesAndNamesTheBlockingSession() throws {
        let project = try TestProject(prefix: "apply-locked")
        defer { project.remove() }
        try project.write("bundles/l/1-alter.sql", "ALTER TABLE busy ADD COLUMN b int;\n")
        initAndLock(project, ["l", "bundles/l/1-alter.sql"])
        let db = try TestCluster.makeDatabase(prefix: "apply_locked").conninfo
        let holder = try PostgresConnection(conninfo: db)
        defer { holder.close() }
        try holder.execute("CREATE TABLE busy (a int)")
        try holder.execute("BEGIN")
        try holder.execute("SELECT * FROM busy")
        let started = Date()
        let result = bundle(["apply", "l", "--txn", "--db", db, "--target", "t", "--lock-timeout", "200ms"], cwd: project.root)
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("ERROR 55P03"))
        #expect(result.stdout.contains("blocked by: pid \(holder.backendPID) (idle in transaction"), "\(result.stdout)")
        #expect(result.stderr.contains("retrying"), "\(result.stderr)")
        #expect(elapsed < 30)
        try holder.execute("ROLLBACK")
        let retry = bundle(["apply", "l", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(retry.status == 0, "\(retry.stdout)\(retry.stderr)")
    }

    /// A registry made before the commit journal, owned by another role: the applying role cannot add the
    /// column, so apply writes each commit before COMMIT, as before, and still succeeds.
    @Test func registryWithoutJournalColumnOwnedByAnotherRole() throws {
        let project = try TestProject(prefix: "apply-oldreg")
        defer { project.remove() }
        let one = try project.write("bundles/o/1-one.sql", "CREATE TABLE one (a int);\n")
        let two = try project.write("bundles/o/2-two.sql", "CREATE TABLE two (a int);\nCOMMENT ON TABLE two IS 'second';\n")
        initAndLock(project, ["o", one])
        let database = try TestCluster.makeDatabase(prefix: "apply_oldreg")
        let cluster = try TestCluster.shared()
        #expect(bundle(["apply", "o", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root).status == 0)
        // Turn the registry into an old one and let a non-owner role apply.
        let admin = try PostgresConnection(conninfo: database.conninfo)
        defer { admin.close() }
        let role = "applier_\(UInt32.random(in: 0...UInt32.max))"
        try admin.execute("ALTER TABLE bundle.registry DROP COLUMN commit_journal")
        try admin.execute("CREATE ROLE \(role) LOGIN")
        try admin.execute("GRANT USAGE ON SCHEMA bundle TO \(role); GRANT SELECT, INSERT ON bundle.registry TO \(role)")
        // Owning the database lets the role create in public (pg_database_owner) without changing the schema's ACL.
        try admin.execute("GRANT USAGE ON SEQUENCE bundle.registry_id_seq TO \(role); ALTER DATABASE \(database.name) OWNER TO \(role)")
        #expect(bundle(["lock", "o", one, two], cwd: project.root).status == 0)
        let asRole = cluster.conninfo(database: database.name) + " user=\(role)"
        let applied = bundle(["apply", "o", "--txn", "--db", asRole, "--target", "t"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try admin.query("SELECT count(*) FROM bundle.registry").rows[0][0] == "2")
        #expect(gitOutput(["log", "--format=%s", "bundle/t"], cwd: project.root).split(separator: "\n").count == 3)
        #expect(bundle(["drift", "--db", database.conninfo, "--target", "t"], cwd: project.root).status == 0)
    }

    @Test func nonSuperuserOwnerAppliesWithExplicitAuthorAndNoSecretsAnywhere() throws {
        let project = try TestProject(prefix: "apply-owner")
        defer { project.remove() }
        try project.write("bundles/o/1-t.sql", "CREATE TABLE owned (a int);\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';\n")
        initAndLock(project, ["o", "bundles/o/1-t.sql"])
        let cluster = try TestCluster.shared()
        let admin = try PostgresConnection(conninfo: cluster.conninfo)
        defer { admin.close() }
        let role = "owner_\(UInt32.random(in: 0...UInt32.max))"
        let secret = "pw-\(UUID().uuidString)"
        try admin.execute("CREATE ROLE \(role) LOGIN PASSWORD '\(secret)'")
        try admin.execute("CREATE DATABASE \(role) OWNER \(role)")
        let db = cluster.conninfo(database: role) + " user=\(role) password=\(secret)"
        let result = bundle(["apply", "o", "--txn", "--db", db, "--target", "prod", "--author", "Release Bot <release@example.com>"], cwd: project.root)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let log = gitOutput(["log", "--format=%an <%ae>%n%B", "bundle/prod"], cwd: project.root)
        #expect(log.contains("Release Bot <release@example.com>"))
        #expect(log.contains("Role: \(role)"))
        // No secret in stdout, stderr, the git history (all objects), or the registry.
        let everything = gitOutput(["log", "-p", "--all", "--format=%B"], cwd: project.root)
        for text in [result.stdout, result.stderr, everything] { #expect(!text.contains(secret)) }
        let target = try PostgresConnection(conninfo: db)
        defer { target.close() }
        // The registry is neither readable nor writable by PUBLIC.
        let acl = try target.query("SELECT has_table_privilege('public', 'bundle.registry', 'INSERT'), has_table_privilege('public', 'bundle.registry', 'SELECT')").rows[0]
        #expect(acl == ["f", "f"])
        let registry = try target.query("SELECT row_to_json(r)::text FROM bundle.registry r").rows.map { $0[0] ?? "" }.joined()
        #expect(!registry.isEmpty && !registry.contains(secret))
    }

    @Test func backupIsTakenOnceAndRecordedInTheFirstCommit() throws {
        let (project, db) = try failingProject(prefix: "apply_backup")
        defer { project.remove() }
        try project.write("bundles/f/3-three.sql", "CREATE TABLE three (a int);\n")
        #expect(bundle(["lock", "f", "--update"], cwd: project.root).status == 0)
        let backups = project.root.appendingPathComponent("backups")
        let result = bundle(["apply", "f", "--txn", "--db", db + " password=never-shown", "--target", "t", "--backup", backups.path], cwd: project.root)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: backups.path).filter { $0.hasSuffix(".dump") }
        #expect(files.count == 1, "one backup per apply, never one per bundle: \(files)")
        let file = try #require(files.first)
        let sha = runProcess("sha256sum", [backups.appendingPathComponent(file).path]).stdout.prefix(64)
        let firstApply = git(["log", "--format=%H %s", "bundle/t"], cwd: project.root).split(separator: "\n").last { $0.contains("TXN-1") }
        let trailers = gitOutputTrailers(String(firstApply?.prefix(40) ?? ""), cwd: project.root)
        #expect(trailers.contains("Backup-Sha256: \(sha)"), "\(trailers)")
        let restoreList = runProcess(try LocalCluster.findServerBinaries().appendingPathComponent("pg_restore").path, ["-l", backups.appendingPathComponent(file).path])
        #expect(restoreList.status == 0 && restoreList.stdout.contains("Format: CUSTOM"))
        #expect(!result.stdout.contains("never-shown") && !result.stderr.contains("never-shown"))
    }

    func git(_ args: [String], cwd: URL) -> String { gitOutput(args, cwd: cwd) }

    func gitOutputTrailers(_ commit: String, cwd: URL) -> String {
        gitOutput(["log", "-1", "--format=%(trailers:only,unfold)", commit], cwd: cwd)
    }

    @Test func planMarksAppliedBundlesAndAnEditAfterApplyIsRefused() throws {
        let (project, db) = try failingProject(prefix: "apply_edited")
        defer { project.remove() }
        try project.write("bundles/f/3-three.sql", "CREATE TABLE three (a int);\n")
        #expect(bundle(["lock", "f", "--update"], cwd: project.root).status == 0)
        #expect(bundle(["apply", "f", "--txn", "--db", db, "--target", "t"], cwd: project.root).status == 0)
        let plan = bundle(["plan", "f", "--db", db, "--target", "t", "--format", "json"], cwd: project.root)
        #expect(plan.status == 0, "\(plan.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let statuses = (object["bundles"] as? [[String: Any]])?.map { $0["status"] as? String }
        #expect(statuses == ["applied", "applied", "applied"])
        // Edit an applied bundle and re-pin: the registry's sha256 no longer matches.
        try project.write("bundles/f/2-two.sql", "CREATE TABLE two (a int, b int);\n")
        #expect(bundle(["lock", "f", "--update"], cwd: project.root).status == 0)
        for verb in [["plan", "f"], ["apply", "f", "--txn"]] {
            let result = bundle(verb + ["--db", db, "--target", "t"], cwd: project.root)
            #expect(result.status == 2, "\(verb): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.contains("bundles/f/2-two.sql: the lock was edited after this bundle was applied"))
        }
    }

    /// Bundles that only add objects or change them in place are recorded from the rows their transaction wrote;
    /// the recorded state must be byte for byte what a full capture records (BUNDLE_FULL_CAPTURE=1).
    @Test func inPlaceBundlesRecordWhatAFullCaptureRecords() throws {
        let project = try TestProject(prefix: "apply-inplace")
        defer { project.remove() }
        let setup = try project.write("bundles/p/1-setup.sql", """
            CREATE TABLE parent (id serial PRIMARY KEY, name text NOT NULL);
            CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent, note text);
            CREATE TYPE mood AS ENUM ('sad', 'ok');
            CREATE FUNCTION f(a int, b text DEFAULT NULL) RETURNS int LANGUAGE sql AS 'SELECT a';
            CREATE TABLE config (key text PRIMARY KEY, value text);
            CREATE FUNCTION g(integer) RETURNS int LANGUAGE sql AS 'SELECT $1';

            """)
        let change = try project.write("bundles/p/2-change.sql", """
            ALTER TABLE parent ADD COLUMN created timestamptz DEFAULT now(), ALTER COLUMN name SET DEFAULT 'x';
            CREATE INDEX parent_name ON parent (name);
            COMMENT ON COLUMN child.note IS 'free text';
            COMMENT ON SCHEMA public IS 'the public schema, commented';
            GRANT SELECT ON parent TO PUBLIC;
            GRANT UPDATE (note) ON child TO PUBLIC;
            CREATE OR REPLACE FUNCTION f(a int, b text DEFAULT NULL) RETURNS int LANGUAGE sql AS 'SELECT a + 1';
            ALTER FUNCTION f(int, text) SET search_path = public;
            ALTER TYPE mood ADD VALUE 'happy';
            CREATE VIEW parent_names AS SELECT name FROM parent;
            CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
            CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch();
            ALTER TABLE child ENABLE ROW LEVEL SECURITY;
            CREATE POLICY child_all ON child USING (true);
            CREATE SEQUENCE counter START 5;
            INSERT INTO config VALUES ('gate', 'on');
            ALTER TABLE child ADD CONSTRAINT note_len CHECK (length(note) < 100);
            CREATE OR REPLACE FUNCTION g(a integer) RETURNS int LANGUAGE sql AS 'SELECT a';

            """)
        initAndLock(project, ["p", setup, change])
        let incremental = try TestCluster.makeDatabase(prefix: "apply_inplace").conninfo
        let full = try TestCluster.makeDatabase(prefix: "apply_inplace_full").conninfo
        let profile = project.root.appendingPathComponent("profile.txt").path
        let applied = bundle(["apply", "p", "--txn", "--db", incremental, "--target", "inc"], cwd: project.root, environment: ["BUNDLE_PROFILE": profile])
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let stages = (try? String(contentsOfFile: profile, encoding: .utf8)) ?? ""
        #expect(stages.contains("updatedStateInPlace") && !stages.contains("listingAfter"), "both bundles took the in-place path: \(stages)")
        let captured = bundle(["apply", "p", "--txn", "--db", full, "--target", "full"], cwd: project.root, environment: ["BUNDLE_FULL_CAPTURE": "1"])
        #expect(captured.status == 0, "\(captured.stdout)\(captured.stderr)")
        for revision in ["~1", ""] {
            let a = gitOutput(["rev-parse", "bundle/inc\(revision):state"], cwd: project.root)
            let b = gitOutput(["rev-parse", "bundle/full\(revision):state"], cwd: project.root)
            #expect(!a.isEmpty && a == b, "state after bundle\(revision.isEmpty ? " 2" : " 1"): \(gitOutput(["diff", "--stat", "bundle/inc\(revision):state", "bundle/full\(revision):state"], cwd: project.root))")
        }
        #expect(bundle(["drift", "--db", incremental, "--target", "inc"], cwd: project.root).status == 0)
        let fsck = runProcess("git", ["-C", project.root.path, "fsck", "--no-dangling", "bundle/inc", "bundle/full"])
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
        // g(integer) became g(a integer): a move of the same function, which the rollback must rename back, not drop.
        let script = gitOutput(["show", "bundle/inc:rollback/TXN-2-2.sql"], cwd: project.root)
        #expect(!script.contains("DROP FUNCTION IF EXISTS public.g(a integer)"), "\(script)")
        let rolledBack = bundle(["rollback", gitOutput(["rev-parse", "bundle/inc~1"], cwd: project.root).trimmingCharacters(in: .whitespacesAndNewlines),
                                 "--db", incremental, "--target", "inc"], cwd: project.root)
        #expect(rolledBack.status == 0, "\(rolledBack.stdout)\(rolledBack.stderr)")
        let connection = try PostgresConnection(conninfo: incremental)
        defer { connection.close() }
        #expect(try connection.query("SELECT pg_get_function_identity_arguments('public.g'::regproc)").rows.first?.first == "integer")
        #expect(bundle(["drift", "--db", incremental, "--target", "inc"], cwd: project.root).status == 0)
    }

    /// Bundles of statements that run no user code search only the catalogs those statements can write
    /// (`SQLStatement.catalogsWritten`): one bundle per such kind records exactly what a full capture records.
    @Test func singleKindBundlesRecordWhatAFullCaptureRecords() throws {
        let project = try TestProject(prefix: "apply-kinds")
        defer { project.remove() }
        let statements = [
            "CREATE SCHEMA app",
            "CREATE TYPE app.pair_t AS (a int, b text)",
            "CREATE TABLE app.parent (id serial PRIMARY KEY, name text NOT NULL DEFAULT 'x', CHECK (name <> ''))",
            "CREATE TABLE app.child (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, parent_id int REFERENCES app.parent, note text) INHERITS (app.parent)",
            "CREATE FUNCTION app.f(a int, b text DEFAULT NULL) RETURNS int LANGUAGE sql AS 'SELECT a'",
            "CREATE OR REPLACE FUNCTION app.f(a int, b text DEFAULT NULL) RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT a + 1'",
            "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$",
            "COMMENT ON TABLE app.parent IS 'parents'",
            "COMMENT ON COLUMN app.child.note IS 'free text'",
            "COMMENT ON FUNCTION app.f(int, text) IS 'f'",
            "COMMENT ON SCHEMA app IS 'the app'",
            "COMMENT ON COLUMN app.parent.name IS 'a name'",
            "CREATE TABLE app.copy (LIKE app.parent INCLUDING ALL)",
            "CREATE TABLE app.typed OF app.pair_t",
            "CREATE VIEW app.names AS SELECT name FROM app.parent",
            "CREATE OR REPLACE VIEW app.names AS SELECT name, id FROM app.parent",
            "CREATE OR REPLACE VIEW app.names WITH (security_barrier) AS SELECT name, id FROM app.parent",
            "CREATE TRIGGER child_touch BEFORE UPDATE ON app.child FOR EACH ROW EXECUTE FUNCTION app.touch()",
            "CREATE OR REPLACE TRIGGER child_touch BEFORE INSERT ON app.child FOR EACH ROW EXECUTE FUNCTION app.touch()",
            "CREATE SEQUENCE app.counter START 5 OWNED BY app.parent.id",
            "CREATE POLICY child_all ON app.child USING (true)",
            "GRANT SELECT ON app.parent TO PUBLIC",
            "GRANT UPDATE (note) ON app.child TO PUBLIC",
            "GRANT EXECUTE ON FUNCTION app.f(int, text) TO PUBLIC",
            "GRANT USAGE ON SCHEMA app TO PUBLIC",
            "CREATE TYPE app.mood AS ENUM ('sad', 'ok')",
            "CREATE TYPE app.pair AS (a int, b text)",
            "CREATE DOMAIN app.positive AS int CHECK (VALUE > 0)",
            "GRANT USAGE ON TYPE app.positive TO PUBLIC",
        ]
        var files: [String] = []
        for (index, statement) in statements.enumerated() {
            files.append(try project.write("bundles/k/\(String(format: "%02d", index + 1))-kind.sql", statement + ";\n"))
        }
        #expect(bundle(["init", "."], cwd: project.root).status == 0)
        #expect(bundle(["lock", "k"] + files, cwd: project.root).status == 0)
        let incremental = try TestCluster.makeDatabase(prefix: "apply_kinds").conninfo
        let full = try TestCluster.makeDatabase(prefix: "apply_kinds_full").conninfo
        let applied = bundle(["apply", "k", "--txn", "--db", incremental, "--target", "inc"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let captured = bundle(["apply", "k", "--txn", "--db", full, "--target", "full"], cwd: project.root, environment: ["BUNDLE_FULL_CAPTURE": "1"])
        #expect(captured.status == 0, "\(captured.stdout)\(captured.stderr)")
        for back in 0..<statements.count {
            let a = gitOutput(["rev-parse", "bundle/inc~\(back):state"], cwd: project.root)
            let b = gitOutput(["rev-parse", "bundle/full~\(back):state"], cwd: project.root)
            #expect(!a.isEmpty && a == b, "state after \(statements[statements.count - 1 - back]): \(gitOutput(["diff", "bundle/full~\(back):state", "bundle/inc~\(back):state"], cwd: project.root))")
        }
        #expect(bundle(["drift", "--db", incremental, "--target", "inc"], cwd: project.root).status == 0)
    }

    /// An event trigger runs user code on any DDL: with one enabled, a CREATE FUNCTION bundle whose trigger creates
    /// a table is still recorded completely (every catalog is searched).
    @Test func eventTriggersWidenTheSearchForChangedRows() throws {
        let project = try TestProject(prefix: "apply-evt")
        defer { project.remove() }
        let file = try project.write("bundles/e/1-f.sql", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n")
        initAndLock(project, ["e", file])
        var databases: [String] = []
        for prefix in ["apply_evt", "apply_evt_full"] {
            let db = try TestCluster.makeDatabase(prefix: prefix).conninfo
            let connection = try PostgresConnection(conninfo: db)
            defer { connection.close() }
            _ = try connection.execute("""
                CREATE FUNCTION public.note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF to_regclass('public.ddl_seen') IS NULL THEN CREATE TABLE public.ddl_seen (n int); END IF;
                END $$;
                CREATE EVENT TRIGGER note_ddl ON ddl_command_end WHEN TAG IN ('CREATE FUNCTION') EXECUTE FUNCTION public.note_ddl();
                """)
            databases.append(db)
        }
        let applied = bundle(["apply", "e", "--txn", "--db", databases[0], "--target", "inc"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let captured = bundle(["apply", "e", "--txn", "--db", databases[1], "--target", "full"], cwd: project.root, environment: ["BUNDLE_FULL_CAPTURE": "1"])
        #expect(captured.status == 0, "\(captured.stdout)\(captured.stderr)")
        #expect(!gitOutput(["show", "bundle/inc:state/public/tables/ddl_seen.sql"], cwd: project.root).isEmpty)
        let a = gitOutput(["rev-parse", "bundle/inc:state"], cwd: project.root)
        #expect(!a.isEmpty && a == gitOutput(["rev-parse", "bundle/full:state"], cwd: project.root))
        #expect(bundle(["drift", "--db", databases[0], "--target", "inc"], cwd: project.root).status == 0)
    }

    /// Review finding: a bundle starts from the drift check's capture, which does not compare watched data; a
    /// watched config table changed outside bundle must not make the next bundle's commit recipe (kept as a
    /// change against the parent's file) rebuild a different commit after a crash.
    @Test func watchedDataChangedOutsideBundleStillReconcilesFromTheRecipe() throws {
        let project = try TestProject(prefix: "apply-watch-recipe")
        defer { project.remove() }
        let one = try project.write("bundles/w/1-one.sql", "CREATE TABLE marker (a int);\n")
        let two = try project.write("bundles/w/2-two.sql", "INSERT INTO cfg VALUES ('key.99', 'new');\n")
        #expect(bundle(["init", "."], cwd: project.root).status == 0)
        // Two locks on one target, both watching the config table.
        for (name, file) in [("w1", one), ("w2", two)] {
            #expect(bundle(["lock", name, file], cwd: project.root).status == 0)
            let lockURL = project.root.appendingPathComponent("locks/\(name).lock")
            var lock = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: lockURL)) as? [String: Any])
            lock["watch"] = ["config": [["table": "public.cfg", "key": "k", "value": "v"]], "tables": ["public.cfg"]]
            try JSONSerialization.data(withJSONObject: lock).write(to: lockURL)
            #expect(bundle(["lock", name, "--update"], cwd: project.root).status == 0)
        }
        let db = try TestCluster.makeDatabase(prefix: "apply_watch_recipe").conninfo
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        // Enough rows that the config file is recorded as a change against the parent's (512 common bytes and up).
        _ = try connection.execute("CREATE TABLE cfg (k text PRIMARY KEY, v text); INSERT INTO cfg SELECT 'key.' || g, repeat('v', 20) FROM generate_series(10, 70) g")
        #expect(bundle(["apply", "w1", "--txn", "--db", db, "--target", "t"], cwd: project.root).status == 0)
        _ = try connection.execute("DELETE FROM cfg WHERE k = 'key.30'")
        let killed = bundle(["apply", "w2", "--txn", "--db", db, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_KILL_AT": "after-commit"])
        #expect(killed.status != 0 && killed.status != 1, "the process must have been killed: \(killed.status) \(killed.stdout)")
        let next = bundle(["apply", "w2", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(next.stdout.contains("reconciled"), "\(next.stdout)")
        let config = gitOutput(["show", "bundle/t:state/watch/config.tsv"], cwd: project.root)
        #expect(config.contains("key.99") && !config.contains("key.30\t"), "\(config)")
        let fsck = runProcess("git", ["-C", project.root.path, "fsck", "--no-dangling", "bundle/t"])
        #expect(fsck.status == 0, "\(fsck.stdout)\(fsck.stderr)")
    }

    /// Review finding: an event trigger created by an earlier bundle of the same run widens the search for the
    /// rows of the bundles after it.
    @Test func eventTriggerCreatedEarlierInTheRunIsSeen() throws {
        let project = try TestProject(prefix: "apply-evt-run")
        defer { project.remove() }
        let first = try project.write("bundles/e/1-evt.sql", """
            CREATE FUNCTION public.note_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF to_regclass('public.ddl_seen') IS NULL THEN CREATE TABLE public.ddl_seen (n int); END IF;
            END $$;
            CREATE EVENT TRIGGER note_ddl ON ddl_command_end WHEN TAG IN ('CREATE FUNCTION') EXECUTE FUNCTION public.note_ddl();

            """)
        let second = try project.write("bundles/e/2-f.sql", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n")
        initAndLock(project, ["e", first, second])
        let db = try TestCluster.makeDatabase(prefix: "apply_evt_run").conninfo
        let applied = bundle(["apply", "e", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(!gitOutput(["show", "bundle/t:state/public/tables/ddl_seen.sql"], cwd: project.root).isEmpty)
        #expect(bundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
    }
}
