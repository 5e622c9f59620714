import Foundation

/// The names a set of statements refers to: what the catalog reader fetches (and nothing else).
public struct CatalogScope: Sendable, Equatable {
    /// Unqualified relation names (tables, views, indexes, sequences) — matched in every schema.
    public var relationNames: Set<String> = []
    /// Unqualified routine names.
    public var routineNames: Set<String> = []
    /// Unqualified type names.
    public var typeNames: Set<String> = []
    /// Trigger names.
    public var triggerNames: Set<String> = []
    /// Role names.
    public var roleNames: Set<String> = []
    /// Type names as written (`varchar(20)`, `public.mood[]`) to resolve with `to_regtype`.
    public var writtenTypes: Set<String> = []
    /// Read the views over the named objects' dependent views too, transitively (for DROP … CASCADE). Off by
    /// default: the recursive query costs a few milliseconds of planning.
    public var transitiveDependents = false

    public init() {}
}

/// Everything the planner knows about the live catalog, read in a handful of set-based queries.
public struct CatalogSnapshot: Sendable {
    public var session: SessionInfo
    public var schemas: [SchemaInfo]
    public var roles: Set<String>
    public var relations: [RelationInfo]
    public var constraints: [ConstraintInfo]
    public var indexes: [IndexInfo]
    public var triggers: [TriggerInfo]
    public var routines: [RoutineInfo]
    public var types: [TypeInfo]
    public var dependents: [DependentInfo]
    public var resolvedTypes: [String: ResolvedType]
    /// Sequences owned by a column (serial, identity, OWNED BY) of the relations read: they move with their table
    /// to another schema and are dropped with it. Those sequences are among `relations`.
    public var sequenceOwners: [SequenceOwnership] = []
}

/// A sequence and the table whose column owns it (`pg_depend` deptype 'a' or 'i').
public struct SequenceOwnership: Sendable, Equatable {
    public var sequenceSchema: String
    public var sequenceName: String
    public var tableSchema: String
    public var tableName: String
    /// The owning column.
    public var column: String
}

