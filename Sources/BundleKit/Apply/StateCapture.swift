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

/// The catalog listing (paths and fingerprints of every captured object), excluding the registry schema.
func listObjects(_ connection: PostgresConnection) throws(BundleError) -> [String: ListedObject] {
    try db { try ObjectStateReader(connection: connection).listing(excludedSchemas: [Registry.schema]) }
}

/// Files that are always captured whole (not per object).
private func isWholeFile(_ path: String) -> Bool {
    path == "signatures.tsv" || path == "extensions.sql" || path.hasPrefix("watch/")
}

/// The state after a change, from the state before it and two listings taken around the change inside its
/// transaction: only the objects whose fingerprints differ are captured again, so the cost follows the change,
/// not the catalog. `BUNDLE_FULL_CAPTURE=1` captures everything instead (a cross-check).
func updatedState(
    _ previous: [String: String], before: [String: ListedObject], after: [String: ListedObject], connection: PostgresConnection, watch: WatchList?
) throws(BundleError) -> [String: String] {
    if ProcessInfo.processInfo.environment["BUNDLE_FULL_CAPTURE"] == "1" { return try captureState(connection, watch: watch) }
    var state = previous
    for (key, old) in before where after[key] != old { state[old.path] = nil }
    for path in state.keys where isWholeFile(path) { state[path] = nil }
    let selection = ObjectStateReader.selection(changedFrom: before, to: after)
    let spec = watch.map { list in
        StateWatchSpec(
            tables: list.tables ?? [],
            config: (list.config ?? []).map { StateWatchSpec.Config(table: $0.table, key: $0.key, value: $0.value, prefix: $0.prefix) })
    }
    let files = try db { try ObjectStateReader(connection: connection).capture(excludedSchemas: [Registry.schema], watch: spec, only: selection) }
    for (path, text) in files { state[path] = text }
    return state
}

/// Objects present in both listings under different paths (renamed, moved, or re-titled by a renamed
/// argument type): new path → old path.
func movedPaths(_ before: [String: ListedObject], _ after: [String: ListedObject]) -> [String: String] {
    var moves: [String: String] = [:]
    for (key, new) in after {
        if let old = before[key], old.path != new.path { moves[new.path] = old.path }
    }
    return moves
}
