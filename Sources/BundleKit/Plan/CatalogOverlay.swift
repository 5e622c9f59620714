import Foundation
import PostgresCatalog

/// The catalog as the planner walks the statements: the live snapshot plus the effects of every statement planned
/// so far (objects created, replaced, dropped, renamed, columns added, enum values added).
struct CatalogOverlay {
    var session: SessionInfo
    /// search_path as set: its elements in order, `$user` as written (the server resolves it against the current
    /// role whenever it looks a name up), pg_catalog only where listed.
    var searchPathSetting: [String]
    /// The search_path setting a bundle starts with: the session's, as earlier bundles' plain SETs left it (SET
    /// LOCAL ends with the bundle's transaction).
    var sessionSearchPathSetting: [String]
    /// What SET search_path TO DEFAULT and RESET go back to: the setting the session started with.
    let defaultSearchPathSetting: [String]
    /// The role `$user` stands for (`current_user`): the session's, or the one SET ROLE switched to.
    var currentUser: String
    /// `currentUser` as a bundle starts with it (a plain SET ROLE lasts for the next bundles, SET LOCAL ROLE not).
    var sessionCurrentUser: String
    var schemas: SchemasByName
    var roles: Set<String>
    var relations: [String: RelationInfo]
    var routines: [RoutineInfo]
    var triggers: [TriggerInfo]
    var types: [String: TypeInfo]
    var indexes: [IndexInfo]
    var constraints: [ConstraintInfo]
    var dependents: [DependentInfo]
    var resolvedTypes: [String: ResolvedType]
    /// Relations whose data the live catalog describes (not created, dropped or rewritten by the plan).
    var liveRelationOIDs: Set<UInt32>
    /// Enum labels added with ALTER TYPE … ADD VALUE in the transaction being planned: label → the type's key.
    var enumValuesAddedInTransaction: [String: String] = [:]
    /// Relations (overlay keys) with deferred trigger events queued by DML earlier in the transaction being planned.
    var pendingTriggerEvents: Set<String> = []
    /// The column that owns a sequence (serial, identity): its table's key and its name.
    struct SequenceOwner: Equatable {
        var table: String
        var column: String
    }

    /// Sequences owned by a table's column: sequence key → owner. They follow their table to another schema and are
    /// dropped with it, or with the column.
    var sequenceOwners: [String: SequenceOwner] = [:]
    /// Schemas the plan dropped objects from or moved objects out of ("*": some object moved, schema unknown).
    var schemasWithRemovedObjects: Set<String> = []
    /// Names of table constraints the plan added or renamed to. A CHECK or foreign key added to a parent appears on
    /// its children under the same name, so a later DROP CONSTRAINT of such a name is never reported as missing.
    var addedConstraintNames: Set<String> = []
    /// The plan added constraints whose names it does not know (an inline constraint of ADD COLUMN, an unnamed
    /// exclusion constraint, a partition attached under a parent's keys, …): no DROP CONSTRAINT is reported missing.
    var constraintNamesUncertain = false
    /// Constraints the plan dropped (keys of schema and name): free again when the server chooses a name.
    var droppedConstraintNames: Set<String> = []
    /// A view or materialized view the plan created, over a relation it reads (keys of schema and name).
    struct PlannedDependency: Equatable {
        var referenced: String
        /// The columns of `referenced` it uses; nil when not known (it reads several relations).
        var columns: [String]?
        var viewSchema: String
        var viewName: String
        var materialized: Bool
        var view: String { CatalogOverlay.key(viewSchema, viewName) }
    }

    /// What views created by the plan read: DROP, DROP COLUMN and ALTER COLUMN TYPE of what they use fail as on
    /// the server (the catalog's own dependencies are in `dependents`).
    var plannedDependencies: [PlannedDependency] = []

    /// The plan ran SET ROLE (or SET SESSION AUTHORIZATION): owners of what it creates are then not certain.
    var roleChangedByPlan = false

    /// The plan detached or dropped a live table that may have been a partition: the live partition bounds that the
    /// server's own check reads may no longer hold, so that check is skipped from then on.
    var partitionBoundsChanged = false

