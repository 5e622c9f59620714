import Foundation
import PostgresCatalog

/// Captures the catalog state files (paths relative to `state/`) over `connection`, excluding the registry schema.
func captureState(_ connection: PostgresConnection, watch: WatchList?) throws(BundleError) -> [String: String] {
    let spec = watch.map { list in
        StateWatchSpec(
            tables: list.tables ?? [],
            config: (list.config ?? []).map { StateWatchSpec.Config(table: $0.table, key: $0.key, value: $0.value, prefix: $0.prefix) })
    }
    return try db { try ObjectStateReader(connection: connection).capture(excludedSchemas: [Registry.schema], watch: spec) }
}
