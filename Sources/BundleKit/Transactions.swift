import Foundation
import PostgresCatalog

extension PostgresConnection {
    fileprivate static let counters = CatalogMark.rowCounters(oidsParameter: "$3")

    /// `SET LOCAL lock_timeout` and `statement_timeout` for the open transaction, in one round trip.
    func setLocalTimeouts(lock: String, statement: String) throws(PostgresError) {
        _ = try query("SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)", [lock, statement])
    }

    /// `BEGIN` and both timeouts for the new transaction, in one round trip; on failure nothing is left open.
    /// With `counterOIDs` (`CatalogMark.catalogOIDs`), returns the catalog row counters (`CatalogMark.rowCounters`)
    /// as the transaction starts.
    @discardableResult
    func beginWithLocalTimeouts(lock: String, statement: String, counterOIDs: String? = nil) throws(PostgresError) -> String? {
        do {
            guard let counterOIDs else {
                try execute(
                    "BEGIN; SELECT set_config('lock_timeout', \(sqlLiteral(lock)), true), set_config('statement_timeout', \(sqlLiteral(statement)), true)")
                return nil
            }
            let results = try pipelineResults([
                ("BEGIN", []),
                ("SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true), \(Self.counters)", [lock, statement, counterOIDs]),
            ])
            return results.last?.rows.first?.last ?? nil
        } catch {
            if transactionStatus != .idle { _ = try? execute("ROLLBACK") }
            throw error
        }
    }
}
