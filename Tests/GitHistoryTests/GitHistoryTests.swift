import Foundation
import Testing
@testable import GitHistory

// MARK: - Helpers

/// A temporary directory removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("githistory-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

struct CommandFailed: Error, CustomStringConvertible {
    let description: String
}

/// Runs the git CLI in `directory` and returns its standard output.
@discardableResult
func git(_ arguments: [String], in directory: URL) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "-c", "user.name=CLI User", "-c", "user.email=cli@example.com",
                         "-c", "safe.directory=*"] + arguments
    process.currentDirectoryURL = directory
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CommandFailed(description: "git \(arguments.joined(separator: " ")) failed: "
            + String(decoding: errorData, as: UTF8.self))
    }
    return String(decoding: data, as: UTF8.self)
}

func trimmed(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

let alice = Signature(name: "Alice Admin", email: "alice@example.com",
                      time: Date(timeIntervalSince1970: 1_700_000_000), timeZoneOffsetMinutes: 120)
let bot = Signature(name: "bundle", email: "bundle@localhost",
                    time: Date(timeIntervalSince1970: 1_700_000_100), timeZoneOffsetMinutes: -300)

func data(_ s: String) -> Data { Data(s.utf8) }

let branch = "refs/heads/bundle/test"

/// A non-bare repository with one commit on `main` (README.md) made by the git CLI, plus two libgit2 commits
/// on `bundle/test`.
struct Fixture {
    let directory: TemporaryDirectory
    let repository: GitRepository
    let first: ObjectID
    let second: ObjectID

    static let firstFiles: [String: Data] = [
        "state/public/functions/fn_x(uuid,text).sql": data("create function fn_x() ...;\n"),
        "state/public/tables/t.sql": data("create table t (id int);\n"),
        "state/other/view.sql": data("create view v as select 1;\n"),
        "rollback/0001.sql": data("drop table t;\n"),
    ]

    init() throws {
        directory = try TemporaryDirectory()
        repository = try GitRepository.create(at: directory.url)
        try "hello\n".write(to: directory.url.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try git(["add", "README.md"], in: directory.url)
        try git(["commit", "-q", "-m", "initial"], in: directory.url)

        first = try repository.writeCommit(
            files: Self.firstFiles, parents: [],
            message: "Apply 0001_init\n\nCreates table t.\n\nBundle-Sha256: abc\nBundle-Target: test\n",
            author: alice, committer: bot)
        try repository.updateReference(branch, to: first, expected: nil, logMessage: "bundle: apply 0001_init")

        second = try repository.writeCommit(
            baseTree: repository.commit(first).tree,
            changes: [.upsert(path: "state/public/tables/t.sql", contents: data("create table t (id bigint);\n")),
                      .upsert(path: "rollback/0002.sql", contents: data("alter table t alter id type int;\n"))],
            parents: [first], message: "Apply 0002_widen\n\nBundle-Sha256: def", author: alice, committer: bot)
        try repository.updateReference(branch, to: second, expected: first, logMessage: "bundle: apply 0002_widen")
    }
}

// MARK: - Opening and creating

@Test func createdRepositoryHasWorkTreeAndMainHead() throws {
    let dir = try TemporaryDirectory()
    let repo = try GitRepository.create(at: dir.url.appendingPathComponent("project"))
    #expect(repo.workTree?.standardizedFileURL.path == dir.url.appendingPathComponent("project").standardizedFileURL.path)
    #expect(repo.gitDirectory.lastPathComponent == ".git")
    #expect(!repo.isBare)
    #expect(trimmed(try git(["symbolic-ref", "HEAD"], in: dir.url.appendingPathComponent("project"))) == "refs/heads/main")
    #expect(GitRepository.exists(at: dir.url.appendingPathComponent("project")))
    #expect(!GitRepository.exists(at: dir.url))
    #expect(repo.referenceTarget("HEAD") == nil, "HEAD is unborn")

    // Creating again over an existing repository fails instead of reinitializing it.
    #expect(throws: GitHistoryError.self) { try GitRepository.create(at: dir.url.appendingPathComponent("project")) }
}

@Test func bareRepositoryRoundTrip() throws {
    let dir = try TemporaryDirectory()
    let repo = try GitRepository.create(at: dir.url, bare: true)
    #expect(repo.isBare)
    #expect(repo.workTree == nil)
    let id = try repo.writeCommit(files: ["a.txt": data("A")], parents: [], message: "one",
                                  author: alice, committer: alice)
    try repo.updateReference("refs/heads/bundle/prod", to: id, expected: nil, logMessage: "create")
    let reopened = try GitRepository.open(at: dir.url)
    #expect(reopened.isBare)
    #expect(reopened.referenceTarget("refs/heads/bundle/prod") == id)
    #expect(try reopened.readFile("a.txt", at: id) == data("A"))
    #expect(trimmed(try git(["--git-dir", dir.url.path, "cat-file", "-p", "bundle/prod:a.txt"], in: dir.url)) == "A")
}

@Test func openFindsRepositoryFromSubdirectory() throws {
    let fixture = try Fixture()
    let sub = fixture.directory.url.appendingPathComponent("deep/er", isDirectory: true)
    try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
    let repo = try GitRepository.open(at: sub)
    #expect(repo.referenceTarget(branch) == fixture.second)
    #expect(throws: GitHistoryError.notARepository(sub.path)) {
        try GitRepository.open(at: sub, searchParents: false)
    }
}

@Test func openingANonRepositoryFails() throws {
    let dir = try TemporaryDirectory()
    #expect(throws: GitHistoryError.notARepository(dir.url.path)) {
        try GitRepository.open(at: dir.url, searchParents: false)
    }
    let missing = dir.url.appendingPathComponent("missing")
    #expect(throws: GitHistoryError.notARepository(missing.path)) { try GitRepository.open(at: missing) }
    let error = GitHistoryError.notARepository(dir.url.path)
    #expect(error.errorDescription?.contains("not inside a git repository") == true)
}

