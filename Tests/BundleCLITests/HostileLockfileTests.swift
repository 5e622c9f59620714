import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// Hostile lockfiles through the CLI: `bundle plan` and `bundle apply` exit 2 with the reason, never a crash,
/// and the database is not touched.
@Suite struct HostileLockfileTests {
    @Test func hostileLocksAreRefusedByPlanAndApply() throws {
        let project = try TestProject(prefix: "hostile-locks")
        defer { project.remove() }
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        let a = Data("CREATE TABLE a1 (a int);\n".utf8)
        let b = Data("CREATE TABLE b1 (a int);\n".utf8)
        try project.write("bundles/a.sql", a)
        try project.write("bundles/b.sql", b)
        let outside = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("hostile-outside-\(UUID().uuidString).sql")
        try a.write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(at: project.root.appendingPathComponent("bundles/link.sql"), withDestinationURL: outside)
        let outsideDirectory = outside.deletingLastPathComponent()
        try FileManager.default.createSymbolicLink(at: project.root.appendingPathComponent("bundles/tmpdir"), withDestinationURL: outsideDirectory)
        try FileManager.default.createSymbolicLink(
            at: project.root.appendingPathComponent("bundles/self.sql"), withDestinationURL: project.root.appendingPathComponent("locks/x.lock"))

        let hashA = Hostile.sha256(a)
        let hashB = Hostile.sha256(b)
        let zero = String(repeating: "0", count: 64)
        func entry(_ txn: Int, _ name: String, _ path: String, _ hash: String) -> String {
            #"{"txn": \#(txn), "name": "\#(name)", "path": "\#(path)", "sha256": "\#(hash)", "semantic_sha256": "\#(zero)"}"#
        }
        func lock(_ version: String = "1", _ entries: String...) -> String {
            #"{"version": \#(version), "name": "x", "bundles": [\#(entries.joined(separator: ", "))]}"#
        }
        let cases: [(label: String, text: String, expected: String)] = [
            ("malformed JSON", #"{"version": 1, "name": "x", "bundles": ["#, "locks/x.lock: invalid lockfile: not valid JSON"),
            ("not an object", "[1, 2, 3]", "locks/x.lock: invalid lockfile"),
            ("binary garbage", String(decoding: [0xFF, 0xFE, 0x00, 0x01], as: UTF8.self), "locks/x.lock: invalid lockfile"),
            ("unknown version", lock("2", entry(1, "A", "bundles/a.sql", hashA)), "unknown version 2"),
            ("duplicate TXN", lock("1", entry(1, "A", "bundles/a.sql", hashA), entry(1, "B", "bundles/b.sql", hashB)), "duplicate TXN number 1"),
            ("TXN gap", lock("1", entry(1, "A", "bundles/a.sql", hashA), entry(3, "B", "bundles/b.sql", hashB)), "TXN numbers must run 1…n"),
            ("duplicate name", lock("1", entry(1, "A", "bundles/a.sql", hashA), entry(2, "A", "bundles/b.sql", hashB)), "duplicate bundle name 'A'"),
            ("duplicate path", lock("1", entry(1, "A", "bundles/a.sql", hashA), entry(2, "B", "bundles/a.sql", hashA)), "pinned twice"),
            ("hash mismatch", lock("1", entry(1, "A", "bundles/a.sql", hashB)), "bundles/a.sql: changed since it was locked\n  pinned sha256 \(hashB)\n  actual sha256 \(hashA)"),
            ("malformed hash", lock("1", entry(1, "A", "bundles/a.sql", "abc")), "is not 64 lowercase hex digits"),
            ("dot-dot", lock("1", entry(1, "A", "bundles/../bundles/a.sql", hashA)), "bundles/../bundles/a.sql: path escapes the project"),
            ("dot-dot out", lock("1", entry(1, "A", "../../etc/passwd", hashA)), "../../etc/passwd: path escapes the project"),
            ("absolute", lock("1", entry(1, "A", project.root.appendingPathComponent("bundles/a.sql").path, hashA)), "path escapes the project"),
            ("symlink out", lock("1", entry(1, "A", "bundles/link.sql", hashA)), "bundles/link.sql: path escapes the project"),
            ("symlinked directory out", lock("1", entry(1, "A", "bundles/tmpdir/\(outside.lastPathComponent)", hashA)), "path escapes the project"),
            ("pins itself", lock("1", entry(1, "A", "locks/x.lock", hashA)), "a lock cannot pin a lockfile (or itself)"),
            ("pins itself via a symlink", lock("1", entry(1, "A", "bundles/self.sql", hashA)), "bundles/self.sql: changed since it was locked"),
            ("missing file", lock("1", entry(1, "A", "bundles/nope.sql", hashA)), "bundles/nope.sql: pinned file is missing"),
            ("no bundles", lock("1"), "the lock pins no bundles"),
        ]
        let db = try TestCluster.makeDatabase(prefix: "hostile_locks").conninfo
        let before = try Hostile.schemaDump(db)
        for (label, text, expected) in cases {
            try project.write("locks/x.lock", text)
            for verb in [["plan", "x", "--db", db], ["apply", "x", "--txn", "--db", db, "--target", "t"], ["lock", "x", "--check"]] {
                let result = Hostile.bundle(verb, cwd: project.root)
                Hostile.expectNoCrash(result)
                #expect(result.status == 2 || (verb[0] == "lock" && result.status == 1), "\(label), \(verb[0]): exit \(result.status) \(result.stdout)\(result.stderr)")
                if verb[0] != "lock" {
                    #expect(result.stderr.contains(expected), "\(label), \(verb[0]): \(result.stderr)")
                    #expect(result.stdout.isEmpty, "\(label), \(verb[0]): nothing on stdout: \(result.stdout)")
                }
            }
        }
        #expect(try Hostile.schemaDump(db) == before)
        #expect(try Hostile.scalar(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'bundle'") == "0")
        // The same project with a sound lock applies: the refusals above were about the locks alone.
        try FileManager.default.removeItem(at: project.root.appendingPathComponent("bundles/self.sql"))
        try FileManager.default.removeItem(at: project.root.appendingPathComponent("bundles/link.sql"))
        try FileManager.default.removeItem(at: project.root.appendingPathComponent("bundles/tmpdir"))
        try project.write("locks/x.lock", lock("1", entry(1, "A", "bundles/a.sql", hashA), entry(2, "B", "bundles/b.sql", hashB)))
        let good = Hostile.bundle(["apply", "x", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
    }
}
