import Foundation
import PostgresCatalog

/// Derives undo SQL from two catalog states (path → DDL text, as `CatalogStateReader` writes them).
///
/// Created objects are dropped, removed objects re-created from their pre-image, replaced routines and views
/// restored from their exact previous definitions, table-level additions (columns, constraints, indexes,
/// triggers, grants, comments) reverted, and watched config rows put back. Dropped tables and columns cannot be
/// restored without data: they are listed as irreversible.
struct RollbackGenerator {
    let before: [String: String]
    let after: [String: String]
    /// Objects the change renamed or moved to another schema: new state path → old state path (same OID).
    var moves: [String: String] = [:]
    /// Every path whose text differs between `before` and `after`, when known (nil: compare the whole state).
    var changedPaths: Set<String>? = nil
    /// Schemas the change renamed: new name → old name (filled while undoing moves).
    var renamedSchemas: [String: String] = [:]
    /// Key and value columns of watched config tables (table → columns); default `key`/`value`.
    var configColumns: [String: (key: String, value: String)] = [:]
    var lines: [String] = []
    var irreversible: [String] = []
    /// State paths a step already put back (a serial column's sequence, re-created where its column stops being an
    /// identity): later steps leave them alone.
    var restoredPaths: Set<String> = []
    /// The bundle's ALTER TABLE … RENAME COLUMN statements: table name (as written), old and new column names.
    var columnRenames: [(schema: String?, table: String, old: String, new: String)] = []

    /// A state path split into schema, kind and object name.
    struct ObjectPath {
        let schema: String
        let kind: String
        let name: String
        /// The state path it was made from.
        let path: String

        init?(_ path: String) {
            self.path = path
            // Split on the '/' scalar, not Characters: a name may start with a combining mark, which would make one
            // Character with the '/' before it.
            let parts = path.unicodeScalars.split(separator: "/", maxSplits: 2).map { String(String.UnicodeScalarView($0)) }
            guard parts.count == 3, parts[2].hasSuffix(".sql") else { return nil }
            schema = Self.decode(parts[0])
            kind = parts[1]
            name = Self.decode(String(parts[2].dropLast(4)))
        }

        static func decode(_ component: String) -> String {
            // Most names have no escapes: skip Foundation's decoder (a CFString round trip) for them.
            component.utf8.contains(UInt8(ascii: "%")) ? component.removingPercentEncoding ?? component : component
        }

        var qualified: String { "\(quoteIdentifier(schema)).\(quoteIdentifier(name))" }

        /// `schema.name(args)` for routines, whose file names carry the identity arguments.
        var routineSignature: String {
            guard let open = name.firstIndex(of: "(") else { return qualified }
            return "\(quoteIdentifier(schema)).\(quoteIdentifier(String(name[..<open])))\(name[open...])"
        }
    }

    static let dropOrder = ["views", "matviews", "tables", "functions", "sequences", "types"]
    static let createOrder = ["types", "sequences", "tables", "functions", "views", "matviews"]