    /// Tables the plan created whose unique indexes it knows all of (a plain CREATE TABLE: no LIKE, INHERITS,
    /// PARTITION OF or OF type), so a foreign key to them is checked like one to a live table.
    var relationsWithKnownKeys: Set<String> = []
    /// Columns whose nullability, default or identity the plan changed (keys of the table's key and the column;
    /// the column "" for a whole table, e.g. after ADD PRIMARY KEY): their catalog state no longer holds.
    var columnsAlteredByPlan: Set<String> = []
    init(snapshot: CatalogSnapshot) {
        session = snapshot.session
        // The setting as the server keeps it; without one, the effective path the session reported (pg_catalog
        // implicit).
        searchPathSetting = snapshot.session.searchPathSetting.map(Self.searchPathElements)
            ?? snapshot.session.searchPath.filter { $0 != "pg_catalog" }
        sessionSearchPathSetting = searchPathSetting
        defaultSearchPathSetting = searchPathSetting
        currentUser = snapshot.session.user
        sessionCurrentUser = currentUser
        schemas = SchemasByName(snapshot.schemas)
        roles = snapshot.roles
        relations = Dictionary(snapshot.relations.map { (Self.key($0.schema, $0.name), $0) }, uniquingKeysWith: { a, _ in a })
        routines = snapshot.routines
        triggers = snapshot.triggers
        types = Dictionary(snapshot.types.map { (Self.key($0.schema, $0.name), $0) }, uniquingKeysWith: { a, _ in a })
        indexes = snapshot.indexes
        constraints = snapshot.constraints
        dependents = snapshot.dependents
        resolvedTypes = snapshot.resolvedTypes
        liveRelationOIDs = Set(snapshot.relations.map(\.oid))
        for owned in snapshot.sequenceOwners {
            sequenceOwners[Self.key(owned.sequenceSchema, owned.sequenceName)] = SequenceOwner(table: Self.key(owned.tableSchema, owned.tableName), column: owned.column)
        }
    }

    /// The overlay's dictionary key of an object. Names that are not plain ASCII are keyed by their bytes (in hex):
    /// `String` keys compare by Unicode canonical equivalence, and PostgreSQL allows "é" precomposed and
    /// decomposed as two distinct names.
    static func key(_ schema: String, _ name: String) -> String {
        let joined = schema + "\u{1}" + name
        guard !joined.utf8.allSatisfy({ $0 < 0x80 }) else { return joined }
        return "\u{2}" + joined.utf8.map { String($0, radix: 16) }.joined(separator: " ")
    }

    /// The schemas searched, in order (`recomputeNamespacePath`): the setting's that exist and may be used, `$user`
    /// as the current role's schema, and pg_catalog first unless the setting places it.
    var searchPath: [String] {
        var path: [String] = []
        for element in searchPathSetting {
            let schema = element == "$user" ? currentUser : element
            guard Self.isTemporarySchema(schema) || schema == "pg_catalog" || isUsable(schema), !path.contains(schema) else { continue }
            path.append(schema)
        }
        if !path.contains("pg_catalog") { path.insert("pg_catalog", at: 0) }
        return path
    }

    /// The schema an unqualified new object goes to: the first schema the search_path setting lists that exists
    /// (the temporary schema when `pg_temp` comes first; pg_catalog when it is listed first).
    var creationSchema: String? {
        for element in searchPathSetting {
            let schema = element == "$user" ? currentUser : element
            if Self.isTemporarySchema(schema) || schema == "pg_catalog" || isUsable(schema) { return schema }
        }
        return nil
    }

    /// A schema the search path keeps: it exists, and the current role may use it. USAGE is known for the session's
    /// role only: after SET ROLE every existing schema counts (a wrong guess must not refuse a valid bundle).
    private func isUsable(_ schema: String) -> Bool {
        guard let info = schemas[schema] else { return false }
        return info.canUse || session.isSuperuser || !sameBytes(currentUser, session.user)
    }

