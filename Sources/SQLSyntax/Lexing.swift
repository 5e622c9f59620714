/// Lexical helpers that understand just enough PostgreSQL syntax to find where tokens start and end:
/// whitespace, `--` comments, nested `/* */` comments, '' strings (E'' strings with backslash escapes),
/// "" identifiers and $tag$ dollar quotes.
enum SQLLexing {
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C || byte == 0x0B
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F || byte >= 0x80
    }

    private static func isIdentifierContinuation(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x24
    }

    /// The range from the start of the first token to the end of the last token within `bytes[range]`,
    /// skipping whitespace and comments at both ends; nil when the range has no token.
    static func tokenSpan(in bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>) -> Range<Int>? {
        let end = min(range.upperBound, bytes.count)
        var i = max(range.lowerBound, 0)
        var first: Int?
        var last = i
        func at(_ position: Int) -> UInt8 { position < end ? bytes[position] : 0 }
        while i < end {
            let byte = bytes[i]
            if isSpace(byte) { i += 1; continue }
            if byte == UInt8(ascii: "-"), at(i + 1) == UInt8(ascii: "-") {
                while i < end, bytes[i] != 0x0A, bytes[i] != 0x0D { i += 1 }
                continue
            }
            if byte == UInt8(ascii: "/"), at(i + 1) == UInt8(ascii: "*") {
                var depth = 1
                i += 2
                while i < end, depth > 0 {
                    if bytes[i] == UInt8(ascii: "/"), at(i + 1) == UInt8(ascii: "*") { depth += 1; i += 2 }
                    else if bytes[i] == UInt8(ascii: "*"), at(i + 1) == UInt8(ascii: "/") { depth -= 1; i += 2 }
                    else { i += 1 }
                }
                continue
            }
            let tokenStart = i
            if first == nil { first = tokenStart }
            if isIdentifierStart(byte) {
                i += 1
                while i < end, isIdentifierContinuation(bytes[i]) { i += 1 }
                let isEscapeStringPrefix = i == tokenStart + 1 && (byte == UInt8(ascii: "E") || byte == UInt8(ascii: "e"))
                if isEscapeStringPrefix, at(i) == UInt8(ascii: "'") {
                    i = skipQuoted(bytes, from: i, end: end, quote: UInt8(ascii: "'"), backslashEscapes: true)
                }
            } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                i = skipQuoted(bytes, from: i, end: end, quote: byte, backslashEscapes: false)
            } else if byte == UInt8(ascii: "$") {
                i = skipDollar(bytes, from: i, end: end)
            } else {
                i += 1
            }
            last = i
        }
        guard let start = first else { return nil }
        return start..<last
    }

    /// Skips a quoted string or identifier starting at the opening quote; a doubled quote continues it.
    private static func skipQuoted(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, end: Int, quote: UInt8,
                                   backslashEscapes: Bool) -> Int {
        var i = start + 1
        while i < end {
            let byte = bytes[i]
            if backslashEscapes, byte == UInt8(ascii: "\\") { i += 2; continue }
            if byte == quote {
                if i + 1 < end, bytes[i + 1] == quote { i += 2; continue }
                return i + 1
            }
            i += 1
        }
        return end
    }

    /// Skips a parameter (`$1`), a dollar-quoted string (`$tag$...$tag$`) or a lone `$`.
    private static func skipDollar(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, end: Int) -> Int {
        var i = start + 1
        if i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 {
            while i < end, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            return i
        }
        if i < end, isIdentifierStart(bytes[i]) {
            i += 1
            while i < end, isIdentifierContinuation(bytes[i]), bytes[i] != 0x24 { i += 1 }
        }
        guard i < end, bytes[i] == 0x24 else { return start + 1 }
        let delimiter = start...i
        let delimiterLength = delimiter.count
        var j = i + 1
        while j < end {
            if bytes[j] == 0x24, j + delimiterLength <= end {
                var matches = true
                for k in 0..<delimiterLength where bytes[j + k] != bytes[start + k] { matches = false; break }
                if matches { return j + delimiterLength }
            }
            j += 1
        }
        return end
    }
}
