import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// Helpers shared by the Hostile*Tests suites: the real `bundle` executable, git, pg_dump.
enum Hostile {
    typealias Output = (status: Int32, stdout: String, stderr: String)

    static func bundle(_ args: [String], cwd: URL, environment: [String: String] = [:], timed: Bool = false) -> Output {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        env.merge(environment) { _, new in new }
        let prefix = timed ? ["/usr/bin/time", "-v"] : []
        return runProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", cwd.path] + prefix + [bundleExecutablePath] + args, environment: env)
    }

    /// Runs `bundle` in the background; `wait()` returns its output.
    static func bundleInBackground(_ args: [String], cwd: URL, environment: [String: String] = [:]) -> () -> Output {
        let group = DispatchGroup()
        nonisolated(unsafe) var result: Output = (0, "", "")
        DispatchQueue.global().async(group: group) { result = bundle(args, cwd: cwd, environment: environment) }
        return {
            group.wait()
            return result
        }
    }

    static func git(_ args: [String], cwd: URL) -> String {
        runProcess("git", ["-C", cwd.path] + args).stdout
    }

    static func subjects(_ branch: String, cwd: URL) -> [String] {
        git(["log", "--format=%s", branch], cwd: cwd).split(separator: "\n").map(String.init)
    }

    /// `pg_dump --schema-only` without schema `bundle` and without the `\restrict` lines (random per run).
    static func schemaDump(_ conninfo: String) throws -> String {
        let pgDump = try LocalCluster.findServerBinaries().appendingPathComponent("pg_dump").path
        let result = runProcess(pgDump, ["--schema-only", "--exclude-schema=bundle", "-d", conninfo])
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }.joined(separator: "\n")
    }

    static func scalar(_ conninfo: String, _ sql: String) throws -> String? {
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        return try connection.query(sql).rows.first?.first ?? nil
    }

    static func sha256(_ data: Data) -> String {
        String(runProcess("sha256sum", [], stdin: data).stdout.prefix(64))
    }

    /// No crash, no Swift runtime trap, no stack trace.
    static func expectNoCrash(_ output: Output, sourceLocation: SourceLocation = #_sourceLocation) {
        for marker in ["Fatal error", "Stack dump", "Current stack trace", "Illegal instruction", "Segmentation fault"] {
            #expect(!output.stderr.contains(marker) && !output.stdout.contains(marker), "\(marker): \(output.stderr)", sourceLocation: sourceLocation)
        }
        #expect(output.status >= 0 && output.status <= 2, "exit \(output.status): \(output.stderr)", sourceLocation: sourceLocation)
    }

    /// Waits until the database has a backend of `bundle apply` idle inside a transaction (the test hook's pause).
    static func waitForApplyInTransaction(_ conninfo: String, database: String, timeout: TimeInterval = 20) throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let pid = try scalar(
                conninfo,
                // Idle in transaction for a while: the test hook's pause, not a transaction caught between two of
                // its round trips (a capture's, a plan probe's), which a loaded machine makes visible at times.
                "SELECT pid::text FROM pg_stat_activity WHERE datname = '\(database)' AND application_name = 'bundle apply' AND state = 'idle in transaction' AND now() - state_change > interval '0.4 seconds'")
            {
                return pid
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return nil
    }

    /// A lock that pins `files` with their real sha256 (and a dummy semantic hash): written by hand, as an attacker
    /// or a bad merge would, so that `bundle lock`'s own checks are bypassed.
    static func handWrittenLock(name: String, files: [(name: String, path: String, data: Data)]) -> String {
        let entries = files.enumerated().map { offset, file in
            #"{"txn": \#(offset + 1), "name": "\#(file.name)", "path": "\#(file.path)", "sha256": "\#(sha256(file.data))", "semantic_sha256": "\#(String(repeating: "0", count: 64))"}"#
        }
        return #"{"version": 1, "name": "\#(name)", "bundles": [\#(entries.joined(separator: ", "))]}"#
    }
}

/// Bad SQL files: clear `file:line:col` messages, exit code 2, and no change to the database.
@Suite struct HostileInputTests {
    static let badFiles: [(name: String, bytes: [UInt8], expected: String)] = [
        ("pg16", Array("SELECT 1;\nSELECT 1_000;\n".utf8), "bundles/pg16.sql:2:8: syntax error"),
        ("syntax", Array("CREATE TABLE ok (a int);\nCREATE TABLE (;\n".utf8), "bundles/syntax.sql:2:14: syntax error"),
        ("empty", [], "bundles/empty.sql: the file contains no SQL statement"),
        ("comments", Array("-- nothing here\n/* still ; nothing */\n;\n".utf8), "bundles/comments.sql: the file contains no SQL statement"),
        ("latin1", Array("SELECT 1;\nSELECT 'caf".utf8) + [0xE9] + Array("';\n".utf8), "bundles/latin1.sql:2:12: invalid UTF-8 at byte offset 21"),
        ("nul", Array("SELECT 1;\nSELECT 'a".utf8) + [0x00] + Array("b';\n".utf8), "bundles/nul.sql:2:10: the file contains a NUL byte"),
        ("crlf", Array("CREATE TABLE c (a int);\r\n\r\nSELECT nope(;\r\n".utf8), "bundles/crlf.sql:3:13: syntax error"),
        ("bomcrlf", [0xEF, 0xBB, 0xBF] + Array("SELECT 1;\r\nSELECT 1_000;\r\n".utf8), "bundles/bomcrlf.sql:2:8: syntax error"),
    ]