    /// The elements of a search_path setting as the server splits it (`SplitIdentifierString`): comma-separated,
    /// double-quoted names taken as written (`""` for a quote), others lower-cased.
    static func searchPathElements(_ setting: String) -> [String] {
        var elements: [String] = []
        var scalars = Substring(setting).unicodeScalars[...]
        func skipSpaces() { while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() } }
        while true {
            skipSpaces()
            guard !scalars.isEmpty else { break }
            var element = String.UnicodeScalarView()
            if scalars.first == "\"" {
                scalars.removeFirst()
                while let next = scalars.popFirst() {
                    if next == "\"" {
                        if scalars.first == "\"" { scalars.removeFirst() } else { break }
                    }
                    element.append(next)
                }
            } else {
                while let next = scalars.first, next != ",", !next.properties.isWhitespace {
                    element.append((0x41...0x5A).contains(next.value) ? Unicode.Scalar(UInt8(next.value + 0x20)) : next)
                    scalars.removeFirst()
                }
            }
            elements.append(String(element))
            skipSpaces()
            guard scalars.first == "," else { break }
            scalars.removeFirst()
        }
        return elements
    }

    /// Whether the session has its temporary schema: PostgreSQL makes it with the first temporary object, and until
    /// then a name qualified with `pg_temp` fails with "schema "pg_temp" does not exist".
    var temporarySchemaExists = false
    /// Temporary tables created ON COMMIT DROP in the bundle being planned: gone when its transaction commits.
    var droppedAtCommit: [String] = []

    /// The session's temporary schema, as the plan names it: PostgreSQL's alias `pg_temp`. (A `pg_temp_N` name is
    /// taken literally: the apply session's own number is not known ahead.) What a bundle creates there (CREATE
    /// TEMP TABLE, `pg_temp.x`) lives until the apply session ends.
    static let temporarySchema = "pg_temp"

    static func isTemporarySchema(_ schema: String) -> Bool { schema == temporarySchema }

    /// Whether `schema` exists for a statement that names it: a schema of the catalog, or the temporary schema once
    /// the session has made it.
    func schemaExists(_ schema: String) -> Bool {
        schemas[schema] != nil || (Self.isTemporarySchema(schema) && temporarySchemaExists)
    }

    /// Where unqualified relation and type names are looked up: the temporary schema first, as PostgreSQL does
    /// unless search_path names it elsewhere, then the search path. (Routines and operators are never looked up
    /// there.)
    var relationSearchPath: [String] {
        searchPath.contains(where: Self.isTemporarySchema) ? searchPath : [Self.temporarySchema] + searchPath
    }

    /// Whether objects in `schema` print unqualified.
    func isVisible(_ schema: String) -> Bool { relationSearchPath.contains(schema) }

    /// A name as PostgreSQL prints it in messages that qualify only invisible objects.
    func display(schema: String, name: String) -> String {
        isVisible(schema) ? name : "\(schema).\(name)"
    }

    /// Looks a relation up like `RangeVarGetRelid`: in `schema`, or along the search path.
    func relation(schema: String?, name: String) -> RelationInfo? {
        if let schema { return relations[Self.key(schema, name)] }
        for candidate in relationSearchPath {
            if let found = relations[Self.key(candidate, name)] { return found }
        }
        return nil
    }

    /// Looks a type up in `schema` or along the search path.
    func type(schema: String?, name: String) -> TypeInfo? {
        if let schema { return types[Self.key(schema, name)] }
        for candidate in relationSearchPath {
            if let found = types[Self.key(candidate, name)] { return found }
        }
        return nil
    }

    /// Routines with `name` that a call or an argument-less reference can see: in `schema`, or along the search
    /// path with earlier schemas masking identical signatures in later ones.
    func routines(schema: String?, name: String) -> [RoutineInfo] {
        if let schema { return routines.filter { sameBytes($0.schema, schema) && sameBytes($0.name, name) } }
        var seen = Set<[String]>()
        var result: [RoutineInfo] = []
        for candidate in searchPath where !Self.isTemporarySchema(candidate) {
            for routine in routines where sameBytes(routine.schema, candidate) && sameBytes(routine.name, name) {
                if seen.insert(routine.inputTypes).inserted { result.append(routine) }
            }
        }
        return result
    }

    /// The canonical (`format_type`) name of a type written in a statement, or nil when it does not exist.
    func canonicalType(written: String?, display: String) -> String? {
        guard let written else { return nil }
        if let resolved = resolvedTypes[written] { return resolved.name }
        // A type created earlier in the plan.
        var base = written
        var arrays = 0
        while base.hasSuffix("[]") {
            base.removeLast(2)
            arrays += 1
        }
        // Split the quoted form, not `display`: a schema or type name may itself contain a '.'.
        let parts = Self.identifiers(ofQualifiedName: base)
        guard let name = parts.last else { return nil }
        let schema = parts.count >= 2 ? parts[parts.count - 2] : nil
        if let created = type(schema: schema, name: name) {
            return self.display(schema: created.schema, name: created.name) + String(repeating: "[]", count: arrays)
        }
        if let relation = relation(schema: schema, name: name), ["r", "v", "m", "p", "f", "c"].contains(relation.kind) {
            return self.display(schema: relation.schema, name: relation.name) + String(repeating: "[]", count: arrays)
        }
        return nil
    }

    /// The identifiers of a qualified name as `quoteIdentifier` parts joined by '.' (`"a.b"."c""d"` → `a.b`, `c"d`).
    static func identifiers(ofQualifiedName text: String) -> [String] {
        // Scalar by scalar: a quote followed by a combining mark is one Character but still a quote.
        var parts: [String] = []
        var current = String.UnicodeScalarView()
        var quoted = false
        var characters = text.unicodeScalars.makeIterator()
        var pending = characters.next()
        while let character = pending {
            pending = characters.next()
            if quoted {
                if character == "\"" {
                    if pending == "\"" {
                        current.append("\"")
                        pending = characters.next()
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "." {
                parts.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(character)
            }
        }
        parts.append(String(current))
        return parts
    }

    /// Objects that depend on `oid` (column 0: on the whole object), excluding those the statement drops itself.
    func dependents(of oid: UInt32, column: Int? = nil, excluding dropped: Set<UInt32> = []) -> [DependentInfo] {
        guard oid != 0 else { return [] }
        return dependents.filter { dep in
            dep.referencedOID == oid && (column == nil || dep.referencedColumn == column!)
                && !dropped.contains(dep.dependentOwnerOID)
                && (dep.dependentOwnerOID != oid || (column != nil && dep.isGeneratedColumnExpression))
        }
    }

    mutating func removeRelation(_ relation: RelationInfo) {
        if relation.schema == Self.temporarySchema { droppedAtCommit.removeAll { sameBytes($0, relation.name) } }
        schemasWithRemovedObjects.insert(relation.schema)
        relations[Self.key(relation.schema, relation.name)] = nil
        if relation.oid != 0 && ["r", "p", "f"].contains(relation.kind) { partitionBoundsChanged = true }
        relationsWithKnownKeys.remove(Self.key(relation.schema, relation.name))
        plannedDependencies.removeAll { $0.view == Self.key(relation.schema, relation.name) || $0.referenced == Self.key(relation.schema, relation.name) }
        liveRelationOIDs.remove(relation.oid)
        triggers.removeAll { sameBytes($0.schema, relation.schema) && sameBytes($0.table, relation.name) }
        // The table's indexes go with it, as relations too.
        for index in indexes where sameBytes(index.schema, relation.schema) && sameBytes(index.table, relation.name) && !sameBytes(index.name, relation.name) {
            relations[Self.key(index.schema, index.name)] = nil
        }
        indexes.removeAll { sameBytes($0.schema, relation.schema) && (sameBytes($0.table, relation.name) || sameBytes($0.name, relation.name)) }
        constraints.removeAll { sameBytes($0.schema, relation.schema) && sameBytes($0.table, relation.name) }
        dependents.removeAll { $0.referencedOID == relation.oid || $0.dependentOwnerOID == relation.oid }
        types[Self.key(relation.schema, relation.name)] = nil
        // DROP TABLE drops the sequences its columns own.
        let tableKey = Self.key(relation.schema, relation.name)
        sequenceOwners[tableKey] = nil
        for (sequence, owner) in sequenceOwners where owner.table == tableKey {
            sequenceOwners[sequence] = nil
            if let owned = relations[sequence] { removeRelation(owned) }
        }
    }

    /// DROP COLUMN, DROP IDENTITY: the sequence the column owns goes with it.
    mutating func removeSequence(ownedBy column: String, of table: RelationInfo) {
        let tableKey = Self.key(table.schema, table.name)
        for (sequence, owner) in sequenceOwners where owner.table == tableKey && sameBytes(owner.column, column) {
            sequenceOwners[sequence] = nil
            if let owned = relations[sequence] { removeRelation(owned) }
        }
    }

    /// A relation renamed or moved to another schema (ALTER … RENAME TO, SET SCHEMA): same OID, data, indexes,
    /// constraints and triggers, under its new name (its indexes and sequences follow it to a new schema).
    mutating func moveRelation(_ relation: RelationInfo, toSchema schema: String, name: String) {
        relationsWithKnownKeys.remove(Self.key(relation.schema, relation.name))
        for index in plannedDependencies.indices {
            if plannedDependencies[index].referenced == Self.key(relation.schema, relation.name) { plannedDependencies[index].referenced = Self.key(schema, name) }
            if plannedDependencies[index].view == Self.key(relation.schema, relation.name) {
                plannedDependencies[index].viewSchema = schema
                plannedDependencies[index].viewName = name
            }
        }
        let (oldSchema, oldName) = (relation.schema, relation.name)
        if oldSchema == Self.temporarySchema, let position = droppedAtCommit.firstIndex(where: { sameBytes($0, oldName) }) {
            droppedAtCommit[position] = name  // still dropped at COMMIT, under its new name
        }
        schemasWithRemovedObjects.insert(oldSchema)
        relations[Self.key(oldSchema, oldName)] = nil
        // Data probes read the live table by name, which it does not have yet: no data checks after a move.
        liveRelationOIDs.remove(relation.oid)
        for index in triggers.indices where sameBytes(triggers[index].schema, oldSchema) && sameBytes(triggers[index].table, oldName) {
            triggers[index].schema = schema
            triggers[index].table = name
        }
        for index in indexes.indices where sameBytes(indexes[index].schema, oldSchema) && sameBytes(indexes[index].table, oldName) {
            if !sameBytes(schema, oldSchema), let moved = relations.removeValue(forKey: Self.key(oldSchema, indexes[index].name)) {
                var relocated = moved
                relocated.schema = schema
                relations[Self.key(schema, relocated.name)] = relocated
            }
            indexes[index].schema = schema
            indexes[index].table = name
        }
        for index in constraints.indices where sameBytes(constraints[index].schema, oldSchema) && sameBytes(constraints[index].table, oldName) {
            constraints[index].schema = schema
            constraints[index].table = name
        }
        if let type = types.removeValue(forKey: Self.key(oldSchema, oldName)) {
            var renamed = type
            renamed.schema = schema
            renamed.name = name
            types[Self.key(schema, name)] = renamed
        }
        var moved = relation
        moved.schema = schema
        moved.name = name
        relations[Self.key(schema, name)] = moved
        // The sequences its columns own keep their names, and move with it to the new schema.
        let (oldKey, newKey) = (Self.key(oldSchema, oldName), Self.key(schema, name))
        if let owner = sequenceOwners.removeValue(forKey: oldKey) { sequenceOwners[newKey] = owner }
        for (sequence, owner) in sequenceOwners where owner.table == oldKey {
            let moved = SequenceOwner(table: newKey, column: owner.column)
            sequenceOwners[sequence] = moved
            guard !sameBytes(schema, oldSchema), let owned = relations[sequence] else { continue }
            sequenceOwners[sequence] = nil
            relations[sequence] = nil
            var relocated = owned
            relocated.schema = schema
            relations[Self.key(schema, owned.name)] = relocated
            sequenceOwners[Self.key(schema, owned.name)] = moved
        }
    }

    /// PostgreSQL's `makeObjectName`: `name1_name2_label`, with name1 and name2 shortened (the longer one first, by
    /// whole characters) so that the name fits in 63 bytes.
    static func objectName(_ name1: String, _ name2: String?, label: String) -> String {
        let available = 63 - (name2 == nil ? 0 : 1) - label.utf8.count - 1
        var (length1, length2) = (name1.utf8.count, name2?.utf8.count ?? 0)
        while length1 + length2 > available {
            if length1 > length2 { length1 -= 1 } else { length2 -= 1 }
        }
        /// The longest prefix of whole characters within `limit` bytes (`pg_mbcliplen`).
        func clipped(_ text: String, _ limit: Int) -> String {
            var bytes = 0
            var kept = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                bytes += String(scalar).utf8.count
                if bytes > limit { break }
                kept.append(scalar)
            }
            return String(kept)
        }
        return clipped(name1, length1) + (name2.map { "_" + clipped($0, length2) } ?? "") + "_" + label
    }

    /// PostgreSQL's `ChooseRelationName`: `objectName`, with `label1`, `label2`, … until no relation in `schema`
    /// has the name.
    func chooseRelationName(_ name1: String, _ name2: String?, label: String, schema: String) -> String {
        var candidate = Self.objectName(name1, name2, label: label)
        var pass = 0
        while relations[Self.key(schema, candidate)] != nil {
            pass += 1
            candidate = Self.objectName(name1, name2, label: "\(label)\(pass)")
        }
        return candidate
    }

    mutating func putRelation(_ relation: RelationInfo) {
        relations[Self.key(relation.schema, relation.name)] = relation
    }
}

/// Schemas by name, told apart byte for byte (`ExactText`): PostgreSQL allows names that differ only in their
/// Unicode normalization, which a `String`-keyed dictionary would merge.
struct SchemasByName {
    private var storage: [ExactText: SchemaInfo] = [:]

    init(_ schemas: [SchemaInfo]) {
        for schema in schemas where storage[ExactText(schema.name)] == nil { storage[ExactText(schema.name)] = schema }
    }

    subscript(_ name: String) -> SchemaInfo? {
        get { storage[ExactText(name)] }
        set { storage[ExactText(name)] = newValue }
    }
}