    mutating func generate() {
        let objectPaths = changedPaths ?? Set(before.keys).union(after.keys).filter { !sameBytes(before[$0], after[$0]) }
        let movedNew = Set(moves.keys)
        let movedOld = Set(moves.values)
        let created = objectPaths.filter { before[$0] == nil && !movedNew.contains($0) }
        let removed = objectPaths.filter { after[$0] == nil && !movedOld.contains($0) }
        // 0. Undo renames and schema moves first (objects keep their OID; only their names change back).
        // Schema renames first; objects that moved only because their schema was renamed need nothing more.
        for (newPath, oldPath) in moves.sorted(by: { $0.key < $1.key }) where newPath.hasPrefix("schemas/") {
            revertMove(from: newPath, to: oldPath)
            renamedSchemas[ObjectPath.decode(String(newPath.dropFirst(8).dropLast(4)))] = ObjectPath.decode(String(oldPath.dropFirst(8).dropLast(4)))
        }
        for (newPath, oldPath) in moves.sorted(by: { $0.key < $1.key }) where !newPath.hasPrefix("schemas/") { revertMove(from: newPath, to: oldPath) }
        // Texts that differ only because an object or column they mention was renamed are unchanged once the
        // rename is undone: compare with the renamed identifiers put back.
        var tokens: [String: String] = [:]
        for (newPath, oldPath) in moves {
            guard let new = ObjectPath(newPath), let old = ObjectPath(oldPath) else { continue }
            let newBase = String(new.name.prefix { $0 != "(" })
            let oldBase = String(old.name.prefix { $0 != "(" })
            if newBase != oldBase { tokens[quoteIdentifier(newBase)] = quoteIdentifier(oldBase) }
            if new.schema != old.schema { tokens[quoteIdentifier(new.schema)] = quoteIdentifier(old.schema) }
        }
        // Tables at the same path, and tables the bundle renamed or moved (old path, new path).
        let tablePairs = objectPaths.filter { before[$0] != nil && after[$0] != nil && ObjectPath($0)?.kind == "tables" }.map { ($0, $0) }
            + moves.filter { ObjectPath($0.value)?.kind == "tables" && before[$0.value] != nil && after[$0.key] != nil }.map { ($0.value, $0.key) }
        for (oldPath, newPath) in tablePairs {
            let createBefore = Self.statements(before[oldPath]!).first { $0.hasPrefix("CREATE TABLE ") } ?? ""
            let createAfter = Self.statements(after[newPath]!).first { $0.hasPrefix("CREATE TABLE ") } ?? ""
            for rename in Self.renamedColumns(before: createBefore, after: createAfter, hints: columnRenameHints(for: oldPath)) { tokens[rename.new] = rename.old }
        }
        let normalizedAfter = tokens.isEmpty ? after : after.mapValues { Self.substitute(tokens, in: $0) }
        // Column renames are substituted in every text (views and foreign keys name the columns), which could make
        // another table's dropped-and-added column look unchanged: a table whose column names differ beyond its
        // own renames is changed whatever the substituted text says.
        func columnNamesDiffer(_ path: String) -> Bool {
            guard ObjectPath(path)?.kind == "tables", let pre = before[path], let post = after[path] else { return false }
            let createBefore = Self.statements(pre).first { $0.hasPrefix("CREATE TABLE ") } ?? ""
            let createAfter = Self.statements(post).first { $0.hasPrefix("CREATE TABLE ") } ?? ""
            var names = Self.columns(createAfter).map(\.name)
            for rename in Self.renamedColumns(before: createBefore, after: createAfter, hints: columnRenameHints(for: path)) {
                names = names.filter { $0 != rename.old }.map { $0 == rename.new ? rename.old : $0 }
            }
            return Set(names) != Set(Self.columns(createBefore).map(\.name))
        }
        let changed = objectPaths.filter {
            before[$0] != nil && after[$0] != nil && (!sameBytes(before[$0], normalizedAfter[$0]) || columnNamesDiffer($0))
        }

        // 0. Drop replaced views before reverting their tables: a view may read a column the bundle added,
        //    and that column cannot be dropped while the view exists. Step 3 re-creates the previous view.
        //    Views the bundle created go in the same statement (they may read a replaced view, or be read by
        //    one): one DROP of several views succeeds whatever the dependencies among them.
        for (kind, noun) in [("matviews", "MATERIALIZED VIEW"), ("views", "VIEW")] {
            let replaced = changed.sorted().compactMap(ObjectPath.init).filter { $0.kind == kind }
            let new = created.sorted().compactMap(ObjectPath.init).filter { $0.kind == kind }
            guard !replaced.isEmpty || !new.isEmpty else { continue }
            let reasons = replaced.map { "restore the previous \($0.qualified)" } + new.map { "created \($0.qualified)" }
            for reason in reasons.dropLast() { lines.append("-- \(reason)") }
            emit("DROP \(noun) IF EXISTS \((replaced + new).map(\.qualified).joined(separator: ", "));", because: reasons.last!)
        }
        // 0b. Column renames, before anything whose text mentions the columns (foreign keys, views) is restored.
        for (oldPath, newPath) in tablePairs.sorted(by: { $0.0 < $1.0 }) {
            guard let object = ObjectPath(oldPath) else { continue }
            let createBefore = Self.statements(before[oldPath]!).first { $0.hasPrefix("CREATE TABLE ") } ?? ""
            let createAfter = Self.statements(after[newPath]!).first { $0.hasPrefix("CREATE TABLE ") } ?? ""
            let postColumns = Set(Self.columns(createAfter).map(\.name))
            for rename in Self.renamedColumns(before: createBefore, after: createAfter, hints: columnRenameHints(for: oldPath)) {
                if postColumns.contains(rename.old) {
                    // The bundle added a column under the old name after renaming: it goes first.
                    emit("ALTER TABLE \(object.qualified) DROP COLUMN \(rename.old);", because: "added column that took the renamed column's name")
                }
                emit("ALTER TABLE \(object.qualified) RENAME COLUMN \(rename.new) TO \(rename.old);", because: "undo column rename")
            }
        }
        // 1. Revert changes inside existing tables first (drops triggers that use created functions, …).
        for path in changed.sorted() {
            guard let object = ObjectPath(path), object.kind == "tables" else { continue }
            revertTable(object, before: before[path]!, after: columnNamesDiffer(path) ? after[path]! : normalizedAfter[path]!)
        }
        // A table renamed back in step 0 may have changed as well: compare it under its old name.
        for (oldPath, newPath) in tablePairs.sorted(by: { $0.0 < $1.0 }) where oldPath != newPath && !sameBytes(before[oldPath], normalizedAfter[newPath]) {
            guard let object = ObjectPath(oldPath) else { continue }
            revertTable(object, before: before[oldPath]!, after: normalizedAfter[newPath]!)
        }
        // 1b. Default privileges the bundle added, before a schema they name is dropped. (A state recorded before
        //     bundle captured them has no file: then nothing is known to undo.)
        //     Default privileges follow a renamed schema: undone by renaming it back (step 0), nothing more.
        let recordedDefaults = before[Self.defaultPrivilegesPath] != nil && after[Self.defaultPrivilegesPath] != nil
        let defaultsBefore = recordedDefaults ? Self.lines(before[Self.defaultPrivilegesPath]!) : []
        let defaultsAfter = recordedDefaults
            ? Self.lines(after[Self.defaultPrivilegesPath]!).map { Self.renamingSchema(in: $0, renamedSchemas) } : []
        for statement in defaultsAfter where !defaultsBefore.contains(where: { sameBytes($0, statement) }) {
            if let inverse = Self.invertDefaultPrivileges(statement) { emit(inverse, because: "undo default privileges") }
        }
        // 2. Drop what the bundle created, dependents first.
        for kind in Self.dropOrder {
            // Created tables (foreign keys) and views (views on views) may depend on each other: drop them in one
            // statement, which PostgreSQL allows without CASCADE whatever the order.
            if ["views", "matviews"].contains(kind) { continue }  // dropped in step 0
            if kind == "tables" {
                let objects = created.sorted().compactMap(ObjectPath.init).filter { $0.kind == kind }
                guard !objects.isEmpty else { continue }
                for object in objects.dropLast() { lines.append("-- created \(object.qualified)") }
                let noun = ["views": "VIEW", "matviews": "MATERIALIZED VIEW", "tables": "TABLE"][kind]!
                emit("DROP \(noun) IF EXISTS \(objects.map(\.qualified).joined(separator: ", "));", because: "created \(objects.last!.qualified)")
                continue
            }
            for path in created.sorted() {
                guard let object = ObjectPath(path), object.kind == kind else { continue }
                switch kind {
                case "views": emit("DROP VIEW IF EXISTS \(object.qualified);", because: "created \(object.qualified)")
                case "matviews": emit("DROP MATERIALIZED VIEW IF EXISTS \(object.qualified);", because: "created \(object.qualified)")
                case "tables": emit("DROP TABLE IF EXISTS \(object.qualified);", because: "created \(object.qualified)")
                case "functions":
                    let noun = (after[path] ?? "").contains("CREATE OR REPLACE PROCEDURE") ? "PROCEDURE" : "FUNCTION"
                    emit("DROP \(noun) IF EXISTS \(object.routineSignature);", because: "created \(object.routineSignature)")
                case "sequences": emit("DROP SEQUENCE IF EXISTS \(object.qualified);", because: "created \(object.qualified)")
                case "types":
                    let noun = (after[path] ?? "").contains("CREATE DOMAIN") ? "DOMAIN" : "TYPE"
                    emit("DROP \(noun) IF EXISTS \(object.qualified);", because: "created \(object.qualified)")
                default: break
                }
            }
        }
        for path in created.sorted() where path.hasPrefix("schemas/") {
            let name = ObjectPath.decode(String(path.dropFirst("schemas/".count).dropLast(4)))
            emit("DROP SCHEMA IF EXISTS \(quoteIdentifier(name));", because: "created schema \(name)")
        }
        // 3. Restore replaced routines and views from their exact previous definitions; schema privileges.
        for path in changed.sorted() where path.hasPrefix("schemas/") {
            revertAuxiliary(before: before[path]!, after: after[path]!)
        }
        for path in changed.sorted() where !restoredPaths.contains(path) {
            guard let object = ObjectPath(path) else { continue }
            switch object.kind {
            case "functions":
                let pre = before[path]!
                if Self.signatureChangedIncompatibly(before: pre, after: normalizedAfter[path]!) {
                    let noun = pre.contains("CREATE OR REPLACE PROCEDURE") ? "PROCEDURE" : "FUNCTION"
                    emit("DROP \(noun) \(object.routineSignature);", because: "the previous header cannot be restored with CREATE OR REPLACE")
                } else {
                    revertAuxiliary(before: pre, after: normalizedAfter[path]!)
                }
                emit(pre, because: "previous definition of \(object.routineSignature)")
            case "views", "matviews":
                break  // dropped in step 0, re-created below in dependency order
            case "types":
                let pre = before[path]!
                let post = normalizedAfter[path]!
                if sameBytes(Self.firstStatement(pre), Self.firstStatement(post)) {
                    revertAuxiliary(before: pre, after: post)
                } else if let old = Self.domainParts(Self.firstStatement(pre)), let new = Self.domainParts(Self.firstStatement(post)), old.head == new.head {
                    // A domain's default, NOT NULL and constraints change in place (columns may use it).
                    let domain = "ALTER DOMAIN \(object.qualified)"
                    for constraint in new.constraints where !old.constraints.contains(constraint) {
                        if let name = Self.identifier(at: String(constraint.dropFirst("CONSTRAINT ".count))) {
                            emit("\(domain) DROP CONSTRAINT IF EXISTS \(name);", because: "added domain constraint")
                        }
                    }
                    if old.defaultValue != new.defaultValue {
                        emit("\(domain) " + (old.defaultValue.map { "SET DEFAULT \($0)" } ?? "DROP DEFAULT") + ";", because: "restore domain default")
                    }
                    if old.notNull != new.notNull { emit("\(domain) \(old.notNull ? "SET" : "DROP") NOT NULL;", because: "restore domain NOT NULL") }
                    for constraint in old.constraints where !new.constraints.contains(constraint) {
                        emit("\(domain) ADD \(constraint);", because: "restore domain constraint (checks the values in use)")
                    }
                    revertAuxiliary(before: pre, after: post)
                } else if let old = Self.enumLabels(Self.firstStatement(pre)), let new = Self.enumLabels(Self.firstStatement(post)),
                    old.count == new.count
                {
                    // RENAME VALUE, undone label by label.
                    for (previous, current) in zip(old, new) where previous != current {
                        emit("ALTER TYPE \(object.qualified) RENAME VALUE \(current) TO \(previous);", because: "undo enum label rename")
                    }
                    revertAuxiliary(before: pre, after: post)
                } else if let old = Self.enumLabels(Self.firstStatement(pre)), let new = Self.enumLabels(Self.firstStatement(post)),
                    Self.isSubsequence(old, of: new)
                {
                    revertAddedEnumLabels(object, before: pre)
                } else {
                    // Enum labels cannot be removed and domains cannot be redefined in place: drop and re-create.
                    let noun = pre.hasPrefix("CREATE DOMAIN") ? "DOMAIN" : "TYPE"
                    emit("DROP \(noun) \(object.qualified);", because: "\(object.qualified) changed in a way only DROP and CREATE can undo (fails if columns use it)")
                    emit(pre, because: "previous definition of \(object.qualified)")
                }
            case "sequences":
                let pre = before[path]!
                let post = after[path]!
                let createPre = Self.firstStatement(pre)
                let prefix = "CREATE SEQUENCE \(object.qualified) "
                if sameBytes(createPre, Self.firstStatement(post)) {
                    revertAuxiliary(before: pre, after: post)
                } else if createPre.hasPrefix(prefix), Self.firstStatement(post).hasPrefix(prefix) {
                    // Every option of CREATE SEQUENCE can be set again by ALTER SEQUENCE (its position is not
                    // recorded, and is left as it is).
                    emit("ALTER SEQUENCE \(object.qualified) " + createPre.dropFirst(prefix.count), because: "restore the sequence's options")
                    revertAuxiliary(before: pre, after: post)
                } else {
                    emit("-- \(object.qualified) changed; its previous definition was:\n" + commented(pre), because: nil)
                }

            default:
                break
            }
        }
        let replacedViews = changed.filter { ["views", "matviews"].contains(ObjectPath($0)?.kind ?? "") }
        for path in Self.dependencyOrder(replacedViews.sorted(), definitions: before) {
            guard let object = ObjectPath(path) else { continue }
            emit(before[path]!, because: "previous definition of \(object.qualified)")
        }
        // A moved routine (renamed, moved to another schema, or with parameters newly named by CREATE OR REPLACE)
        // is back at its old name after step 0; its definition may still differ: restore it as a changed one.
        for (newPath, oldPath) in moves.sorted(by: { $0.key < $1.key }) {
            guard let object = ObjectPath(oldPath), object.kind == "functions", let pre = before[oldPath], let post = normalizedAfter[newPath],
                  !sameBytes(pre, post)
            else { continue }
            if Self.signatureChangedIncompatibly(before: pre, after: post) {
                let noun = pre.contains("CREATE OR REPLACE PROCEDURE") ? "PROCEDURE" : "FUNCTION"
                emit("DROP \(noun) \(object.routineSignature);", because: "the previous header cannot be restored with CREATE OR REPLACE")
            } else {
                revertAuxiliary(before: pre, after: post)
            }
            emit(pre, because: "previous definition of \(object.routineSignature)")
        }
        // 4. Re-create what the bundle dropped (data is lost: irreversible for tables).
        for path in removed.sorted() where path.hasPrefix("schemas/") { emit(before[path]!, because: "re-create dropped schema") }
        for kind in Self.createOrder {
            if kind == "views" || kind == "matviews" { continue }  // below
            for path in removed.sorted() where !restoredPaths.contains(path) {
                guard let object = ObjectPath(path), object.kind == kind else { continue }
                if kind == "tables" || kind == "matviews" {
                    irreversible.append(object.qualified)
                    emit("-- IRREVERSIBLE: \(object.qualified) was dropped; this re-creates its structure, not its rows (restore them from a backup)", because: nil)
                }
                emit(before[path]!, because: "re-create dropped \(object.qualified)")
            }
        }
        // Views and materialized views the bundle dropped: each after the views its definition reads.
        let droppedViews = removed.filter { ["views", "matviews"].contains(ObjectPath($0)?.kind ?? "") }
        for path in Self.dependencyOrder(droppedViews.sorted(), definitions: before) {
            guard let object = ObjectPath(path) else { continue }
            if object.kind == "matviews" {
                irreversible.append(object.qualified)
                emit("-- IRREVERSIBLE: \(object.qualified) was dropped; this re-creates its structure, not its rows (restore them from a backup)", because: nil)
            }
            emit(before[path]!, because: "re-create dropped \(object.qualified)")
        }
        // 4b. Default privileges the bundle removed, once the schemas they name exist again.
        for statement in defaultsBefore where !defaultsAfter.contains(where: { sameBytes($0, statement) }) {
            emit(statement, because: "restore default privileges")
        }
        // 5. Watched configuration rows.
        if let pre = before["watch/config.tsv"], let post = after["watch/config.tsv"], !sameBytes(pre, post) {
            revertConfig(before: pre, after: post)
        }
    }

