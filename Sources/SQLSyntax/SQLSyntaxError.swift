import Foundation

/// Why a SQL file could not be read as a list of PostgreSQL 15 statements.
public enum SQLSyntaxError: LocalizedError, Sendable, Equatable {
    /// The PostgreSQL 15 grammar (libpg_query) rejected the text at `location`.
    case syntax(path: String, location: SourceLocation, message: String)
    /// The bytes are not valid UTF-8; `byteOffset` is the 0-based offset of the first bad byte.
    case invalidUTF8(path: String, location: SourceLocation, byteOffset: Int)
    /// The file contains a NUL byte (which would silently cut the text short for the C parser).
    case nulByte(path: String, location: SourceLocation)
    /// The file contains no statement (it is empty, or holds only whitespace, comments and semicolons).
    case empty(path: String)
    /// A statement's parse tree nests deeper than this module handles (a very long chain of operators or set
    /// operations); `location` is a node inside the too-deep part.
    case nestingTooDeep(path: String, location: SourceLocation, limit: Int)
    /// libpg_query returned a parse tree that could not be read (a bug in this module or in libpg_query).
    case unreadableParseTree(path: String, message: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .syntax(let path, _, _), .invalidUTF8(let path, _, _), .nulByte(let path, _), .empty(let path),
             .nestingTooDeep(let path, _, _), .unreadableParseTree(let path, _):
            return path
        }
    }

    /// Where in the file the error is, when it has a position.
    public var location: SourceLocation? {
        switch self {
        case .syntax(_, let location, _), .invalidUTF8(_, let location, _), .nulByte(_, let location),
             .nestingTooDeep(_, let location, _):
            return location
        case .empty, .unreadableParseTree:
            return nil
        }
    }

    /// `path:line:col: what is wrong`, followed by what to do.
    public var errorDescription: String? {
        switch self {
        case .syntax(let path, let location, let message):
            return "\(path):\(location): syntax error: \(message). "
                + "Fix the SQL at that position; statements are parsed with the PostgreSQL 15 grammar, "
                + "so syntax introduced in later PostgreSQL versions is rejected."
        case .invalidUTF8(let path, let location, let byteOffset):
            return "\(path):\(location): invalid UTF-8 at byte offset \(byteOffset). "
                + "Save the file as UTF-8 (for example with `iconv -f LATIN1 -t UTF-8`)."
        case .nulByte(let path, let location):
            return "\(path):\(location): the file contains a NUL byte. "
                + "Remove it: SQL files must be plain text."
        case .empty(let path):
            return "\(path): the file contains no SQL statement. "
                + "Add at least one statement or remove the file from the bundle."
        case .nestingTooDeep(let path, let location, let limit):
            return "\(path):\(location): the statement's parse tree nests deeper than \(limit) levels. "
                + "Split the long chain of operators or UNION clauses into smaller parts (for example with views or CTEs)."
        case .unreadableParseTree(let path, let message):
            return "\(path): libpg_query returned an unreadable parse tree (\(message)). "
                + "This is a bug; please report it with the file."
        }
    }
}
