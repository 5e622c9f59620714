import Foundation
import PostgresCatalog

/// Captures the catalog state files (paths relative to `state/`) over `connection`, excluding the registry schema.
func captureState(_ connection: PostgresConnection, watch: WatchList?) throws(BundleError) -> [String: String] {
    let spec = watchSpec(watch)
    return try db { try ObjectStateReader(connection: connection).capture(excludedSchemas: [Registry.schema], watch: spec) }
}

/// `captureState`, and with `marking` the catalog mark taken in the same snapshot (nil without).
func captureState(_ connection: PostgresConnection, watch: WatchList?, marking: Bool) throws(BundleError) -> (files: [String: String], mark: CatalogMark.Reading?) {
    guard marking else { return (try captureState(connection, watch: watch), nil) }
    let spec = watchSpec(watch)
    let marked = try db { try ObjectStateReader(connection: connection).captureMarked(excludedSchemas: [Registry.schema], watch: spec) }
    return (marked.files, marked.mark)
}

/// The catalog listing (paths and fingerprints of every captured object), excluding the registry schema.
func listObjects(_ connection: PostgresConnection) throws(BundleError) -> [String: ListedObject] {
    try db { try ObjectStateReader(connection: connection).listing(excludedSchemas: [Registry.schema]) }
}

/// Files that are always captured whole (not per object).
private func isWholeFile(_ path: String) -> Bool {
    path == "signatures.tsv" || path == "extensions.sql" || path == ObjectStateReader.defaultPrivilegesPath || path.hasPrefix("watch/")
}

