import BundleTestSupport
import Foundation
import SQLSyntax
import Testing


@Suite struct FuzzTests {
    static let corpus = Array("""
        -- comment
        CREATE TABLE a (id int PRIMARY KEY, t text DEFAULT E'x\\'y;');
        /* nested /* comment */ ; */
        CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END; $fn$;
        CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a; SELECT 2; END;
        SELECT "quoted;""id", U&'\\0041', $$ ; $$, 'ß日本😀' FROM a WHERE id = $1;\r\n
        CREATE INDEX CONCURRENTLY i ON a (t);
        """.utf8)

    /// Parsing must either succeed with consistent statements or throw a located error; never crash.
    /// Returns whether the bytes parsed.
    func check(_ bytes: [UInt8]) -> Bool {
        do {
            let script = try SQLScript.parse(Data(bytes), path: "fuzz.sql")
            #expect(!script.statements.isEmpty)
            for statement in script.statements {
                #expect(statement.byteRange.lowerBound >= 0 && statement.byteRange.upperBound <= bytes.count)
                #expect(statement.start.line >= 1 && statement.start.column >= 1)
                _ = statement.nonTransactionalReason
            }
            #expect(script.semanticHash.count == 64)
            return true
        } catch {
            if let location = error.location {
                #expect(location.line >= 1 && location.column >= 1)
            }
            #expect(error.errorDescription?.hasPrefix("fuzz.sql") == true)
            return false
        }
    }

    @Test func randomBytesAndSplicesNeverCrash() {
        var random = SeededGenerator(state: 0x5EED)
        let clock = ContinuousClock()
        let started = clock.now
        var parsed = 0
        for iteration in 0..<3_000 {
            var bytes: [UInt8]
            switch iteration % 3 {
            case 0:
                // Random bytes, mostly printable ASCII so the parser itself gets exercised.
                let count = Int.random(in: 0..<64, using: &random)
                bytes = (0..<count).map { _ in
                    Int.random(in: 0..<10, using: &random) == 0
                        ? UInt8.random(in: 0...255, using: &random)
                        : UInt8.random(in: 0x20...0x7E, using: &random)
                }
            case 1:
                // A random slice of valid SQL.
                let start = Int.random(in: 0..<Self.corpus.count, using: &random)
                let end = Int.random(in: start...Self.corpus.count, using: &random)
                bytes = Array(Self.corpus[start..<end])
            default:
                // Valid SQL with random splices: pieces cut out, moved or replaced.
                bytes = Self.corpus
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let position = Int.random(in: 0...bytes.count, using: &random)
                    let start = Int.random(in: 0..<Self.corpus.count, using: &random)
                    let length = Int.random(in: 0...min(40, Self.corpus.count - start), using: &random)
                    let cut = min(Int.random(in: 0...12, using: &random), bytes.count - position)
                    bytes.replaceSubrange(position..<(position + cut), with: Self.corpus[start..<(start + length)])
                }
            }
            if check(bytes) { parsed += 1 }
        }
        #expect(parsed > 50, "the splices should produce some valid scripts")
        #expect(clock.now - started < .seconds(30))
    }
}
