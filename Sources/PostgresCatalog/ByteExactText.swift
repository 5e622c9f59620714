import Foundation

// Swift's `String` compares and hashes by Unicode canonical equivalence: "é" precomposed (U+00E9) and decomposed
// (e + U+0301) are equal to it. PostgreSQL compares names and text byte for byte, so two tables called "é" can
// exist side by side, and a comment can change from one form to the other. Catalog names, state paths and
// recorded texts are therefore compared, deduplicated and sorted with the helpers below.

/// Whether two strings hold the same bytes.
public func sameBytes(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    var a = a
    var b = b
    return a.withUTF8 { x in b.withUTF8 { y in x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
}

/// Whether two optional strings hold the same bytes (both nil counts as the same).
public func sameBytes(_ a: String?, _ b: String?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (let a?, let b?): return sameBytes(a, b)
    default: return false
    }
}

/// Whether `a` sorts before `b` by their UTF-8 bytes (`COLLATE "C"` order; for text in NFC also Swift's order).
public func bytesPrecede(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// The strings sorted by their UTF-8 bytes, each distinct byte sequence once.
public func uniqueSortedByBytes<S: Sequence>(_ strings: S) -> [String] where S.Element == String {
    var result: [String] = []
    for string in strings.sorted(by: bytesPrecede) where result.last.map({ !sameBytes($0, string) }) ?? true {
        result.append(string)
    }
    return result
}

/// A string that is equal, hashed and ordered by its bytes: a dictionary key or set element for catalog names.
public struct ExactText: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init<S: StringProtocol>(_ text: S) { bytes = Array(text.utf8) }

    public var string: String { String(decoding: bytes, as: UTF8.self) }
    public var description: String { string }

    public static func < (a: ExactText, b: ExactText) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }
}
