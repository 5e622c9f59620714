import Foundation
import Testing
@testable import GitHistory

/// Buffered writes (apply's commits, kept in memory until the end of a run) build trees and commits without
/// libgit2's tree updater; they must give exactly the ids the direct path gives, and every object must reach the
/// repository when flushed (as one pack).
@Suite struct BufferedWriteTests {
    /// Two new bare repositories: one written directly, one with buffered writes (the directories live as long as
    /// the pair).
    struct RepositoryPair {
        let directDirectory: TemporaryDirectory
        let bufferedDirectory: TemporaryDirectory
        let direct: GitRepository
        let buffered: GitRepository

        init() throws {
            directDirectory = try TemporaryDirectory()
            bufferedDirectory = try TemporaryDirectory()
            direct = try GitRepository.create(at: directDirectory.url, bare: true)
            buffered = try GitRepository.create(at: bufferedDirectory.url, bare: true)
            try buffered.bufferWrites()
        }
    }

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
        let pair = try RepositoryPair()
        let (direct, buffered, bufferedDirectory) = (pair.direct, pair.buffered, pair.bufferedDirectory)
        let expected = try commits(direct, count: rounds)
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

    /// Buffered trees are spliced as bytes: files over directories (and the reverse) are refused with the direct
    /// path's error, and a removal followed by writes below the same name gives the direct path's tree.
    @Test func conflictsAndReplacementsMatchTheDirectPath() throws {
        let pair = try RepositoryPair()
        let (direct, buffered) = (pair.direct, pair.buffered)
        let base: [TreeChange] = [
            .upsert(path: "state/dir/a.sql", contents: Data("a\n".utf8)), .upsert(path: "state/file", contents: Data("f\n".utf8)),
        ]
        let directBase = try direct.writeTree(base: nil, changes: base)
        let bufferedBase = try buffered.writeTree(base: nil, changes: base)
        #expect(directBase == bufferedBase)
        func error(_ repository: GitRepository, _ tree: ObjectID, _ changes: [TreeChange]) -> String? {
            do {
                _ = try repository.writeTree(base: tree, changes: changes)
                return nil
            } catch {
                guard case .invalidPath(let path, let reason) = error else { return "unexpected \(error)" }
                return "\(path): \(reason)"
            }
        }
        for conflict: [TreeChange] in [
            [.upsert(path: "state/dir", contents: Data("file over dir".utf8))],
            [.upsert(path: "state/file/x.sql", contents: Data("dir over file".utf8))],
            [.upsert(path: "state/file/deeper/x.sql", contents: Data("dir over file".utf8))],
        ] {
            let expected = error(direct, directBase, conflict)
            #expect(expected != nil)
            #expect(error(buffered, bufferedBase, conflict) == expected)
        }
        // A removal and a write of the other kind under one name in one step is refused too (the base tree decides),
        // and a directory removed and written below in one step keeps its other files (as libgit2's updater does).
        func outcome(_ repository: GitRepository, _ tree: ObjectID, _ changes: [TreeChange]) -> String {
            error(repository, tree, changes) ?? ((try? repository.writeTree(base: tree, changes: changes))?.hex ?? "?")
        }
        for replacement: [TreeChange] in [
            [.remove(path: "state/file"), .upsert(path: "state/file/x.sql", contents: Data("now a dir\n".utf8))],
            [.remove(path: "state/dir"), .upsert(path: "state/dir/b.sql", contents: Data("b\n".utf8))],
            [.remove(path: "state/dir"), .upsert(path: "state/dir", contents: Data("now a file\n".utf8))],
            [.remove(path: "state/missing/x.sql"), .remove(path: "state/file/x.sql")],
            [.remove(path: "state/dir")],
        ] {
            let directOutcome = outcome(direct, directBase, replacement)
            #expect(outcome(buffered, bufferedBase, replacement) == directOutcome, "\(replacement)")
        }
    }

