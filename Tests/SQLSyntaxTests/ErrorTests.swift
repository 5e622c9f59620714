import Foundation
import SQLSyntax
import Testing

@Suite struct ErrorTests {
    @Test func syntaxErrorLocationInMultiLineFile() {
        let error = parseError("CREATE TABLE a (id int);\n\n-- comment\nSELECT id FRM a;\n")
        #expect(error == .syntax(path: "test.sql", location: SourceLocation(line: 4, column: 15),
                                 message: "syntax error at or near \"a\""))
        let second = parseError("SELECT 1;\n-- ü comment\ncreate ta x;\n")
        #expect(second?.location == SourceLocation(line: 3, column: 8))
        let description = second?.errorDescription ?? ""
        #expect(description.hasPrefix("test.sql:3:8: syntax error: syntax error at or near \"ta\""))
        #expect(description.contains("PostgreSQL 15"))
    }

    @Test func syntaxErrorAfterMultibyteCharactersUsesCharacterColumns() {
        // libpg_query reports a character position; non-ASCII text before the error must not shift it.
        let error = parseError("SELECT 'żółw日本' AS x;\nSELECT 'ü', 'ö' +;\n")
        #expect(error?.location == SourceLocation(line: 2, column: 18))
    }

    @Test func postgres16SyntaxIsRejected() {
        let grant = parseError("CREATE TABLE t (a int);\nGRANT x TO y WITH INHERIT TRUE;\n")
        #expect(grant == .syntax(path: "test.sql", location: SourceLocation(line: 2, column: 19),
                                 message: "syntax error at or near \"INHERIT\""))
        let underscore = parseError("SELECT 1_000;")
        #expect(underscore?.location == SourceLocation(line: 1, column: 8))
    }

    @Test func unterminatedInputReportsAPosition() {
        let error = parseError("SELECT 1;\nSELECT $$ never closed;\n")
        guard case .syntax(_, let location, let message)? = error else {
            Issue.record("expected a syntax error, got \(String(describing: error))")
            return
        }
        #expect(location.line == 2)
        #expect(message.contains("unterminated dollar-quoted string"))
    }

    @Test func invalidUTF8ReportsTheFirstBadByte() {
        let bytes = Array("SELECT 1;\nSELECT 'é".utf8) + [0xC3, 0x28] + Array("';\n".utf8)
        #expect(parseError(bytes) == .invalidUTF8(path: "test.sql", location: SourceLocation(line: 2, column: 10),
                                                   byteOffset: 20))
        // Overlong encodings, surrogates and truncated sequences are rejected too.
        #expect(parseError([0xC0, 0xAF])?.location == SourceLocation(line: 1, column: 1))
        #expect(parseError(Array("ab".utf8) + [0xED, 0xA0, 0x80]) == .invalidUTF8(
            path: "test.sql", location: SourceLocation(line: 1, column: 3), byteOffset: 2))
        #expect(parseError(Array("SELECT 1".utf8) + [0xF0, 0x9F]) == .invalidUTF8(
            path: "test.sql", location: SourceLocation(line: 1, column: 9), byteOffset: 8))
        let description = parseError([0xFF])?.errorDescription ?? ""
        #expect(description.hasPrefix("test.sql:1:1: invalid UTF-8"))
    }

    @Test func nulByteIsRejected() {
        let bytes = Array("SELECT 1;\n  SELECT".utf8) + [0] + Array(" 2;".utf8)
        #expect(parseError(bytes) == .nulByte(path: "test.sql", location: SourceLocation(line: 2, column: 9)))
        #expect(parseError(bytes)?.errorDescription?.contains("NUL") == true)
    }

    @Test func emptyAndCommentOnlyFilesHaveNoStatements() {
        #expect(parseError("") == .empty(path: "test.sql"))
        #expect(parseError("  \n\t\r\n") == .empty(path: "test.sql"))
        #expect(parseError("-- just a comment\n/* and /* nested */ another */\n;\n") == .empty(path: "test.sql"))
        #expect(parseError([0xEF, 0xBB, 0xBF]) == .empty(path: "test.sql"))
        #expect(SQLSyntaxError.empty(path: "x.sql").location == nil)
        #expect(SQLSyntaxError.empty(path: "x.sql").path == "x.sql")
    }
}