// MARK: - Writing without touching the work tree

@Test func writingCommitsLeavesWorkTreeIndexAndHeadAlone() throws {
    let fixture = try Fixture()
    let url = fixture.directory.url
    #expect(try git(["status", "--porcelain"], in: url).isEmpty)
    #expect(trimmed(try git(["symbolic-ref", "HEAD"], in: url)) == "refs/heads/main")
    #expect(trimmed(try git(["log", "--format=%s", "main"], in: url)) == "initial")
    #expect(try git(["ls-files"], in: url) == "README.md\n")
    #expect(!FileManager.default.fileExists(atPath: url.appendingPathComponent("state").path))
    #expect(fixture.repository.referenceTarget("HEAD") == fixture.repository.referenceTarget("refs/heads/main"))

    // Plain git reads what libgit2 wrote.
    #expect(trimmed(try git(["rev-parse", "bundle/test"], in: url)) == fixture.second.hex)
    let messages = try git(["log", "bundle/test", "--format=%B"], in: url)
    #expect(messages.contains("Apply 0001_init\n\nCreates table t.\n\nBundle-Sha256: abc\nBundle-Target: test"))
    #expect(messages.contains("Apply 0002_widen\n\nBundle-Sha256: def"))
    #expect(try git(["cat-file", "-p", "bundle/test:state/public/functions/fn_x(uuid,text).sql"], in: url)
        == "create function fn_x() ...;\n")
    #expect(try git(["cat-file", "-p", "bundle/test~1:state/public/tables/t.sql"], in: url)
        == "create table t (id int);\n")
    #expect(trimmed(try git(["log", "-1", "--format=%an <%ae> %at %ai|%cn <%ce> %ct", "bundle/test"], in: url))
        == "Alice Admin <alice@example.com> 1700000000 2023-11-15 00:13:20 +0200|bundle <bundle@localhost> 1700000100")
    try git(["fsck", "--strict", "--no-dangling"], in: url)
    // The reflog records the update messages.
    let reflog = try git(["reflog", "show", "--format=%gs", "bundle/test"], in: url)
    #expect(reflog == "bundle: apply 0002_widen\nbundle: apply 0001_init\n")
}