/// The state after a change, from the state before it and two listings taken around the change inside its
/// transaction: only the objects whose fingerprints differ are captured again, so the cost follows the change,
/// not the catalog. `BUNDLE_FULL_CAPTURE=1` captures everything instead (a cross-check).
func updatedState(
    _ previous: [String: String], before: [String: ListedObject], after: [String: ListedObject], connection: PostgresConnection, watch: WatchList?
) throws(BundleError) -> [String: String] {
    if fullCaptureRequested { return try captureState(connection, watch: watch) }
    var state = previous
    for (key, old) in before where after[key] != old { state[old.path] = nil }
    for path in state.keys where isWholeFile(path) { state[path] = nil }
    let selection = ObjectStateReader.selection(changedFrom: before, to: after)
    let spec = watchSpec(watch)
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

/// The state after a bundle whose statements only add objects or change them in place
/// (`SQLStatement.onlyAddsOrChangesInPlace`), read inside its transaction (no savepoints): the objects whose
/// catalog rows this transaction wrote are captured again, nothing else is listed or rendered. No path can have
/// disappeared, so the previous state's other files stand; `signatures.tsv` is merged line by line. The capture
/// puts the session settings it pinned back: deferred triggers run at COMMIT with the bundle's own settings.
///
/// `routinesBefore` are the paths, taken before the bundle, of the routines its CREATE OR REPLACE statements name
/// (`ObjectStateReader.routinePaths`); one whose path changed is returned as a move (new path → old path).
/// `catalogs`: the only system catalogs the bundle's statements can have written (nil: any). `pinning`: leave the
/// capture settings pinned and return the statement that restores them, for the caller to run before COMMIT.
func updatedStateInPlace(
    _ previous: [String: String], connection: PostgresConnection, watch: WatchList?, routinesBefore: [UInt32: String] = [:],
    routineNames: [String] = [], catalogs: Set<String>? = nil, pinning: Bool = false
) throws(BundleError) -> (state: [String: String], changed: Set<String>?, moves: [String: String], restore: ObjectStateReader.SettingsRestore?) {
    if fullCaptureRequested { return (try captureState(connection, watch: watch), nil, [:], nil) }
    let found = try Profiler.measure("changedQuery") { () throws(BundleError) in
        try db { try ObjectStateReader(connection: connection).changedInCurrentTransaction(catalogs: catalogs, pinning: pinning) }
    }
    var selection = found.selection
    // With `pinning`, the settings stay pinned for the captures below and the caller restores them (found.restore).
    let reader = ObjectStateReader(connection: connection, settingsPinned: pinning)
    var moves: [String: String] = [:]
    if !routinesBefore.isEmpty {
        let now = try db { try reader.routinePaths(named: routineNames) }
        for (oid, old) in routinesBefore { if let new = now[oid], new != old { moves[new] = old } }
        // signatures.tsv loses the old lines too: read it whole.
        if !moves.isEmpty { selection.completeSummaryFiles = true }
    }
    let spec = watchSpec(watch)
    if selection.isEmpty && spec == nil { return (previous, [], [:], found.restore) }
    let files = try Profiler.measure("captureOnly") { () throws(BundleError) in try db { try reader.capture(excludedSchemas: [Registry.schema], watch: spec, only: selection) } }
    var state = previous
    for old in moves.values { state[old] = nil }
    for (path, text) in files where path != "signatures.tsv" { state[path] = text }
    if selection.completeSummaryFiles {
        if let complete = files["signatures.tsv"] { state["signatures.tsv"] = complete }
    } else if let lines = files["signatures.tsv"] {
        if let merged = Profiler.measure("mergeSignatures", { mergedSignatures(previous["signatures.tsv"], lines) }) {
            state["signatures.tsv"] = merged
        } else {
            // A field holds a line break (a default with a newline in a string): read the whole file again.
            var complete = selection
            complete.completeSummaryFiles = true
            state["signatures.tsv"] = try db {
                try reader.capture(excludedSchemas: [Registry.schema], only: complete)
            }["signatures.tsv"]
        }
    }
    // Only the files just captured (and the old paths of moved routines) can differ from the previous state.
    return (state, Set(files.keys).union(moves.values).filter { !sameBytes(previous[$0], state[$0]) }, moves, found.restore)
}

/// `signatures.tsv` with the lines of `update` (same header) replacing those with the same schema, name and
/// identity arguments, sorted as a complete capture sorts them; nil when a line does not have the file's eight
/// fields (a field with a line break), which only a complete capture can order.
func mergedSignatures(_ previous: String?, _ update: String) -> String? {
    let previous = previous ?? ObjectStateReader.signaturesHeader + "\n"
    if let fast = mergedASCIISignatures(previous, update) { return fast }
    func key(_ line: Substring) -> Substring {
        var tabs = 0
        for index in line.indices where line[index] == "\t" {
            tabs += 1
            if tabs == 3 { return line[..<index] }
        }
        return line
    }
    // Keyed and sorted by bytes, as PostgreSQL tells names apart and as a complete capture sorts (`ExactText`).
    var lines: [ExactText: Substring] = [:]
    for text in [previous, update] {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().dropLast() {
            guard line.count(where: { $0 == "\t" }) == 7 else { return nil }
            lines[ExactText(key(line))] = line
        }
    }
    let sorted = lines.values.map(String.init).sorted(by: bytesPrecede)
    return ([ObjectStateReader.signaturesHeader] + sorted).joined(separator: "\n") + "\n"
}

/// The merge on bytes, for the usual all-ASCII files (where byte order is `String` order): the previous file is
/// sorted already, so each updated line is found or placed by binary search over its lines; nothing is re-sorted.
/// A line's key is everything up to its third tab, and since a tab sorts before any printable character, lines
/// sort as their keys do. Nil when the fast path does not apply (non-ASCII, a malformed line).
private func mergedASCIISignatures(_ previous: String, _ update: String) -> String? {
    let old = Array(previous.utf8)
    let new = Array(update.utf8)
    /// Line ranges after the header line; nil unless every line has exactly seven tabs and every byte is printable
    /// ASCII or a tab (a control character below the tab would sort before the key's end).
    func lineRanges(_ bytes: [UInt8]) -> [Range<Int>]? {
        var ranges: [Range<Int>] = []
        var start = -1
        var tabs = 0
        for (index, byte) in bytes.enumerated() {
            if byte >= 0x80 || byte < 9 { return nil }
            if byte == 10 {
                if start >= 0 {
                    if tabs != 7 { return nil }
                    ranges.append(start..<index)
                }
                start = index + 1
                tabs = 0
            } else if byte == 9 {
                tabs += 1
            }
        }
        return start == bytes.count ? ranges : nil
    }
    func keyEnd(_ bytes: [UInt8], _ line: Range<Int>) -> Int {
        var tabs = 0
        for index in line where bytes[index] == 9 {
            tabs += 1
            if tabs == 3 { return index + 1 }
        }
        return line.upperBound
    }
    guard let oldLines = lineRanges(old), let newLines = lineRanges(new), let headerEnd = old.firstIndex(of: 10) else { return nil }
    // Position of each updated line: (index in oldLines, replaces that line?).
    var placed: [(at: Int, replaces: Bool, line: Range<Int>)] = []
    for line in newLines {
        let key = new[line.lowerBound..<keyEnd(new, line)]
        var low = 0
        var high = oldLines.count
        while low < high {
            let middle = (low + high) / 2
            let candidate = oldLines[middle]
            let candidateKey = old[candidate.lowerBound..<keyEnd(old, candidate)]
            if candidateKey.lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
        }
        let replaces = low < oldLines.count && old[oldLines[low].lowerBound..<keyEnd(old, oldLines[low])].elementsEqual(key)
        placed.append((low, replaces, line))
    }
    placed.sort { $0.at != $1.at ? $0.at < $1.at : (new[$0.line]).lexicographicallyPrecedes(new[$1.line]) }
    var output: [UInt8] = []
    output.reserveCapacity(old.count + new.count)
    output.append(contentsOf: old[0...headerEnd])
    var next = 0
    for item in placed {
        while next < item.at {
            output.append(contentsOf: old[oldLines[next]])
            output.append(10)
            next += 1
        }
        output.append(contentsOf: new[item.line])
        output.append(10)
        if item.replaces && next == item.at { next += 1 }
    }
    while next < oldLines.count {
        output.append(contentsOf: old[oldLines[next]])
        output.append(10)
        next += 1
    }
    return String(decoding: output, as: UTF8.self)
}

private func watchSpec(_ watch: WatchList?) -> StateWatchSpec? {
    watch.map { list in
        StateWatchSpec(
            tables: list.tables ?? [],
            config: (list.config ?? []).map { StateWatchSpec.Config(table: $0.table, key: $0.key, value: $0.value, prefix: $0.prefix) })
    }
}

/// `BUNDLE_FULL_CAPTURE=1`: capture the whole catalog after every bundle (a cross-check of the incremental update).
private let fullCaptureRequested = ProcessInfo.processInfo.environment["BUNDLE_FULL_CAPTURE"] == "1"
