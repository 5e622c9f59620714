import BundleTestSupport
@testable import BundleKit
import PostgresCatalog
import Testing

/// `signatures.tsv` is updated line by line after an in-place bundle; the result must be exactly what sorting
/// every line again (a complete capture) gives.
@Suite struct SignatureMergeTests {
    static let header = ObjectStateReader.signaturesHeader

    func line(_ schema: String, _ name: String, _ args: String, body: String) -> String {
        [schema, name, args, args, body, String(body.count), "f", ""].joined(separator: "\t")
    }

    func file(_ lines: [String]) -> String {
        ([Self.header] + lines.sorted()).joined(separator: "\n") + "\n"
    }

    @Test func seededMergesEqualAFullSort() {
        var random = SeededGenerator(state: 0x5167_6e61_7475_7265)
        let schemas = ["public", "a", "a_b", "ab", "z"]
        let names = ["f", "f_", "fa", "f1", "g", "Gx", "h h"]
        let args = ["", "integer", "integer, text", "text", "a integer", "bigint, integer"]
        for round in 0..<300 {
            var current: [String: String] = [:]  // key → line
            for _ in 0..<Int.random(in: 0...25, using: &random) {
                let key = [schemas.randomElement(using: &random)!, names.randomElement(using: &random)!, args.randomElement(using: &random)!]
                current[key.joined(separator: "\t")] = line(key[0], key[1], key[2], body: String(Int.random(in: 0...9, using: &random)))
            }
            var updates: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                let key = [schemas.randomElement(using: &random)!, names.randomElement(using: &random)!, args.randomElement(using: &random)!]
                updates[key.joined(separator: "\t")] = line(key[0], key[1], key[2], body: "new\(Int.random(in: 0...9, using: &random))")
            }
            let expected = file(Array(current.merging(updates) { $1 }.values))
            let merged = mergedSignatures(file(Array(current.values)), file(Array(updates.values)))
            #expect(merged == expected, "round \(round)")
        }
    }

    @Test func nonASCIIAndFirstLinesAreMergedToo() {
        let previous = file([line("public", "é", "integer", body: "1"), line("public", "f", "", body: "1")])
        let update = file([line("public", "é", "integer", body: "2"), line("a", "f", "", body: "3")])
        #expect(mergedSignatures(previous, update)
            == file([line("public", "é", "integer", body: "2"), line("public", "f", "", body: "1"), line("a", "f", "", body: "3")]))
        #expect(mergedSignatures(nil, update) == update)
        // A field with a line break cannot be merged: a complete capture is needed.
        #expect(mergedSignatures(previous, Self.header + "\npublic\tf\tinteger\tinteger DEFAULT 'a\nb'\tx\t1\tf\t\n") == nil)
    }
}
