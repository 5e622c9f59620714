/// A JSON-like node of a libpg_query parse tree.
///
/// libpg_query (PostgreSQL 15) writes nodes as single-member objects such as `{"CreateStmt": {...}}`,
/// omits members whose value is false, 0, an empty string or an empty list, and writes enums as strings.
public indirect enum ParseNode: Sendable, Hashable {
    /// A JSON object.
    case object([String: ParseNode])
    /// A JSON array.
    case array([ParseNode])
    /// A JSON string.
    case string(String)
    /// A JSON integer.
    case int(Int)
    /// A JSON number with a fraction or an exponent.
    case double(Double)
    /// A JSON boolean.
    case bool(Bool)
    /// JSON null.
    case null

    /// The member `key` of an object; nil for a missing member or a non-object.
    public subscript(key: String) -> ParseNode? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The element at `index` of an array; nil when out of range or for a non-array.
    public subscript(index: Int) -> ParseNode? {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }

    /// The value of a `.string`.
    public var string: String? { if case .string(let value) = self { return value }; return nil }
    /// The value of an `.int`.
    public var int: Int? { if case .int(let value) = self { return value }; return nil }
    /// The value of a `.double` (or of an `.int`, converted).
    public var double: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }
    /// The value of a `.bool`.
    public var bool: Bool? { if case .bool(let value) = self { return value }; return nil }
    /// The elements of an `.array`.
    public var array: [ParseNode]? { if case .array(let value) = self { return value }; return nil }
    /// The members of an `.object`.
    public var object: [String: ParseNode]? { if case .object(let value) = self { return value }; return nil }
    /// True for `.null`.
    public var isNull: Bool { self == .null }

    /// The node type of a wrapped node such as `{"CreateStmt": {...}}`: the single member name, which
    /// starts with an upper-case letter (field names start with a lower-case one). Nil otherwise.
    public var nodeType: String? {
        guard case .object(let members) = self, members.count == 1, let key = members.keys.first,
              let first = key.unicodeScalars.first, first.properties.isUppercase else { return nil }
        return key
    }

    /// The body of a wrapped node such as `{"CreateStmt": {...}}` (the value under `nodeType`).
    public var nodeBody: ParseNode? {
        guard let type = nodeType else { return nil }
        return self[type]
    }

    /// The text of a `{"String": {"sval": "x"}}` node (an omitted `sval` is the empty string).
    public var stringValue: String? {
        guard nodeType == "String" else { return nil }
        return nodeBody?["sval"]?.string ?? ""
    }

    /// The value of an `{"Integer": {"ival": 1}}` node (an omitted `ival` is 0).
    public var integerValue: Int? {
        guard nodeType == "Integer" else { return nil }
        return nodeBody?["ival"]?.int ?? 0
    }

    /// The literal text of a `{"Float": {"fval": "1.5"}}` node.
    public var floatValue: String? {
        guard nodeType == "Float" else { return nil }
        return nodeBody?["fval"]?.string ?? "0"
    }

    /// The value of a `{"Boolean": {"boolval": true}}` node (an omitted `boolval` is false).
    public var booleanValue: Bool? {
        guard nodeType == "Boolean" else { return nil }
        return nodeBody?["boolval"]?.bool ?? false
    }

    /// The items of a `{"List": {"items": [...]}}` node, or the elements of a plain array.
    public var listItems: [ParseNode]? {
        if case .array(let elements) = self { return elements }
        guard nodeType == "List" else { return nil }
        return nodeBody?["items"]?.array ?? []
    }

    /// The byte offset that a node body (or a wrapped node) reports in its `location` member;
    /// nil when missing or -1 (unknown). Offsets are 0-based and relative to the whole file.
    public var location: Int? {
        if let value = self["location"]?.int { return value >= 0 ? value : nil }
        if let value = nodeBody?["location"]?.int { return value >= 0 ? value : nil }
        return nil
    }

    /// Canonical JSON text: object members sorted by the UTF-8 bytes of their names, no insignificant whitespace,
    /// strings escaped only where JSON requires it (`"`, `\\`, control characters).
    public func canonicalJSON() -> String {
        var output: [UInt8] = []
        appendCanonicalJSON(to: &output, skippingLocations: false)
        return String(decoding: output, as: UTF8.self)
    }

    /// The UTF-8 bytes of the canonical JSON of `strippingLocations()`, without building the stripped copy.
    func canonicalJSONBytesWithoutLocations() -> [UInt8] {
        var output: [UInt8] = []
        appendCanonicalJSON(to: &output, skippingLocations: true)
        return output
    }

    private func appendCanonicalJSON(to output: inout [UInt8], skippingLocations: Bool) {
        switch self {
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            var sorted = Array(members)
            if sorted.count > 1 { sorted.sort { ParseNode.utf8Precedes($0.key, $1.key) } }
            var first = true
            for (key, value) in sorted {
                if skippingLocations, key == "location", case .int = value { continue }
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                ParseNode.appendJSONString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                value.appendCanonicalJSON(to: &output, skippingLocations: skippingLocations)
            }
            output.append(UInt8(ascii: "}"))
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { output.append(UInt8(ascii: ",")) }
                element.appendCanonicalJSON(to: &output, skippingLocations: skippingLocations)
            }
            output.append(UInt8(ascii: "]"))
        case .string(let value):
            ParseNode.appendJSONString(value, to: &output)
        case .int(let value):
            ParseNode.appendDecimal(value, to: &output)
        case .double(let value):
            output.append(contentsOf: (value.isFinite ? "\(value)" : "null").utf8)
        case .bool(let value):
            output.append(contentsOf: (value ? "true" : "false").utf8)
        case .null:
            output.append(contentsOf: "null".utf8)
        }
    }

    /// Byte-wise order of UTF-8 encodings (the order of canonical JSON object members).
    private static func utf8Precedes(_ lhs: String, _ rhs: String) -> Bool {
        var lhs = lhs
        var rhs = rhs
        return lhs.withUTF8 { left in
            rhs.withUTF8 { right in
                let common = min(left.count, right.count)
                for index in 0..<common where left[index] != right[index] {
                    return left[index] < right[index]
                }
                return left.count < right.count
            }
        }
    }

    private static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        if value < 0 {
            output.append(UInt8(ascii: "-"))
            // Int.min has no positive counterpart; print it through String.
            guard value != Int.min else { output.append(contentsOf: String(value).utf8.dropFirst()); return }
        }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            output.append(contentsOf: buffer[(20 - count)...])
        }
    }

    private static func appendJSONString(_ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default:
                output.append(byte)
            }
        }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// A copy with every integer `location` member of every object removed, recursively.
    /// (String-valued `location` members, such as a tablespace's directory, are kept: they are content.)
    public func strippingLocations() -> ParseNode {
        switch self {
        case .object(let members):
            var stripped: [String: ParseNode] = [:]
            stripped.reserveCapacity(members.count)
            for (key, value) in members {
                if key == "location", case .int = value { continue }
                stripped[key] = value.strippingLocations()
            }
            return .object(stripped)
        case .array(let elements):
            return .array(elements.map { $0.strippingLocations() })
        default:
            return self
        }
    }
}

extension ParseNode: CustomStringConvertible {
    /// The canonical JSON text.
    public var description: String { canonicalJSON() }
}
