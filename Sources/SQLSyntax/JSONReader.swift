/// A small JSON reader for libpg_query output.
///
/// Foundation's JSONSerialization refuses nesting deeper than 512 levels, which a PostgreSQL parse tree of a
/// long operator or UNION ALL chain exceeds; this reader allows `maximumDepth` levels instead.
struct JSONReader {
    enum Failure: Error {
        /// Nesting deeper than the limit at this byte offset of the JSON text.
        case tooDeep(jsonOffset: Int)
        /// Malformed JSON at this byte offset.
        case malformed(jsonOffset: Int, reason: String)
    }

    /// The deepest nesting of arrays and objects accepted.
    static let maximumDepth = 3000

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    /// Members and elements being read, shared by all levels so containers are built at their final size.
    private var pendingMembers: [(String, ParseNode)] = []
    private var pendingElements: [ParseNode] = []

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Reads one JSON value that fills `bytes` (surrounding whitespace allowed).
    static func read(_ bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> ParseNode {
        var reader = JSONReader(bytes)
        let value = try reader.readValue(depth: 0)
        reader.skipWhitespace()
        guard reader.index == bytes.count else { throw .malformed(jsonOffset: reader.index, reason: "trailing data") }
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func readValue(depth: Int) throws(Failure) -> ParseNode {
        skipWhitespace()
        guard index < bytes.count else { throw .malformed(jsonOffset: index, reason: "unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            guard depth < JSONReader.maximumDepth else { throw .tooDeep(jsonOffset: index) }
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object([:]) }
            let base = pendingMembers.count
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw .malformed(jsonOffset: index, reason: "expected a member name")
                }
                let key = try readString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                let value = try readValue(depth: depth + 1)
                pendingMembers.append((key, value))
                skipWhitespace()
                guard index < bytes.count else { throw .malformed(jsonOffset: index, reason: "unterminated object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "}"))
                var members = [String: ParseNode](minimumCapacity: pendingMembers.count - base)
                for position in base..<pendingMembers.count {
                    members[pendingMembers[position].0] = pendingMembers[position].1
                }
                pendingMembers.removeSubrange(base...)
                return .object(members)
            }
        case UInt8(ascii: "["):
            guard depth < JSONReader.maximumDepth else { throw .tooDeep(jsonOffset: index) }
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array([]) }
            let base = pendingElements.count
            while true {
                let element = try readValue(depth: depth + 1)
                pendingElements.append(element)
                skipWhitespace()
                guard index < bytes.count else { throw .malformed(jsonOffset: index, reason: "unterminated array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "]"))
                let elements = Array(pendingElements[base...])
                pendingElements.removeSubrange(base...)
                return .array(elements)
            }
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "t"):
            try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"):
            try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"):
            try expectWord("null"); return .null
        default:
            return try readNumber()
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard index < bytes.count, bytes[index] == byte else {
            throw .malformed(jsonOffset: index, reason: "expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    private mutating func expectWord(_ word: String) throws(Failure) {
        let expected = Array(word.utf8)
        let count = expected.count
        guard index + count <= bytes.count else { throw .malformed(jsonOffset: index, reason: "unexpected end") }
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw .malformed(jsonOffset: index, reason: "unexpected literal")
        }
        index += count
    }

    private mutating func readNumber() throws(Failure) -> ParseNode {
        let start = index
        var isInteger = true
        while index < bytes.count {
            let byte = bytes[index]
            if (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") {
                index += 1
            } else if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                isInteger = false
                index += 1
            } else {
                break
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let value = Int(text) { return .int(value) }
        if let value = Double(text) { return .double(value) }
        throw .malformed(jsonOffset: start, reason: "invalid number")
    }

    /// Reads a string starting at the opening quote.
    private mutating func readString() throws(Failure) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            index += 1
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            }
            if byte != UInt8(ascii: "\\") {
                scalars.append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append(0x22)
            case UInt8(ascii: "\\"): scalars.append(0x5C)
            case UInt8(ascii: "/"): scalars.append(0x2F)
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try readHex4()
                if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count,
                   bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                    index += 2
                    let low = try readHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw .malformed(jsonOffset: index - 1, reason: "invalid escape")
            }
        }
        throw .malformed(jsonOffset: start, reason: "unterminated string")
    }

    private mutating func readHex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw .malformed(jsonOffset: index, reason: "short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw .malformed(jsonOffset: index, reason: "invalid \\u escape")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }
}
