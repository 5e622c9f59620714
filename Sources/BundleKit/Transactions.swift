import Foundation
import PostgresCatalog

extension PostgresConnection {
    /// `SET LOCAL lock_timeout` ($1) and `statement_timeout` ($2) for the open transaction, as one query.
    /// Qualified like every query bundle runs inside a bundle's transaction: a bundle may have set a search_path
    /// that puts another schema before pg_catalog (see `PostgresConnection.pinSearchPathSQL`).
    static let localTimeoutsSQL =
        "SELECT pg_catalog.set_config('lock_timeout', $1, true), pg_catalog.set_config('statement_timeout', $2, true)"

    /// `SET LOCAL lock_timeout` and `statement_timeout` for the open transaction, in one round trip.
    func setLocalTimeouts(lock: String, statement: String) throws(PostgresError) {
        _ = try query(Self.localTimeoutsSQL, [lock, statement])
    }

    /// `BEGIN` and both timeouts for the new transaction, in one round trip; on failure nothing is left open.
    func beginWithLocalTimeouts(lock: String, statement: String) throws(PostgresError) {
        do {
            try execute(
                "BEGIN; SELECT pg_catalog.set_config('lock_timeout', \(sqlLiteral(lock)), true), pg_catalog.set_config('statement_timeout', \(sqlLiteral(statement)), true)")
        } catch {
            if transactionStatus != .idle { _ = try? execute("ROLLBACK") }
            throw error
        }
    }
}