@Test func upsertReusesUnchangedSubtreesAndBlobs() throws {
    let fixture = try Fixture()
    let url = fixture.directory.url
    func rev(_ spec: String) throws -> String { trimmed(try git(["rev-parse", spec], in: url)) }
    #expect(try rev("\(fixture.first.hex):state/other") == rev("\(fixture.second.hex):state/other"))
    #expect(try rev("\(fixture.first.hex):state/public/functions") == rev("\(fixture.second.hex):state/public/functions"))
    #expect(try rev("\(fixture.first.hex):rollback/0001.sql") == rev("\(fixture.second.hex):rollback/0001.sql"))
    #expect(try rev("\(fixture.first.hex):state/public") != rev("\(fixture.second.hex):state/public"))
    #expect(try fixture.repository.objectID(at: "state/other", in: fixture.second)?.hex
        == rev("\(fixture.second.hex):state/other"))
    #expect(try fixture.repository.objectID(at: "nope", in: fixture.second) == nil)
    #expect(try fixture.repository.readFile("state/public/tables/t.sql", at: fixture.second)
        == data("create table t (id bigint);\n"))
}

@Test func removeDeletesFilesAndEmptiedDirectories() throws {
    let fixture = try Fixture()
    let repo = fixture.repository
    let third = try repo.writeCommit(
        baseTree: repo.commit(fixture.second).tree,
        changes: [.remove(path: "state/other/view.sql"), .remove(path: "rollback/0001.sql"),
                  .remove(path: "does/not/exist.sql")],
        parents: [fixture.second], message: "Remove things", author: alice, committer: bot)
    #expect(try repo.readFile("state/other/view.sql", at: third) == nil)
    #expect(try repo.readFile("rollback/0001.sql", at: third) == nil)
    #expect(try repo.readFile("rollback/0002.sql", at: third) != nil)
    #expect(try repo.objectID(at: "state/other", in: third) == nil, "the emptied directory is gone")
    #expect(try repo.objectID(at: "does", in: third) == nil, "removing a missing path creates nothing")
    #expect(try repo.objectID(at: "state/public", in: third) == repo.objectID(at: "state/public", in: fixture.second))
    let listing = try git(["ls-tree", "-r", "-t", "--name-only", third.hex], in: fixture.directory.url)
    #expect(listing == "rollback\nrollback/0002.sql\nstate\nstate/public\nstate/public/functions\n"
        + "state/public/functions/fn_x(uuid,text).sql\nstate/public/tables\nstate/public/tables/t.sql\n")
    try git(["fsck", "--strict", "--no-dangling"], in: fixture.directory.url)

    // Removing a whole directory.
    let fourth = try repo.writeCommit(baseTree: repo.commit(third).tree, changes: [.remove(path: "state")],
                                      parents: [third], message: "Drop state", author: alice, committer: bot)
    #expect(try Set(repo.readTree(at: fourth).keys) == ["rollback/0002.sql"])

    // Emptying nested directories removes every level that becomes empty.
    let nested = try repo.writeCommit(baseTree: repo.commit(fourth).tree,
                                      changes: [.upsert(path: "x/y/z/only.sql", contents: data("1"))],
                                      parents: [fourth], message: "Nest", author: alice, committer: bot)
    let unnested = try repo.writeCommit(baseTree: repo.commit(nested).tree,
                                        changes: [.remove(path: "x/y/z/only.sql")],
                                        parents: [nested], message: "Unnest", author: alice, committer: bot)
    #expect(try repo.objectID(at: "x", in: unnested) == nil)
    #expect(try repo.commit(unnested).tree == repo.commit(fourth).tree)

    // A commit with no effective change keeps the tree.
    let fifth = try repo.writeCommit(baseTree: repo.commit(fourth).tree, changes: [.remove(path: "state")],
                                     parents: [fourth], message: "Nothing", author: alice, committer: bot)
    #expect(try repo.commit(fifth).tree == repo.commit(fourth).tree)
}

@Test func lastChangeForAPathWins() throws {
    let dir = try TemporaryDirectory()
    let repo = try GitRepository.create(at: dir.url, bare: true)
    let id = try repo.writeCommit(
        baseTree: nil,
        changes: [.upsert(path: "a/x", contents: data("1")), .upsert(path: "a/x", contents: data("2")),
                  .upsert(path: "b", contents: data("b")), .remove(path: "b")],
        parents: [], message: "m", author: alice, committer: alice)
    #expect(try repo.readTree(at: id) == ["a/x": data("2")])
}

