import Foundation
import SQLSyntax
import Testing

/// Parses `text` as the bytes of a file named `test.sql`.
func parse(_ text: String) throws(SQLSyntaxError) -> SQLScript {
    try SQLScript.parse(Data(text.utf8), path: "test.sql")
}

/// The error that parsing `bytes` throws, or nil when it parses.
func parseError(_ bytes: [UInt8]) -> SQLSyntaxError? {
    do {
        _ = try SQLScript.parse(Data(bytes), path: "test.sql")
        return nil
    } catch {
        return error
    }
}

/// The error that parsing `text` throws, or nil when it parses.
func parseError(_ text: String) -> SQLSyntaxError? { parseError(Array(text.utf8)) }
