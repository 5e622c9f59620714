/// The text of a file with mappings between byte offsets, character offsets and line:column locations.
///
/// Byte offsets are 0-based offsets into the UTF-8 bytes of `string` (a leading byte order mark included).
/// Character offsets are 0-based offsets in Unicode scalars of `string` (a leading byte order mark counts as one).
/// A leading U+FEFF byte order mark is not part of line 1: line 1 column 1 is the first character after it.
/// `\n`, `\r\n` and a lone `\r` each end a line. Line lookups use precomputed line starts and binary search.
public struct SourceText: Sendable {
    /// The whole text, exactly as given (including a leading byte order mark, if any).
    public let string: String
    /// The number of bytes of a leading UTF-8 byte order mark: 3 or 0.
    public let byteOrderMarkLength: Int
    private let bytes: [UInt8]
    /// Byte offset of the first byte of each line; `lineStarts[0] == byteOrderMarkLength`.
    private let lineStarts: [Int]

    /// Indexes `string` for location lookups (linear time in its length).
    public init(_ string: String) {
        self.string = string
        let bytes = Array(string.utf8)
        self.bytes = bytes
        let bom = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        self.byteOrderMarkLength = bom
        self.lineStarts = SourceText.computeLineStarts(bytes, from: bom)
    }

    private static func computeLineStarts(_ bytes: [UInt8], from start: Int) -> [Int] {
        var starts = [start]
        bytes.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            var i = start
            while i < count {
                let byte = buffer[i]
                if byte == 0x0A {
                    starts.append(i + 1)
                } else if byte == 0x0D {
                    if i + 1 < count, buffer[i + 1] == 0x0A { i += 1 }
                    starts.append(i + 1)
                }
                i += 1
            }
        }
        return starts
    }

    /// The number of UTF-8 bytes of the text.
    public var byteCount: Int { bytes.count }

    /// The number of lines (a final line break does not start an extra line unless text follows it; an empty text has 1 line).
    public var lineCount: Int {
        if lineStarts.count > 1, lineStarts[lineStarts.count - 1] == bytes.count { return lineStarts.count - 1 }
        return lineStarts.count
    }

    /// The line:column of a 0-based byte offset; offsets are clamped to `0...byteCount`,
    /// and offsets inside the byte order mark map to 1:1.
    public func location(ofByte offset: Int) -> SourceLocation {
        let offset = min(max(offset, byteOrderMarkLength), bytes.count)
        // Binary search for the last line start <= offset.
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        let lineStart = lineStarts[low]
        var column = 1
        bytes.withUnsafeBufferPointer { buffer in
            var i = lineStart
            while i < offset {
                let byte = buffer[i]
                // Count scalar starts, not UTF-8 continuation bytes; a CR of a CRLF is not a column.
                if byte & 0xC0 != 0x80, !(byte == 0x0D) { column += 1 }
                i += 1
            }
        }
        return SourceLocation(line: low + 1, column: column)
    }

    /// The line:column of a 0-based character (Unicode scalar) offset, clamped to the text.
    public func location(ofCharacter offset: Int) -> SourceLocation {
        location(ofByte: byteOffset(ofCharacter: offset))
    }

    /// The byte offset of a 0-based character (Unicode scalar) offset, clamped to `0...byteCount`.
    /// Linear in the offset: meant for diagnostics.
    public func byteOffset(ofCharacter offset: Int) -> Int {
        guard offset > 0 else { return 0 }
        var remaining = offset
        return bytes.withUnsafeBufferPointer { buffer -> Int in
            var i = 0
            while i < buffer.count {
                if buffer[i] & 0xC0 != 0x80 {
                    if remaining == 0 { return i }
                    remaining -= 1
                }
                i += 1
            }
            return buffer.count
        }
    }

    /// The text of a 1-based line without its line break (and without the byte order mark on line 1);
    /// empty for a line number out of range.
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] : bytes.count
        if end > start, bytes[end - 1] == 0x0A { end -= 1 }
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The text of a byte range, clamped to the text.
    public func text(ofBytes range: Range<Int>) -> String {
        let lower = min(max(range.lowerBound, 0), bytes.count)
        let upper = min(max(range.upperBound, lower), bytes.count)
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }

    /// The raw UTF-8 bytes (internal: used by the splitter).
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBufferPointer(body)
    }

    var utf8Bytes: [UInt8] { bytes }
}