    /// Growing directories and a growing file, flushed every 40 commits: each pack stores later versions of a path
    /// as deltas against earlier ones in the same pack; git reads every version back, `fsck --strict` passes, and
    /// the ids equal the direct path's.
    @Test func packsWithDeltasAcrossSeveralFlushes() throws {
        let pair = try RepositoryPair()
        let (direct, buffered, bufferedDirectory) = (pair.direct, pair.buffered, pair.bufferedDirectory)
        var signatures = ""
        var parents: (direct: ObjectID?, buffered: ObjectID?) = (nil, nil)
        for step in 1...200 {
            signatures += "public\tfn_\(step)\t(a integer)\t\(String(repeating: "x", count: step % 50))\n"
            let changes: [TreeChange] = [
                .upsert(path: "applied/TXN-\(step)-b_\(step).sql", contents: Data("CREATE TABLE t\(step) ();\n".utf8)),
                .upsert(path: "state/signatures.tsv", contents: Data(signatures.utf8)),
                .upsert(path: "state/public/tables/t\(step % 70).sql", contents: Data("-- version \(step)\n".utf8)),
            ]
            let d = try direct.writeCommit(
                baseTree: try parents.direct.map { try direct.commit($0).tree }, changes: changes, parents: parents.direct.map { [$0] } ?? [],
                message: "step \(step)", author: alice, committer: alice)
            let b = try buffered.writeCommit(
                baseTree: try parents.buffered.map { try buffered.commit($0).tree }, changes: changes,
                parents: parents.buffered.map { [$0] } ?? [], message: "step \(step)", author: alice, committer: alice)
            #expect(b == d, "step \(step)")
            parents = (d, b)
            if step % 40 == 0 { try buffered.flushBufferedWrites() }
        }
        try buffered.updateReference("refs/heads/main", to: parents.buffered!, expected: nil, logMessage: "test")
        try git(["fsck", "--strict", "--no-dangling", "main"], in: bufferedDirectory.url)
        #expect(try git(["show", "main:state/signatures.tsv"], in: bufferedDirectory.url) == signatures)
        #expect(try git(["show", "main~150:applied/TXN-50-b_50.sql"], in: bufferedDirectory.url) == "CREATE TABLE t50 ();\n")
        #expect(try buffered.readFile("state/signatures.tsv", at: parents.buffered!) == Data(signatures.utf8))
        let packDirectory = bufferedDirectory.url.appendingPathComponent("objects/pack")
        let packs = try FileManager.default.contentsOfDirectory(atPath: packDirectory.path).filter { $0.hasSuffix(".pack") }
        #expect(packs.count == 5, "one pack per flush: \(packs)")
        // Later versions of a path are deltas (verify-pack prints "chain length = N: ..." for them).
        let verified = try git(["verify-pack", "-v", packDirectory.appendingPathComponent(packs[0]).path], in: bufferedDirectory.url)
        #expect(verified.contains("chain length = 1"), "\(verified.suffix(400))")
    }

    /// Paths are bytes: a '/' followed by a combining mark still separates directories, and two spellings of a
    /// name that Swift's String calls equal (composed é, e + U+0301) are two files, in both write paths.
    /// The word-at-a-time common prefix and suffix agree with a byte-by-byte count, for lengths around the word
    /// size, overlapping prefix and suffix, and differences at every position.
    @Test func commonPrefixAndSuffixMatchesAByteCount() {
        func naive(_ a: [UInt8], _ b: [UInt8]) -> (Int, Int) {
            let limit = min(a.count, b.count)
            var prefix = 0
            while prefix < limit && a[prefix] == b[prefix] { prefix += 1 }
            var suffix = 0
            while suffix < limit - prefix && a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
            return (prefix, suffix)
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            let base = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...2, using: &generator) }
            var other = base
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                switch Int.random(in: 0...2, using: &generator) {
                case 0 where !other.isEmpty: other[Int.random(in: 0..<other.count, using: &generator)] ^= 1
                case 1: other.insert(UInt8.random(in: 0...2, using: &generator), at: Int.random(in: 0...other.count, using: &generator))
                default: if !other.isEmpty { other.remove(at: Int.random(in: 0..<other.count, using: &generator)) }
                }
            }
            let fast = base.withUnsafeBytes { a in other.withUnsafeBytes { b in commonPrefixAndSuffix(a, b) } }
            let expected = naive(base, other)
            #expect(fast.prefix == expected.0 && fast.suffix == expected.1, "\(base) \(other)")
        }
    }

    @Test func pathsAreComparedAsBytes() throws {
        let pair = try RepositoryPair()
        let (direct, buffered, bufferedDirectory) = (pair.direct, pair.buffered, pair.bufferedDirectory)
        let changes: [TreeChange] = [
            .upsert(path: "state/t/\u{301}x.sql", contents: Data("combining\n".utf8)),
            .upsert(path: "state/caf\u{E9}.sql", contents: Data("composed\n".utf8)),
            .upsert(path: "state/cafe\u{301}.sql", contents: Data("decomposed\n".utf8)),
        ]
        let expected = try direct.writeCommit(baseTree: nil, changes: changes, parents: [], message: "m", author: alice, committer: alice)
        let got = try buffered.writeCommit(baseTree: nil, changes: changes, parents: [], message: "m", author: alice, committer: alice)
        #expect(got == expected)
        try buffered.flushBufferedWrites()
        try buffered.updateReference("refs/heads/main", to: got, expected: nil, logMessage: "test")
        try git(["fsck", "--strict", "--no-dangling", "main"], in: bufferedDirectory.url)
        let files = try git(["ls-tree", "-r", "--name-only", "-z", "main"], in: bufferedDirectory.url).split(separator: "\0")
        #expect(files.count == 3, "\(files)")
        // A file and a directory under the same bytes (after a combining mark) conflict in both paths.
        let conflict: [TreeChange] = [.upsert(path: "a", contents: Data()), .upsert(path: "a/\u{301}b", contents: Data())]
        #expect(throws: GitHistoryError.self) { try direct.writeTree(base: nil, changes: conflict) }
        #expect(throws: GitHistoryError.self) { try buffered.writeTree(base: nil, changes: conflict) }
    }
}