/// Reads a `CatalogSnapshot` over one connection; read-only (plain SELECTs on pg_catalog).
public struct CatalogReader {
    public let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Reads the session facts and every object named in `scope`, plus the objects that depend on them.
    public func read(scope: CatalogScope) throws(PostgresError) -> CatalogSnapshot {
        let session = try readSession()
        let schemas = try connection.query(
            """
            SELECT n.nspname, pg_get_userbyid(n.nspowner),
                   has_schema_privilege(n.oid, 'CREATE'), has_schema_privilege(n.oid, 'USAGE')
            FROM pg_namespace n ORDER BY 1
            """
        ).rows.map { SchemaInfo(name: $0[0]!, owner: $0[1]!, canCreate: $0[2] == "t", canUse: $0[3] == "t") }
        let roles = Set(
            try connection.query("SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])", [pgArray(scope.roleNames)])
                .rows.map { $0[0]! })

        // The named relations, plus the sequences their columns own (named or not), with their owning table.
        let relationRows = try connection.query(
            """
            WITH named AS (SELECT oid FROM pg_class WHERE relname = ANY($1::text[])),
            owned AS (
                SELECT d.objid AS oid, d.refobjid AS owner, s.relname, a.attname FROM pg_depend d
                JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
                JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT oid FROM named) AND d.refobjsubid > 0
                  AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
            ),
            -- Relations named like an owned sequence (in any schema): a move of its table may clash with them.
            namesakes AS (SELECT oid FROM pg_class WHERE relname IN (SELECT relname FROM owned))
            SELECT c.oid, n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner),
                   pg_has_role(c.relowner, 'USAGE'), c.reltuples::float8,
                   CASE WHEN c.relkind IN ('r','m','p','t') THEN pg_total_relation_size(c.oid) ELSE 0 END,
                   tn.nspname, t.relname, o.attname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN owned o ON o.oid = c.oid
            LEFT JOIN pg_class t ON t.oid = o.owner LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
            WHERE c.oid IN (SELECT oid FROM named UNION SELECT oid FROM owned UNION SELECT oid FROM namesakes)
            ORDER BY 2, 3
            """, [pgArray(scope.relationNames)]
        ).rows
        var relations = relationRows.map { row in
            RelationInfo(
                oid: UInt32(row[0]!)!, schema: row[1]!, name: row[2]!, kind: row[3]!, owner: row[4]!,
                isOwnedByCurrentRole: row[5] == "t", estimatedRows: Double(row[6]!) ?? 0, totalBytes: Int64(row[7]!) ?? 0,
                columns: [])
        }
        let sequenceOwners = relationRows.compactMap { row -> SequenceOwnership? in
            guard let tableSchema = row[8], let tableName = row[9] else { return nil }
            return SequenceOwnership(sequenceSchema: row[1]!, sequenceName: row[2]!, tableSchema: tableSchema, tableName: tableName, column: row[10] ?? "")
        }
        let relationOIDs = relations.map { String($0.oid) }
        if !relationOIDs.isEmpty {
            let columns = try connection.query(
                """
                SELECT a.attrelid, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.atttypid, a.atttypmod,
                       a.attnotnull, a.atthasdef, a.attgenerated::text,
                       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END, a.attidentity::text
                FROM pg_attribute a
                JOIN pg_type t ON t.oid = a.atttypid
                LEFT JOIN pg_collation co ON co.oid = a.attcollation
                WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attrelid, a.attnum
                """, [pgArray(relationOIDs)])
            var byRelation: [UInt32: [ColumnInfo]] = [:]
            for row in columns.rows {
                byRelation[UInt32(row[0]!)!, default: []].append(
                    ColumnInfo(
                        name: row[1]!, position: Int(row[2]!)!, type: row[3]!, typeOID: UInt32(row[4]!)!, typmod: Int(row[5]!)!,
                        notNull: row[6] == "t", hasDefault: row[7] == "t", generated: row[8] ?? "", collation: row[9], identity: row[10] ?? ""))
            }
            for index in relations.indices { relations[index].columns = byRelation[relations[index].oid] ?? [] }
        }

        let constraints = try connection.query(
            """
            SELECT con.conname, n.nspname, c.relname, con.contype::text, i.relname,
                   ARRAY(SELECT a.attname FROM unnest(con.conkey) k JOIN pg_attribute a
                         ON a.attrelid = con.conrelid AND a.attnum = k)::text[],
                   pg_get_constraintdef(con.oid), rn.nspname, r.relname, con.conparentid <> 0
            FROM pg_constraint con
            JOIN pg_class c ON c.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_class i ON i.oid = con.conindid
            LEFT JOIN pg_class r ON r.oid = con.confrelid
            LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
            WHERE con.oid IN (
                SELECT oid FROM pg_constraint WHERE conrelid = ANY($1::oid[])
                UNION
                -- foreign keys pointing at these relations, found through pg_depend's index (confrelid has none)
                SELECT objid FROM pg_depend
                WHERE refclassid = 'pg_class'::regclass AND refobjid = ANY($1::oid[]) AND classid = 'pg_constraint'::regclass)
            ORDER BY 2, 3, 1
            """, [pgArray(relationOIDs)]
        ).rows.map { row in
            ConstraintInfo(
                name: row[0]!, schema: row[1]!, table: row[2]!, type: row[3]!, indexName: row[4], columns: parsePGArray(row[5]),
                definition: row[6] ?? "", referencedSchema: row[7], referencedTable: row[8], isInherited: row[9] == "t")
        }

        let indexes = try connection.query(
            """
            SELECT n.nspname, ic.relname, tc.relname, x.indisunique, x.indisprimary,
                   ARRAY(SELECT a.attname FROM unnest(x.indkey) k JOIN pg_attribute a
                         ON a.attrelid = x.indrelid AND a.attnum = k)::text[],
                   (SELECT con.conname FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.contype IN ('p','u','x') LIMIT 1)
            FROM pg_index x
            JOIN pg_class ic ON ic.oid = x.indexrelid
            JOIN pg_class tc ON tc.oid = x.indrelid
            JOIN pg_namespace n ON n.oid = ic.relnamespace
            WHERE x.indrelid = ANY($1::oid[]) OR x.indexrelid = ANY($1::oid[])
            ORDER BY 1, 2
            """, [pgArray(relationOIDs)]
        ).rows.map { row in
            IndexInfo(
                schema: row[0]!, name: row[1]!, table: row[2]!, isUnique: row[3] == "t", isPrimary: row[4] == "t",
                columns: parsePGArray(row[5]), constraint: row[6])
        }

        let triggers = try connection.query(
            """
            SELECT n.nspname, c.relname, t.tgname, t.tgisinternal, t.tgconstraint <> 0, t.tgfoid::regprocedure::text,
                   t.tginitdeferred AND t.tgqual IS NULL AND t.tgenabled <> 'D', t.tgtype::int
            FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE t.tgrelid = ANY($1::oid[])
            ORDER BY 1, 2, 3
            """, [pgArray(relationOIDs)]
        ).rows.map { row in
            TriggerInfo(
                schema: row[0]!, table: row[1]!, name: row[2]!, isInternal: row[3] == "t", isConstraint: row[4] == "t", function: row[5]!,
                isAlwaysDeferred: row[6] == "t", eventBits: Int(row[7] ?? "0") ?? 0)
        }

        let routines = try readRoutines(names: scope.routineNames)

        let types = try connection.query(
            """
            SELECT t.oid, n.nspname, t.typname, t.typtype::text,
                   ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[]
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE t.typname = ANY($1::text[])
            ORDER BY 2, 3
            """, [pgArray(scope.typeNames)]
        ).rows.map { row in
            TypeInfo(oid: UInt32(row[0]!)!, schema: row[1]!, name: row[2]!, kind: row[3]!, enumLabels: parsePGArray(row[4]))
        }

        let referencedOIDs = relationOIDs + routines.map { String($0.oid) } + types.map { String($0.oid) }
        // With `transitiveDependents`, views over the named objects' dependent views are read too: DROP … CASCADE
        // takes them along.
        let transitive = """
            WITH RECURSIVE referenced(oid) AS (
                SELECT unnest($1::oid[])
                UNION
                SELECT r.ev_class FROM referenced x
                JOIN pg_depend d ON d.refobjid = x.oid AND d.refclassid = ANY(ARRAY['pg_class', 'pg_proc', 'pg_type']::regclass[]::oid[])
                     AND d.classid = 'pg_rewrite'::regclass AND d.deptype = 'n'
                JOIN pg_rewrite r ON r.oid = d.objid AND r.ev_class <> d.refobjid
            )

            """
        let dependents = try connection.query(
            (scope.transitiveDependents ? transitive : "") + """
            SELECT pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid), d.refobjid, d.refobjsubid,
                   pg_describe_object(d.classid, d.objid, d.objsubid),
                   CASE WHEN gen.attname IS NOT NULL THEN pg_describe_object('pg_class'::regclass, ad.adrelid, ad.adnum)
                   ELSE pg_describe_object(
                     CASE WHEN d.classid = 'pg_rewrite'::regclass THEN 'pg_class'::regclass ELSE d.classid END,
                     CASE WHEN d.classid = 'pg_rewrite'::regclass THEN r.ev_class ELSE d.objid END,
                     CASE WHEN d.classid = 'pg_rewrite'::regclass THEN 0 ELSE d.objsubid END) END,
                   CASE WHEN d.classid = 'pg_rewrite'::regclass THEN r.ev_class
                        WHEN d.classid = 'pg_constraint'::regclass THEN (SELECT conrelid FROM pg_constraint WHERE oid = d.objid)
                        WHEN d.classid = 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid)
                        WHEN d.classid = 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = d.objid)
                        WHEN gen.attname IS NOT NULL THEN ad.adrelid
                        ELSE d.objid END,
                   gen.attname IS NOT NULL
            FROM pg_depend d
            LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
            LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
            LEFT JOIN pg_attribute gen ON gen.attrelid = ad.adrelid AND gen.attnum = ad.adnum AND gen.attgenerated <> ''
            WHERE d.refclassid = ANY(ARRAY['pg_class', 'pg_proc', 'pg_type']::regclass[]::oid[])
              AND d.refobjid \(scope.transitiveDependents ? "IN (SELECT oid FROM referenced)" : "= ANY($1::oid[])") AND d.deptype = 'n'
              AND NOT (d.classid = 'pg_rewrite'::regclass AND r.ev_class = d.refobjid)
            ORDER BY 1, 4
            """, [pgArray(referencedOIDs)]
        ).rows.map { row in
            DependentInfo(
                referenced: row[0]!, referencedOID: UInt32(row[1]!)!, referencedColumn: Int(row[2]!)!, dependent: row[3]!,
                dependentObject: row[4]!, dependentOwnerOID: UInt32(row[5] ?? "0") ?? 0, isGeneratedColumnExpression: row[6] == "t")
        }

        var resolved: [String: ResolvedType] = [:]
        if !scope.writtenTypes.isEmpty {
            for row in try connection.query(
                """
                SELECT w, r::oid, format_type(r::oid, NULL)
                FROM unnest($1::text[]) AS w, LATERAL (SELECT to_regtype(w) AS r) AS x
                WHERE r IS NOT NULL
                """, [pgArray(scope.writtenTypes)]
            ).rows {
                resolved[row[0]!] = ResolvedType(written: row[0]!, oid: UInt32(row[1]!)!, name: row[2]!)
            }
        }
        return CatalogSnapshot(
            session: session, schemas: schemas, roles: roles, relations: relations, constraints: constraints, indexes: indexes,
            triggers: triggers, routines: routines, types: types, dependents: dependents, resolvedTypes: resolved,
            sequenceOwners: sequenceOwners)
    }

