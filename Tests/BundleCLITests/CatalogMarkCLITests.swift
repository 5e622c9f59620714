import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// The drift check before an apply: by the catalog mark the previous run recorded while nothing changed the
/// catalog since, by a full capture otherwise; never hiding a change made outside bundle, before or during a run.
@Suite struct CatalogMarkCLITests {
    struct Outcome {
        var status: Int32
        var driftCheck: String?
        var drift: [String]
        var output: String
    }

    let project: TestProject

    init() throws {
        project = try TestProject(prefix: "apply-mark")
        #expect(runBundle(["init", "."], cwd: project.root).status == 0)
        let bundles = [
            ("m1", "CREATE TABLE public.m1 (id int PRIMARY KEY);\n"),
            ("m2", "CREATE TABLE public.m2 (id int);\nCOMMENT ON TABLE public.m2 IS 'two';\n"),
            ("m3", "CREATE FUNCTION public.m3(a int) RETURNS int LANGUAGE sql AS 'SELECT a';\n"),
            ("m4", "CREATE TABLE public.m4 (id int);\n"),
            // Fails when applied (the SQL function's body is checked by its validator, not by plan).
            ("fails", "CREATE FUNCTION public.bad() RETURNS int LANGUAGE sql AS 'SELECT no_such_column FROM public.m1';\n"),
            // Runs user code: a trigger on public.evt.
            ("dml", "INSERT INTO public.evt VALUES (42);\n"),
            // Runs user code: the language's validator.
            ("validated", "CREATE FUNCTION public.v() RETURNS int LANGUAGE mylang AS 'x';\n"),
        ]
        for (name, sql) in bundles {
            let path = try project.write("bundles/mark/\(name).sql", sql)
            #expect(runBundle(["lock", name, path], cwd: project.root).status == 0)
        }
        // A temporary table in a bundle that is not the run's last: dropped at its COMMIT, with the column that
        // uses its row type, after the bundle's state was captured.
        let temporary = try project.write(
            "bundles/mark/temp-1.sql", "CREATE TEMP TABLE IF NOT EXISTS scratch (a int) ON COMMIT DROP;\nCREATE TABLE public.t3 (x int, y scratch);\n")
        let after = try project.write("bundles/mark/temp-2.sql", "CREATE TABLE public.other (a int);\n")
        #expect(runBundle(["lock", "temporary", temporary, after], cwd: project.root).status == 0)
    }

