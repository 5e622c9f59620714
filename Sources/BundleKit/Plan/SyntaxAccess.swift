import Foundation
import PostgresCatalog
import SQLSyntax

/// Small, typed readers over libpg_query parse-tree nodes used by the planner.
enum Syntax {
    /// The strings of a list of `String` nodes (`funcname`, `names`, DROP object lists).
    static func names(_ node: ParseNode?) -> [String] {
        guard let items = node?.listItems else { return [] }
        return items.compactMap(\.stringValue)
    }

    /// `(schema, name)` of a RangeVar body (or a wrapped RangeVar).
    static func rangeVar(_ node: ParseNode?) -> (schema: String?, name: String)? {
        guard let node else { return nil }
        let body = node.nodeType == "RangeVar" ? node.nodeBody : node
        guard let name = body?["relname"]?.string else { return nil }
        return (body?["schemaname"]?.string, name)
    }

    /// Whether a RangeVar (or a wrapped one) names a relation to create as TEMP/TEMPORARY.
    static func isTemporary(_ node: ParseNode?) -> Bool {
        let body = node?.nodeType == "RangeVar" ? node?.nodeBody : node
        return body?["relpersistence"]?.string == "t"
    }

    /// Splits a qualified name list into `(schema, name)`.
    static func qualified(_ parts: [String]) -> (schema: String?, name: String)? {
        guard let name = parts.last else { return nil }
        return (parts.count >= 2 ? parts[parts.count - 2] : nil, name)
    }

    /// The type name as PostgreSQL's `to_regtype` accepts it, without typmods: `pg_catalog."varchar"[]`.
    static func writtenType(_ typeName: ParseNode?) -> String? {
        guard let typeName else { return nil }
        let body = typeName.nodeType == "TypeName" ? typeName.nodeBody : typeName
        let parts = names(body?["names"])
        guard !parts.isEmpty, body?["pct_type"]?.bool != true else { return nil }
        let arrays = body?["arrayBounds"]?.array?.count ?? 0
        return parts.map(quoteIdentifier).joined(separator: ".") + String(repeating: "[]", count: arrays)
    }

    /// The written type of a column definition: `smallserial`/`serial2`, `serial`/`serial4` and
    /// `bigserial`/`serial8` (unqualified: `pg_catalog.serial` is no type; without array bounds) become `int2`, `int4` and
    /// `int8`, as PostgreSQL's transformColumnDefinition makes them (plus a sequence and a default); any other
    /// type is `writtenType`.
    static func columnType(_ typeName: ParseNode?) -> String? {
        let body = typeName?.nodeType == "TypeName" ? typeName?.nodeBody : typeName
        let parts = names(body?["names"])
        if (body?["arrayBounds"]?.array ?? []).isEmpty, body?["pct_type"]?.bool != true, parts.count == 1, let serial = serialTypes[parts[0]] {
            return serial
        }
        return writtenType(typeName)
    }

    /// `serial`, `bigserial`, `smallserial` (and `serial2/4/8`) as a column's type: an integer column with its own sequence.
    static func isSerial(_ typeName: ParseNode?) -> Bool {
        let body = typeName?.nodeType == "TypeName" ? typeName?.nodeBody : typeName
        let parts = names(body?["names"])
        return (body?["arrayBounds"]?.array ?? []).isEmpty && body?["pct_type"]?.bool != true && parts.count == 1 && serialTypes[parts[0]] != nil
    }

    /// `serial[]` and the like in a column definition: PostgreSQL refuses it ("array of serial is not implemented").
    static func isSerialArray(_ typeName: ParseNode?) -> Bool {
        let body = typeName?.nodeType == "TypeName" ? typeName?.nodeBody : typeName
        let parts = names(body?["names"])
        return !(body?["arrayBounds"]?.array ?? []).isEmpty && parts.count == 1 && serialTypes[parts[0]] != nil
    }

    static let serialTypes = ["smallserial": "int2", "serial2": "int2", "serial": "int4", "serial4": "int4", "bigserial": "int8", "serial8": "int8"]

    /// The type name as PostgreSQL prints it in "type x does not exist" (`TypeNameToString`).
    static func displayType(_ typeName: ParseNode?) -> String {
        let body = typeName?.nodeType == "TypeName" ? typeName?.nodeBody : typeName
        let arrays = body?["arrayBounds"]?.array?.count ?? 0
        return names(body?["names"]).joined(separator: ".") + String(repeating: "[]", count: arrays)
    }

    /// Whether a TypeName is `SETOF x`.
    static func isSetOf(_ typeName: ParseNode?) -> Bool {
        let body = typeName?.nodeType == "TypeName" ? typeName?.nodeBody : typeName
        return body?["setof"]?.bool == true
    }

    /// Calls `visit` on every node body in the tree, with its node type.
    static func walk(_ node: ParseNode, _ visit: (String, ParseNode) -> Void) {
        switch node {
        case .object(let members):
            if let type = node.nodeType, let body = node.nodeBody {
                visit(type, body)
                walk(body, visit)
            } else {
                for (_, value) in members { walk(value, visit) }
            }
        case .array(let items):
            for item in items { walk(item, visit) }
        default:
            break
        }
    }

    /// Calls `visit` on every object in the tree (wrapped node bodies and the unwrapped, typed fields alike).
    static func walkObjects(_ node: ParseNode, _ visit: ([String: ParseNode]) -> Void) {
        switch node {
        case .object(let members):
            visit(members)
            for (_, value) in members { walkObjects(value, visit) }
        case .array(let items):
            for item in items { walkObjects(item, visit) }
        default:
            break
        }
    }

    /// Whether an object is a TypeName body (libpg_query prints typed fields such as `argType` unwrapped).
    static func isTypeName(_ members: [String: ParseNode]) -> Bool {
        members["names"] != nil && (members["typemod"] != nil || members["location"] != nil) && members["typeOid"] == nil
            && members["funcname"] == nil && members["defnames"] == nil
    }

    /// Every string constant in the tree (`A_Const` with `sval`).
    static func stringConstants(_ node: ParseNode) -> [String] {
        var result: [String] = []
        walk(node) { type, body in
            if type == "A_Const", let value = body["sval"]?["sval"]?.string ?? body["sval"]?.stringValue { result.append(value) }
        }
        return result
    }

    /// The value of a `DefElem` option in a list, by name.
    /// The language of a CREATE FUNCTION/PROCEDURE parse tree as written (`sql` for a SQL-standard body).
    static func functionLanguage(_ tree: ParseNode) -> String {
        option(tree["options"], "language")?.stringValue ?? (tree["sql_body"] != nil ? "sql" : "")
    }

    /// Whether a statement is CREATE OR REPLACE FUNCTION/PROCEDURE.
    static func replacesRoutine(_ statement: SQLStatement) -> Bool {
        statement.kind == "CreateFunctionStmt" && statement.tree["replace"]?.bool == true
    }

    static func option(_ options: ParseNode?, _ name: String) -> ParseNode? {
        for item in options?.listItems ?? [] where item.nodeType == "DefElem" {
            if item.nodeBody?["defname"]?.string == name { return item.nodeBody?["arg"] ?? .null }
        }
        return nil
    }
}