    /// Session facts: database, role, version and search path.
    public func readSession() throws(PostgresError) -> SessionInfo {
        let row = try connection.query(
            """
            SELECT current_database(), current_user, split_part(current_setting('server_version'), ' ', 1),
                   current_schemas(true)::text[], current_schemas(false)::text[],
                   (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), current_setting('search_path')
            """
        ).rows[0]
        let visible = parsePGArray(row[4]).filter { $0 != "pg_catalog" && !$0.hasPrefix("pg_temp") }
        return SessionInfo(
            database: row[0]!, user: row[1]!, serverVersion: row[2]!, searchPath: parsePGArray(row[3]),
            creationSchema: visible.first, isSuperuser: row[5] == "t", searchPathSetting: row[6])
    }

    /// Routines with the given names, in every schema.
    public func readRoutines(names: Set<String>) throws(PostgresError) -> [RoutineInfo] {
        try connection.query(
            """
            SELECT p.oid, n.nspname, p.proname, p.prokind::text,
                   ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o) ORDER BY o)::text[],
                   ARRAY(SELECT coalesce(p.proargnames[i], '')
                         FROM generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) i
                         WHERE coalesce(p.proargmodes[i], 'i') IN ('i','b','v') ORDER BY i)::text[],
                   pg_get_function_identity_arguments(p.oid), pg_get_function_arguments(p.oid),
                   p.pronargdefaults,
                   ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, o)
                         WHERE o > p.pronargs - p.pronargdefaults ORDER BY o)::text[],
                   format_type(p.prorettype, NULL), p.proretset,
                   ARRAY(SELECT format_type(p.proallargtypes[i], NULL)
                         FROM generate_subscripts(p.proallargtypes, 1) i
                         WHERE p.proargmodes[i] IN ('o','b','t') ORDER BY i)::text[],
                   ARRAY(SELECT coalesce(p.proargnames[i], '')
                         FROM generate_subscripts(p.proallargtypes, 1) i
                         WHERE p.proargmodes[i] IN ('o','b','t') ORDER BY i)::text[],
                   l.lanname, p.prosecdef, coalesce(p.proconfig, '{}')::text[], md5(p.prosrc), length(p.prosrc),
                   pg_get_userbyid(p.proowner), pg_has_role(p.proowner, 'USAGE'), p.oid::regprocedure::text,
                   coalesce(p.proacl::text[], '{}')
            FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace
            JOIN pg_language l ON l.oid = p.prolang
            WHERE p.proname = ANY($1::text[])
            ORDER BY 2, 3, 7
            """, [pgArray(names)]
        ).rows.map { row in
            RoutineInfo(
                oid: UInt32(row[0]!)!, schema: row[1]!, name: row[2]!, kind: row[3]!, inputTypes: parsePGArray(row[4]),
                inputNames: parsePGArray(row[5]), identityArguments: row[6] ?? "", fullArguments: row[7] ?? "",
                defaultCount: Int(row[8]!)!, defaultTypes: parsePGArray(row[9]), returnType: row[10]!, returnsSet: row[11] == "t",
                outputTypes: parsePGArray(row[12]), outputNames: parsePGArray(row[13]), language: row[14]!,
                securityDefiner: row[15] == "t", config: parsePGArray(row[16]), bodyMD5: row[17] ?? "", bodyLength: Int(row[18] ?? "0") ?? 0,
                owner: row[19]!, isOwnedByCurrentRole: row[20] == "t", displaySignature: row[21]!, grants: parsePGArray(row[22]))
        }
    }
}