    /// Replaces whole identifiers (not parts of longer names) per `tokens`.
    /// `paths` (views) ordered so that each comes after the others its definition names (`schema.name` as a whole
    /// token); ties and cycles keep the given order.
    static func dependencyOrder(_ paths: [String], definitions: [String: String]) -> [String] {
        let objects = paths.compactMap { path in ObjectPath(path).map { (path, $0.qualified) } }
        func mentions(_ text: String, _ name: String) -> Bool {
            let bytes = Array(text.utf8)
            let needle = Array(name.utf8)
            guard !needle.isEmpty, bytes.count >= needle.count else { return false }
            func isNamePart(_ byte: UInt8) -> Bool { byte >= 0x80 || byte == 95 || byte == 36 || (byte >= 48 && byte <= 57) || (byte | 0x20 >= 97 && byte | 0x20 <= 122) }
            var index = 0
            while index + needle.count <= bytes.count {
                if bytes[index] == needle[0] && Array(bytes[index..<index + needle.count]) == needle {
                    let before = index > 0 ? bytes[index - 1] : 32
                    let after = index + needle.count < bytes.count ? bytes[index + needle.count] : 32
                    if !isNamePart(before) && before != 46 && before != 34 && !isNamePart(after) && after != 34 { return true }
                }
                index += 1
            }
            return false
        }
        var remaining = objects
        var ordered: [String] = []
        while !remaining.isEmpty {
            let ready = remaining.firstIndex { candidate in
                !remaining.contains { other in other.0 != candidate.0 && mentions(definitions[candidate.0] ?? "", other.1) }
            } ?? 0
            ordered.append(remaining.remove(at: ready).0)
        }
        return ordered
    }

