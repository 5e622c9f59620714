import CPgQuery
import ContentHash
import Foundation

/// One statement of a SQL script.
public struct SQLStatement: Sendable {
    /// The 1-based position of the statement within its file.
    public let index: Int
    /// The bytes of the statement from its first token to its last token: without leading or trailing
    /// whitespace and comments and without the terminating `;`. Offsets are into the whole file.
    public let byteRange: Range<Int>
    /// The text of `byteRange`.
    public let text: String
    /// The location of the statement's first token.
    public let start: SourceLocation
    /// The parse tree node type, e.g. `CreateFunctionStmt`, `TransactionStmt`.
    public let kind: String
    /// The statement node body: the value under `kind`.
    public let tree: ParseNode
    /// The file the statement belongs to (shared by all statements of a script).
    public let source: SourceText

    /// The statement as a wrapped node, `{kind: tree}`.
    public var node: ParseNode { .object([kind: tree]) }

    /// The lowercase hex SHA-256 of the canonical JSON of `{kind: tree}` with every integer `location` member
    /// removed (`node.strippingLocations().canonicalJSON()`): equal for cosmetic edits of the statement.
    public var semanticHash: String {
        hexSHA256(ParseNode.object([kind: tree]).canonicalJSONBytesWithoutLocations())
    }

    /// The location of the statement's last character.
    public var end: SourceLocation { source.location(ofByte: max(byteRange.lowerBound, byteRange.upperBound - 1)) }

    /// The location of a 0-based byte offset that the parse tree reports (a node's `location` member,
    /// relative to the whole file).
    public func location(ofByte offset: Int) -> SourceLocation { source.location(ofByte: offset) }

    /// The location that `node` (a node body or a wrapped node) reports; nil when it reports none.
    public func location(of node: ParseNode) -> SourceLocation? {
        node.location.map { source.location(ofByte: $0) }
    }
}

/// A parsed SQL file: its statements in order, parsed with the PostgreSQL 15 grammar (libpg_query).
public struct SQLScript: Sendable {
    /// The path used in diagnostics.
    public let path: String
    /// The file's text.
    public let source: SourceText
    /// The statements, in file order; never empty.
    public let statements: [SQLStatement]

    /// Parses `data`, the exact bytes of a file. `path` is used in diagnostics only.
    ///
    /// A leading UTF-8 byte order mark is accepted and skipped; `\r\n` line endings are accepted.
    /// Throws for invalid UTF-8, NUL bytes, syntax errors and files without any statement.
    public static func parse(_ data: Data, path: String) throws(SQLSyntaxError) -> SQLScript {
        var bytes = [UInt8](data)
        if let problem = UTF8Check.firstProblem(in: bytes) {
            let prefix = SourceText(String(decoding: bytes[..<problem.offset], as: UTF8.self))
            let location = prefix.location(ofByte: problem.offset)
            switch problem {
            case .nul: throw .nulByte(path: path, location: location)
            case .invalid(let offset): throw .invalidUTF8(path: path, location: location, byteOffset: offset)
            }
        }
        let source = SourceText(String(decoding: bytes, as: UTF8.self))
        let bom = source.byteOrderMarkLength
        // The C parser gets the same number of bytes, with the byte order mark blanked out, so every byte offset
        // it reports is an offset into the file.
        for position in 0..<bom { bytes[position] = 0x20 }
        bytes.append(0)
        let output = bytes.withUnsafeBufferPointer { buffer in
            LibPgQuery.parse(buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { $0 })
        }
        let json: [UInt8]
        switch output {
        case .failure(let message, let cursorPosition):
            throw .syntax(path: path, location: errorLocation(cursorPosition: cursorPosition, source: source),
                          message: message)
        case .success(let text):
            json = text
        }

        let reading = json.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONReader.Failure) -> ParseNode in try JSONReader.read(buffer) }
        }
        let root: ParseNode
        switch reading {
        case .success(let value):
            root = value
        case .failure(.tooDeep(let jsonOffset)):
            let offset = firstLocation(in: json, after: jsonOffset) ?? 0
            throw .nestingTooDeep(path: path, location: source.location(ofByte: offset), limit: JSONReader.maximumDepth)
        case .failure(.malformed(let jsonOffset, let reason)):
            throw .unreadableParseTree(path: path, message: "\(reason) at JSON offset \(jsonOffset)")
        }

        var statements: [SQLStatement] = []
        for raw in root["stmts"]?.array ?? [] {
            guard let wrapped = raw["stmt"], let kind = wrapped.nodeType, let tree = wrapped.nodeBody else {
                throw .unreadableParseTree(path: path, message: "a statement without a node")
            }
            let reportedLocation = raw["stmt_location"]?.int ?? 0
            let length = raw["stmt_len"]?.int ?? 0
            let location = min(max(reportedLocation, bom), source.byteCount)
            let end = length > 0 ? min(max(reportedLocation + length, location), source.byteCount) : source.byteCount
            let span = source.withBytes { SQLLexing.tokenSpan(in: $0, range: location..<end) } ?? location..<end
            statements.append(SQLStatement(
                index: statements.count + 1,
                byteRange: span,
                text: source.text(ofBytes: span),
                start: source.location(ofByte: span.lowerBound),
                kind: kind,
                tree: tree,
                source: source))
        }
        guard !statements.isEmpty else { throw .empty(path: path) }
        return SQLScript(path: path, source: source, statements: statements)
    }

    /// Reads `path` and parses its bytes.
    public static func parse(contentsOf url: URL) throws -> SQLScript {
        try parse(Data(contentsOf: url), path: url.path)
    }

    /// A lowercase hex SHA-256 of the statements' meaning: the SHA-256 of the statements' `semanticHash`
    /// values, each followed by a line feed, in file order.
    ///
    /// Equal for cosmetic edits (whitespace, comments, letter case of keywords and unquoted identifiers,
    /// optional final semicolon); different when a statement, its order, a constant or an identifier changes.
    /// The text of a dollar-quoted function body is a constant: any edit inside it changes the hash.
    public var semanticHash: String {
        var lines = ""
        lines.reserveCapacity(statements.count * 65)
        for statement in statements {
            lines += statement.semanticHash
            lines += "\n"
        }
        return hexSHA256(Array(lines.utf8))
    }

    /// The location of a 0-based byte offset of the file.
    public func location(ofByte offset: Int) -> SourceLocation { source.location(ofByte: offset) }

    /// Maps libpg_query's 1-based character cursor (counted in the text it was given, where the 3-byte
    /// byte order mark became 3 spaces) to a location.
    private static func errorLocation(cursorPosition: Int, source: SourceText) -> SourceLocation {
        guard cursorPosition > 0 else { return source.location(ofByte: source.byteOrderMarkLength) }
        var character = cursorPosition - 1
        if source.byteOrderMarkLength > 0 { character = max(character - 2, 0) }
        return source.location(ofCharacter: character)
    }

    /// The first `"location":N` member after `offset` in the JSON text.
    private static func firstLocation(in json: [UInt8], after offset: Int) -> Int? {
        let key = Array("\"location\":".utf8)
        var i = max(offset, 0)
        while i + key.count < json.count {
            if json[i] == key[0], Array(json[i..<(i + key.count)]) == key {
                var j = i + key.count
                var value = 0
                var digits = 0
                while j < json.count, json[j] >= 0x30, json[j] <= 0x39, digits < 18 {
                    value = value * 10 + Int(json[j] - 0x30)
                    j += 1
                    digits += 1
                }
                if digits > 0 { return value }
            }
            i += 1
        }
        return nil
    }
}