@Test func emptyCommitAndEmptyFiles() throws {
    let dir = try TemporaryDirectory()
    let repo = try GitRepository.create(at: dir.url, bare: true)
    let empty = try repo.writeCommit(files: [:], parents: [], message: "empty", author: alice, committer: alice)
    #expect(try repo.commit(empty).tree.hex == "4b825dc642cb6eb9a060e54bf8d69288fbee4904")
    #expect(try repo.readTree(at: empty).isEmpty)
    let withEmptyFile = try repo.writeCommit(files: ["e": Data()], parents: [empty], message: "e",
                                             author: alice, committer: alice)
    #expect(try repo.readFile("e", at: withEmptyFile) == Data())
    let binary = Data([0, 1, 2, 255, 0, 10])
    let withBinary = try repo.writeCommit(files: ["bin/blob": binary], parents: [withEmptyFile], message: "b",
                                          author: alice, committer: alice)
    #expect(try repo.readFile("bin/blob", at: withBinary) == binary)
}

@Test func fileDirectoryConflictsAreRejected() throws {
    let fixture = try Fixture()
    let repo = fixture.repository
    let base = try repo.commit(fixture.second).tree
    #expect(throws: GitHistoryError.self) {
        try repo.writeTree(base: base, changes: [.upsert(path: "state/other", contents: data("file over dir"))])
    }
    #expect(throws: GitHistoryError.self) {
        try repo.writeTree(base: base, changes: [.upsert(path: "rollback/0001.sql/x", contents: data("dir over file"))])
    }
    #expect(throws: GitHistoryError.self) {
        try repo.writeTree(base: nil, changes: [.upsert(path: "a", contents: data("1")),
                                                .upsert(path: "a/b", contents: data("2"))])
    }
}

@Test(arguments: ["", "/abs/path.sql", "a//b", "a/b/", "../escape.sql", "a/../b", "./a", "a/./b", "nul\0byte",
                  ".git/config", "a/.GIT/x"])
func invalidPathsAreRejected(path: String) throws {
    let dir = try TemporaryDirectory()
    let repo = try GitRepository.create(at: dir.url, bare: true)
    do {
        _ = try repo.writeCommit(baseTree: nil, changes: [.upsert(path: path, contents: data("x"))], parents: [],
                                 message: "bad", author: alice, committer: alice)
        Issue.record("path \(path.debugDescription) was accepted")
    } catch {
        guard case .invalidPath(let rejected, let reason) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(rejected == path)
        #expect(!reason.isEmpty)
        #expect(error.errorDescription?.contains("not a valid path") == true)
    }
    #expect(throws: GitHistoryError.self) {
        _ = try repo.writeCommit(baseTree: nil, changes: [.remove(path: path)], parents: [], message: "bad",
                                 author: alice, committer: alice)
    }
}

@Test func commitsWithTwoParents() throws {
    let fixture = try Fixture()
    let repo = fixture.repository
    let side = try repo.writeCommit(files: ["side": data("s")], parents: [], message: "side root",
                                    author: alice, committer: alice)
    let merge = try repo.writeCommit(baseTree: repo.commit(fixture.second).tree, changes: [],
                                     parents: [fixture.second, side], message: "merge", author: alice, committer: alice)
    #expect(try repo.commit(merge).parents == [fixture.second, side])
    // First-parent log skips the side root.
    #expect(try repo.log(from: merge).map(\.id) == [merge, fixture.second, fixture.first])
    #expect(try repo.isAncestor(side, of: merge))
}

// MARK: - References