    /// The labels of `CREATE TYPE … AS ENUM ('a', 'b');` as the state writes them (quoted literals).
    static func enumLabels(_ statement: String) -> [String]? {
        guard statement.hasPrefix("CREATE TYPE "), let open = statement.range(of: " AS ENUM (")?.upperBound, statement.hasSuffix(");") else { return nil }
        let body = statement[open..<statement.index(statement.endIndex, offsetBy: -2)]
        var labels: [String] = []
        var current = ""
        var inQuote = false
        var previousQuote = false
        for character in body {
            if character == "'" {
                if inQuote { inQuote = false; previousQuote = true } else { inQuote = true; if previousQuote { /* '' inside a label */ } }
                current.append(character)
                continue
            }
            previousQuote = false
            if !inQuote && character == "," {
                labels.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.trimmingCharacters(in: .whitespaces).isEmpty { labels.append(current.trimmingCharacters(in: .whitespaces)) }
        return labels
    }

    static func isSubsequence(_ small: [String], of large: [String]) -> Bool {
        var index = large.startIndex
        for element in small {
            guard let found = large[index...].firstIndex(of: element) else { return false }
            index = large.index(after: found)
        }
        return true
    }

    /// Labels added to an enum (ALTER TYPE … ADD VALUE) cannot be removed: the previous type is created again
    /// beside it, the columns that use it (as the recorded state after the bundle shows them) are converted to it
    /// through text, and the new type dropped. A row holding an added label makes the conversion fail, and with it
    /// the rollback step; so does a view or routine that uses the type.
    private mutating func revertAddedEnumLabels(_ object: ObjectPath, before pre: String) {
        let type = object.qualified
        var users: [(table: String, column: String, array: Bool, defaultValue: String?)] = []
        for (path, text) in after.sorted(by: { $0.key < $1.key }) where ObjectPath(path)?.kind == "tables" {
            guard let table = ObjectPath(path), let create = Self.statements(text).first(where: { $0.hasPrefix("CREATE TABLE ") }) else { continue }
            for column in Self.columns(create) {
                let columnType = Self.columnType(column.line, name: column.name)
                guard columnType == type || columnType == type + "[]" else { continue }
                users.append((table.qualified, column.name, columnType.hasSuffix("[]"), Self.clause("DEFAULT ", in: column.line)))
            }
        }
        let aside = quoteIdentifier(String((object.name + "_before_rollback").utf8.prefix(60)) ?? object.name + "_r")
        emit("ALTER TYPE \(type) RENAME TO \(aside);", because: "enum labels cannot be removed: put the type aside")
        emit(pre, because: "previous definition of \(type)")
        for user in users {
            let target = type + (user.array ? "[]" : "")
            if user.defaultValue != nil { emit("ALTER TABLE \(user.table) ALTER COLUMN \(user.column) DROP DEFAULT;", because: nil) }
            emit(
                "ALTER TABLE \(user.table) ALTER COLUMN \(user.column) TYPE \(target) USING \(user.column)::text\(user.array ? "[]" : "")::\(target);",
                because: "convert \(user.table).\(user.column) back (fails if a row holds an added label)")
            if let value = user.defaultValue { emit("ALTER TABLE \(user.table) ALTER COLUMN \(user.column) SET DEFAULT \(value);", because: nil) }
        }
        emit("DROP TYPE \(quoteIdentifier(object.schema)).\(aside);", because: "the type with the added labels")
    }

    /// A `CREATE DOMAIN … AS type [DEFAULT …] [NOT NULL] [CONSTRAINT … CHECK (…)]…;` statement as the state writes
    /// it, taken apart: `head` is up to the type. Constraints are found at the top level (outside parentheses and
    /// quotes), so a check's text may hold the words.
    static func domainParts(_ statement: String) -> (head: String, defaultValue: String?, notNull: Bool, constraints: [String])? {
        guard statement.hasPrefix("CREATE DOMAIN ") else { return nil }
        let text = statement.hasSuffix(";") ? String(statement.dropLast()) : statement
        // Byte offsets of " CONSTRAINT " and " DEFAULT " at depth 0, outside '…' and "…".
        let bytes = Array(text.utf8)
        func topLevel(_ word: String) -> [Int] {
            let needle = Array(word.utf8)
            var found: [Int] = []
            var depth = 0
            var quote: UInt8? = nil
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if let open = quote {
                    if byte == open { quote = nil }
                } else if byte == 39 || byte == 34 {
                    quote = byte
                } else if byte == 40 {
                    depth += 1
                } else if byte == 41 {
                    depth -= 1
                } else if depth == 0, index + needle.count <= bytes.count, Array(bytes[index..<index + needle.count]) == needle {
                    found.append(index)
                }
                index += 1
            }
            return found
        }
        func slice(_ from: Int, _ to: Int) -> String { String(decoding: bytes[from..<to], as: UTF8.self) }
        let constraintStarts = topLevel(" CONSTRAINT ")
        var constraints: [String] = []
        for (offset, start) in constraintStarts.enumerated() {
            let end = offset + 1 < constraintStarts.count ? constraintStarts[offset + 1] : bytes.count
            constraints.append(slice(start + 1, end))
        }
        var rest = slice(0, constraintStarts.first ?? bytes.count)
        var notNull = false
        if rest.hasSuffix(" NOT NULL") {
            notNull = true
            rest = String(rest.dropLast(" NOT NULL".count))
        }
        var defaultValue: String? = nil
        let restBytes = rest.utf8.count
        if let start = topLevel(" DEFAULT ").first(where: { $0 < restBytes }) {
            defaultValue = slice(start + " DEFAULT ".utf8.count, restBytes)
            rest = slice(0, start)
        }
        return (rest, defaultValue, notNull, constraints)
    }

    static func substitute(_ tokens: [String: String], in text: String) -> String {
        var result = text
        for (new, old) in tokens.sorted(by: { $0.key.count > $1.key.count }) {
            let escaped = NSRegularExpression.escapedPattern(for: new)
            result = result.replacingOccurrences(
                of: "(?<![A-Za-z0-9_$\"])" + escaped + "(?![A-Za-z0-9_$\"])", with: NSRegularExpression.escapedTemplate(for: old), options: .regularExpression)
        }
        return result
    }

    /// `ALTER … SET SCHEMA` / `RENAME TO` back, for a renamed or moved object. A path that changed only because a
    /// referenced object was renamed (a routine's argument type) needs nothing: undoing that rename restores it.
    private mutating func revertMove(from newPath: String, to oldPath: String) {
        guard let new = ObjectPath(newPath), let old = ObjectPath(oldPath) else {
            if newPath.hasPrefix("schemas/"), oldPath.hasPrefix("schemas/") {
                let newName = ObjectPath.decode(String(newPath.dropFirst(8).dropLast(4)))
                let oldName = ObjectPath.decode(String(oldPath.dropFirst(8).dropLast(4)))
                emit("ALTER SCHEMA \(quoteIdentifier(newName)) RENAME TO \(quoteIdentifier(oldName));", because: "undo schema rename")
            }
            return
        }
        let noun: String
        switch new.kind {
        case "tables": noun = "TABLE"
        case "views": noun = "VIEW"
        case "matviews": noun = "MATERIALIZED VIEW"
        case "sequences": noun = "SEQUENCE"
        case "types": noun = (after[newPath] ?? "").hasPrefix("CREATE DOMAIN") ? "DOMAIN" : "TYPE"
        case "functions": noun = (after[newPath] ?? "").contains("CREATE OR REPLACE PROCEDURE") ? "PROCEDURE" : "FUNCTION"
        default: return
        }
        func baseName(_ object: ObjectPath) -> String {
            object.kind == "functions" ? String(object.name.prefix { $0 != "(" }) : object.name
        }
        let newBase = baseName(new)
        let oldBase = baseName(old)
        // After a schema rename was undone, the object is already back in its old schema.
        let schemaNow = renamedSchemas[new.schema] == old.schema ? old.schema : new.schema
        var current = new.kind == "functions"
            ? "\(quoteIdentifier(schemaNow)).\(quoteIdentifier(newBase))\(new.name.drop { $0 != "(" })" : "\(quoteIdentifier(schemaNow)).\(quoteIdentifier(newBase))"
        if schemaNow != old.schema {
            emit("ALTER \(noun) \(current) SET SCHEMA \(quoteIdentifier(old.schema));", because: "undo schema move")
            current = new.kind == "functions"
                ? "\(quoteIdentifier(old.schema)).\(quoteIdentifier(newBase))\(new.name.drop { $0 != "(" })" : "\(quoteIdentifier(old.schema)).\(quoteIdentifier(newBase))"
        }
        if newBase != oldBase {
            emit("ALTER \(noun) \(current) RENAME TO \(quoteIdentifier(oldBase));", because: "undo rename")
        }
    }

    private mutating func emit(_ sql: String, because reason: String?) {
        if let reason { lines.append("-- \(reason)") }
        lines.append(sql.hasSuffix("\n") ? String(sql.dropLast()) : sql)
    }

    private func commented(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "-- " + $0 }.joined(separator: "\n")
    }

    /// Statements of a state file, one per line group (state files put each statement on its own lines, ending in ';').
    static func statements(_ text: String) -> [String] {
        var result: [String] = []
        var current = ""
        var dollarTag: String? = nil
        var inQuote = false
        // Scanned scalar by scalar: a quote followed by a combining mark is one Character but still a quote.
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            current += (current.isEmpty ? "" : "\n") + line
            let scalars = Array(line.unicodeScalars)
            var index = 0
            while index < scalars.count {
                let ch = scalars[index]
                if let tag = dollarTag {
                    let tagScalars = Array(tag.unicodeScalars)
                    if scalars[index...].starts(with: tagScalars) {
                        dollarTag = nil
                        index += tagScalars.count
                        continue
                    }
                } else if inQuote {
                    if ch == "'" { inQuote = false }
                } else if ch == "'" {
                    inQuote = true
                } else if ch == "$" {
                    // A dollar-quote tag: $[A-Za-z_0-9]*$
                    var end = index + 1
                    func isTagScalar(_ s: Unicode.Scalar) -> Bool {
                        ("0"..."9").contains(s) || ("A"..."Z").contains(s) || ("a"..."z").contains(s) || s == "_"
                    }
                    while end < scalars.count, isTagScalar(scalars[end]) { end += 1 }
                    if end < scalars.count, scalars[end] == "$" {
                        var tag = String.UnicodeScalarView()
                        tag.append(contentsOf: scalars[index...end])
                        dollarTag = String(tag)
                        index = end + 1
                        continue
                    }
                }
                index += 1
            }
            if dollarTag == nil && !inQuote && line.hasSuffix(";") {
                result.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !rest.isEmpty { result.append(rest) }
        return result.filter { !$0.isEmpty }
    }

    /// Privileges, comments and owners: GRANTs present after but not before become REVOKEs, added comments are
    /// removed, and GRANT/REVOKE/COMMENT/OWNER statements only present before are re-issued.
    private mutating func revertAuxiliary(before: String, after: String) {
        // By bytes (`ExactText`): a comment changed only in its Unicode normalization is a change.
        let pre = Set(Self.statements(before).map(ExactText.init))
        let post = Set(Self.statements(after).map(ExactText.init))
        let preComments = Set(Self.statements(before).compactMap(Self.commentTarget).map(ExactText.init))
        for statement in Self.statements(after) where !pre.contains(ExactText(statement)) {
            if let revoke = Self.invertGrant(statement) {
                emit(revoke, because: "undo privilege change")
            } else if let target = Self.commentTarget(statement), !preComments.contains(ExactText(target)) {
                emit(target + " IS NULL;", because: "undo comment")
            }
        }
        for statement in Self.statements(before) where !post.contains(ExactText(statement)) {
            if statement.hasPrefix("GRANT ") || statement.hasPrefix("REVOKE ") || statement.hasPrefix("COMMENT ON ")
                || (statement.hasPrefix("ALTER ") && statement.contains(" OWNER TO "))
            {
                emit(statement, because: "restore")
            }
        }
    }

    /// `COMMENT ON X name` of a COMMENT statement (without ` IS …`).
    static func commentTarget(_ statement: String) -> String? {
        guard statement.hasPrefix("COMMENT ON "), let range = statement.range(of: " IS ") else { return nil }
        return String(statement[..<range.lowerBound])
    }

    /// The first statement of a state file (the object's definition).
    static func firstStatement(_ text: String) -> String {
        statements(text).first ?? ""
    }

    /// `GRANT p ON o TO r [WITH GRANT OPTION];` → `REVOKE p ON o FROM r;` and the reverse.
    static func invertGrant(_ statement: String) -> String? {
        var text = statement.hasSuffix(";") ? String(statement.dropLast()) : statement
        if text.hasPrefix("GRANT ") {
            text = text.replacingOccurrences(of: " WITH GRANT OPTION", with: "")
            guard let to = text.range(of: " TO ", options: .backwards) else { return nil }
            return "REVOKE " + text.dropFirst(6)[..<to.lowerBound] + " FROM " + text[to.upperBound...] + ";"
        }
        if text.hasPrefix("REVOKE ") {
            guard let from = text.range(of: " FROM ", options: .backwards) else { return nil }
            return "GRANT " + text.dropFirst(7)[..<from.lowerBound] + " TO " + text[from.upperBound...] + ";"
        }
        return nil
    }

    static let defaultPrivilegesPath = ObjectStateReader.defaultPrivilegesPath

    /// The statements of a file written one per line (`default-privileges.sql`): split at line ends outside
    /// double-quoted names (a quoted name may hold a quote or a line break).
    static func lines(_ text: String) -> [String] {
        var result: [String] = []
        var current = String.UnicodeScalarView()
        var quoted = false
        for scalar in text.unicodeScalars {
            if scalar == "\"" { quoted.toggle() }
            if scalar == "\n" && !quoted {
                if !current.isEmpty { result.append(String(current)) }
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { result.append(String(current)) }
        return result
    }

    /// An identifier as written in a state file, without its quotes (`"a""b"` → `a"b`).
    static func unquoted(_ identifier: String) -> String {
        guard identifier.hasPrefix("\""), identifier.hasSuffix("\""), identifier.unicodeScalars.count >= 2 else { return identifier }
        return ObjectStateReader.undoublingQuotes(String(String.UnicodeScalarView(identifier.unicodeScalars.dropFirst().dropLast())))
    }

    /// An `ALTER DEFAULT PRIVILEGES … IN SCHEMA s …` statement with `s` named as before the change (`renamed`: new
    /// name → old name); any other statement as it is.
    static func renamingSchema(in statement: String, _ renamed: [String: String]) -> String {
        let prefix = "ALTER DEFAULT PRIVILEGES FOR ROLE "
        guard !renamed.isEmpty, statement.hasPrefix(prefix) else { return statement }
        let scalars = Array(statement.unicodeScalars)
        let rest = String(String.UnicodeScalarView(scalars.dropFirst(prefix.unicodeScalars.count)))
        guard let role = identifier(at: rest) else { return statement }
        let marker = " IN SCHEMA "
        let afterRole = String(String.UnicodeScalarView(rest.unicodeScalars.dropFirst(role.unicodeScalars.count)))
        guard afterRole.hasPrefix(marker) else { return statement }
        let tail = String(String.UnicodeScalarView(afterRole.unicodeScalars.dropFirst(marker.unicodeScalars.count)))
        // Compared unquoted: the server's quote_ident and ours may differ on keywords (`json`).
        guard let schema = identifier(at: tail),
              let old = renamed.first(where: { sameBytes($0.key, unquoted(schema)) })?.value
        else { return statement }
        return prefix + role + marker + quoteIdentifier(old) + String(String.UnicodeScalarView(tail.unicodeScalars.dropFirst(schema.unicodeScalars.count)))
    }

    /// `ALTER DEFAULT PRIVILEGES FOR ROLE r [IN SCHEMA s] GRANT p ON kind TO g [WITH GRANT OPTION];` →
    /// `… REVOKE p ON kind FROM g;` and the reverse, for the statements of `default-privileges.sql`. The role,
    /// schema and grantee may be quoted identifiers holding any text: the statement is read token by token.
    static func invertDefaultPrivileges(_ statement: String) -> String? {
        let prefix = "ALTER DEFAULT PRIVILEGES FOR ROLE "
        guard statement.hasPrefix(prefix), statement.hasSuffix(";") else { return nil }
        var rest = String(statement.unicodeScalars.dropFirst(prefix.unicodeScalars.count).dropLast())
        func take(_ count: Int) { rest = String(rest.unicodeScalars.dropFirst(count)) }
        guard let role = identifier(at: rest) else { return nil }
        var head = prefix + role
        take(role.unicodeScalars.count)
        if rest.hasPrefix(" IN SCHEMA ") {
            take(" IN SCHEMA ".unicodeScalars.count)
            guard let schema = identifier(at: rest) else { return nil }
            head += " IN SCHEMA " + schema
            take(schema.unicodeScalars.count)
        }
        // The privileges and the object kind are keywords: the first " ON <KIND> " ends them.
        let isGrant = rest.hasPrefix(" GRANT ")
        guard isGrant || rest.hasPrefix(" REVOKE ") else { return nil }
        for kind in ["TABLES", "SEQUENCES", "FUNCTIONS", "TYPES", "SCHEMAS"] {
            let marker = " ON \(kind) " + (isGrant ? "TO " : "FROM ")
            guard let range = rest.range(of: marker) else { continue }
            let privileges = rest[rest.index(rest.startIndex, offsetBy: isGrant ? 7 : 8)..<range.lowerBound]
            var grantee = String(rest[range.upperBound...])
            if isGrant && grantee.hasSuffix(" WITH GRANT OPTION") { grantee = String(grantee.dropLast(" WITH GRANT OPTION".count)) }
            return head + (isGrant ? " REVOKE " : " GRANT ") + privileges + " ON \(kind) " + (isGrant ? "FROM " : "TO ") + grantee + ";"
        }
        return nil
    }

    /// Table files: revert added triggers, indexes, constraints, columns, grants and comments; restore removed ones.
    private mutating func revertTable(_ object: ObjectPath, before: String, after: String) {
        let pre = Self.statements(before)
        let post = Self.statements(after)
        // Statements are told apart by their bytes (`ExactText`): a comment or name changed only in its Unicode
        // normalization is a change.
        let preSet = Set(pre.map(ExactText.init))
        let postSet = Set(post.map(ExactText.init))
        for statement in post where !preSet.contains(ExactText(statement)) {
            if statement.hasPrefix("CREATE TRIGGER ") || statement.hasPrefix("CREATE CONSTRAINT TRIGGER ") {
                if let name = Self.word(after: statement.hasPrefix("CREATE TRIGGER ") ? "CREATE TRIGGER " : "CREATE CONSTRAINT TRIGGER ", in: statement) {
                    emit("DROP TRIGGER IF EXISTS \(name) ON \(object.qualified);", because: "created trigger")
                }
            } else if statement.hasPrefix("CREATE INDEX ") || statement.hasPrefix("CREATE UNIQUE INDEX ") {
                let prefix = statement.hasPrefix("CREATE INDEX ") ? "CREATE INDEX " : "CREATE UNIQUE INDEX "
                if let name = Self.word(after: prefix, in: statement) {
                    emit("DROP INDEX IF EXISTS \(quoteIdentifier(object.schema)).\(name);", because: "created index")
                }
            } else if statement.hasPrefix("ALTER TABLE "), let range = statement.range(of: " ADD CONSTRAINT ") {
                if let name = Self.word(after: String(statement[..<range.upperBound]), in: statement) {
                    emit("ALTER TABLE \(object.qualified) DROP CONSTRAINT IF EXISTS \(name);", because: "added constraint")
                }
            } else if statement.hasPrefix("GRANT ") || statement.hasPrefix("REVOKE ") {
                if let inverse = Self.invertGrant(statement) { emit(inverse, because: "undo privilege change") }
            } else if let target = Self.commentTarget(statement) {
                if !pre.contains(where: { Self.commentTarget($0).map { sameBytes($0, target) } ?? false }) {
                    emit(target + " IS NULL;", because: "undo comment")
                }
            } else if statement.hasPrefix("CREATE TABLE ") {
                revertColumns(object, before: pre.first { $0.hasPrefix("CREATE TABLE ") } ?? "", after: statement)
            } else if statement.hasPrefix("CREATE POLICY "), let name = Self.word(after: "CREATE POLICY ", in: statement) {
                emit("DROP POLICY IF EXISTS \(name) ON \(object.qualified);", because: "added or changed policy")
            } else if statement.hasSuffix(" ENABLE ROW LEVEL SECURITY;") {
                emit("ALTER TABLE \(object.qualified) DISABLE ROW LEVEL SECURITY;", because: "undo row level security")
            } else if statement.hasSuffix(" FORCE ROW LEVEL SECURITY;") {
                emit("ALTER TABLE \(object.qualified) NO FORCE ROW LEVEL SECURITY;", because: "undo forced row level security")
            } else if statement.hasPrefix("ALTER "), let range = statement.range(of: " DISABLE TRIGGER ") {
                emit("ALTER TABLE \(object.qualified) ENABLE TRIGGER \(statement[range.upperBound...].dropLast());", because: "undo disabled trigger")
            } else if statement.hasPrefix("ALTER "), let range = statement.range(of: " SET ("), statement.hasSuffix(");") {
                let keys = statement[range.upperBound...].dropLast(2).split(separator: ",").map { $0.split(separator: "=").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
                emit("ALTER TABLE \(object.qualified) RESET (\(keys.joined(separator: ", ")));", because: "undo storage options")
            } else if statement.hasPrefix("ALTER TABLE "), let range = statement.range(of: " ATTACH PARTITION ") {
                emit("\(statement[..<range.lowerBound]) DETACH PARTITION \(object.qualified);", because: "undo attach")
            }
        }
        for statement in pre where !postSet.contains(ExactText(statement)) {
            if statement.hasPrefix("CREATE TABLE ") { continue }
            emit(statement, because: "restore")
        }
    }

    /// Column lines of `CREATE TABLE … (\n    col type …,\n …)`: added columns are dropped, changed defaults and
    /// NOT NULL restored, dropped columns reported irreversible.
    static func columns(_ text: String) -> [(name: String, line: String)] {
        text.split(separator: "\n").dropFirst().compactMap { raw in
            let line = raw.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: ","))
            guard !line.isEmpty, line != ")", !line.hasPrefix(")"), !line.hasPrefix("CONSTRAINT ") else { return nil }
            guard let name = Self.identifier(at: line) else { return nil }
            return (name, line)
        }
    }

    /// The type (and collation) part of a column line: what follows the name, up to DEFAULT/NOT NULL/GENERATED.
    static func columnType(_ line: String, name: String) -> String {
        var rest = String(line.dropFirst(name.count)).trimmingCharacters(in: .whitespaces)
        for stop in [" DEFAULT ", " NOT NULL", " GENERATED "] {
            if let range = rest.range(of: stop) { rest = String(rest[..<range.lowerBound]) }
        }
        return rest
    }

    /// Renamed columns: those the bundle renames with ALTER TABLE … RENAME COLUMN (`hints`, quoted as the state
    /// quotes names; their type, default or NOT NULL may have changed too). Old and new names as the state writes
    /// them.
    static func renamedColumns(before: String, after: String, hints: [(old: String, new: String)] = []) -> [(old: String, new: String)] {
        let pre = columns(before)
        let post = columns(after)
        let postNames = Set(post.map(\.name))
        let preNames = Set(pre.map(\.name))
        // Only what the bundle's own RENAME COLUMN statements say: a column dropped and another added at the same
        // place looks just like a rename, and taking it for one would "restore" the wrong data.
        var renames: [(old: String, new: String)] = []
        // A hint holds even when the bundle then added a column under the old name (rename old, add new).
        for hint in hints where preNames.contains(hint.old) && postNames.contains(hint.new) && !preNames.contains(hint.new) {
            if !renames.contains(where: { $0.old == hint.old || $0.new == hint.new }) { renames.append(hint) }
        }
        return renames
    }

    /// The bundle's RENAME COLUMN statements on the table at `path` (before or after a rename of the table itself),
    /// chained (a → b → c is a → c), with names quoted as the state writes them.
    func columnRenameHints(for path: String) -> [(old: String, new: String)] {
        guard let object = ObjectPath(path) else { return [] }
        var places: [(schema: String, name: String)] = [(object.schema, object.name)]
        for (newPath, oldPath) in moves where newPath == path || oldPath == path {
            for other in [newPath, oldPath] { if let moved = ObjectPath(other) { places.append((moved.schema, moved.name)) } }
        }
        // An unqualified name is taken only when no table of that name is in another schema (the search path the
        // statement ran with is not known here).
        func schemasOfTables(named name: String) -> Set<String> {
            Set(before.keys.map { $0 }.compactMap(ObjectPath.init).filter { $0.kind == "tables" && $0.name == name }.map(\.schema))
                .union(after.keys.compactMap(ObjectPath.init).filter { $0.kind == "tables" && $0.name == name }.map(\.schema))
        }
        func matches(_ rename: (schema: String?, table: String, old: String, new: String)) -> Bool {
            places.contains { place in
                place.name == rename.table && (rename.schema.map { $0 == place.schema } ?? (schemasOfTables(named: rename.table).count <= 1))
            }
        }
        var chained: [(old: String, new: String)] = []
        for rename in columnRenames where matches(rename) {
            if let index = chained.firstIndex(where: { $0.new == rename.old }) {
                chained[index].new = rename.new
            } else {
                chained.append((rename.old, rename.new))
            }
        }
        return chained.filter { $0.old != $0.new }.map { (quoteIdentifier($0.old), quoteIdentifier($0.new)) }
    }

    private mutating func revertColumns(_ object: ObjectPath, before: String, after: String) {
        let pre = Self.columns(before)
        var post = Self.columns(after)
        // Renamed columns were renamed back first (see `renamedColumns`): compare them under their old names.
        for rename in Self.renamedColumns(before: before, after: after, hints: columnRenameHints(for: object.path)) {
            post.removeAll { $0.name == rename.old }  // a column added under the old name: dropped with the renames
            guard let index = post.firstIndex(where: { $0.name == rename.new }) else { continue }
            post[index] = (rename.old, rename.old + post[index].line.dropFirst(rename.new.count))
        }
        let preNames = Dictionary(pre.map { ($0.name, $0.line) }, uniquingKeysWith: { a, _ in a })
        let postNames = Dictionary(post.map { ($0.name, $0.line) }, uniquingKeysWith: { a, _ in a })
        for column in post where preNames[column.name] == nil {
            emit("ALTER TABLE \(object.qualified) DROP COLUMN IF EXISTS \(column.name);", because: "added column")
        }
        for column in post {
            guard let old = preNames[column.name], old != column.line else { continue }
            if column.line.contains(" AS IDENTITY") && !old.contains(" AS IDENTITY") {
                // The column became an identity (the serial-to-identity migration): DROP IDENTITY drops the
                // identity's sequence; a sequence the column owned before is created again and moved past the
                // column's values, so that the restored default does not hand out used keys.
                emit("ALTER TABLE \(object.qualified) ALTER COLUMN \(column.name) DROP IDENTITY IF EXISTS;", because: "undo identity column")
                let owned = "OWNED BY \(object.qualified).\(column.name);"
                for (path, text) in self.before.sorted(by: { $0.key < $1.key }) where ObjectPath(path)?.kind == "sequences" && text.contains(owned) {
                    guard let sequence = ObjectPath(path) else { continue }
                    restoredPaths.insert(path)
                    emit(text, because: "re-create \(sequence.qualified), which \(object.qualified).\(column.name) used before")
                    // Past the column's values in the sequence's direction, when they are within its bounds (an
                    // empty table, or values outside them, leave it at its start).
                    let create = Self.firstStatement(text)
                    func number(after keyword: String) -> String? {
                        guard let range = create.range(of: keyword) else { return nil }
                        let value = create[range.upperBound...].prefix { $0 == "-" || $0.isNumber }
                        return value.isEmpty ? nil : String(value)
                    }
                    let descending = number(after: " INCREMENT BY ")?.hasPrefix("-") == true
                    let bound = descending ? number(after: " MAXVALUE ").map { "m <= \($0)" } : number(after: " MINVALUE ").map { "m >= \($0)" }
                    emit(
                        "SELECT pg_catalog.setval('\(sequence.qualified.replacingOccurrences(of: "'", with: "''"))', m) FROM (SELECT \(descending ? "min" : "max")(\(column.name)) AS m FROM \(object.qualified)) AS x WHERE "
                            + (bound ?? "m IS NOT NULL") + ";",
                        because: "continue \(sequence.qualified) after the column's values (its last value was not recorded)")
                }
            }
            let oldType = Self.columnType(old, name: column.name)
            if oldType != Self.columnType(column.line, name: column.name) {
                emit(
                    "ALTER TABLE \(object.qualified) ALTER COLUMN \(column.name) TYPE \(oldType) USING \(column.name)::\(oldType.components(separatedBy: " COLLATE ").first ?? oldType);",
                    because: "restore column type (values that do not convert back make this step fail, and it is rolled back)")
            }
            let oldDefault = Self.clause("DEFAULT ", in: old)
            if oldDefault != Self.clause("DEFAULT ", in: column.line) {
                emit(
                    "ALTER TABLE \(object.qualified) ALTER COLUMN \(column.name) " + (oldDefault.map { "SET DEFAULT \($0)" } ?? "DROP DEFAULT") + ";",
                    because: "restore column default")
            }
            let wasNotNull = old.contains(" NOT NULL")
            if wasNotNull != column.line.contains(" NOT NULL") {
                emit("ALTER TABLE \(object.qualified) ALTER COLUMN \(column.name) \(wasNotNull ? "SET" : "DROP") NOT NULL;", because: "restore NOT NULL")
            }
        }
        for column in pre where postNames[column.name] == nil {
            irreversible.append("\(object.qualified).\(column.name)")
            emit("-- IRREVERSIBLE: column \(column.name) of \(object.qualified) was dropped; its data is gone (restore from a backup)", because: nil)
            emit("ALTER TABLE \(object.qualified) ADD COLUMN \(column.line);", because: "re-create the dropped column (empty)")
        }
    }

    private mutating func revertConfig(before: String, after: String) {
        // Rows keyed and compared by bytes (`ExactText`, `sameBytes`): keys or values that differ only in their
        // Unicode normalization are different rows and values to PostgreSQL.
        func rows(_ text: String) -> [ExactText: (table: String, key: String, value: String)] {
            var result: [ExactText: (String, String, String)] = [:]
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                guard fields.count >= 3 else { continue }
                result[ExactText(fields[0] + "\t" + fields[1])] = (fields[0], fields[1], fields[2...].joined(separator: "\t"))
            }
            return result
        }
        let pre = rows(before)
        let post = rows(after)
        func columns(_ table: String) -> (table: String, key: String, value: String) {
            let spec = configColumns[table] ?? (key: "key", value: "value")
            let qualified = table.split(separator: ".", maxSplits: 1).map { quoteIdentifier(String($0)) }.joined(separator: ".")
            return (qualified, quoteIdentifier(spec.key), quoteIdentifier(spec.value))
        }
        for (id, row) in post.sorted(by: { $0.key < $1.key }) {
            let c = columns(row.table)
            if let old = pre[id] {
                if !sameBytes(old.value, row.value) {
                    emit("UPDATE \(c.table) SET \(c.value) = \(sqlLiteral(old.value)) WHERE \(c.key) = \(sqlLiteral(row.key));", because: "restore config value")
                }
            } else {
                emit("DELETE FROM \(c.table) WHERE \(c.key) = \(sqlLiteral(row.key));", because: "remove config row added by the bundle")
            }
        }
        for (id, row) in pre.sorted(by: { $0.key < $1.key }) where post[id] == nil {
            let c = columns(row.table)
            emit("INSERT INTO \(c.table) (\(c.key), \(c.value)) VALUES (\(sqlLiteral(row.key)), \(sqlLiteral(row.value)));", because: "restore config row")
        }
    }

    /// Whether CREATE OR REPLACE cannot bring back `before` over `after` (PostgreSQL refuses to remove defaults,
    /// rename parameters or change the result type): then the rollback drops and re-creates.
    static func signatureChangedIncompatibly(before: String, after: String) -> Bool {
        func header(_ text: String) -> String {
            guard let end = text.range(of: "\n AS ") ?? text.range(of: "\nAS ") ?? text.range(of: " AS $") else { return text }
            return String(text[..<end.lowerBound])
        }
        let pre = header(before)
        let post = header(after)
        if pre == post { return false }
        func returns(_ header: String) -> String {
            guard let range = header.range(of: "RETURNS ") else { return "" }
            return String(header[range.upperBound...].prefix { $0 != "\n" })
        }
        func arguments(_ header: String) -> String {
            guard let open = header.firstIndex(of: "("), let close = header.range(of: ")\n", options: .backwards)?.lowerBound ?? header.lastIndex(of: ")") else { return "" }
            return String(header[open...close])
        }
        let preArgs = arguments(pre)
        let postArgs = arguments(post)
        let preDefaults = preArgs.components(separatedBy: " DEFAULT ").count
        let postDefaults = postArgs.components(separatedBy: " DEFAULT ").count
        return returns(pre) != returns(post) || postDefaults > preDefaults
            || preArgs.replacingOccurrences(of: #" DEFAULT [^,)]*"#, with: "", options: .regularExpression)
                != postArgs.replacingOccurrences(of: #" DEFAULT [^,)]*"#, with: "", options: .regularExpression)
    }

    /// The (possibly quoted) identifier right after `prefix` in `text`.
    static func word(after prefix: String, in text: String) -> String? {
        guard text.hasPrefix(prefix) else { return nil }
        return identifier(at: String(text.dropFirst(prefix.count)))
    }

    static func identifier(at text: String) -> String? {
        if text.hasPrefix("\"") {
            // Scalar by scalar (see `statements`).
            let scalars = Array(text.unicodeScalars)
            var result = String.UnicodeScalarView()
            result.append("\"")
            var index = 1
            while index < scalars.count {
                let ch = scalars[index]
                result.append(ch)
                if ch == "\"" {
                    if index + 1 < scalars.count, scalars[index + 1] == "\"" {
                        result.append("\"")
                        index += 2
                        continue
                    }
                    return String(result)
                }
                index += 1
            }
            return nil
        }
        let word = text.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" || $0 == "." }
        return word.isEmpty ? nil : String(word)
    }

    /// The text of a clause such as `DEFAULT expr` in a column line, up to the next NOT NULL/COLLATE/GENERATED.
    static func clause(_ keyword: String, in line: String) -> String? {
        guard let range = line.range(of: " " + keyword) else { return nil }
        var rest = String(line[range.upperBound...])
        for stop in [" NOT NULL", " NULL", " COLLATE ", " GENERATED ", " CONSTRAINT "] {
            if let end = rest.range(of: stop) { rest = String(rest[..<end.lowerBound]) }
        }
        return rest.trimmingCharacters(in: .whitespaces)
    }
}