    @Test func bundleLockRefusesBadSQLNamingFileLineAndColumn() throws {
        let project = try TestProject(prefix: "hostile-lock-sql")
        defer { project.remove() }
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        for file in Self.badFiles {
            let path = try project.write("bundles/\(file.name).sql", Data(file.bytes))
            let result = Hostile.bundle(["lock", file.name, path], cwd: project.root)
            Hostile.expectNoCrash(result)
            #expect(result.status == 2, "\(file.name): \(result.stderr)")
            #expect(result.stderr.contains(file.expected), "\(file.name): \(result.stderr)")
            #expect(project.read("locks/\(file.name).lock") == nil, "no lock is written for \(file.name)")
        }
    }

    @Test func badSQLPinnedByAHandWrittenLockNeverReachesTheDatabase() throws {
        let project = try TestProject(prefix: "hostile-pinned-sql")
        defer { project.remove() }
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "hostile_pinned")
        try PostgresConnection(conninfo: db.conninfo).execute("CREATE TABLE keep (a int)")
        let before = try Hostile.schemaDump(db.conninfo)
        for file in Self.badFiles {
            let good = Data("CREATE TABLE first_\(file.name) (a int);\n".utf8)
            try project.write("bundles/0-good-\(file.name).sql", good)
            try project.write("bundles/\(file.name).sql", Data(file.bytes))
            // The bad file is TXN-2: even TXN-1 must not run.
            try project.write(
                "locks/\(file.name).lock",
                Hostile.handWrittenLock(
                    name: file.name,
                    files: [("G", "bundles/0-good-\(file.name).sql", good), ("B", "bundles/\(file.name).sql", Data(file.bytes))]))
            for verb in [["plan", file.name, "--db", db.conninfo], ["apply", file.name, "--txn", "--db", db.conninfo, "--target", "t"]] {
                let result = Hostile.bundle(verb, cwd: project.root)
                Hostile.expectNoCrash(result)
                #expect(result.status == 2, "\(verb[0]) \(file.name): \(result.stdout)\(result.stderr)")
                #expect(result.stderr.contains(file.expected), "\(verb[0]) \(file.name): \(result.stderr)")
            }
        }
        #expect(try Hostile.schemaDump(db.conninfo) == before, "nothing reached the database")
        #expect(try Hostile.scalar(db.conninfo, "SELECT count(*) FROM pg_namespace WHERE nspname = 'bundle'") == "0", "not even the registry")
        #expect(Hostile.git(["branch", "--list", "bundle/*"], cwd: project.root).isEmpty, "no audit branch")
    }

    @Test func byteOrderMarkAndCRLFAreAcceptedWithExactLocations() throws {
        let project = try TestProject(prefix: "hostile-bom")
        defer { project.remove() }
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        let good = Data([0xEF, 0xBB, 0xBF] + Array("CREATE TABLE bom (a int);\r\n\r\nCOMMENT ON TABLE bom IS 'crlf';\r\n".utf8))
        try project.write("bundles/1-bom.sql", good)
        // A runtime error (no plan sees it): the server's position maps to line 4, column 10 despite BOM and CRLF.
        let failing = Data([0xEF, 0xBB, 0xBF] + Array("CREATE TABLE late (a int);\r\n\r\nINSERT INTO late (a)\r\n  SELECT nosuch FROM late;\r\n".utf8))
        try project.write("bundles/2-late.sql", failing)
        #expect(Hostile.bundle(["lock", "bom", "bundles/1-bom.sql", "bundles/2-late.sql"], cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "hostile_bom").conninfo
        let result = Hostile.bundle(["apply", "bom", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        Hostile.expectNoCrash(result)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("bundles/2-late.sql:4:10: error: TXN-2"), "\(result.stdout)")
        #expect(result.stdout.contains("ERROR 42703"))
        #expect(try Hostile.scalar(db, "SELECT obj_description('bom'::regclass)") == "crlf")
        #expect(try Hostile.scalar(db, "SELECT to_regclass('late') IS NULL") == "t", "TXN-2 was rolled back")
        // The exact bytes (BOM and CRLF included) are recorded as applied.
        let applied = runProcess("/bin/sh", ["-c", "git -C \"$0\" cat-file blob bundle/t:applied/TXN-1-1.sql | sha256sum", project.root.path])
        #expect(String(applied.stdout.prefix(64)) == Hostile.sha256(good))
    }

    /// 50 MB in one bundle: 220,000 statements. `bundle lock` and `lock --check` finish (or fail cleanly) in bounded time.
    @Test func fiftyMegabyteBundleLocksInBoundedTime() throws {
        let project = try TestProject(prefix: "hostile-big")
        defer { project.remove() }
        let row = String(repeating: "x", count: 200)
        var text = "CREATE TABLE big (id int, t text);\n"
        text.reserveCapacity(52 * 1024 * 1024)
        var id = 0
        while text.utf8.count < 50 * 1024 * 1024 {
            for _ in 0..<1_000 {
                text += "INSERT INTO big VALUES (\(id), '\(row)');\n"
                id += 1
            }
        }
        try project.write("bundles/big.sql", text)
        let clock = ContinuousClock()
        let started = clock.now
        let lock = Hostile.bundle(["lock", "big", "bundles/big.sql"], cwd: project.root)
        let lockTime = clock.now - started
        Hostile.expectNoCrash(lock)
        #expect(lock.status == 0, "\(lock.stderr)")
        #expect(lockTime < .seconds(90), "bundle lock of 50 MB took \(lockTime)")
        let check = Hostile.bundle(["lock", "big", "--check"], cwd: project.root)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(clock.now - started < .seconds(180))
        print("hostile: 50 MB bundle (\(id) statements): bundle lock took \(lockTime)")
    }
}