@Test func updateReferenceIsCompareAndSwap() throws {
    let fixture = try Fixture()
    let repo = fixture.repository
    let third = try repo.writeCommit(baseTree: repo.commit(fixture.second).tree,
                                     changes: [.upsert(path: "x", contents: data("x"))],
                                     parents: [fixture.second], message: "third", author: alice, committer: bot)
    // Stale expectation: the branch is at `second`, not `first`.
    #expect(throws: GitHistoryError.referenceMoved(ref: branch, expected: fixture.first, actual: fixture.second)) {
        try repo.updateReference(branch, to: third, expected: fixture.first, logMessage: "stale")
    }
    #expect(repo.referenceTarget(branch) == fixture.second)
    // Expecting absence of an existing branch fails too.
    #expect(throws: GitHistoryError.referenceMoved(ref: branch, expected: nil, actual: fixture.second)) {
        try repo.updateReference(branch, to: third, expected: nil, logMessage: "create")
    }
    // Expecting a value of a missing branch fails.
    #expect(throws: GitHistoryError.referenceMoved(ref: "refs/heads/bundle/none", expected: fixture.first, actual: nil)) {
        try repo.updateReference("refs/heads/bundle/none", to: third, expected: fixture.first, logMessage: "x")
    }
    #expect(repo.referenceTarget("refs/heads/bundle/none") == nil)
    // The correct expectation moves it.
    try repo.updateReference(branch, to: third, expected: fixture.second, logMessage: "bundle: third")
    #expect(repo.referenceTarget(branch) == third)
    #expect(trimmed(try git(["rev-parse", "bundle/test"], in: fixture.directory.url)) == third.hex)

    #expect(throws: GitHistoryError.invalidReferenceName("refs/heads/bad..name")) {
        try repo.updateReference("refs/heads/bad..name", to: third, expected: nil, logMessage: "x")
    }
    #expect(throws: GitHistoryError.invalidReferenceName("bundle/test")) {
        try repo.updateReference("bundle/test", to: third, expected: nil, logMessage: "x")
    }
    let missing = try #require(ObjectID(hex: String(repeating: "ab", count: 20)))
    #expect(throws: GitHistoryError.notFound("Commit \(missing.hex)")) {
        try repo.updateReference("refs/heads/bundle/other", to: missing, expected: nil, logMessage: "x")
    }
    let description = GitHistoryError.referenceMoved(ref: branch, expected: fixture.first, actual: fixture.second)
        .errorDescription ?? ""
    #expect(description.contains(fixture.first.hex) && description.contains(fixture.second.hex))
}

@Test func concurrentWritersThroughTwoHandlesCannotBothWin() throws {
    let fixture = try Fixture()
    let one = try GitRepository.open(at: fixture.directory.url)
    let two = try GitRepository.open(at: fixture.directory.url)
    let seenByOne = try #require(one.referenceTarget(branch))
    let seenByTwo = try #require(two.referenceTarget(branch))
    let commitOne = try one.writeCommit(baseTree: one.commit(seenByOne).tree,
                                        changes: [.upsert(path: "who", contents: data("one"))],
                                        parents: [seenByOne], message: "one", author: alice, committer: bot)
    let commitTwo = try two.writeCommit(baseTree: two.commit(seenByTwo).tree,
                                        changes: [.upsert(path: "who", contents: data("two"))],
                                        parents: [seenByTwo], message: "two", author: alice, committer: bot)
    try one.updateReference(branch, to: commitOne, expected: seenByOne, logMessage: "one")
    #expect(throws: GitHistoryError.referenceMoved(ref: branch, expected: seenByTwo, actual: commitOne)) {
        try two.updateReference(branch, to: commitTwo, expected: seenByTwo, logMessage: "two")
    }
    #expect(try two.readFile("who", at: two.resolveCommit("bundle/test")) == data("one"))
}

@Test func resolveCommitUnderstandsRevisions() throws {
    let fixture = try Fixture()
    let repo = fixture.repository
    #expect(try repo.resolveCommit("bundle/test") == fixture.second)
    #expect(try repo.resolveCommit("bundle/test~1") == fixture.first)
    #expect(try repo.resolveCommit("refs/heads/bundle/test^") == fixture.first)
    #expect(try repo.resolveCommit(fixture.first.hex) == fixture.first)
    #expect(try repo.resolveCommit(String(fixture.second.hex.prefix(10))) == fixture.second)
    try git(["tag", "-a", "-m", "annotated", "v1", "bundle/test~1"], in: fixture.directory.url)
    #expect(try repo.resolveCommit("v1") == fixture.first, "annotated tags are peeled")
    #expect(try repo.resolveCommit("main") == repo.referenceTarget("refs/heads/main"))
    #expect(throws: GitHistoryError.notFound("Revision \"bundle/nope\"")) { try repo.resolveCommit("bundle/nope") }
    #expect(throws: GitHistoryError.self) { try repo.resolveCommit("bundle/test~5") }
    #expect(throws: GitHistoryError.wrongObjectType("Revision \"bundle/test:state\"", expected: "commit")) {
        try repo.resolveCommit("bundle/test:state")
    }
}

// MARK: - Reading