    func apply(_ lock: String, _ db: String, environment: [String: String] = [:]) throws -> Outcome {
        let result = runBundle(["apply", lock, "--txn", "--db", db, "--target", "t", "--format", "json"], cwd: project.root, environment: environment)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
        let drift = (json["drift"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        return Outcome(status: result.status, driftCheck: json["drift_check"] as? String, drift: drift, output: result.stdout + result.stderr)
    }

    /// Runs `body` with a database (its connection string and a connection to it) prepared with `setup`, in a
    /// cluster of its own: other tests' transactions (ids are cluster-wide) would make runs record no mark. The
    /// project and the cluster are removed afterwards.
    func withIsolatedDatabase(setup: String, _ body: (String, PostgresConnection) throws -> Void) throws {
        defer { project.remove() }
        let cluster = try TestCluster.isolated()
        defer { try? cluster.remove() }
        do {
            let admin = try PostgresConnection(conninfo: cluster.conninfo)
            defer { admin.close() }
            try admin.execute("CREATE DATABASE marks")
        }
        let db = cluster.conninfo(database: "marks")
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        try connection.execute(setup)
        try body(db, connection)
    }

    @Test func markSkipsTheCaptureUntilSomethingChanges() throws {
        // A table owned by a role: its file names the role.
        let setup = "CREATE ROLE mark_owner; CREATE TABLE public.pre (a int); ALTER TABLE public.pre OWNER TO mark_owner"
        try withIsolatedDatabase(setup: setup) { db, connection in
            let first = try apply("m1", db)
            #expect(first.status == 0 && first.driftCheck == nil, "no recorded state yet: the baseline is captured\n\(first.output)")
            let second = try apply("m2", db)
            #expect(second.status == 0 && second.driftCheck == "catalog-mark", "\(second.output)")

            // A catalog change that no state file shows (a new relfilenode): a capture finds no drift, and its mark
            // stands for the tip even though the bundle after it fails.
            try connection.execute("TRUNCATE public.pre")
            let failed = try apply("fails", db)
            #expect(failed.status == 1 && failed.driftCheck == "capture" && failed.drift.isEmpty, "\(failed.output)")
            let third = try apply("m3", db)
            #expect(third.status == 0 && third.driftCheck == "catalog-mark", "\(third.output)")

            // A change only the owner's name shows (a shared catalog).
            try connection.execute("ALTER ROLE mark_owner RENAME TO mark_owner_renamed")
            let fourth = try apply("m4", db)
            #expect(fourth.status == 0 && fourth.driftCheck == "capture", "\(fourth.output)")
            #expect(fourth.drift == ["public/tables/pre.sql"], "\(fourth.output)")
            // The drift stays visible: the run records no mark while the recorded state is not the catalog.
            try connection.execute("ALTER ROLE mark_owner_renamed RENAME TO mark_owner")
            #expect(runBundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 0)
            try connection.execute("ALTER ROLE mark_owner RENAME TO mark_owner_renamed")
            #expect(runBundle(["drift", "--db", db, "--target", "t"], cwd: project.root).status == 1)
        }
    }

    /// A change made by someone else while a run applies its bundles is not in the state the run records: the
    /// run must record no mark, so that the next apply captures and reports it.
    @Test func changeMadeDuringARunIsNotHidden() throws {
        try withIsolatedDatabase(setup: "CREATE TABLE public.dropped_meanwhile (a int)") { db, _ in
            #expect(try apply("m1", db).status == 0)

            // The run pauses before its bundle's COMMIT; meanwhile another session drops a table (rows removed, none
            // added: the other session's committed transaction shows it).
            nonisolated(unsafe) var during: Outcome? = nil
            DispatchQueue.concurrentPerform(iterations: 2) { index in
                if index == 0 {
                    during = try? apply("m2", db, environment: ["BUNDLE_TEST_SLEEP_AT": "before-commit:1.5"])
                } else {
                    Thread.sleep(forTimeInterval: 0.7)
                    if let other = try? PostgresConnection(conninfo: db) {
                        _ = try? other.execute("DROP TABLE public.dropped_meanwhile")
                        other.close()
                    }
                }
            }
            #expect(during?.status == 0 && during?.driftCheck == "catalog-mark", "\(during?.output ?? "")")
            let next = try apply("m3", db)
            #expect(next.status == 0 && next.driftCheck == "capture", "\(next.output)")
            #expect(next.drift == ["public/tables/dropped_meanwhile.sql"], "\(next.output)")
        }
    }

    /// On a database prepared with `setup`: a first apply, then `lock`, whose bundles change the catalog behind
    /// their recorded state's back; the run must record no mark, so that the next apply captures the catalog
    /// and reports `drifted`, as before marks.
    func expectNoMarkAfter(_ lock: String, setup: String, drifted: String) throws {
        try withIsolatedDatabase(setup: setup) { db, _ in
            #expect(try apply("m1", db).status == 0)
            let run = try apply(lock, db)
            #expect(run.status == 0 && run.driftCheck == "catalog-mark", "\(run.output)")
            let next = try apply("m2", db)
            #expect(next.status == 0 && next.driftCheck == "capture", "\(next.output)")
            #expect(next.drift == [drifted], "\(next.output)")
        }
    }

    /// Review finding: a bundle that runs user code (DML firing a trigger) can change the catalog in ways its
    /// recorded state misses (the trigger drops a table).
    @Test func runWithUserCodeRecordsNoMark() throws {
        try expectNoMarkAfter(
            "dml",
            setup: """
                CREATE TABLE public.victim (a int);
                CREATE TABLE public.evt (a int);
                CREATE FUNCTION public.drop_victim() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.a = 42 THEN DROP TABLE public.victim; END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER evt_drop AFTER INSERT ON public.evt FOR EACH ROW EXECUTE FUNCTION public.drop_victim();
                """,
            drifted: "public/tables/victim.sql")
    }

    /// Review finding: CREATE FUNCTION runs its language's validator, which can be user code (here it creates
    /// a table); only PostgreSQL's own validators let a run record a mark.
    @Test func functionInALanguageWithAUserValidatorRecordsNoMark() throws {
        try expectNoMarkAfter(
            "validated",
            setup: """
                CREATE FUNCTION public.myval(oid) RETURNS void LANGUAGE plpgsql AS $$
                BEGIN EXECUTE 'CREATE TABLE IF NOT EXISTS public.sneaky (a int)'; END $$;
                CREATE LANGUAGE mylang HANDLER plpgsql_call_handler VALIDATOR public.myval;
                """,
            drifted: "public/tables/sneaky.sql")
    }

    /// Review finding: a session's temporary objects shadow pg_catalog's names in what a capture renders, and ON
    /// COMMIT DROP takes permanent objects with it after the capture (here the column of t3 whose type is the
    /// temporary table's row type); a run whose session made temporary objects records no mark.
    @Test func runThatMadeTemporaryObjectsRecordsNoMark() throws {
        try expectNoMarkAfter("temporary", setup: "CREATE TABLE public.scratch (a int);", drifted: "public/tables/t3.sql")
    }
}
