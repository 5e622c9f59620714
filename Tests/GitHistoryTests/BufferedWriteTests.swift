import Foundation
import Testing
@testable import GitHistory

/// Buffered writes (apply's commits, kept in memory until the end of a run) build trees and commits without
/// libgit2's tree updater; they must give exactly the ids the direct path gives, and every object must reach the
/// repository when flushed (as one pack).
@Suite struct BufferedWriteTests {
    /// A sequence of commits: adds, updates, nested directories, names that sort around '/' ("a", "a.b", "a/b",
    /// "a-b"), removals that empty a directory, and finally a removal of everything.
    static let steps: [[TreeChange]] = [
        [.upsert(path: "state/a.sql", contents: Data("a\n".utf8)), .upsert(path: "state/a/b.sql", contents: Data("ab\n".utf8)),
         .upsert(path: "state/a-b.sql", contents: Data("a-b\n".utf8)), .upsert(path: "state/a.b/c.sql", contents: Data("c\n".utf8)),
         .upsert(path: "top.txt", contents: Data("top\n".utf8))],
        [.upsert(path: "state/a/b.sql", contents: Data("ab2\n".utf8)), .upsert(path: "state/z/y/x.sql", contents: Data("deep\n".utf8)),
         .remove(path: "state/a-b.sql")],
        [.remove(path: "state/a/b.sql"), .remove(path: "state/nothing-here.sql"), .upsert(path: "rollback/TXN-1.sql", contents: Data())],
        [.upsert(path: "state/a.sql", contents: Data("a\n".utf8))],  // unchanged content: same tree
        [.remove(path: "state"), .remove(path: "top.txt"), .remove(path: "rollback/TXN-1.sql")],
    ]

    func commits(_ repository: GitRepository, count: Int = 1) throws -> [ObjectID] {
        var ids: [ObjectID] = []
        var parent: ObjectID? = nil
        for round in 0..<count {
            for (index, changes) in Self.steps.enumerated() {
                let tree = try parent.map { try repository.commit($0).tree }
                // A file that changes every step, so that more rounds mean more distinct objects.
                let counter = TreeChange.upsert(path: "counter.txt", contents: Data("\(round).\(index)\n".utf8))
                let id = try repository.writeCommit(
                    baseTree: tree, changes: changes + [counter], parents: parent.map { [$0] } ?? [], message: "step \(round).\(index)", author: alice,
                    committer: alice)
                ids.append(id)
                parent = id
            }
        }
        return ids
    }

    @Test(arguments: [1, 20])
    func bufferedCommitsEqualDirectOnesAndReachTheRepository(rounds: Int) throws {
        let directDirectory = try TemporaryDirectory()
        let bufferedDirectory = try TemporaryDirectory()
        let direct = try GitRepository.create(at: directDirectory.url, bare: true)
        let buffered = try GitRepository.create(at: bufferedDirectory.url, bare: true)
        let expected = try commits(direct, count: rounds)
        try buffered.bufferWrites()
        let got = try commits(buffered, count: rounds)
        #expect(got == expected)
        // Readable before the flush (from memory) ...
        #expect(try buffered.commit(got.last!).message.hasPrefix("step"))
        try buffered.flushBufferedWrites()
        try buffered.updateReference("refs/heads/main", to: got.last!, expected: nil, logMessage: "test")
        // ... and afterwards from disk, by another process: every object is there, well formed.
        try git(["fsck", "--strict", "--no-dangling", "main"], in: bufferedDirectory.url)
        #expect(trimmed(try git(["rev-list", "--count", "main"], in: bufferedDirectory.url)) == String(got.count))
        let packs = try FileManager.default.contentsOfDirectory(atPath: bufferedDirectory.url.appendingPathComponent("objects/pack").path)
        #expect(packs.filter { $0.hasSuffix(".pack") }.count == 1, "one flush, one pack: \(packs)")
    }
}
