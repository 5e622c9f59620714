import Foundation

/// A server error or notice, copied out of a `PGresult` at once.
///
/// The fields mirror libpq's `PG_DIAG_*` error fields; optional fields are `nil` when the server did not send them.
public struct ServerMessage: Sendable, Equatable, Hashable {
    /// The non-localized severity: `ERROR`, `FATAL`, `PANIC`, `WARNING`, `NOTICE`, `DEBUG`, `INFO` or `LOG`.
    public var severity: String
    /// The five-character SQLSTATE code, e.g. `42P01`.
    public var sqlstate: String
    /// The primary human-readable message.
    public var message: String
    /// An optional secondary message with more detail.
    public var detail: String?
    /// An optional suggestion of what to do about the problem.
    public var hint: String?
    /// The 1-based character (not byte) position in the statement text where the error was detected.
    public var position: Int?
    /// The call stack traceback (PL/pgSQL functions, SQL functions, internal queries), one frame per line.
    public var context: String?
    /// The schema of the object the error is associated with.
    public var schema: String?
    /// The table the error is associated with.
    public var table: String?
    /// The column the error is associated with.
    public var column: String?
    /// The constraint the error is associated with.
    public var constraint: String?

    /// Creates a message from its fields.
    public init(
        severity: String, sqlstate: String, message: String,
        detail: String? = nil, hint: String? = nil, position: Int? = nil, context: String? = nil,
        schema: String? = nil, table: String? = nil, column: String? = nil, constraint: String? = nil
    ) {
        self.severity = severity
        self.sqlstate = sqlstate
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position
        self.context = context
        self.schema = schema
        self.table = table
        self.column = column
        self.constraint = constraint
    }

    /// The message as psql prints it: `SEVERITY: message (SQLSTATE xxxxx)` followed by `DETAIL:` and `HINT:` lines.
    public var formatted: String {
        var lines = ["\(severity): \(message) (SQLSTATE \(sqlstate))"]
        if let detail { lines.append("DETAIL: \(detail)") }
        if let hint { lines.append("HINT: \(hint)") }
        return lines.joined(separator: "\n")
    }
}

/// Everything that can go wrong in `PostgresCatalog`: connecting, running SQL, or managing a local cluster.
public enum PostgresError: LocalizedError, Sendable, Equatable {
    /// Connecting failed. `target` is the redacted connection string; `message` is libpq's message with any
    /// password scrubbed out.
    case connection(target: String, message: String)
    /// The server rejected a statement.
    case server(ServerMessage)
    /// The connection broke (server crash, terminated backend, network failure) or was already closed.
    case connectionLost(message: String)
    /// libpq returned something this wrapper does not handle (for example a `COPY` data transfer).
    case protocolError(String)
    /// A `LocalCluster` operation failed; the text includes the `initdb`/`pg_ctl` output and the server log tail.
    case cluster(String)

    /// The server message when this is a `.server` error, else `nil`.
    public var serverMessage: ServerMessage? {
        if case .server(let message) = self { return message }
        return nil
    }

    /// The SQLSTATE when this is a `.server` error, else `nil`.
    public var sqlstate: String? { serverMessage?.sqlstate }

    /// True when the connection broke (the outcome of what was in flight is unknown).
    public var isConnectionLost: Bool {
        if case .connectionLost = self { return true }
        return false
    }

    public var errorDescription: String? {
        switch self {
        case .connection(let target, let message):
            return """
                Could not connect to PostgreSQL at "\(target)": \(message)
                Check the connection string (--db, DATABASE_URL or the PG* environment variables) and that the server is running.
                """
        case .server(let message):
            return message.formatted
        case .connectionLost(let message):
            return "The connection to the PostgreSQL server was lost: \(message)\nReconnect and retry; "
                + "check the server log if the server went away."
        case .protocolError(let message):
            return "Unexpected response from libpq: \(message)"
        case .cluster(let message):
            return "Local PostgreSQL cluster failed: \(message)"
        }
    }
}
