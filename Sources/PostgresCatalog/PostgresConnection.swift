import CLibPQ
import Foundation

/// The transaction state of a connection, as libpq reports it between commands.
public enum TransactionStatus: Sendable, Equatable {
    /// Not inside a transaction block.
    case idle
    /// Inside a transaction block that can still commit.
    case inTransaction
    /// Inside a failed transaction block: every command fails until `ROLLBACK`.
    case inError
    /// A command is in progress.
    case active
    /// The connection is bad or closed.
    case unknown
}

/// Collects the notices libpq receives on one connection. Owned by exactly one `PostgresConnection`.
private final class NoticeCollector {
    var notices: [ServerMessage] = []
}

/// libpq's notice receiver: copies the notice into the collector instead of printing it to stderr.
private func receiveNotice(_ context: UnsafeMutableRawPointer?, _ result: OpaquePointer?) {
    guard let context, let result else { return }
    let collector = Unmanaged<NoticeCollector>.fromOpaque(context).takeUnretainedValue()
    collector.notices.append(ServerMessage(copying: result))
}

/// One libpq connection.
///
/// Not thread-safe and deliberately not `Sendable`: use it from one thread (or task) at a time. All results are
/// copied into Swift values before a method returns, so they can be shared freely.
public final class PostgresConnection {
    private var handle: OpaquePointer?
    private let collector = NoticeCollector()
    /// The connection string as given, kept only to scrub its password out of later libpq messages.
    private let conninfo: String

    /// The connection string with any password replaced by `***`; safe to print.
    public let redactedConninfo: String