@Test func commitInfoAndTrailers() throws {
    let fixture = try Fixture()
    let info = try fixture.repository.commit(fixture.first)
    #expect(info.id == fixture.first)
    #expect(info.parents.isEmpty)
    #expect(info.summary == "Apply 0001_init")
    #expect(info.message == "Apply 0001_init\n\nCreates table t.\n\nBundle-Sha256: abc\nBundle-Target: test\n")
    #expect(info.trailers == [Trailer(key: "Bundle-Sha256", value: "abc"), Trailer(key: "Bundle-Target", value: "test")])
    #expect(info.trailerValue("bundle-sha256") == "abc")
    #expect(info.author == alice)
    #expect(info.committer == bot)
    #expect(info.tree.hex == trimmed(try git(["rev-parse", "\(fixture.first.hex)^{tree}"], in: fixture.directory.url)))

    let second = try fixture.repository.commit(fixture.second)
    #expect(second.parents == [fixture.first])
    #expect(second.message == "Apply 0002_widen\n\nBundle-Sha256: def\n", "a final newline is added")
    #expect(second.trailers == [Trailer(key: "Bundle-Sha256", value: "def")])

    // A message without a trailer paragraph has no trailers; a multi-line subject is joined.
    let plain = try fixture.repository.writeCommit(
        baseTree: nil, changes: [], parents: [], message: "Line one\nline two\n\nBody: not a trailer because\nthis is prose.",
        author: alice, committer: alice)
    let plainInfo = try fixture.repository.commit(plain)
    #expect(plainInfo.trailers.isEmpty)
    #expect(plainInfo.summary == "Line one line two")
    #expect(trimmed(try git(["log", "-1", "--format=%s", plain.hex], in: fixture.directory.url)) == plainInfo.summary)
}

@Test func logIsNewestFirstAndRespectsLimit() throws {
    let fixture = try Fixture()
    let repo = fixture.repository
    var previous = fixture.second
    var ids = [fixture.second, fixture.first]
    for n in 3...5 {
        previous = try repo.writeCommit(baseTree: repo.commit(previous).tree,
                                        changes: [.upsert(path: "n", contents: data("\(n)"))],
                                        parents: [previous], message: "commit \(n)", author: alice,
                                        // Committer times going backwards must not reorder the first-parent walk.
                                        committer: Signature(name: "b", email: "b@x",
                                                             time: Date(timeIntervalSince1970: Double(1_000_000 - n)),
                                                             timeZoneOffsetMinutes: 0))
        ids.insert(previous, at: 0)
    }
    #expect(try repo.log(from: previous).map(\.id) == ids)
    #expect(try repo.log(from: previous).map(\.summary)
        == ["commit 5", "commit 4", "commit 3", "Apply 0002_widen", "Apply 0001_init"])
    #expect(try repo.log(from: previous, limit: 2).map(\.id) == Array(ids.prefix(2)))
    #expect(try repo.log(from: previous, limit: 0).isEmpty)
    #expect(try repo.log(from: fixture.first).map(\.id) == [fixture.first])
    let gitOrder = try git(["log", "--first-parent", "--format=%H", previous.hex], in: fixture.directory.url)
    #expect(gitOrder.split(separator: "\n").map(String.init) == ids.map(\.hex))
}

@Test func ancestry() throws {
    let fixture = try Fixture()
    let repo = fixture.repository
    #expect(try repo.isAncestor(fixture.first, of: fixture.second))
    #expect(try !repo.isAncestor(fixture.second, of: fixture.first))
    #expect(try repo.isAncestor(fixture.second, of: fixture.second))
    let main = try #require(repo.referenceTarget("refs/heads/main"))
    #expect(try !repo.isAncestor(main, of: fixture.second))
    #expect(repo.commitExists(fixture.first))
    #expect(repo.commitExists(main))
    let treeID = try repo.commit(fixture.first).tree
    #expect(!repo.commitExists(treeID), "a tree is not a commit")
    #expect(!repo.commitExists(try #require(ObjectID(hex: String(repeating: "0", count: 40)))))
}

