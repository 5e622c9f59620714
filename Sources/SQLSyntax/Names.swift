/// The strings of a list of `{"String": {"sval": ...}}` nodes, such as a `funcname`, a type's `names` or a
/// `DropStmt` object (a `List` node is unwrapped). Non-string items (such as `A_Star`) are skipped;
/// nil gives an empty list.
public func qualifiedName(_ names: ParseNode?) -> [String] {
    guard let items = names?.listItems else { return [] }
    return items.compactMap { $0.stringValue }
}

/// A possibly schema-qualified relation name, as a `RangeVar` node holds it.
public struct RelationName: Sendable, Hashable, CustomStringConvertible {
    /// The schema, when the name was qualified.
    public let schema: String?
    /// The relation name.
    public let name: String

    /// Creates a relation name.
    public init(schema: String?, name: String) {
        self.schema = schema
        self.name = name
    }

    /// Reads a `RangeVar` body (`{"schemaname": ..., "relname": ...}`) or a wrapped `{"RangeVar": {...}}`;
    /// nil when the node has no `relname`.
    public init?(rangeVar node: ParseNode?) {
        guard let node else { return nil }
        let body = node.nodeType == "RangeVar" ? node.nodeBody ?? node : node
        guard let name = body["relname"]?.string else { return nil }
        self.init(schema: body["schemaname"]?.string, name: name)
    }

    /// `schema.name` or `name`, unquoted.
    public var description: String { schema.map { "\($0).\(name)" } ?? name }
}