    /// Connects with a libpq connection string: `key=value ...` pairs or a `postgres://` / `postgresql://` URI.
    /// An empty string uses the `PG*` environment variables and libpq's defaults.
    ///
    /// The client encoding is set to UTF8 and notices are captured (see `takeNotices()`), never printed.
    public init(conninfo: String) throws(PostgresError) {
        self.conninfo = conninfo
        self.redactedConninfo = ConnectionString.redact(conninfo)
        guard let connection = PQconnectdb(conninfo) else {
            throw .connection(target: redactedConninfo, message: "out of memory allocating a libpq connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = PQerrorMessage(connection).map { String(cString: $0) } ?? "unknown error"
            PQfinish(connection)
            throw .connection(
                target: redactedConninfo,
                message: ConnectionString.scrub(message.trimmingTrailingNewlines(), conninfo: conninfo))
        }
        handle = connection
        PQsetNoticeReceiver(connection, receiveNotice, Unmanaged.passUnretained(collector).toOpaque())
        if parameterStatus("client_encoding") != "UTF8", PQsetClientEncoding(connection, "UTF8") != 0 {
            let message = lastErrorMessage()
            close()
            throw .connection(target: redactedConninfo, message: "could not set client encoding UTF8: \(message)")
        }
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Closes the connection. Later commands throw `.connectionLost`. Calling it twice is harmless.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    // MARK: - Commands

    /// Runs SQL with the simple query protocol (`PQexec`) and returns the result of its statement.
    ///
    /// Meant for exactly one statement. If the text holds several, the server runs them as one implicit transaction
    /// and the result of the last one is returned (or the first error thrown). Notices are kept for `takeNotices()`.
    /// `COPY ... FROM STDIN` / `TO STDOUT` is not supported: it is cancelled and `.protocolError` thrown.
    @discardableResult
    public func execute(_ sql: String) throws(PostgresError) -> QueryResult {
        let connection = try openHandle()
        return try collect(PQexec(connection, sql), on: connection)
    }

    /// Runs one statement with the extended protocol (`PQexecParams`) and text parameters `$1`, `$2`, ...
    /// (`nil` is SQL NULL). Parameter types are inferred by the server; cast in SQL (`$1::int`) where needed.
    ///
    /// Each distinct SQL text is prepared once per connection (`PQprepare`) and then executed by name, so repeated
    /// catalog queries are not parsed and planned again on every call.
    public func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> QueryResult {
        let connection = try openHandle()
        let name = try preparedName(sql, parameterCount: parameters.count, on: connection)
        let result = Self.withCParameters(parameters) { PQexecPrepared(connection, name, Int32(parameters.count), $0, nil, nil, 0) }
        do {
            return try collect(result, on: connection)
        } catch let error where error.sqlstate == "26000" {
            // Someone ran DEALLOCATE ALL (or DISCARD) on this session: forget the names, prepare again.
            prepared = [:]
            if transactionStatus == .idle { return try query(sql, parameters) }
            throw error
        }
    }

    /// `query`, with the caller's `work` done while the server runs the statement: it is sent
    /// (`PQsendQueryPrepared`), `work` runs, then its result is read (also when `work` throws, so the connection
    /// stays usable). For client work that does not need the connection, such as reading git history while the
    /// server computes a catalog mark.
    public func query<T, E: Error>(
        _ sql: String, _ parameters: [String?] = [], overlapping work: () throws(E) -> T
    ) throws(E) -> (result: Result<QueryResult, PostgresError>, work: T) {
        let sent: Result<OpaquePointer, PostgresError>
        do {
            let connection = try openHandle()
            let name = try preparedName(sql, parameterCount: parameters.count, on: connection)
            if Self.withCParameters(parameters, { PQsendQueryPrepared(connection, name, Int32(parameters.count), $0, nil, nil, 0) }) == 1 {
                sent = .success(connection)
            } else {
                let message = lastErrorMessage()
                sent = .failure(PQstatus(connection) != CONNECTION_OK ? .connectionLost(message: message) : .protocolError(message))
            }
        } catch {
            sent = .failure(error)
        }
        func receive() -> Result<QueryResult, PostgresError> {
            guard case .success(let connection) = sent else {
                if case .failure(let error) = sent { return .failure(error) }
                return .failure(.protocolError("not sent"))
            }
            // One statement: its result, then NULL (the first failure, if any, is what counts).
            var outcome: Result<QueryResult, PostgresError>? = nil
            while let result = PQgetResult(connection) {
                let collected = Result { () throws(PostgresError) in try collect(result, on: connection) }
                if outcome == nil { outcome = collected }
                if PQstatus(connection) != CONNECTION_OK { break }
            }
            return outcome ?? .failure(.connectionLost(message: lastErrorMessage()))
        }
        let value: T
        do {
            value = try work()
        } catch {
            _ = receive()
            throw error
        }
        let result = receive()
        if case .failure(let error) = result, error.sqlstate == "26000" {
            // Someone ran DEALLOCATE ALL on this session (as `query` handles it): forget the names; prepare again,
            // this time waiting, unless a transaction is open (it is aborted now).
            prepared = [:]
            if transactionStatus == .idle { return (Result { () throws(PostgresError) in try query(sql, parameters) }, value) }
        }
        return (result, value)
    }

    /// What became of one statement of a `pipeline`.
    public enum PipelineOutcome {
        case done(QueryResult)
        case failed(PostgresError)
        /// Not run: an earlier statement of the pipeline failed.
        case skipped
        /// Never sent to the server (libpq refused it, e.g. out of memory): it did not run.
        case notSent(PostgresError)
    }

    /// Sends `statements` (SQL, text parameters) in one round trip (libpq's pipeline mode, each statement prepared
    /// once per connection as with `query`) and returns what became of each: after a failure the server skips the
    /// rest, and an open transaction is then aborted. Throws when nothing was sent (a statement could not be
    /// prepared, pipeline mode could not be entered, the connection is gone). A connection lost on the way is the
    /// outcome (`.failed(.connectionLost)`) of every statement whose result did not arrive; the results that did
    /// arrive are returned as they are (a COMMIT reported done is done). A statement libpq refused to send, and
    /// those after it, are `.notSent`: they did not run.
    ///
    /// The statements at the indexes in `unprepared` are sent as they are (the unnamed statement, as `execute`
    /// runs one, for SQL that runs once: a bundle's DDL); they take no parameters.
    public func pipeline(_ statements: [(sql: String, parameters: [String?])], unprepared: Set<Int> = []) throws(PostgresError) -> [PipelineOutcome] {
        let connection = try openHandle()
        // Statements not prepared yet are prepared first (once per connection), outside the pipeline.
        var names: [String?] = []
        for (index, statement) in statements.enumerated() {
            names.append(unprepared.contains(index) ? nil : try preparedName(statement.sql, parameterCount: statement.parameters.count, on: connection))
        }
        guard PQenterPipelineMode(connection) == 1 else { throw .protocolError("could not enter pipeline mode: \(lastErrorMessage())") }
        defer { _ = PQexitPipelineMode(connection) }
        var sent = 0
        var sendError: PostgresError? = nil
        for (statement, name) in zip(statements, names) {
            let ok = Self.withCParameters(statement.parameters) { values in
                if let name { return PQsendQueryPrepared(connection, name, Int32(statement.parameters.count), values, nil, nil, 0) }
                return PQsendQueryParams(connection, statement.sql, 0, nil, nil, nil, nil, 0)
            }
            if ok != 1 {
                let message = lastErrorMessage()
                sendError = PQstatus(connection) == CONNECTION_OK ? .protocolError(message) : .connectionLost(message: message)
                break
            }
            sent += 1
        }
        if sent == 0 { throw sendError ?? .connectionLost(message: lastErrorMessage()) }
        // What was sent runs; the Sync ends it and brings the session back to idle. Without it the results may
        // never be flushed: the connection is closed, and what was sent has an unknown outcome.
        if PQpipelineSync(connection) != 1 {
            let message = lastErrorMessage() + " (the pipeline could not be finished; the connection was closed)"
            close()
            return statements.indices.map { $0 < sent ? .failed(.connectionLost(message: message)) : .notSent(.connectionLost(message: message)) }
        }
        var outcomes: [PipelineOutcome] = []
        var lost: String? = nil
        for index in 0..<statements.count {
            if index >= sent {
                outcomes.append(.notSent(sendError ?? .protocolError("not sent")))
                continue
            }
            if let lost {
                outcomes.append(.failed(.connectionLost(message: lost)))
                continue
            }
            var outcome: PipelineOutcome? = nil
            // Each statement's results end with NULL.
            while let result = PQgetResult(connection) {
                if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                    PQclear(result)
                    outcome = outcome ?? .skipped
                    continue
                }
                do { outcome = .done(try collect(result, on: connection)) } catch { outcome = .failed(error) }
            }
            if case .failed(.connectionLost(let message)) = outcome { lost = message }
            if outcome == nil && PQstatus(connection) != CONNECTION_OK {
                lost = lastErrorMessage()
                outcome = .failed(.connectionLost(message: lost!))
            }
            if case .failed(let error) = outcome, error.sqlstate == "26000" { prepared = [:] }  // statements deallocated
            outcomes.append(outcome ?? .skipped)
        }
        // The Sync's own result ends the pipeline (the connection is idle again); a connection lost now changes
        // nothing above.
        if lost == nil {
            for _ in 0..<8 {
                guard let result = PQgetResult(connection) else {
                    if PQstatus(connection) != CONNECTION_OK { break }
                    continue
                }
                let status = PQresultStatus(result)
                PQclear(result)
                if status == PGRES_PIPELINE_SYNC { break }
            }
        }
        return outcomes
    }

    /// Prepares `sql` on this connection now (once per connection, as `query` and `pipeline` would), so that a
    /// later pipeline has nothing left to prepare.
    public func prepare(_ sql: String, parameterCount: Int) throws(PostgresError) {
        _ = try preparedName(sql, parameterCount: parameterCount, on: try openHandle())
    }

    /// `pipeline` for statements that must all succeed: their results, or the first failure thrown.
    public func pipelineResults(_ statements: [(sql: String, parameters: [String?])]) throws(PostgresError) -> [QueryResult] {
        var results: [QueryResult] = []
        for outcome in try pipeline(statements) {
            switch outcome {
            case .done(let result): results.append(result)
            case .failed(let error): throw error
            case .skipped: throw .protocolError("a statement of a pipeline was skipped without an error")
            case .notSent(let error): throw error
            }
        }
        return results
    }

    /// The name of `sql`'s prepared statement on this connection, preparing it the first time.
    private func preparedName(_ sql: String, parameterCount: Int, on connection: OpaquePointer) throws(PostgresError) -> String {
        if let known = prepared[sql] { return known }
        preparedCounter += 1
        let name = "bundle_q\(preparedCounter)"
        _ = try collect(PQprepare(connection, name, sql, Int32(parameterCount), nil), on: connection)
        prepared[sql] = name
        return name
    }

    /// Calls `body` with the parameters as the C strings libpq takes (nil is SQL NULL).
    private static func withCParameters<T>(_ parameters: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> T) -> T {
        let values: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { values.forEach { free($0) } }
        return values.map { UnsafePointer($0) }.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// SQL text → name of its prepared statement on this connection.
    private var prepared: [String: String] = [:]
    /// Only ever grows, so a name is never reused after statements were deallocated.
    private var preparedCounter = 0

    /// The notices (`RAISE NOTICE`, "relation ... already exists, skipping", warnings, ...) received since the last
    /// call, oldest first. libpq never prints them to stderr.
    public func takeNotices() -> [ServerMessage] {
        defer { collector.notices.removeAll() }
        return collector.notices
    }

    // MARK: - Connection facts

    /// The server version as reported by the `server_version` parameter, without any distribution suffix,
    /// e.g. `15.18`.
    public var serverVersion: String {
        let full = parameterStatus("server_version") ?? ""
        return String(full.split(separator: " ").first ?? "")
    }

    /// The server version as a number, e.g. `150018` for 15.18; 0 when closed.
    public var serverVersionNumber: Int {
        guard let handle else { return 0 }
        return Int(PQserverVersion(handle))
    }

    /// The database name of the connection; empty when closed.
    public var database: String { handle.flatMap { PQdb($0) }.map { String(cString: $0) } ?? "" }

    /// The user name of the connection; empty when closed.
    public var user: String { handle.flatMap { PQuser($0) }.map { String(cString: $0) } ?? "" }

    /// The process ID of the server backend serving this connection; 0 when closed.
    public var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// The current transaction state.
    public var transactionStatus: TransactionStatus {
        guard let handle else { return .unknown }
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inError
        case PQTRANS_ACTIVE: return .active
        default: return .unknown
        }
    }

    /// Whether libpq considers the connection usable. A server that went away is noticed only by the next command.
    public var isAlive: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// A run-time parameter the server reports (`server_version`, `server_encoding`, `client_encoding`,
    /// `TimeZone`, `standard_conforming_strings`, ...), or `nil`.
    public func parameterStatus(_ name: String) -> String? {
        guard let handle, let value = PQparameterStatus(handle, name) else { return nil }
        return String(cString: value)
    }

    // MARK: - Internals

    private func openHandle() throws(PostgresError) -> OpaquePointer {
        guard let handle else { throw .connectionLost(message: "the connection is closed") }
        return handle
    }

    private func lastErrorMessage() -> String {
        guard let handle, let message = PQerrorMessage(handle) else { return "unknown error" }
        return ConnectionString.scrub(String(cString: message).trimmingTrailingNewlines(), conninfo: conninfo)
    }

    /// Turns a `PGresult` into a `QueryResult` or an error, clears it, and leaves the connection ready for the next
    /// command.
    private func collect(_ result: OpaquePointer?, on connection: OpaquePointer) throws(PostgresError) -> QueryResult {
        guard let result else {
            // NULL only for out-of-memory or when the command could not be sent at all.
            let message = lastErrorMessage()
            if PQstatus(connection) != CONNECTION_OK { throw .connectionLost(message: message) }
            throw .protocolError(message)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return QueryResult(copying: result)
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
            let message = ServerMessage(copying: result)
            // FATAL and PANIC end the session: in pipeline mode the error comes before libpq has seen the end of
            // the connection, which PQexec would have read through to.
            if PQstatus(connection) != CONNECTION_OK || message.severity == "FATAL" || message.severity == "PANIC" {
                // The result message and libpq's connection message usually repeat each other.
                let connectionMessage = lastErrorMessage()
                let text = connectionMessage.contains(message.message) ? connectionMessage
                    : [message.message, connectionMessage].filter { !$0.isEmpty }.joined(separator: "; ")
                throw .connectionLost(message: ConnectionString.scrub(text, conninfo: conninfo))
            }
            if message.sqlstate.isEmpty {
                // Generated by libpq itself, not the server (e.g. a malformed query string).
                throw .protocolError(ConnectionString.scrub(message.message, conninfo: conninfo))
            }
            throw .server(message)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            abandonCopy(on: connection, status: PQresultStatus(result))
            throw .protocolError("COPY data transfer is not supported; use INSERT or a server-side COPY from a file")
        default:
            let status = String(cString: PQresStatus(PQresultStatus(result)))
            throw .protocolError("unexpected result status \(status)")
        }
    }

    /// Ends a COPY the caller did not ask to stream and drains the remaining results.
    private func abandonCopy(on connection: OpaquePointer, status: ExecStatusType) {
        if status == PGRES_COPY_IN || status == PGRES_COPY_BOTH {
            _ = PQputCopyEnd(connection, "COPY from the client is not supported by bundle")
        }
        if status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH {
            var buffer: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(connection, &buffer, 0) > 0 {
                PQfreemem(buffer)
                buffer = nil
            }
        }
        while let next = PQgetResult(connection) {
            PQclear(next)
        }
    }
}