@Test func readTreeAndReadFileAtOlderRevision() throws {
    let fixture = try Fixture()
    let repo = fixture.repository
    let older = try repo.resolveCommit("bundle/test~1")
    #expect(try repo.readTree(at: older) == Fixture.firstFiles)
    #expect(try repo.readFile("state/public/tables/t.sql", at: older) == data("create table t (id int);\n"))
    #expect(try repo.readFile("rollback/0002.sql", at: older) == nil)
    #expect(try repo.readFile("state/public", at: older) == nil, "a directory is not a file")

    let state = try repo.readTree(at: fixture.second, prefix: "state/public")
    #expect(state == [
        "state/public/functions/fn_x(uuid,text).sql": data("create function fn_x() ...;\n"),
        "state/public/tables/t.sql": data("create table t (id bigint);\n"),
    ])
    #expect(try repo.readTree(at: fixture.second, prefix: "state/public/") == state)
    #expect(try repo.readTree(at: fixture.second, prefix: "rollback").keys.sorted() == ["rollback/0001.sql", "rollback/0002.sql"])
    #expect(try repo.readTree(at: fixture.second, prefix: "missing").isEmpty)
    #expect(try repo.readTree(at: fixture.second, prefix: "rollback/0001.sql") == ["rollback/0001.sql": data("drop table t;\n")])
    #expect(throws: GitHistoryError.self) { try repo.readTree(at: fixture.second, prefix: "../x") }

    // The same files as text, keyed below the directory.
    #expect(try repo.readTextTree(at: fixture.second, directory: "state/public") == [
        "functions/fn_x(uuid,text).sql": "create function fn_x() ...;\n", "tables/t.sql": "create table t (id bigint);\n",
    ])
    #expect(try repo.readTextTree(at: older, directory: "state") == Dictionary(uniqueKeysWithValues: Fixture.firstFiles.filter { $0.key.hasPrefix("state/") }
        .map { (String($0.key.dropFirst("state/".count)), String(decoding: $0.value, as: UTF8.self)) }))
    #expect(try repo.readTextTree(at: fixture.second, directory: "missing").isEmpty)
    #expect(try repo.readTextTree(at: fixture.second, directory: "rollback/0001.sql").isEmpty, "a file is not a directory")
    #expect(throws: GitHistoryError.self) { try repo.readTextTree(at: fixture.second, directory: "../x") }
}

@Test func changedPathsBetweenCommits() throws {
    let fixture = try Fixture()
    let repo = fixture.repository
    #expect(try repo.changedPaths(from: fixture.first, to: fixture.second) == [
        PathChange(path: "rollback/0002.sql", kind: .added),
        PathChange(path: "state/public/tables/t.sql", kind: .modified),
    ])
    let third = try repo.writeCommit(baseTree: repo.commit(fixture.second).tree,
                                     changes: [.remove(path: "state/other/view.sql")], parents: [fixture.second],
                                     message: "rm", author: alice, committer: alice)
    #expect(try repo.changedPaths(from: fixture.second, to: third) == [PathChange(path: "state/other/view.sql", kind: .removed)])
    #expect(try repo.changedPaths(from: nil, to: fixture.first).map(\.path) == Fixture.firstFiles.keys.sorted())
    #expect(try repo.changedPaths(from: nil, to: fixture.first).allSatisfy { $0.kind == .added })
    #expect(try repo.changedPaths(from: third, to: third).isEmpty)
    #expect(try repo.changedPaths(from: third, to: fixture.first).contains(PathChange(path: "rollback/0002.sql", kind: .removed)))
}

@Test func configuredIdentityReadsRepositoryConfig() throws {
    let fixture = try Fixture()
    try git(["config", "user.name", "Repo Person"], in: fixture.directory.url)
    try git(["config", "user.email", "repo@example.com"], in: fixture.directory.url)
    let repo = try GitRepository.open(at: fixture.directory.url)
    let identity = try #require(repo.configuredIdentity())
    #expect(identity.name == "Repo Person")
    #expect(identity.email == "repo@example.com")
}

@Test func objectIDParsing() throws {
    let upper = try #require(ObjectID(hex: "ABCDEF0123456789ABCDEF0123456789ABCDEF01"))
    #expect(upper.hex == "abcdef0123456789abcdef0123456789abcdef01")
    #expect(upper.short == "abcdef0")
    #expect("\(upper)" == upper.hex)
    #expect(ObjectID(hex: "abc") == nil)
    #expect(ObjectID(hex: String(repeating: "g", count: 40)) == nil)
    #expect(GitLibrary.version == "1.5.1")
    let json = try JSONEncoder().encode([upper])
    #expect(String(decoding: json, as: UTF8.self) == "[\"\(upper.hex)\"]")
    #expect(try JSONDecoder().decode([ObjectID].self, from: json) == [upper])
    #expect(throws: DecodingError.self) { try JSONDecoder().decode([ObjectID].self, from: Data("[\"xyz\"]".utf8)) }
}
