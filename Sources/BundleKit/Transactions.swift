import Foundation
import PostgresCatalog

extension PostgresConnection {
    /// `SET LOCAL lock_timeout` and `statement_timeout` for the open transaction, in one round trip.
    func setLocalTimeouts(lock: String, statement: String) throws(PostgresError) {
        _ = try query("SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)", [lock, statement])
    }
}