/// Formats strings as a PostgreSQL text-array literal.
public func pgArray<S: Sequence>(_ values: S) -> String where S.Element == String {
    "{" + values.map { value in
        let escaped = replacingScalar("\"", with: "\\\"", in: replacingScalar("\\", with: "\\\\", in: value))
        return "\"" + escaped + "\""
    }.joined(separator: ",") + "}"
}

/// Parses a one-dimensional PostgreSQL text-array literal (`{a,"b c",NULL}`); NULL elements become "".
/// Works on the UTF-8 bytes: the delimiters are ASCII, and a combining character after a quote cannot hide it.
public func parsePGArray(_ literal: String?) -> [String] {
    guard let literal else { return [] }
    let bytes = Array(literal.utf8)
    guard bytes.count >= 2, bytes.first == 0x7B, bytes.last == 0x7D else { return [] }
    if bytes.count == 2 { return [] }
    var result: [String] = []
    var current: [UInt8] = []
    var inQuotes = false
    var escaped = false
    var wasQuoted = false
    func finish() {
        let isNull = !wasQuoted && current == Array("NULL".utf8)
        result.append(isNull ? "" : String(decoding: current, as: UTF8.self))
    }
    for byte in bytes[1..<(bytes.count - 1)] {
        if escaped {
            current.append(byte)
            escaped = false
        } else if byte == 0x5C {
            escaped = true
        } else if byte == 0x22 {
            inQuotes.toggle()
            wasQuoted = true
        } else if byte == 0x2C && !inQuotes {
            finish()
            current = []
            wasQuoted = false
        } else {
            current.append(byte)
        }
    }
    finish()
    return result
}
