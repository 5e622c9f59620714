import Foundation
import PostgresCatalog

/// Captures the catalog state files (paths relative to `state/`) over `connection`, excluding the registry schema.
func captureState(_ connection: PostgresConnection, watch: WatchList?) throws(BundleError) -> [String: String] {
    // Interim capture: routines and relations only (replaced by CatalogStateReader).
    var files: [String: String] = [:]
    let routines = try db {
        try connection.query(
            """
            SELECT n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', pg_get_functiondef(p.oid)
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'bundle') AND n.nspname NOT LIKE 'pg_toast%' AND p.prokind IN ('f', 'p')
            """)
    }
    for row in routines.rows { files["\(row[0]!)/functions/\(row[1]!).sql"] = row[2]! + ";\n" }
    return files
}
