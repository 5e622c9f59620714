import Foundation
import SQLSyntax
import Testing

@Suite struct SplittingTests {
    @Test func dollarQuotedBodiesWithSemicolonsStayInOneStatement() throws {
        let script = try parse("""
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM 1; PERFORM 2;
              RETURN 3;
            END;
            $$;
            CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;b$$c' $body$;
            SELECT $x$ ; $x$, 'it''s;', E'\\';', "quoted;ident" FROM t;
            """)
        #expect(script.statements.map(\.kind) == ["CreateFunctionStmt", "CreateFunctionStmt", "SelectStmt"])
        #expect(script.statements.map(\.index) == [1, 2, 3])
        #expect(script.statements[0].text.hasPrefix("CREATE FUNCTION f()"))
        #expect(script.statements[0].text.hasSuffix("END;\n$$"))
        #expect(script.statements[1].text == "CREATE FUNCTION g() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;b$$c' $body$")
        #expect(script.statements[2].text == #"SELECT $x$ ; $x$, 'it''s;', E'\';', "quoted;ident" FROM t"#)
        #expect(script.statements[1].start == SourceLocation(line: 7, column: 1))
        #expect(script.statements[2].start == SourceLocation(line: 8, column: 1))
        let body = script.statements[1].tree["options"]?.array?.compactMap { option -> String? in
            guard option.nodeBody?["defname"]?.string == "as" else { return nil }
            return option.nodeBody?["arg"]?.listItems?.first?.stringValue
        }
        #expect(body == [" SELECT 'a;b$$c' "])
    }

    @Test func beginAtomicBodyWithInnerSemicolons() throws {
        let script = try parse("""
            CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql
            BEGIN ATOMIC
              SELECT a + b;
              SELECT 1;
            END;
            CREATE TABLE after_atomic (id int);
            """)
        #expect(script.statements.count == 2)
        #expect(script.statements[0].kind == "CreateFunctionStmt")
        #expect(script.statements[0].text.hasSuffix("SELECT 1;\nEND"))
        #expect(script.statements[1].kind == "CreateStmt")
        #expect(script.statements[1].start == SourceLocation(line: 6, column: 1))
        #expect(RelationName(rangeVar: script.statements[1].tree["relation"]) == RelationName(schema: nil, name: "after_atomic"))
    }

    @Test func nestedCommentsAndCommentsBeforeStatements() throws {
        let script = try parse("""
            -- header comment
            /* outer /* inner; */ still comment; */
              \t CREATE TABLE a (id int); -- trailing
            /* before b */ CREATE TABLE b (id int) /* after b */ ;
            -- the end
            SELECT 1 -- no semicolon at end of file

            """)
        #expect(script.statements.map(\.kind) == ["CreateStmt", "CreateStmt", "SelectStmt"])
        #expect(script.statements[0].start == SourceLocation(line: 3, column: 5))
        #expect(script.statements[0].text == "CREATE TABLE a (id int)")
        #expect(script.statements[1].start == SourceLocation(line: 4, column: 16))
        #expect(script.statements[1].text == "CREATE TABLE b (id int)")
        #expect(script.statements[2].start == SourceLocation(line: 6, column: 1))
        #expect(script.statements[2].text == "SELECT 1")
        let source = script.source
        for statement in script.statements {
            #expect(source.location(ofByte: statement.byteRange.lowerBound) == statement.start)
            #expect(source.text(ofBytes: statement.byteRange) == statement.text)
        }
    }

    @Test func nodeLocationsMapToLineAndColumn() throws {
        let script = try parse("SELECT 1;\n\nCREATE TABLE s.t (id int);\n")
        let statement = script.statements[1]
        let relation = try #require(statement.tree["relation"])
        #expect(RelationName(rangeVar: relation)?.description == "s.t")
        #expect(statement.location(of: relation) == SourceLocation(line: 3, column: 14))
    }

