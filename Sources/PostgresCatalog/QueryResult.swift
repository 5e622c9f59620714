import CLibPQ

/// The complete result of one statement, copied out of the `PGresult` (all values in text format).
public struct QueryResult: Sendable, Equatable {
    /// The column names, in order. Empty for commands that return no rows.
    public let columns: [String]
    /// The rows; each row has one value per column, `nil` for SQL NULL.
    public let rows: [[String?]]
    /// The command tag, e.g. `SELECT 2`, `INSERT 0 1`, `CREATE TABLE`; empty for an empty query.
    public let commandTag: String
    /// The number of rows affected (`INSERT`, `UPDATE`, `DELETE`, `MERGE`, `SELECT`, `MOVE`, `FETCH`, `COPY`,
    /// `CREATE TABLE AS`), or `nil` for commands without a row count.
    public let affectedRows: Int?

    /// Creates a result from its parts.
    public init(columns: [String], rows: [[String?]], commandTag: String, affectedRows: Int?) {
        self.columns = columns
        self.rows = rows
        self.commandTag = commandTag
        self.affectedRows = affectedRows
    }

    /// `result[row, "column"]`: the value in row `row` (0-based) of the first column named `column`; `nil` for NULL or an unknown column.
    /// Traps if `row` is out of range, like an array subscript.
    public subscript(row: Int, column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }

    /// The values of the first column named `column`, one per row (`nil` for NULL); empty for an unknown column.
    public func values(of column: String) -> [String?] {
        guard let index = columns.firstIndex(of: column) else { return [] }
        return rows.map { $0[index] }
    }

    /// Copies everything out of a successful `PGresult`; the caller still owns (and clears) it.
    init(copying result: OpaquePointer) {
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        rows = (0..<rowCount).map { row in
            (0..<columnCount).map { column -> String? in
                if PQgetisnull(result, Int32(row), Int32(column)) != 0 { return nil }
                return String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
        commandTag = PQcmdStatus(result).map { String(cString: $0) } ?? ""
        affectedRows = PQcmdTuples(result).flatMap { Int(String(cString: $0)) }
    }
}

extension ServerMessage {
    /// Copies the error fields of a `PGresult` (an error result or a notice).
    init(copying result: OpaquePointer) {
        func field(_ code: CChar) -> String? {
            guard let pointer = PQresultErrorField(result, Int32(code)) else { return nil }
            return String(cString: pointer)
        }
        let fallbackSeverity = field(CChar(UInt8(ascii: "S")))  // PG_DIAG_SEVERITY (localized), pre-9.6 servers
        let primary = field(bundle_pg_diag_message_primary())
            ?? PQresultErrorMessage(result).map { String(cString: $0) }?.trimmingTrailingNewlines() ?? ""
        self.init(
            severity: field(bundle_pg_diag_severity()) ?? fallbackSeverity ?? "ERROR",
            sqlstate: field(bundle_pg_diag_sqlstate()) ?? "",
            message: primary,
            detail: field(bundle_pg_diag_message_detail()),
            hint: field(bundle_pg_diag_message_hint()),
            position: field(bundle_pg_diag_statement_position()).flatMap { Int($0) },
            context: field(bundle_pg_diag_context()),
            schema: field(bundle_pg_diag_schema_name()),
            table: field(bundle_pg_diag_table_name()),
            column: field(bundle_pg_diag_column_name()),
            constraint: field(bundle_pg_diag_constraint_name())
        )
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = Substring(self)
        while let last = text.last, last.isNewline || last == " " { text = text.dropLast() }
        return String(text)
    }
}
