import Foundation
import PostgresCatalog
import SQLSyntax

/// The script that undoes one applied bundle, generated from the catalog pre-image (or the lock's pinned rollback).
public struct RollbackScript: Sendable, Equatable {
    /// The SQL text (comments explain each step; irreversible steps are marked).
    public var text: String
    /// State paths the bundle changed (objects, as `schema/kind/name`).
    public var touchedObjects: [String]
    /// Objects whose data cannot be restored by the script (dropped tables or columns).
    public var irreversible: [String]
    /// Whether the text is the lock's hand-written rollback.
    public var handWritten: Bool

    static func make(
        for bundle: LoadedBundle, before: [String: String], after: [String: String], watch: WatchList? = nil, moves: [String: String] = [:],
        changed: Set<String>? = nil
    ) -> RollbackScript {
        // `changed`, when the caller knows it, is every path whose text differs (saves comparing the whole state).
        let changedPaths = changed ?? Set(before.keys).union(after.keys).filter { !sameBytes(before[$0], after[$0]) }
        let touched = changedPaths.sorted()
        if let pinned = bundle.rollbackSQL {
            return RollbackScript(
                text: "-- rollback of \(bundle.locked.label) \(bundle.locked.name): hand-written, pinned by the lock (\(bundle.locked.rollback!.path))\n" + pinned,
                touchedObjects: touched, irreversible: [], handWritten: true)
        }
        var generator = RollbackGenerator(before: before, after: after)
        for config in watch?.config ?? [] { generator.configColumns[config.table] = (config.key, config.value) }
        generator.moves = moves
        generator.changedPaths = changedPaths
        for statement in bundle.script.statements where statement.kind == "RenameStmt" && statement.tree["renameType"]?.string == "OBJECT_COLUMN" {
            guard let table = Syntax.rangeVar(statement.tree["relation"]), let old = statement.tree["subname"]?.string,
                let new = statement.tree["newname"]?.string
            else { continue }
            generator.columnRenames.append((table.schema, table.name, old, new))
        }
        generator.generate()
        var header = "-- rollback of \(bundle.locked.label) \(bundle.locked.name) (\(bundle.locked.path)), generated from the catalog pre-image\n"
        for statement in bundle.script.statements {
            guard let noun = UnrecordedStatements.noun(for: statement) else { continue }
            header += "-- NOT UNDONE: statement \(statement.index) (line \(statement.start.line)) changes \(noun), which the recorded state does not hold; undo it by hand or pin a hand-written rollback\n"
        }
        // A table the bundle dropped and created again has a state before and after, like a changed one; its rows
        // are gone all the same.
        var irreversible = generator.irreversible
        for table in Self.recreatedTables(bundle.script.statements, before: before, after: after) where !irreversible.contains(table) {
            irreversible.append(table)
            header += "-- IRREVERSIBLE: \(table) was dropped and created again by this bundle; the rows it had are gone (restore them from a backup)\n"
        }
        return RollbackScript(
            text: header + generator.lines.joined(separator: "\n") + (generator.lines.isEmpty ? "-- nothing to undo\n" : "\n"),
            touchedObjects: touched, irreversible: irreversible, handWritten: false)
    }

    /// Tables a DROP TABLE of the bundle names that exist both before and after it (qualified, as the script names
    /// them). An unqualified name matches the table in any schema: on the safe side.
    static func recreatedTables(_ statements: [SQLStatement], before: [String: String], after: [String: String]) -> [String] {
        var names: [(schema: String?, name: String)] = []
        for statement in statements where statement.kind == "DropStmt" && statement.tree["removeType"]?.string == "OBJECT_TABLE" {
            for object in statement.tree["objects"]?.listItems ?? [] {
                let parts = Syntax.names(object)
                guard let name = parts.last else { continue }
                names.append((parts.count > 1 ? parts[parts.count - 2] : nil, name))
            }
        }
        guard !names.isEmpty else { return [] }
        return before.keys.sorted().compactMap { path -> String? in
            guard after[path] != nil, let object = RollbackGenerator.ObjectPath(path), object.kind == "tables",
                  names.contains(where: { sameBytes($0.name, object.name) && ($0.schema.map { sameBytes($0, object.schema) } ?? true) })
            else { return nil }
            return object.qualified
        }
    }
}
