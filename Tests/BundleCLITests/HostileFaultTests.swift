import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// Faults from outside: the server kills bundle's connection, git is locked by another process, the repository
/// becomes read-only, the disk fills up. Each apply fails cleanly, leaves nothing of the interrupted bundle, and
/// the next apply completes with registry and branch in agreement.
@Suite struct HostileFaultTests {
    /// Whether this process may mount file systems (tmpfs, read-only bind mounts): true as root in most containers.
    static let canMount: Bool = {
        let probe = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("hostile-mount-probe-\(UUID().uuidString)")
        guard (try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)) != nil else { return false }
        defer { try? FileManager.default.removeItem(at: probe) }
        guard runProcess("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", probe.path]).status == 0 else { return false }
        return runProcess("umount", [probe.path]).status == 0
    }()

    /// Two bundles of two statements each (the `mid-bundle` hook fires before statement 2).
    func project(prefix: String, root: URL? = nil) throws -> TestProject {
        let project = try TestProject(prefix: prefix)
        try project.write("bundles/1-one.sql", "CREATE TABLE one (a int);\nCREATE TABLE one_b (a int);\n")
        try project.write("bundles/2-two.sql", "CREATE TABLE two (a int);\nCREATE TABLE two_b (a int);\n")
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        #expect(Hostile.bundle(["lock", "f", "bundles/1-one.sql", "bundles/2-two.sql"], cwd: project.root).status == 0)
        return project
    }

    /// Registry rows, branch commits and the catalog agree: every registry row's commit is on the branch.
    func expectAgreement(_ project: TestProject, db: String, bundles: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        let ids = Set(try connection.query("SELECT commit_id FROM bundle.registry WHERE target = 't'").rows.map { $0[0]! })
        let branch = Set(Hostile.git(["log", "--format=%H", "bundle/t"], cwd: project.root).split(separator: "\n").map(String.init))
        #expect(ids.count == bundles, "registry rows: \(ids.count)", sourceLocation: sourceLocation)
        #expect(ids.isSubset(of: branch), "every registry commit is on bundle/t", sourceLocation: sourceLocation)
        #expect(branch.count == bundles + 1, "baseline + one commit per bundle", sourceLocation: sourceLocation)
        let tables = try connection.query("SELECT count(*) FROM pg_class WHERE relname IN ('one', 'one_b', 'two', 'two_b')").rows[0][0]
        #expect(tables == String(2 * bundles), sourceLocation: sourceLocation)
        #expect(runProcess("git", ["-C", project.root.path, "fsck", "--no-dangling"]).status == 0, "the repository is intact", sourceLocation: sourceLocation)
    }

    /// The server ends bundle's connection mid-bundle, or just before the registry row and COMMIT are sent (in
    /// one round trip): the apply says the connection was lost, nothing of the bundle remains, and the next apply
    /// completes.
    @Test(arguments: ["mid-bundle", "before-commit"])
    func connectionTerminated(at step: String) throws {
        let project = try project(prefix: "hostile-terminate")
        defer { project.remove() }
        let database = try TestCluster.makeDatabase(prefix: "hostile_term")
        let admin = try TestCluster.shared().conninfo
        let wait = Hostile.bundleInBackground(
            ["apply", "f", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_SLEEP_AT": "\(step):3"])
        let pid = try Hostile.waitForApplyInTransaction(admin, database: database.name)
        #expect(pid != nil, "bundle apply never paused inside its transaction")
        if let pid { #expect(try Hostile.scalar(admin, "SELECT pg_terminate_backend(\(pid))") == "t") }
        let result = wait()
        Hostile.expectNoCrash(result)
        #expect(result.status == 1 || result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect((result.stdout + result.stderr).contains("connection"), "the message says what happened: \(result.stdout)\(result.stderr)")
        if step == "mid-bundle" {
            // Reported at the statement it stopped: the second (the first ran before the pause).
            #expect(result.stdout.contains("bundles/1-one.sql:2:1: error: TXN-1"), "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("apply stopped at TXN-1"), "\(result.stdout)")
            #expect(result.stdout.contains("connection to the PostgreSQL server was lost"), "a lost connection, not a server error: \(result.stdout)")
        }
        #expect(try Hostile.scalar(database.conninfo, "SELECT count(*) FROM pg_class WHERE relname IN ('one', 'one_b')") == "0", "nothing of TXN-1 remains")
        #expect(try Hostile.scalar(database.conninfo, "SELECT count(*) FROM bundle.registry") == "0")
        let next = Hostile.bundle(["apply", "f", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        try expectAgreement(project, db: database.conninfo, bundles: 2)
    }

    @Test func branchReferenceLockedByAnotherGitProcess() throws {
        let project = try project(prefix: "hostile-gitlock")
        defer { project.remove() }
        let database = try TestCluster.makeDatabase(prefix: "hostile_gitlock")
        // A held index lock does not matter: bundle never touches the index or the work tree.
        let indexLock = project.root.appendingPathComponent(".git/index.lock")
        #expect(FileManager.default.createFile(atPath: indexLock.path, contents: Data()))
        // The branch's own lock appears while TXN-1 runs: TXN-1 commits in the database, the branch cannot move.
        let wait = Hostile.bundleInBackground(
            ["apply", "f", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_SLEEP_AT": "mid-bundle:2"])
        #expect(try Hostile.waitForApplyInTransaction(try TestCluster.shared().conninfo, database: database.name) != nil)
        // The baseline commit (and with it the branch) is written before TXN-1 starts; wait for it, so the lock
        // is taken while TXN-1 runs and not while the registry is being created.
        let branch = project.root.appendingPathComponent(".git/refs/heads/bundle/t")
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: branch.path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let refLock = project.root.appendingPathComponent(".git/refs/heads/bundle/t.lock")
        #expect(FileManager.default.createFile(atPath: refLock.path, contents: Data("held by another process\n".utf8)))
        let result = wait()
        Hostile.expectNoCrash(result)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("refs/heads/bundle/t.lock"), "names the lock file: \(result.stderr)")
        #expect(result.stderr.contains("remove the stale .lock file"), "says what to do: \(result.stderr)")
        #expect(Hostile.subjects("bundle/t", cwd: project.root).count == 1, "the branch did not move")
        // While the lock is held, apply keeps refusing, cleanly.
        let blocked = Hostile.bundle(["apply", "f", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root)
        Hostile.expectNoCrash(blocked)
        #expect(blocked.status == 2)
        try FileManager.default.removeItem(at: refLock)
        let next = Hostile.bundle(["apply", "f", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(next.stdout.contains("reconciled: fast-forwarded bundle/t"), "\(next.stdout)")
        try expectAgreement(project, db: database.conninfo, bundles: 2)
        #expect(FileManager.default.fileExists(atPath: indexLock.path), "bundle left the index lock alone")
        try FileManager.default.removeItem(at: indexLock)
    }

    /// `chmod -R a-w` does not stop root, so the repository is made read-only with a read-only bind mount.
    @Test(.enabled(if: canMount, "needs mount(8) (root in a container that allows bind mounts)"))
    func repositoryBecomesReadOnlyMidApply() throws {
        let project = try project(prefix: "hostile-readonly")
        defer { project.remove() }
        let database = try TestCluster.makeDatabase(prefix: "hostile_ro")
        let gitDirectory = project.root.appendingPathComponent(".git").path
        let wait = Hostile.bundleInBackground(
            ["apply", "f", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_SLEEP_AT": "mid-bundle:2"])
        #expect(try waitForFirstBundle(project, database: database.name))
        #expect(runProcess("mount", ["--bind", gitDirectory, gitDirectory]).status == 0)
        var mounted = true
        defer { if mounted { _ = runProcess("umount", [gitDirectory]) } }
        #expect(runProcess("mount", ["-o", "remount,bind,ro", gitDirectory]).status == 0)
        let result = wait()
        Hostile.expectNoCrash(result)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("Read-only file system"), "\(result.stderr)")
        // Both bundles committed in the database; their commits, kept in memory until the end of the run, could not
        // be written, so each registry row still holds its commit's recipe and the branch did not move.
        try expectCommittedButNotWritten(project, database: database.conninfo, result: result)
        #expect(runProcess("umount", [gitDirectory]).status == 0)
        mounted = false
        let next = Hostile.bundle(["apply", "f", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(next.stdout.contains("from the registry"), "\(next.stdout)")
        try expectAgreement(project, db: database.conninfo, bundles: 2)
        #expect(try Hostile.scalar(database.conninfo, "SELECT count(commit_journal) FROM bundle.registry") == "0", "recipes are forgotten once written")
    }

    @Test(.enabled(if: canMount, "needs mount -t tmpfs (root in a container that allows mounts)"))
    func diskFillsUpMidApply() throws {
        let project = try TestProject(prefix: "hostile-full")
        defer { project.remove() }
        // The whole project, repository included, on a 4 MB tmpfs.
        #expect(runProcess("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", project.root.path]).status == 0)
        var mounted = true
        defer { if mounted { _ = runProcess("umount", [project.root.path]) } }
        try project.write("bundles/1-one.sql", "CREATE TABLE one (a int);\nCREATE TABLE one_b (a int);\n")
        try project.write("bundles/2-two.sql", "CREATE TABLE two (a int);\nCREATE TABLE two_b (a int);\n")
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        #expect(Hostile.bundle(["lock", "f", "bundles/1-one.sql", "bundles/2-two.sql"], cwd: project.root).status == 0)
        let database = try TestCluster.makeDatabase(prefix: "hostile_full")
        let wait = Hostile.bundleInBackground(
            ["apply", "f", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_SLEEP_AT": "mid-bundle:2"])
        #expect(try waitForFirstBundle(project, database: database.name))
        let filler = project.root.appendingPathComponent("filler").path
        _ = runProcess("dd", ["if=/dev/zero", "of=\(filler)", "bs=64k"])
        let result = wait()
        Hostile.expectNoCrash(result)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("No space left on device"), "\(result.stderr)")
        try expectCommittedButNotWritten(project, database: database.conninfo, result: result)
        try FileManager.default.removeItem(atPath: filler)
        let next = Hostile.bundle(["apply", "f", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root)
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        #expect(next.stdout.contains("from the registry"), "\(next.stdout)")
        try expectAgreement(project, db: database.conninfo, bundles: 2)
        #expect(runProcess("umount", [project.root.path]).status == 0)
        mounted = false
    }

    /// After a repository failure while writing a run's commits: the bundles committed in the database (TXN-1, and
    /// TXN-2 unless the commits were written after TXN-1's slow transaction) have their commits' recipes in the
    /// registry, each one whole; the branch is still at the baseline, and the message says nothing is lost.
    func expectCommittedButNotWritten(_ project: TestProject, database: String, result: Hostile.Output) throws {
        let rows = try #require(Int(try Hostile.scalar(database, "SELECT count(*) FROM bundle.registry") ?? ""))
        #expect(rows == 1 || rows == 2)
        #expect(try Hostile.scalar(database, "SELECT count(commit_journal) FROM bundle.registry") == String(rows))
        #expect(try Hostile.scalar(database, "SELECT count(*) FROM pg_class WHERE relname IN ('one', 'one_b', 'two', 'two_b')") == String(2 * rows))
        #expect(result.stderr.contains("committed in the database"), "\(result.stderr)")
        #expect(result.stderr.contains("Nothing is lost"), "\(result.stderr)")
        #expect(Hostile.subjects("bundle/t", cwd: project.root).count == 1, "the branch did not move")
    }

    /// Waits until the apply runs TXN-1: the baseline commit (and with it the branch) exists, and the apply's
    /// connection is in a transaction (the baseline capture's own read-only transaction comes before the branch).
    func waitForFirstBundle(_ project: TestProject, database: String) throws -> Bool {
        let branch = project.root.appendingPathComponent(".git/refs/heads/bundle/t")
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: branch.path) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return try Hostile.waitForApplyInTransaction(try TestCluster.shared().conninfo, database: database) != nil
    }
}