/// The lowercase hex SHA-256 of `bytes` (the same text as `SHA256.hex`, without a formatter call per byte).
func hexSHA256(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    text.reserveCapacity(64)
    for byte in SHA256.digest(Data(bytes)) {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// The call into libpg_query; C results are copied into Swift values and freed at once.
enum LibPgQuery {
    enum Output {
        case success(json: [UInt8])
        case failure(message: String, cursorPosition: Int)
    }

    static func parse(_ text: UnsafePointer<CChar>) -> Output {
        let result = pg_query_parse(text)
        defer { pg_query_free_parse_result(result) }
        if let error = result.error {
            let message = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
            return .failure(message: message, cursorPosition: Int(error.pointee.cursorpos))
        }
        guard let tree = result.parse_tree else { return .success(json: Array("{}".utf8)) }
        let length = strlen(tree)
        return .success(json: tree.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        })
    }
}

/// Finds the first NUL byte or invalid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates,
/// nothing above U+10FFFF).
enum UTF8Check {
    enum Problem {
        case nul(offset: Int)
        case invalid(offset: Int)

        var offset: Int {
            switch self {
            case .nul(let offset), .invalid(let offset): return offset
            }
        }
    }

    static func firstProblem(in bytes: [UInt8]) -> Problem? {
        bytes.withUnsafeBufferPointer { buffer -> Problem? in
            let count = buffer.count
            var i = 0
            while i < count {
                let byte = buffer[i]
                if byte == 0 { return .nul(offset: i) }
                if byte < 0x80 { i += 1; continue }
                let length: Int
                var lowest: UInt8 = 0x80
                var highest: UInt8 = 0xBF
                switch byte {
                case 0xC2...0xDF: length = 2
                case 0xE0: length = 3; lowest = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: length = 3
                case 0xED: length = 3; highest = 0x9F
                case 0xF0: length = 4; lowest = 0x90
                case 0xF1...0xF3: length = 4
                case 0xF4: length = 4; highest = 0x8F
                default: return .invalid(offset: i)
                }
                guard i + length <= count else { return .invalid(offset: i) }
                let second = buffer[i + 1]
                guard second >= lowest, second <= highest else { return .invalid(offset: i) }
                for k in 2..<max(length, 2) where buffer[i + k] & 0xC0 != 0x80 {
                    return .invalid(offset: i)
                }
                i += length
            }
            return nil
        }
    }
}