    @Test func crlfLineEndingsCountOneLineBreakAndNoColumn() throws {
        let script = try parse("-- first\r\nSELECT 1;\r\n\r\n  SELECT\r\n  2;\r\n")
        #expect(script.statements.count == 2)
        #expect(script.statements[0].start == SourceLocation(line: 2, column: 1))
        #expect(script.statements[1].start == SourceLocation(line: 4, column: 3))
        #expect(script.statements[1].text == "SELECT\r\n  2")
        #expect(script.source.lineText(4) == "  SELECT")
        // The CR of a CRLF is not a column: the end of line 2 is column 10, just after "SELECT 1;".
        let crOffset = try #require(Array(script.source.string.utf8).firstIndex(of: 0x0D).map { _ in 19 })
        #expect(script.source.location(ofByte: crOffset + 1) == SourceLocation(line: 2, column: 10))
        let error = parseError("SELECT 1;\r\nSELECT 2;\r\nSELECT (;\r\n")
        #expect(error?.location == SourceLocation(line: 3, column: 9))
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("CREATE TABLE t (id int);\nSELECT é FROM t;".utf8)
        let script = try SQLScript.parse(Data(bytes), path: "bom.sql")
        #expect(script.statements.count == 2)
        #expect(script.statements[0].start == SourceLocation(line: 1, column: 1))
        #expect(script.statements[0].byteRange.lowerBound == 3)
        #expect(script.statements[0].text == "CREATE TABLE t (id int)")
        #expect(script.source.lineText(1) == "CREATE TABLE t (id int);")
        let relation = try #require(script.statements[0].tree["relation"])
        #expect(script.statements[0].location(of: relation) == SourceLocation(line: 1, column: 14))

        let broken: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("SELECT 'é', (;".utf8)
        #expect(parseError(broken) == .syntax(path: "test.sql", location: SourceLocation(line: 1, column: 14),
                                              message: "syntax error at or near \";\""))
    }

    @Test func emptyStatementsAndSemicolonsAreSkipped() throws {
        let script = try parse(";;\n SELECT 1;;; SELECT 2 ;\n;")
        #expect(script.statements.map(\.text) == ["SELECT 1", "SELECT 2"])
        #expect(script.statements[1].start == SourceLocation(line: 2, column: 14))
    }

    @Test func multibyteCharactersCountAsOneColumn() throws {
        let script = try parse("SELECT 'ñ日本😀';\tSELECT 2;")
        #expect(script.statements[1].start == SourceLocation(line: 1, column: 16))
        let source = SourceText("añb\nc")
        #expect(source.location(ofCharacter: 2) == SourceLocation(line: 1, column: 3))
        #expect(source.byteOffset(ofCharacter: 2) == 3)
        #expect(source.location(ofCharacter: 4) == SourceLocation(line: 2, column: 1))
        #expect(source.location(ofByte: 999) == SourceLocation(line: 2, column: 2))
        #expect(source.lineCount == 2)
        #expect(source.lineText(3) == "")
    }

    @Test func largeScriptParsesInLinearTime() throws {
        var text = ""
        for number in 0..<20_000 {
            text += "-- table \(number)\nCREATE TABLE t\(number) (id int PRIMARY KEY, name text DEFAULT 'x;y');\n"
        }
        let clock = ContinuousClock()
        var script: SQLScript?
        let elapsed = try clock.measure { script = try parse(text) }
        let parsed = try #require(script)
        #expect(parsed.statements.count == 20_000)
        #expect(parsed.statements[19_999].start == SourceLocation(line: 40_000, column: 1))
        #expect(parsed.statements[19_999].text.hasPrefix("CREATE TABLE t19999 "))
        #expect(elapsed < .seconds(30), "parsing \(text.utf8.count) bytes took \(elapsed)")
    }

    @Test func deepOperatorChainsParseUpToTheLimit() throws {
        let chain = (0..<600).map { "'\($0)'" }.joined(separator: " || ")
        let script = try parse("CREATE VIEW v AS SELECT \(chain) AS c;")
        #expect(script.statements[0].kind == "ViewStmt")
        #expect(!script.semanticHash.isEmpty)

        let tooLong = (0..<2_000).map(String.init).joined(separator: " + ")
        let error = parseError("SELECT 1;\nSELECT \(tooLong);")
        guard case .nestingTooDeep(_, let location, let limit)? = error else {
            Issue.record("expected nestingTooDeep, got \(String(describing: error))")
            return
        }
        #expect(location.line == 2)
        #expect(limit > 1_000)
    }
}
