import Foundation
import PostgresCatalog

/// Where a command connects.
public enum DatabaseTarget {
    /// The connection string to use: `--db`, else `$DATABASE_URL`, else "" (libpq's `PG*` environment).
    public static func resolve(explicit: String?, environment: [String: String]) -> String {
        ConnectionString.resolve(explicit: explicit, environment: environment)
    }

    /// The connection string with any password replaced, safe to print.
    public static func redacted(_ conninfo: String) -> String {
        ConnectionString.redact(conninfo)
    }

    /// Opens a connection, mapping failures to `BundleError.connection` (never echoing a password).
    public static func connect(_ conninfo: String) throws(BundleError) -> PostgresConnection {
        do {
            return try PostgresConnection(conninfo: conninfo)
        } catch {
            throw .connection(
                ConnectionString.scrub(error.errorDescription ?? "cannot connect", conninfo: conninfo)
                    + "\n`bundle sandbox start` gives you a local server to try bundles on.")
        }
    }
}
