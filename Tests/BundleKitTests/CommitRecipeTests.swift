import Foundation
import GitHistory
import Testing
@testable import BundleKit

/// A commit recipe (kept in the registry until the commit is written) records a large file that changed a little
/// as the part between what it keeps of the parent's file; writing the recipe gives exactly the commit built
/// directly, and a recipe that does not fit its parent is refused.
@Suite struct CommitRecipeTests {
    let author = Signature(name: "Ann", email: "ann@example.com", time: Date(timeIntervalSince1970: 1_700_000_000), timeZoneOffsetMinutes: 60)

    static func changed(_ old: String, _ name: String) -> String {
        switch name {
        case "a change in the middle": old.replacingOccurrences(of: "line 250\n", with: "line 250 changed\n")
        case "a line added at the end": old + "line 1000\n"
        case "a line added at the start": "line -1\n" + old
        case "lines removed": old.replacingOccurrences(of: "line 100\nline 101\n", with: "")
        case "the same contents": old
        default: "short\n"
        }
    }

    @Test(arguments: [
        "a change in the middle", "a line added at the end", "a line added at the start", "lines removed", "the same contents", "everything replaced",
    ])
    func recipeWritesTheDirectCommit(_ name: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let repository = try GitRepository.create(at: directory, bare: true)
        let old = (0..<500).map { "line \($0)\n" }.joined()
        let base = try repository.writeCommit(
            files: ["state/signatures.tsv": Data(old.utf8), "applied/x.sql": Data("x\n".utf8)], parents: [], message: "base", author: author,
            committer: author)
        let changes: [TreeChange] = [
            .upsert(path: "state/signatures.tsv", contents: Data(Self.changed(old, name).utf8)), .upsert(path: "applied/y.sql", contents: Data("y\n".utf8)),
            .remove(path: "applied/x.sql"),
        ]
        let recipe = CommitRecipe(
            parent: base, changes: changes, message: "apply", author: author, committer: author,
            previous: { $0 == "state/signatures.tsv" ? Data(old.utf8) : nil })
        let stored = recipe.json()
        if name != "everything replaced" {
            #expect(stored.count < 2_000, "\(name): the row keeps the change, not the file (\(stored.count) bytes)")
        }
        let decoded = try #require(CommitRecipe.decode(stored))
        #expect(decoded == recipe)
        let direct = try repository.writeCommit(
            baseTree: try repository.commit(base).tree, changes: changes, parents: [base], message: "apply", author: author, committer: author)
        #expect(try decoded.write(to: repository) == direct, "\(name)")
    }

    /// `json()` is written by hand: it must be exactly what `JSONEncoder` writes (sorted keys, unescaped slashes),
    /// for every ASCII character, quotes, backslashes, line breaks, non-ASCII text and absent fields.
    @Test func handWrittenJSONIsWhatTheEncoderWrites() throws {
        let every = String(String.UnicodeScalarView((0..<128).compactMap(Unicode.Scalar.init)))
        let person = Signature(name: "Zoë \"Q\" \\ / \(every)", email: "z@example.com", time: Date(timeIntervalSince1970: -5), timeZoneOffsetMinutes: -330)
        var recipe = CommitRecipe(
            parent: ObjectID(hex: String(repeating: "ab", count: 20))!,
            changes: [.upsert(path: "state/s/tables/t\u{2028}é.sql", contents: Data(every.utf8)), .remove(path: "applied/a/b.sql")],
            message: "apply m3a TXN-1 A: \(every)\n\nTrailer: x 🚀", author: person, committer: author)
        #expect(Array(recipe.json().utf8) == Array(recipe.encodedJSON().utf8))
        recipe.changes[0].prefix = 0
        recipe.changes[0].suffix = 12_345
        #expect(Array(recipe.json().utf8) == Array(recipe.encodedJSON().utf8))
        #expect(CommitRecipe.decode(recipe.json()) == recipe)
        recipe.changes = []
        #expect(Array(recipe.json().utf8) == Array(recipe.encodedJSON().utf8))
    }

    @Test func aRecipeThatDoesNotFitItsParentIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let repository = try GitRepository.create(at: directory, bare: true)
        let base = try repository.writeCommit(files: ["state/a.sql": Data("short\n".utf8)], parents: [], message: "base", author: author, committer: author)
        var recipe = CommitRecipe(
            parent: base, changes: [.upsert(path: "state/a.sql", contents: Data("x".utf8))], message: "m", author: author, committer: author)
        recipe.changes[0].prefix = 4_000
        recipe.changes[0].suffix = 4_000
        #expect(throws: GitHistoryError.self) { try recipe.write(to: repository) }
    }
}
