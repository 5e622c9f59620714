import BundleTestSupport
import ContentHash
import Foundation
import Testing

@testable import BundleKit

@Suite struct LockFileTests {
    func makeProject() throws -> (TestProject, Locksmith) {
        let project = try TestProject(prefix: "lock")
        try project.write("bundles/x/A-first.sql", "CREATE TABLE t (a int);\n-- comment\nCREATE INDEX t_a ON t (a);\n")
        try project.write("bundles/x/B-second.sql", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\n")
        try project.write("bundles/x/B-second.rollback.sql", "DROP FUNCTION f();\n")
        return (project, Locksmith(project: Project(root: project.root)))
    }

    @Test func pinsEqualSha256sumOfTheFiles() throws {
        let (project, smith) = try makeProject()
        defer { project.remove() }
        let lock = try smith.makeLock(name: "x", paths: ["bundles/x/A-first.sql", "bundles/x/B-second.sql"])
        #expect(lock.bundles.map(\.txn) == [1, 2])
        #expect(lock.bundles.map(\.name) == ["A", "B"])
        for bundle in lock.bundles {
            let result = runProcess("sha256sum", [project.root.appendingPathComponent(bundle.path).path])
            #expect(result.status == 0)
            #expect(String(result.stdout.prefix(64)) == bundle.sha256)
        }
        let rollback = try #require(lock.bundles[1].rollback)
        let result = runProcess("sha256sum", [project.root.appendingPathComponent(rollback.path).path])
        #expect(String(result.stdout.prefix(64)) == rollback.sha256)
        #expect(lock.bundles[0].rollback == nil)
    }

    @Test func lockBytesAreStableAndKeySorted() throws {
        let (project, smith) = try makeProject()
        defer { project.remove() }
        let first = try smith.makeLock(name: "x", paths: ["bundles/x/A-first.sql", "bundles/x/B-second.sql"]).encoded()
        let second = try smith.makeLock(name: "x", paths: ["bundles/x/A-first.sql", "bundles/x/B-second.sql"]).encoded()
        #expect(first == second)
        let text = String(decoding: first, as: UTF8.self)
        let bundles = try #require(text.range(of: "\"bundles\""))
        let name = try #require(text.range(of: "\"name\" : \"x\"") ?? text.range(of: "\"name\": \"x\""))
        #expect(bundles.lowerBound < name.lowerBound)
        #expect(text.hasSuffix("}\n"))
        let decoded = try LockFile.decode(first, path: "locks/x.lock")
        #expect(decoded.encoded() == first)
    }

    @Test func oneByteEditIsRefusedNamingFileAndBothHashes() throws {
        let (project, smith) = try makeProject()
        defer { project.remove() }
        let url = try smith.write(try smith.makeLock(name: "x", paths: ["bundles/x/A-first.sql", "bundles/x/B-second.sql"]))
        let pinned = SHA256.hex(try #require(project.read("bundles/x/A-first.sql")))
        try project.write("bundles/x/A-first.sql", "CREATE TABLE t (b int);\n-- comment\nCREATE INDEX t_a ON t (a);\n")
        let actual = SHA256.hex(try #require(project.read("bundles/x/A-first.sql")))
        #expect(throws: BundleError.self) { try smith.load(url) }
        do {
            _ = try smith.load(url)
        } catch {
            let text = error.errorDescription ?? ""
            #expect(text.contains("bundles/x/A-first.sql"))
            #expect(text.contains(pinned))
            #expect(text.contains(actual))
            #expect(!text.contains("cosmetic"))
            #expect(error.exitCode == 2)
        }
    }

    @Test func deletedFileIsRefused() throws {
        let (project, smith) = try makeProject()
        defer { project.remove() }
        let url = try smith.write(try smith.makeLock(name: "x", paths: ["bundles/x/A-first.sql", "bundles/x/B-second.sql"]))
        try FileManager.default.removeItem(at: project.root.appendingPathComponent("bundles/x/A-first.sql"))
        do {
            _ = try smith.load(url)
            Issue.record("a missing file must be refused")
        } catch {
            #expect(error.errorDescription?.contains("bundles/x/A-first.sql: pinned file is missing") == true)
            #expect(error.exitCode == 2)
        }
    }

    @Test func unpinnedSiblingIsAnExtraFile() throws {
        let (project, smith) = try makeProject()
        defer { project.remove() }
        let url = try smith.write(try smith.makeLock(name: "x", paths: ["bundles/x/A-first.sql"]))
        try project.write("bundles/x/A-first.rollback.sql", "DROP TABLE t;\n")
        let entries = try smith.check(url)
        #expect(entries.contains { $0.state == .extra && $0.path == "bundles/x/A-first.rollback.sql" })
        #expect(throws: BundleError.self) { try smith.load(url) }
    }

    @Test func whitespaceOnlyEditIsCosmeticAndRealEditIsNot() throws {
        let (project, smith) = try makeProject()
        defer { project.remove() }
        let url = try smith.write(try smith.makeLock(name: "x", paths: ["bundles/x/A-first.sql", "bundles/x/B-second.sql"]))
        try project.write("bundles/x/A-first.sql", "-- reformatted\nCREATE   TABLE t\n  (a int);\n\n\ncreate index t_a on t (a);\n")
        try project.write("bundles/x/B-second.sql", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 2; $$;\n")
        let entries = try smith.check(url)
        #expect(entries.first { $0.path == "bundles/x/A-first.sql" }?.state == .cosmetic)
        #expect(entries.first { $0.path == "bundles/x/B-second.sql" }?.state == .changed)
        #expect(entries.first { $0.path == "bundles/x/B-second.rollback.sql" }?.state == .ok)
    }

    @Test func pathsEscapingTheProjectAreRefused() throws {
        let (project, smith) = try makeProject()
        defer { project.remove() }
        let outside = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("outside-\(UUID().uuidString).sql")
        try Data("SELECT 1;".utf8).write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(
            at: project.root.appendingPathComponent("bundles/x/link.sql"), withDestinationURL: outside)
        for path in ["../outside.sql", "/etc/passwd", "bundles/../../x.sql", "bundles/x/link.sql"] {
            do {
                _ = try smith.makeLock(name: "x", paths: [path])
                Issue.record("\(path) must be refused")
            } catch {
                #expect(error.errorDescription?.contains("escapes the project") == true, "\(path): \(error)")
                #expect(error.exitCode == 2)
            }
        }
        // A lock edited by hand to point outside is refused when read.
        let good = try smith.makeLock(name: "x", paths: ["bundles/x/A-first.sql"])
        var evil = good
        evil.bundles[0].path = "../../etc/passwd"
        let url = try smith.write(evil)
        #expect(throws: BundleError.self) { try smith.load(url) }
    }

    @Test func malformedLocksAreRefusedWithTheReason() throws {
        let cases: [(String, String)] = [
            ("{ not json", "not valid JSON"),
            (#"{"version": 7, "name": "x", "bundles": []}"#, "unknown version 7"),
            (#"{"version": 1, "name": "x"}"#, "missing key 'bundles'"),
            (#"{"version": 1, "name": "x", "bundles": []}"#, "pins no bundles"),
        ]
        for (text, expected) in cases {
            do {
                _ = try LockFile.decode(Data(text.utf8), path: "locks/x.lock")
                Issue.record("\(text) must be refused")
            } catch {
                #expect(error.errorDescription?.contains(expected) == true, "\(error.errorDescription ?? "")")
                #expect(error.errorDescription?.hasPrefix("locks/x.lock: invalid lockfile") == true)
            }
        }
        let hash = String(repeating: "a", count: 64)
        func bundle(_ txn: Int, _ name: String, _ path: String) -> LockedBundle {
            LockedBundle(txn: txn, name: name, path: path, sha256: hash, semanticSha256: hash)
        }
        let duplicateTxn = LockFile(name: "x", bundles: [bundle(1, "A", "a.sql"), bundle(1, "B", "b.sql")])
        #expect(throws: BundleError.self) { try duplicateTxn.validate(path: "locks/x.lock") }
        let duplicateName = LockFile(name: "x", bundles: [bundle(1, "A", "a.sql"), bundle(2, "A", "b.sql")])
        #expect(throws: BundleError.self) { try duplicateName.validate(path: "locks/x.lock") }
        let selfPin = LockFile(name: "x", bundles: [bundle(1, "A", "locks/x.lock")])
        #expect(throws: BundleError.self) { try selfPin.validate(path: "locks/x.lock") }
    }

    @Test func bundleNamesUseUniquePrefixesElseStems() {
        #expect(Locksmith.bundleNames(for: ["b/A-x.sql", "b/B-y.sql"]) == ["A", "B"])
        #expect(Locksmith.bundleNames(for: ["b/A-x.sql", "b/A-y.sql"]) == ["A-x", "A-y"])
        #expect(Locksmith.bundleNames(for: ["b/one.sql", "c/one.sql"]) == ["one", "one-2"])
    }

    @Test func badSQLIsRefusedAtLockTimeWithLineAndColumn() throws {
        let (project, smith) = try makeProject()
        defer { project.remove() }
        try project.write("bundles/x/bad.sql", "SELECT 1;\n\nCREATE TABLE (a int);\n")
        do {
            _ = try smith.makeLock(name: "x", paths: ["bundles/x/bad.sql"])
            Issue.record("bad SQL must be refused")
        } catch {
            #expect(error.errorDescription?.hasPrefix("bundles/x/bad.sql:3:14") == true, "\(error.errorDescription ?? "")")
        }
    }
}
