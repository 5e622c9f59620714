import BundleTestSupport
import Foundation
import SQLSyntax
import Testing

/// Hostile scripts into the statement splitter: unterminated quotes and comments, dollar-quote look-alikes,
/// long operator chains, huge identifiers, mixed line endings. Every accepted script splits into ordered,
/// non-overlapping statements whose text is exactly the bytes they cover; every refusal names file:line:col.
@Suite struct HostileSplitterTests {
    /// Pieces that are dangerous for a hand-written splitter.
    static let pieces: [String] = [
        "SELECT 1", ";", ";;", "\n", "\r\n", "\r", " ", "\t", "'", "''", "'it''s;'", "E'\\';'", "\"", "\"a;\"\"b\"",
        "$$", "$$;$$", "$a$", "$a$ ; $a$", "$1", "$_$", "-- c;\n", "--", "/*", "*/", "/* /* ; */ */", "U&'\\0041'",
        "CREATE TABLE t (a int)", "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $f$ SELECT 1; $f$",
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", "BEGIN", "END", "COMMIT",
        "ß", "日本", "😀", "\u{FEFF}", "\u{00A0}", "SELECT 1_000", "x", "(", ")", ",", "+",
    ]

    /// Parses; checks the splitting invariants on success and the location contract on failure.
    func check(_ bytes: [UInt8]) -> Bool {
        do {
            let script = try SQLScript.parse(Data(bytes), path: "hostile.sql")
            #expect(!script.statements.isEmpty)
            var previousEnd = 0
            for statement in script.statements {
                #expect(statement.byteRange.lowerBound >= previousEnd, "statements overlap or go backwards")
                #expect(statement.byteRange.upperBound <= bytes.count)
                #expect(statement.text == String(decoding: bytes[statement.byteRange], as: UTF8.self))
                #expect(statement.start.line >= 1 && statement.start.column >= 1)
                #expect(statement.end >= statement.start)
                previousEnd = statement.byteRange.upperBound
            }
            #expect(script.statements.map(\.index) == Array(1...script.statements.count))
            return true
        } catch {
            #expect(error.errorDescription?.hasPrefix("hostile.sql") == true, "\(error)")
            if let location = error.location {
                #expect(location.line >= 1 && location.column >= 1)
                // \n, \r\n and a lone \r each end a line.
                var lines = 1
                for (offset, byte) in bytes.enumerated() where byte == 0x0A || (byte == 0x0D && (offset + 1 == bytes.count || bytes[offset + 1] != 0x0A)) {
                    lines += 1
                }
                #expect(location.line <= lines, "line \(location.line) beyond the file's \(lines) lines")
            }
            return false
        }
    }

    @Test func seededHostileSplicesNeverCrashOrHang() {
        var random = SeededGenerator(state: 0xBAD_5EED)
        let clock = ContinuousClock()
        let started = clock.now
        var parsed = 0
        for _ in 0..<3_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...14, using: &random) {
                text += Self.pieces[Int.random(in: 0..<Self.pieces.count, using: &random)]
            }
            var bytes = Array(text.utf8)
            if Int.random(in: 0..<8, using: &random) == 0, !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if check(bytes) { parsed += 1 }
        }
        #expect(parsed > 30, "some splices must parse (\(parsed))")
        #expect(clock.now - started < .seconds(60))
    }

    @Test func pathologicalScriptsAreRefusedOrSplitWithinBoundedTime() {
        let clock = ContinuousClock()
        let cases: [(String, String, Bool)] = [
            // (script, expected text in the error or "" when it must parse, must parse)
            ("SELECT " + Array(repeating: "1", count: 20_000).joined(separator: " + ") + ";", "nests deeper", false),
            (Array(repeating: "SELECT 1", count: 4_000).joined(separator: " UNION ALL ") + ";", "nests deeper", false),
            ("SELECT " + String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000) + ";", "", true),
            ("SELECT 'unterminated;\nSELECT 2;\n", "hostile.sql:1:8", false),
            ("SELECT 1;\n/* never closed ; SELECT 2;\n", "hostile.sql:2:", false),
            ("SELECT $x$ never closed; SELECT 2;", "hostile.sql:1:8", false),
            ("SELECT \"" + String(repeating: "a", count: 100_000) + "\";", "", true),
            (String(repeating: ";\n", count: 50_000), "no SQL statement", false),
            (String(repeating: "SELECT 1;", count: 20_000), "", true),
        ]
        for (script, expected, mustParse) in cases {
            let started = clock.now
            do {
                let parsed = try SQLScript.parse(Data(script.utf8), path: "hostile.sql")
                #expect(mustParse, "\(script.prefix(40)) must be refused")
                #expect(!parsed.statements.isEmpty)
            } catch {
                #expect(!mustParse, "\(script.prefix(40)): \(error)")
                #expect(error.errorDescription?.contains(expected) == true, "\(script.prefix(40)): \(error.errorDescription ?? "")")
            }
            #expect(clock.now - started < .seconds(20), "\(script.prefix(40)) took too long")
        }
    }
}

