import ContentHash
import Foundation
import SQLSyntax
import Testing

@Suite struct SemanticTests {
    static let original = """
        CREATE TABLE accounts (id int PRIMARY KEY, balance numeric DEFAULT 0);
        CREATE INDEX accounts_balance ON accounts (balance);
        CREATE TABLESPACE fast LOCATION '/srv/fast';
        """

    @Test func semanticHashIgnoresWhitespaceCommentsAndKeywordCase() throws {
        let cosmetic = """
            -- accounts
            create   table ACCOUNTS (
              id      INT primary key,   /* the key */
              balance NUMERIC default 0
            )
            ;


            create index accounts_balance
                on accounts(balance);
            create tablespace fast location '/srv/fast'
            """
        let hash = try parse(Self.original).semanticHash
        #expect(hash.count == 64)
        #expect(try parse(cosmetic).semanticHash == hash)
        #expect(try parse(Self.original.replacingOccurrences(of: "\n", with: "\r\n")).semanticHash == hash)
    }

    @Test func semanticHashChangesWithConstantsIdentifiersAndOrder() throws {
        let hash = try parse(Self.original).semanticHash
        let changedConstant = Self.original.replacingOccurrences(of: "DEFAULT 0", with: "DEFAULT 1")
        let changedIdentifier = Self.original.replacingOccurrences(of: "accounts_balance", with: "accounts_bal")
        let quotedIdentifier = Self.original.replacingOccurrences(of: "TABLE accounts", with: "TABLE \"Accounts\"")
        // A string-valued member named "location" is content, not a position.
        let changedDirectory = Self.original.replacingOccurrences(of: "/srv/fast", with: "/srv/slow")
        let lines = Self.original.split(separator: "\n")
        let reordered = [lines[1], lines[0], lines[2]].joined(separator: "\n")
        let hashes = try [changedConstant, changedIdentifier, quotedIdentifier, changedDirectory, reordered]
            .map { try parse($0).semanticHash }
        #expect(Set(hashes + [hash]).count == 6)
    }

    @Test func semanticHashIsSHA256OfTheCanonicalTrees() throws {
        let script = try parse("SELECT 1;\n SELECT 'a'")
        let statementHashes = script.statements.map { SHA256.hex($0.node.strippingLocations().canonicalJSON()) }
        #expect(script.statements.map(\.semanticHash) == statementHashes)
        #expect(script.semanticHash == SHA256.hex(statementHashes.map { $0 + "\n" }.joined()))
        #expect(!script.statements[1].node.strippingLocations().canonicalJSON().contains("location"))
        // Moving a statement to another line keeps its own hash.
        let moved = try parse("\n\n  SELECT 'a';")
        #expect(moved.statements[0].semanticHash == script.statements[1].semanticHash)
    }

    @Test func canonicalJSONSortsKeysAndEscapes() {
        let node = ParseNode.object([
            "b": .array([.int(1), .double(1.5), .bool(true), .null]),
            "a": .string("q\"\\\n\u{1}é"),
            "location": .int(7),
            "nested": .object(["location": .string("/dir"), "z": .object(["location": .int(3)])]),
        ])
        #expect(node.canonicalJSON()
            == #"{"a":"q\"\\\n\u0001é","b":[1,1.5,true,null],"location":7,"nested":{"location":"/dir","z":{"location":3}}}"#)
        #expect(node.strippingLocations().canonicalJSON()
            == #"{"a":"q\"\\\n\u0001é","b":[1,1.5,true,null],"nested":{"location":"/dir","z":{}}}"#)
    }

    @Test func parseNodeAccessorsReadLibpgQueryShapes() throws {
        let script = try parse("""
            CREATE FUNCTION app.total(n int) RETURNS int LANGUAGE sql AS 'SELECT 1';
            DROP TABLE app.t, u;
            CREATE SUBSCRIPTION s CONNECTION 'dbname=x' PUBLICATION p WITH (connect = 0);
            """)
        let function = script.statements[0]
        #expect(qualifiedName(function.tree["funcname"]) == ["app", "total"])
        #expect(qualifiedName(function.tree["returnType"]?["names"]) == ["pg_catalog", "int4"])
        #expect(qualifiedName(nil) == [])
        #expect(function.node.nodeType == "CreateFunctionStmt")
        #expect(function.node.nodeBody == function.tree)
        let objects = try #require(script.statements[1].tree["objects"]?.array)
        #expect(objects.map(qualifiedName) == [["app", "t"], ["u"]])
        let connect = try #require(script.statements[2].tree["options"]?[0]?.nodeBody?["arg"])
        #expect(connect.integerValue == 0)
        #expect(connect.nodeType == "Integer")
        #expect(ParseNode.object(["String": .object(["sval": .string("x")])]).stringValue == "x")
        #expect(ParseNode.object(["relname": .string("x")]).nodeType == nil)
    }
}
