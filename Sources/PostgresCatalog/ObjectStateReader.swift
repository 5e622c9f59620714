import Foundation

/// Tables and configuration rows recorded with a state besides the schema objects.
public struct StateWatchSpec: Sendable, Equatable {
    /// One configuration table: rows `key → value`, optionally only keys with a prefix.
    public struct Config: Sendable, Equatable {
        public var table: String
        public var key: String
        public var value: String
        public var prefix: String?

        public init(table: String, key: String, value: String, prefix: String?) {
            self.table = table
            self.key = key
            self.value = value
            self.prefix = prefix
        }
    }

    /// Qualified table names whose exact row counts are recorded.
    public var tables: [String]
    public var config: [Config]

    public init(tables: [String], config: [Config]) {
        self.tables = tables
        self.config = config
    }
}

/// The objects to (re)capture, by OID; nil arrays mean "all of that kind".
public struct ObjectSelection: Sendable, Equatable {
    public var schemas: [UInt32]
    public var relations: [UInt32]
    public var routines: [UInt32]
    public var types: [UInt32]

    /// When false, `signatures.tsv` holds only the selected routines' lines (for the caller to merge) and
    /// `extensions.sql` and `default-privileges.sql` are not read; when true all three are complete.
    public var completeSummaryFiles: Bool

    public init(schemas: [UInt32] = [], relations: [UInt32] = [], routines: [UInt32] = [], types: [UInt32] = [], completeSummaryFiles: Bool = true) {
        self.schemas = schemas
        self.relations = relations
        self.routines = routines
        self.types = types
        self.completeSummaryFiles = completeSummaryFiles
    }

    public var isEmpty: Bool { schemas.isEmpty && relations.isEmpty && routines.isEmpty && types.isEmpty }

    /// Adds an object by the kind a listing key starts with (`rel`, `proc`, `type`, `schema`); other kinds are ignored.
    mutating func insert(kind: String, oid: UInt32) {
        switch kind {
        case "rel": relations.append(oid)
        case "proc": routines.append(oid)
        case "type": types.append(oid)
        case "schema": schemas.append(oid)
        default: break
        }
    }
}

/// One captured object in a catalog listing: its state path and a fingerprint of every catalog row its text
/// depends on (its own rows, its children's rows and the rows of the objects it references).
public struct ListedObject: Sendable, Equatable {
    public var path: String
    public var fingerprint: String
}

/// Reads the whole user catalog as deterministic DDL, one file per object (path → text), with a handful of
/// set-based queries. Same catalog, same bytes: independent of OIDs, physical order and creation order.
///
/// Layout: `schemas/<schema>.sql`, `<schema>/tables/<t>.sql` (columns, constraints, indexes, triggers, policies,
/// owner, grants, comments), `<schema>/views/<v>.sql`, `<schema>/matviews/<m>.sql`, `<schema>/sequences/<s>.sql`,
/// `<schema>/functions/<name>(<identity args>).sql` (exactly `pg_get_functiondef`, then owner, grants, comment),
/// `<schema>/types/<t>.sql`, `extensions.sql`, `default-privileges.sql`, `signatures.tsv`, and with a watch list
/// `watch/row-counts.tsv` and `watch/config.tsv`. Aggregates are not captured.
public struct ObjectStateReader {
    public let connection: PostgresConnection
    /// The caller's transaction already has the capture settings pinned (`changedInCurrentTransaction(…, pinning:
    /// true)`) and restores them itself (`SettingsRestore`): captures neither pin nor restore.
    public let settingsPinned: Bool

    public init(connection: PostgresConnection, settingsPinned: Bool = false) {
        self.connection = connection
        self.settingsPinned = settingsPinned
    }

    /// The statement that puts back the session settings a capture pinned inside the caller's transaction (run it
    /// before COMMIT: deferred triggers fire there, with the session's own settings).
    public struct SettingsRestore: Sendable {
        public let sql: String
        public let parameters: [String?]
    }

    /// Pins `pinnedSettings` for the rest of the transaction, one row per setting: its position `i`, the value
    /// it had (`saved`), the new one.
    /// Qualified: it runs under whatever search_path the caller's transaction has (a bundle's own), and the capture
    /// queries after it under the pinned, empty one.
    static let pinSQL = """
        SELECT i, pg_catalog.current_setting(n) AS saved, pg_catalog.set_config(n, v, true)
        FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.text[])) WITH ORDINALITY AS s(n, v, i)
        """
    static var pinParameters: [String?] { [pgArray(pinnedSettings.map(\.0)), pgArray(pinnedSettings.map(\.1))] }

    static let setLocallySQL =
        "SELECT pg_catalog.set_config(n, v, true) FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.text[]), pg_catalog.unnest($2::pg_catalog.text[])) WITH ORDINALITY AS s(n, v, i) ORDER BY i"

    /// The parts of the relations `$1::oid[]`, in one query: columns (in attnum order), constraints, indexes that do
    /// not back a constraint, triggers, policies (each by name) and sequence definitions. Every value is text;
    /// booleans are 't'/'f'. Column 1 says which part a row is, 2 the relation.
    static let relationPartsSQL = """
            SELECT 1 AS part, a.attrelid AS rel, a.attnum::integer AS n, ''::text COLLATE "C" AS name,
                   quote_ident(a.attname), format_type(a.atttypid, a.atttypmod),
                   CASE WHEN a.attcollation <> t.typcollation THEN format('%I.%I', cn.nspname, co.collname) END,
                   pg_get_expr(d.adbin, d.adrelid), CASE WHEN a.attnotnull THEN 't' ELSE 'f' END, a.attidentity::text, a.attgenerated::text,
                   (SELECT de.description FROM pg_description de WHERE de.objoid = a.attrelid AND de.classoid = 'pg_class'::regclass AND de.objsubid = a.attnum), a.attacl::text[]::text
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_collation co ON co.oid = a.attcollation
            LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 2, con.conrelid, 0, con.conname::text COLLATE "C", quote_ident(con.conname), pg_get_constraintdef(con.oid), NULL, NULL, NULL, NULL, NULL, NULL, NULL
            FROM pg_constraint con
            WHERE con.conrelid = ANY($1::oid[]) AND con.contype <> 't' AND con.conislocal
            UNION ALL
            SELECT 3, x.indrelid, 0, ic.relname::text COLLATE "C", pg_get_indexdef(x.indexrelid), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
            FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
            WHERE x.indrelid = ANY($1::oid[])
              AND x.indexrelid <> ALL (ARRAY(SELECT con.conindid FROM pg_constraint con WHERE con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x')))
              AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = x.indexrelid)
            UNION ALL
            SELECT 4, tg.tgrelid, 0, tg.tgname::text COLLATE "C", pg_get_triggerdef(tg.oid), tg.tgenabled::text, quote_ident(tg.tgname), NULL, NULL, NULL, NULL, NULL, NULL
            FROM pg_trigger tg
            WHERE tg.tgrelid = ANY($1::oid[]) AND NOT tg.tgisinternal AND tg.tgparentid = 0
            UNION ALL
            SELECT 5, p.polrelid, 0, p.polname::text COLLATE "C", quote_ident(p.polname), CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                   CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                   ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END FROM unnest(p.polroles) r ORDER BY 1)::text[]::text,
                   pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), NULL, NULL, NULL
            FROM pg_policy p WHERE p.polrelid = ANY($1::oid[])
            UNION ALL
            SELECT 6, s.seqrelid, 0, ''::text COLLATE "C", format_type(s.seqtypid, NULL), s.seqstart::text, s.seqincrement::text, s.seqmin::text, s.seqmax::text,
                   s.seqcache::text, CASE WHEN s.seqcycle THEN 't' ELSE 'f' END,
                   (SELECT format('%I.%I.%I', n.nspname, c.relname, a.attname)
                    FROM pg_depend d JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace
                    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i') AND d.refclassid = 'pg_class'::regclass
                    LIMIT 1),
                   NULL
            FROM pg_sequence s WHERE s.seqrelid = ANY($1::oid[])
            ORDER BY 1, 2, 3, 4
            """

    /// The first line of `signatures.tsv`.
    public static let signaturesHeader = "schema\tname\tidentity_args\tfull_args\tbody_md5\tbody_length\tsecurity_definer\tproconfig"

    static let userSchemaFilter = """
        n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
        AND n.nspname <> ALL ($1::text[])
        """

    /// Session settings pinned while capturing, so the text does not depend on the session: with an empty
    /// search_path every name outside pg_catalog is schema-qualified (defaults, view bodies, argument types).
    static let pinnedSettings: [(String, String)] = [
        ("search_path", ""), ("DateStyle", "ISO, YMD"), ("IntervalStyle", "postgres"), ("extra_float_digits", "1"),
        ("bytea_output", "hex"), ("TimeZone", "UTC"),
        // Deparsed names and literals (pg_get_*def, quote_ident, format_type) follow these too.
        ("quote_all_identifiers", "off"), ("standard_conforming_strings", "on"), ("lc_monetary", "C"),
        // Not for the text: the capture's prepared statements are bound once per object kind per bundle, and a
        // custom plan for each bind costs more than running them (catalog queries on `= ANY($1)` plan well generically).
        ("plan_cache_mode", "force_generic_plan"),
    ]

    /// Captures the catalog. `excludedSchemas` are left out (bundle passes its registry schema).
    ///
    /// On an idle connection the capture runs in its own read-only REPEATABLE READ transaction (one consistent
    /// snapshot); inside the caller's transaction it runs there (seeing its uncommitted DDL) and puts the
    /// settings it pinned back afterwards.
    public func capture(excludedSchemas: [String] = [], watch: StateWatchSpec? = nil) throws(PostgresError) -> [String: String] {
        try pinned { () throws(PostgresError) in try captureFiles(excludedSchemas: excludedSchemas, watch: watch, selection: nil) }
    }

    /// Captures the catalog and takes its `CatalogMark` in the same snapshot: the mark then stands for this
    /// capture, and a later equal mark means a new capture would give the same files.
    public func captureMarked(excludedSchemas: [String] = [], watch: StateWatchSpec? = nil) throws(PostgresError) -> (files: [String: String], mark: CatalogMark.Reading) {
        try pinned { () throws(PostgresError) in
            let files = try captureFiles(excludedSchemas: excludedSchemas, watch: watch, selection: nil)
            return (files, try CatalogMark.read(connection))
        }
    }

    /// Captures only the selected objects (plus `signatures.tsv`, `extensions.sql`, `default-privileges.sql` and the watch files, which are
    /// always complete). Used with `listing()` to update a state with what one transaction changed.
    ///
    /// Inside the caller's transaction, `restoringSettings: false` leaves the pinned settings in place (saving a
    /// round trip) for a caller that only commits afterwards; they end with the transaction.
    public func capture(
        excludedSchemas: [String] = [], watch: StateWatchSpec? = nil, only selection: ObjectSelection, restoringSettings: Bool = true
    ) throws(PostgresError) -> [String: String] {
        try pinned(restoring: restoringSettings) { () throws(PostgresError) in
            try captureFiles(excludedSchemas: excludedSchemas, watch: watch, selection: selection)
        }
    }

    /// Runs `body` with the pinned settings, in its own snapshot when the connection is idle.
    private func pinned<T>(restoring: Bool = true, _ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        if settingsPinned && connection.transactionStatus != .idle { return try body() }
        let ownTransaction = connection.transactionStatus == .idle
        if ownTransaction { try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") }
        do {
            // One round trip to remember the current values and pin them (and, later, one to restore them).
            let names = Self.pinnedSettings.map(\.0)
            let saved = try connection.query(Self.pinSQL + " ORDER BY i", Self.pinParameters).rows.map { $0[1] ?? "" }
            let result = try body()
            if ownTransaction {
                try connection.execute("COMMIT")
            } else if restoring {
                try setLocally(names, saved)
            }
            return result
        } catch {
            if ownTransaction { _ = try? connection.execute("ROLLBACK") }
            throw error
        }
    }

    /// `set_config(name, value, true)` for each pair, in one statement.
    private func setLocally(_ names: [String], _ values: [String]) throws(PostgresError) {
        _ = try connection.query(Self.setLocallySQL, [pgArray(names), pgArray(values)])
    }

    private func captureFiles(excludedSchemas: [String], watch: StateWatchSpec?, selection: ObjectSelection?) throws(PostgresError) -> [String: String] {
        let excluded = pgArray(excludedSchemas)
        func only(_ oids: [UInt32]?) -> String? { selection == nil ? nil : pgArray((oids ?? []).map(String.init)) }
        // Separate statements for "all" and "these": each gets a plan that fits (a sequential scan, an index scan).
        let selected: (String) -> String = { column in selection == nil ? "$2::oid[] IS NULL" : "\(column) = ANY($2::oid[])" }
        var files: [String: String] = [:]

        // A selection names objects by kind: kinds it does not name are not queried at all.
        let wantSchemas = selection.map { !$0.schemas.isEmpty } ?? true
        let wantRelations = selection.map { !$0.relations.isEmpty } ?? true
        let wantRoutines = selection.map { !$0.routines.isEmpty } ?? true
        let wantTypes = selection.map { !$0.types.isEmpty } ?? true
        let completeSummaries = selection?.completeSummaryFiles ?? true

        if wantSchemas {
            Self.renderSchemas(try connection.query(Self.schemasSQL(selected), [excluded, only(selection?.schemas)]).rows, into: &files)
        }

        // Relations, then their parts (`relationPartsSQL`).
        let relationsSQL = Self.relationsSQL(selected)
        var relationRows: [[String?]] = []
        var partRows: [[String?]] = []
        if wantRelations, let selected = selection?.relations, !selected.isEmpty {
            // One round trip: the selected relations' parts are read by the same OIDs alongside (rows of relations
            // the first query leaves out are ignored).
            let results = try connection.pipelineResults([
                (relationsSQL, [excluded, only(selected)]), (Self.relationPartsSQL, [pgArray(selected.map(String.init))]),
            ])
            relationRows = results[0].rows
            partRows = results[1].rows
        } else if wantRelations {
            relationRows = try connection.query(relationsSQL, [excluded, only(selection?.relations)]).rows
            if !relationRows.isEmpty { partRows = try connection.query(Self.relationPartsSQL, [pgArray(relationRows.map { $0[0]! })]).rows }
        }
        Self.renderRelations(relationRows, parts: partRows, into: &files)

        // Routines (functions, procedures, window functions).
        var signatures: [String] = []
        if wantRoutines {
            Self.renderRoutines(try connection.query(Self.routinesSQL(selected), [excluded, only(selection?.routines)]).rows, into: &files, signatures: &signatures)
        }
        // signatures.tsv: every routine, or with an incomplete-summaries selection only the selected routines'
        // lines, which the caller merges by their first three columns. Both come from the rows above, except a
        // complete file for a selection, which has its own query (cheap: no definitions are rendered).
        if wantRoutines && (selection == nil || !completeSummaries) {
            files["signatures.tsv"] = Self.signaturesFile(signatures)
        } else if completeSummaries {
            let rows = try connection.query(Self.allSignaturesSQL, [excluded]).rows
            files["signatures.tsv"] = Self.signaturesFile(rows.map { $0.map { $0 ?? "" }.joined(separator: "\t") })
        }

        // Types: enums, domains, composites, ranges.
        if wantTypes {
            Self.renderTypes(try connection.query(Self.typesSQL(selected), [excluded, only(selection?.types)]).rows, into: &files)
        }

        // Extensions and default privileges (whole files: no per-object statement changes them).
        if completeSummaries {
            let extensions = try connection.query(Self.extensionsSQL).rows.map { $0[0]! }
            if !extensions.isEmpty { files["extensions.sql"] = extensions.joined(separator: "\n") + "\n" }
            // Written even when empty: a state without the file was recorded before bundle captured default
            // privileges, and says nothing about them (drift and rollbacks leave them alone).
            let defaults = try connection.query(Self.defaultPrivilegesSQL, [excluded]).rows.map { $0[0]! }
            files[Self.defaultPrivilegesPath] = defaults.sorted(by: bytesPrecede).map { $0 + "\n" }.joined()
        }

        // Watched tables and configuration rows.
        if let watch {
            let queries = Self.watchQueries(watch)
            Self.renderWatch(watch, results: try queries.map { (sql, parameters) throws(PostgresError) in try connection.query(sql, parameters) }, into: &files)
        }
        return files
    }

    // MARK: - The capture's queries and how their rows become files

    static func schemasSQL(_ selected: (String) -> String) -> String {
        """
        SELECT n.nspname, quote_ident(n.nspname), quote_ident(pg_get_userbyid(n.nspowner)), n.nspacl::text[], (SELECT de.description FROM pg_description de WHERE de.objoid = n.oid AND de.classoid = 'pg_namespace'::regclass AND de.objsubid = 0),
               pg_get_userbyid(n.nspowner)
        FROM pg_namespace n
        WHERE \(userSchemaFilter) AND \(selected("n.oid"))
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
        ORDER BY n.nspname COLLATE "C"
        """
    }

    static func renderSchemas(_ rows: [[String?]], into files: inout [String: String]) {
        for row in rows {
            var text = "CREATE SCHEMA \(row[1]!);\nALTER SCHEMA \(row[1]!) OWNER TO \(row[2]!);\n"
            text += grants(acl: row[3], object: "SCHEMA \(row[1]!)", owner: row[5]!, fullOwnerCount: 2, publicByDefault: false)
            if let comment = row[4] { text += "COMMENT ON SCHEMA \(row[1]!) IS \(literal(comment));\n" }
            files["schemas/\(component(row[0]!)).sql"] = text
        }
    }

    static func relationsSQL(_ selected: (String) -> String) -> String {
        """
        SELECT c.oid, n.nspname, c.relname, format('%I.%I', n.nspname, c.relname), c.relkind::text,
               quote_ident(pg_get_userbyid(c.relowner)), c.relacl::text[], (SELECT de.description FROM pg_description de WHERE de.objoid = c.oid AND de.classoid = 'pg_class'::regclass AND de.objsubid = 0),
               c.relrowsecurity, c.relforcerowsecurity,
               CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
               CASE WHEN c.relispartition THEN (SELECT format('%I.%I', pn.nspname, pc.relname) || ' ' || pg_get_expr(c.relpartbound, c.oid)
                    FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                    WHERE i.inhrelid = c.oid) END,
               CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END,
               c.reloptions::text[], pg_get_userbyid(c.relowner)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND \(userSchemaFilter) AND \(selected("c.oid"))
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        """
    }

    /// The files of the relations in `relationRows` (`relationsSQL`), from their parts (`relationPartsSQL`; rows of
    /// other relations are ignored).
    static func renderRelations(_ relationRows: [[String?]], parts partRows: [[String?]], into files: inout [String: String]) {
        struct Relation {
            var schema: String
            var name: String
            var qualified: String
            var kind: String
            var lines: [String] = []
            var columns: [String] = []
            var tail: [String] = []
        }
        var relations: [String: Relation] = [:]
        for row in relationRows {
            let oid = row[0]!
            var relation = Relation(schema: row[1]!, name: row[2]!, qualified: row[3]!, kind: row[4]!)
            let noun = ["r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE"][relation.kind]!
            switch relation.kind {
            case "v":
                relation.lines.append("CREATE OR REPLACE VIEW \(relation.qualified) AS\n\(row[12] ?? "")")
            case "m":
                let definition = (row[12] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                relation.lines.append("CREATE MATERIALIZED VIEW \(relation.qualified) AS\n\(definition.hasSuffix(";") ? String(definition.dropLast()) : definition)\nWITH NO DATA;")
            default:
                break
            }
            if let options = row[13], relation.kind != "S" {
                relation.tail.append("ALTER \(noun) \(relation.qualified) SET (\(parsePGArray(options).joined(separator: ", ")));")
            }
            if row[8] == "t" { relation.tail.append("ALTER TABLE \(relation.qualified) ENABLE ROW LEVEL SECURITY;") }
            if row[9] == "t" { relation.tail.append("ALTER TABLE \(relation.qualified) FORCE ROW LEVEL SECURITY;") }
            if let partition = row[11] {
                let parent = partition.prefix { $0 != " " }
                relation.tail.append("ALTER TABLE \(parent) ATTACH PARTITION \(relation.qualified) \(partition.dropFirst(parent.count + 1));")
            }
            relation.tail.append("ALTER \(noun) \(relation.qualified) OWNER TO \(row[5]!);")
            let fullCount = relation.kind == "S" ? 3 : 7
            relation.tail.append(
                contentsOf: grants(acl: row[6], object: "\(relation.kind == "S" ? "SEQUENCE" : "TABLE") \(relation.qualified)", owner: row[14]!, fullOwnerCount: fullCount, publicByDefault: false)
                    .split(separator: "\n").map(String.init))
            if let comment = row[7] { relation.tail.append("COMMENT ON \(noun) \(relation.qualified) IS \(literal(comment));") }
            if let partKey = row[10] { relation.columns.append("__PARTITION__ \(partKey)") }
            relations[oid] = relation
        }
        for row in partRows {
            guard var relation = relations[row[1]!] else { continue }
            let value = Array(row.dropFirst(4))  // the part's own columns
            switch row[0]! {
            case "1":  // a column
                let name = value[0]!
                if ["r", "p", "f"].contains(relation.kind) {
                    var line = "    \(name) \(value[1]!)"
                    if let collation = value[2] { line += " COLLATE \(collation)" }
                    if value[6] == "s", let expression = value[3] {
                        line += " GENERATED ALWAYS AS (\(expression)) STORED"
                    } else if let expression = value[3] {
                        line += " DEFAULT \(expression)"
                    }
                    if value[4] == "t" { line += " NOT NULL" }
                    if value[5] == "a" { line += " GENERATED ALWAYS AS IDENTITY" }
                    if value[5] == "d" { line += " GENERATED BY DEFAULT AS IDENTITY" }
                    relation.columns.append(line)
                } else if relation.kind == "v" || relation.kind == "m" {
                    if let expression = value[3] { relation.tail.append("ALTER VIEW \(relation.qualified) ALTER COLUMN \(name) SET DEFAULT \(expression);") }
                }
                if let comment = value[7] { relation.tail.append("COMMENT ON COLUMN \(relation.qualified).\(name) IS \(literal(comment));") }
                if let acl = value[8] {
                    relation.tail.append(
                        contentsOf: grants(acl: acl, object: "TABLE \(relation.qualified)", owner: "", fullOwnerCount: 99, publicByDefault: false, column: name)
                            .split(separator: "\n").map(String.init))
                }
            case "2":  // a constraint
                relation.lines.append("ALTER TABLE \(relation.qualified) ADD CONSTRAINT \(value[0]!) \(value[1]!);")
            case "3":  // an index
                relation.lines.append(value[0]! + ";")
            case "4":  // a trigger
                relation.lines.append(value[0]! + ";")
                if value[1] == "D" { relation.lines.append("ALTER TABLE \(relation.qualified) DISABLE TRIGGER \(value[2]!);") }
            case "5":  // a policy
                var line = "CREATE POLICY \(value[0]!) ON \(relation.qualified) AS \(value[1]!) FOR \(value[2]!) TO \(parsePGArray(value[3]).joined(separator: ", "))"
                if let using = value[4] { line += " USING (\(using))" }
                if let check = value[5] { line += " WITH CHECK (\(check))" }
                relation.lines.append(line + ";")
            default:  // "6": a sequence
                var line = "CREATE SEQUENCE \(relation.qualified) AS \(value[0]!) START WITH \(value[1]!) INCREMENT BY \(value[2]!) MINVALUE \(value[3]!) MAXVALUE \(value[4]!) CACHE \(value[5]!)\(value[6] == "t" ? " CYCLE" : " NO CYCLE");"
                if let owned = value[7] { line += "\nALTER SEQUENCE \(relation.qualified) OWNED BY \(owned);" }
                relation.lines.insert(line, at: 0)
            }
            relations[row[1]!] = relation
        }

        for relation in relations.values {
            var text = ""
            if ["r", "p", "f"].contains(relation.kind) {
                let columns = relation.columns.filter { !$0.hasPrefix("__PARTITION__ ") }
                let partition = relation.columns.first { $0.hasPrefix("__PARTITION__ ") }.map { String($0.dropFirst("__PARTITION__ ".count)) }
                text += "CREATE \(relation.kind == "f" ? "FOREIGN TABLE" : "TABLE") \(relation.qualified) (\n" + columns.joined(separator: ",\n") + "\n)"
                text += partition.map { " PARTITION BY \($0)" } ?? ""
                text += ";\n"
            }
            for line in relation.lines { text += line + "\n" }
            for line in relation.tail { text += line + "\n" }
            let folder = ["r": "tables", "p": "tables", "f": "tables", "v": "views", "m": "matviews", "S": "sequences"][relation.kind]!
            files["\(component(relation.schema))/\(folder)/\(component(relation.name)).sql"] = text
        }
    }

    static func routinesSQL(_ selected: (String) -> String) -> String {
        """
        SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid), p.prokind::text,
               format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
               quote_ident(pg_get_userbyid(p.proowner)), p.proacl::text[], (SELECT de.description FROM pg_description de WHERE de.objoid = p.oid AND de.classoid = 'pg_proc'::regclass AND de.objsubid = 0),
               pg_get_function_arguments(p.oid), md5(p.prosrc), length(p.prosrc), p.prosecdef, coalesce(array_to_string(p.proconfig, ','), ''),
               pg_get_userbyid(p.proowner)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prokind IN ('f', 'p', 'w') AND \(userSchemaFilter) AND \(selected("p.oid"))
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        """
    }

    /// The routines' files, and their `signatures.tsv` lines (the same columns `allSignaturesSQL` reads).
    static func renderRoutines(_ rows: [[String?]], into files: inout [String: String], signatures: inout [String]) {
        for row in rows {
            let noun = row[4] == "p" ? "PROCEDURE" : "FUNCTION"
            var text = row[3]!.hasSuffix("\n") ? row[3]! : row[3]! + "\n"
            text = trimmingLineBreaks(text) + ";\n"
            text += "ALTER \(noun) \(row[5]!) OWNER TO \(row[6]!);\n"
            text += grants(acl: row[7], object: "\(noun) \(row[5]!)", owner: row[14]!, fullOwnerCount: 1, publicByDefault: true)
            if let comment = row[8] { text += "COMMENT ON \(noun) \(row[5]!) IS \(literal(comment));\n" }
            files[routinePath(schema: row[0]!, signature: row[1]! + "(" + row[2]! + ")")] = text
            signatures.append(([row[0], row[1], row[2]] + row[9...13]).map { $0 ?? "" }.joined(separator: "\t"))
        }
    }

    static let allSignaturesSQL = """
        SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_arguments(p.oid), md5(p.prosrc),
               length(p.prosrc), p.prosecdef, coalesce(array_to_string(p.proconfig, ','), '')
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prokind IN ('f', 'p', 'w') AND \(userSchemaFilter)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
        """

    static func signaturesFile(_ lines: [String]) -> String {
        ([signaturesHeader] + lines.sorted(by: bytesPrecede)).joined(separator: "\n") + "\n"
    }

    static func typesSQL(_ selected: (String) -> String) -> String {
        """
        SELECT n.nspname, t.typname, format('%I.%I', n.nspname, t.typname), t.typtype::text,
               ARRAY(SELECT quote_literal(e.enumlabel) FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[],
               format_type(t.typbasetype, t.typtypmod), t.typdefault, t.typnotnull,
               ARRAY(SELECT format('CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) FROM pg_constraint c WHERE c.contypid = t.oid ORDER BY c.conname COLLATE "C")::text[],
               ARRAY(SELECT format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) FROM pg_attribute a
                     WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)::text[],
               (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid),
               quote_ident(pg_get_userbyid(t.typowner)), t.typacl::text[], (SELECT de.description FROM pg_description de WHERE de.objoid = t.oid AND de.classoid = 'pg_type'::regclass AND de.objsubid = 0), pg_get_userbyid(t.typowner)
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
          AND \(userSchemaFilter) AND \(selected("t.oid"))
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
        """
    }

    static func renderTypes(_ rows: [[String?]], into files: inout [String: String]) {
        for row in rows {
            let qualified = row[2]!
            var text: String
            switch row[3]! {
            case "e": text = "CREATE TYPE \(qualified) AS ENUM (\(parsePGArray(row[4]).joined(separator: ", ")));\n"
            case "d":
                text = "CREATE DOMAIN \(qualified) AS \(row[5]!)"
                if let value = row[6] { text += " DEFAULT \(value)" }
                if row[7] == "t" { text += " NOT NULL" }
                for constraint in parsePGArray(row[8]) { text += " \(constraint)" }
                text += ";\n"
            case "r": text = "CREATE TYPE \(qualified) AS RANGE (SUBTYPE = \(row[10] ?? "?"));\n"
            default: text = "CREATE TYPE \(qualified) AS (\(parsePGArray(row[9]).joined(separator: ", ")));\n"
            }
            text += "ALTER \(row[3] == "d" ? "DOMAIN" : "TYPE") \(qualified) OWNER TO \(row[11]!);\n"
            text += grants(acl: row[12], object: "\(row[3] == "d" ? "DOMAIN" : "TYPE") \(qualified)", owner: row[14]!, fullOwnerCount: 1, publicByDefault: true)
            if let comment = row[13] { text += "COMMENT ON \(row[3] == "d" ? "DOMAIN" : "TYPE") \(qualified) IS \(literal(comment));\n" }
            files["\(component(row[0]!))/types/\(component(row[1]!)).sql"] = text
        }
    }

    static let extensionsSQL =
        "SELECT format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I VERSION %L;', e.extname, n.nspname, e.extversion) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY e.extname COLLATE \"C\""

    /// The state file of `ALTER DEFAULT PRIVILEGES` (`pg_default_acl`), in every complete capture (empty when there
    /// are none). States recorded by earlier versions of bundle do not have it.
    public static let defaultPrivilegesPath = "default-privileges.sql"

    /// Default privileges as the `ALTER DEFAULT PRIVILEGES` statements that give them, one per role, schema,
    /// object kind, grantee and grant option. An entry for a schema adds to the global defaults, so its ACL is
    /// written as GRANTs; a global entry replaces the built-in defaults (`acldefault`: the owner's privileges,
    /// PUBLIC's EXECUTE on functions and USAGE on types), so it is written as its difference from them, GRANTs and
    /// REVOKEs. Entries for schemas in `$1` are left out.
    static let defaultPrivilegesSQL = """
        WITH d AS (
            SELECT d.defaclrole AS role, d.defaclnamespace AS nsp, d.defaclobjtype AS t, d.defaclacl AS acl
            FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
            WHERE d.defaclnamespace = 0 OR n.nspname <> ALL ($1::text[])
        ), actual AS (
            SELECT d.role, d.nsp, d.t, a.grantee, a.privilege_type AS p, a.is_grantable AS g FROM d, aclexplode(d.acl) a
        ), base AS (
            -- pg_default_acl says 'S' for sequences, acldefault 's' ('S' is a foreign server there).
            SELECT d.role, d.nsp, d.t, x.grantee, x.privilege_type AS p, x.is_grantable AS g
            FROM d, aclexplode(acldefault(CASE d.t WHEN 'S' THEN 's' ELSE d.t END, d.role)) x
            WHERE d.nsp = 0
        ), items AS (
            SELECT 'GRANT' AS action, a.* FROM actual a
            WHERE NOT EXISTS (SELECT FROM base b WHERE a.nsp = 0 AND (b.role, b.t, b.grantee, b.p, b.g) = (a.role, a.t, a.grantee, a.p, a.g))
            UNION ALL
            SELECT 'REVOKE', b.* FROM base b
            WHERE NOT EXISTS (SELECT FROM actual a WHERE a.nsp = 0 AND (a.role, a.t, a.grantee, a.p) = (b.role, b.t, b.grantee, b.p))
        )
        SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s %s %s ON %s %s %s%s;',
            pg_get_userbyid(i.role),
            CASE WHEN i.nsp <> 0 THEN ' IN SCHEMA ' || quote_ident(n.nspname) ELSE '' END,
            i.action, string_agg(i.p, ', ' ORDER BY i.p COLLATE "C"),
            CASE i.t WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END,
            CASE i.action WHEN 'GRANT' THEN 'TO' ELSE 'FROM' END,
            CASE WHEN i.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(i.grantee)) END,
            CASE WHEN i.g THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM items i LEFT JOIN pg_namespace n ON n.oid = i.nsp
        GROUP BY i.role, n.nspname, i.nsp, i.t, i.action, i.grantee, i.g
        """

    /// One query per watched table (its row count), then one per configuration table, in `watch`'s order.
    static func watchQueries(_ watch: StateWatchSpec) -> [(sql: String, parameters: [String?])] {
        watch.tables.sorted().map { ("SELECT count(*) FROM \(qualify($0))", []) }
            + watch.config.map { spec in
                (
                    "SELECT \(quoteIdentifier(spec.key))::text, \(quoteIdentifier(spec.value))::text FROM \(qualify(spec.table)) WHERE \(quoteIdentifier(spec.key))::text LIKE $1 || '%'",
                    [spec.prefix ?? ""]
                )
            }
    }

    /// `watch/row-counts.tsv` and `watch/config.tsv` from the results of `watchQueries`.
    static func renderWatch(_ watch: StateWatchSpec, results: [QueryResult], into files: inout [String: String]) {
        var counts = ["table\trows"]
        for (table, result) in zip(watch.tables.sorted(), results) { counts.append("\(table)\t\(result.rows.first.flatMap { $0[0] } ?? "0")") }
        files["watch/row-counts.tsv"] = counts.joined(separator: "\n") + "\n"
        var config: [String] = []
        for (spec, result) in zip(watch.config, results.dropFirst(watch.tables.count)) {
            for row in result.rows { config.append("\(spec.table)\t\(row[0] ?? "")\t\(row[1] ?? "")") }
        }
        files["watch/config.tsv"] = (["table\tkey\tvalue"] + uniqueSortedByBytes(config)).joined(separator: "\n") + "\n"
    }

    /// Every captured object with its state path and a fingerprint over the xmin of each catalog row its text
    /// depends on: a row written by a transaction gets that transaction's xmin, and a deleted row drops out, so
    /// comparing two listings taken inside one transaction names exactly the objects it changed (and, through
    /// `pg_depend`, those whose text changes because something they reference was renamed). Keys: `rel:OID`,
    /// `proc:OID`, `type:OID`, `schema:OID`.
    public func listing(excludedSchemas: [String] = []) throws(PostgresError) -> [String: ListedObject] {
        try pinned { () throws(PostgresError) in try listObjects(excludedSchemas: excludedSchemas) }
    }

    private func listObjects(excludedSchemas: [String]) throws(PostgresError) -> [String: ListedObject] {
        let excluded = pgArray(excludedSchemas)
        var result: [String: ListedObject] = [:]
        let relations = try connection.query(
            """
            WITH rel AS (
                SELECT c.oid, n.nspname, c.relname, c.relkind, c.xmin::text AS own, n.xmin::text AS nsp
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND \(Self.userSchemaFilter)
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            ), part AS (
                SELECT oid AS rel, 'pg_class'::regclass::oid AS classid, oid AS objid FROM rel
                UNION ALL SELECT conrelid, 'pg_constraint'::regclass, oid FROM pg_constraint WHERE conrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT tgrelid, 'pg_trigger'::regclass, oid FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT ev_class, 'pg_rewrite'::regclass, oid FROM pg_rewrite WHERE ev_class IN (SELECT oid FROM rel)
                UNION ALL SELECT adrelid, 'pg_attrdef'::regclass, oid FROM pg_attrdef WHERE adrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT indrelid, 'pg_class'::regclass, indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT polrelid, 'pg_policy'::regclass, oid FROM pg_policy WHERE polrelid IN (SELECT oid FROM rel)
            ), row_xmin AS (
                SELECT attrelid AS rel, 'a' || attnum || ':' || xmin AS x FROM pg_attribute WHERE attrelid IN (SELECT oid FROM rel) AND attnum > 0
                UNION ALL SELECT adrelid, 'd' || oid || ':' || xmin FROM pg_attrdef WHERE adrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT conrelid, 'c' || oid || ':' || xmin FROM pg_constraint WHERE conrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT x.indrelid, 'i' || x.indexrelid || ':' || x.xmin || ':' || ic.xmin
                    FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid WHERE x.indrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT tgrelid, 't' || oid || ':' || xmin FROM pg_trigger WHERE tgrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT polrelid, 'p' || oid || ':' || xmin FROM pg_policy WHERE polrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT objoid, 'm' || objsubid || ':' || xmin FROM pg_description
                    WHERE classoid = 'pg_class'::regclass AND objoid IN (SELECT oid FROM rel)
                UNION ALL SELECT seqrelid, 's' || xmin FROM pg_sequence WHERE seqrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT ev_class, 'r' || oid || ':' || xmin FROM pg_rewrite WHERE ev_class IN (SELECT oid FROM rel)
                UNION ALL SELECT inhrelid, 'h' || inhparent || ':' || xmin FROM pg_inherits WHERE inhrelid IN (SELECT oid FROM rel)
                UNION ALL SELECT part.rel, 'x' || d.refclassid || ':' || d.refobjid || ':' || d.refobjsubid || ':' || coalesce(
                        CASE d.refclassid
                            WHEN 'pg_class'::regclass THEN (SELECT c.xmin::text || ':' || rn.xmin::text FROM pg_class c
                                                             JOIN pg_namespace rn ON rn.oid = c.relnamespace WHERE c.oid = d.refobjid)
                                || coalesce(':' || (SELECT a.xmin::text FROM pg_attribute a WHERE a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0), '')
                            WHEN 'pg_proc'::regclass THEN (SELECT p.xmin::text || ':' || pn.xmin::text FROM pg_proc p
                                                            JOIN pg_namespace pn ON pn.oid = p.pronamespace WHERE p.oid = d.refobjid)
                            WHEN 'pg_type'::regclass THEN (SELECT t.xmin::text || ':' || tn.xmin::text FROM pg_type t
                                                            JOIN pg_namespace tn ON tn.oid = t.typnamespace WHERE t.oid = d.refobjid)
                            WHEN 'pg_namespace'::regclass THEN (SELECT n.xmin::text FROM pg_namespace n WHERE n.oid = d.refobjid)
                            WHEN 'pg_collation'::regclass THEN (SELECT co.xmin::text FROM pg_collation co WHERE co.oid = d.refobjid)
                        END, '-')
                    FROM part JOIN pg_depend d ON d.classid = part.classid AND d.objid = part.objid
                    WHERE d.deptype IN ('n', 'a')
            ), agg AS (
                SELECT rel, string_agg(x, ',' ORDER BY x) AS parts FROM row_xmin GROUP BY rel
            )
            SELECT rel.oid, rel.nspname, rel.relname, rel.relkind::text,
                   md5(rel.own || '/' || rel.nsp || '/' || coalesce(agg.parts, ''))
            FROM rel LEFT JOIN agg ON agg.rel = rel.oid
            """, [excluded])
        for row in relations.rows {
            let folder = ["r": "tables", "p": "tables", "f": "tables", "v": "views", "m": "matviews", "S": "sequences"][row[3]!] ?? "tables"
            result["rel:\(row[0]!)"] = ListedObject(
                path: "\(Self.component(row[1]!))/\(folder)/\(Self.component(row[2]!)).sql", fingerprint: row[4]!)
        }
        for row in try connection.query(
            """
            SELECT p.oid, n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
                   md5(p.xmin::text || '/' || n.xmin::text || '/'
                       || coalesce((SELECT string_agg(de.xmin::text, ',' ORDER BY de.xmin::text) FROM pg_description de
                                    WHERE de.classoid = 'pg_proc'::regclass AND de.objoid = p.oid), '') || '/'
                       || coalesce((SELECT string_agg(d.refclassid || ':' || d.refobjid || ':' || coalesce(
                                        CASE d.refclassid WHEN 'pg_type'::regclass THEN (SELECT t.xmin::text || ':' || tn.xmin::text FROM pg_type t
                                                                                          JOIN pg_namespace tn ON tn.oid = t.typnamespace WHERE t.oid = d.refobjid)
                                                          WHEN 'pg_namespace'::regclass THEN (SELECT x.xmin::text FROM pg_namespace x WHERE x.oid = d.refobjid) END, '-'),
                                        ',' ORDER BY d.refclassid, d.refobjid)
                                    FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'n'), ''))
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE p.prokind IN ('f', 'p', 'w') AND \(Self.userSchemaFilter)
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
            """, [excluded]
        ).rows {
            result["proc:\(row[0]!)"] = ListedObject(path: Self.routinePath(schema: row[1]!, signature: row[2]!), fingerprint: row[3]!)
        }
        for row in try connection.query(
            """
            SELECT t.oid, n.nspname, t.typname,
                   md5(t.xmin::text || '/' || n.xmin::text || '/'
                       || coalesce((SELECT string_agg(e.oid || ':' || e.xmin, ',' ORDER BY e.oid) FROM pg_enum e WHERE e.enumtypid = t.oid), '') || '/'
                       || coalesce((SELECT string_agg(c.oid || ':' || c.xmin, ',' ORDER BY c.oid) FROM pg_constraint c WHERE c.contypid = t.oid), '') || '/'
                       || coalesce((SELECT string_agg(a.attnum || ':' || a.xmin, ',' ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = t.typrelid AND t.typrelid <> 0), '') || '/'
                       || coalesce((SELECT string_agg(de.xmin::text, ',') FROM pg_description de WHERE de.classoid = 'pg_type'::regclass AND de.objoid = t.oid), '') || '/'
                       || coalesce((SELECT r.xmin::text FROM pg_range r WHERE r.rngtypid = t.oid), '') || '/'
                       || coalesce((SELECT string_agg(d.refobjid || ':' || coalesce((SELECT x.xmin::text FROM pg_type x WHERE x.oid = d.refobjid), '-'), ',' ORDER BY d.refobjid)
                                    FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.refclassid = 'pg_type'::regclass), ''))
            FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
              AND \(Self.userSchemaFilter)
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
            """, [excluded]
        ).rows {
            result["type:\(row[0]!)"] = ListedObject(path: "\(Self.component(row[1]!))/types/\(Self.component(row[2]!)).sql", fingerprint: row[3]!)
        }
        for row in try connection.query(
            """
            SELECT n.oid, n.nspname, md5(n.xmin::text || '/' || coalesce((SELECT string_agg(de.xmin::text, ',') FROM pg_description de
                                                          WHERE de.classoid = 'pg_namespace'::regclass AND de.objoid = n.oid), ''))
            FROM pg_namespace n
            WHERE \(Self.userSchemaFilter)
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
            """, [excluded]
        ).rows {
            result["schema:\(row[0]!)"] = ListedObject(path: "schemas/\(Self.component(row[1]!)).sql", fingerprint: row[2]!)
        }
        return result
    }

    /// The system catalogs `changedInCurrentTransaction` looks in, each with the query for the objects whose rows
    /// there carry the current transaction's id (`me.x`).
    public static var changedCatalogs: Set<String> { Set(changedParts.map(\.catalog)) }

    static let changedParts: [(catalog: String, sql: String)] = [
        ("pg_class", """
            SELECT CASE c.relkind WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'c' THEN 'rowtype' ELSE 'rel' END, c.oid
                    FROM pg_class c WHERE c.oid >= 16384 AND c.xmin = (SELECT x FROM me) AND c.relkind <> 't'
            """),
        ("pg_attribute", "SELECT 'rel', a.attrelid FROM pg_attribute a WHERE a.attrelid >= 16384 AND a.xmin = (SELECT x FROM me) AND a.attnum > 0"),
        ("pg_attrdef", "SELECT 'rel', d.adrelid FROM pg_attrdef d WHERE d.adrelid >= 16384 AND d.xmin = (SELECT x FROM me)"),
        ("pg_constraint", """
            SELECT CASE WHEN k.conrelid <> 0 THEN 'rel' ELSE 'type' END, CASE WHEN k.conrelid <> 0 THEN k.conrelid ELSE k.contypid END
                    FROM pg_constraint k WHERE k.oid >= 16384 AND k.xmin = (SELECT x FROM me)
            """),
        ("pg_index", "SELECT 'rel', i.indrelid FROM pg_index i WHERE i.indrelid >= 16384 AND i.xmin = (SELECT x FROM me)"),
        ("pg_trigger", "SELECT 'rel', t.tgrelid FROM pg_trigger t WHERE t.oid >= 16384 AND t.xmin = (SELECT x FROM me)"),
        ("pg_policy", "SELECT 'rel', p.polrelid FROM pg_policy p WHERE p.oid >= 16384 AND p.xmin = (SELECT x FROM me)"),
        ("pg_description", """
            SELECT CASE de.classoid WHEN 'pg_class'::regclass THEN 'rel' WHEN 'pg_proc'::regclass THEN 'proc'
                                              WHEN 'pg_type'::regclass THEN 'type' WHEN 'pg_namespace'::regclass THEN 'schema' END, de.objoid
                    FROM pg_description de WHERE de.objoid >= 16384 AND de.xmin = (SELECT x FROM me)
                UNION SELECT 'schema', de.objoid FROM pg_namespace n JOIN pg_description de ON de.objoid = n.oid AND de.classoid = 'pg_namespace'::regclass
                    WHERE de.xmin = (SELECT x FROM me)
            """),
        ("pg_sequence", "SELECT 'rel', q.seqrelid FROM pg_sequence q WHERE q.seqrelid >= 16384 AND q.xmin = (SELECT x FROM me)"),
        ("pg_rewrite", "SELECT 'rel', r.ev_class FROM pg_rewrite r WHERE r.oid >= 16384 AND r.xmin = (SELECT x FROM me)"),
        ("pg_inherits", "SELECT 'rel', h.inhrelid FROM pg_inherits h WHERE h.inhrelid >= 16384 AND h.xmin = (SELECT x FROM me)"),
        ("pg_proc", "SELECT 'proc', p.oid FROM pg_proc p WHERE p.oid >= 16384 AND p.xmin = (SELECT x FROM me)"),
        ("pg_type", "SELECT 'type', t.oid FROM pg_type t WHERE t.oid >= 16384 AND t.xmin = (SELECT x FROM me)"),
        ("pg_enum", "SELECT 'type', e.enumtypid FROM pg_enum e WHERE e.oid >= 16384 AND e.xmin = (SELECT x FROM me)"),
        ("pg_range", "SELECT 'type', g.rngtypid FROM pg_range g WHERE g.rngtypid >= 16384 AND g.xmin = (SELECT x FROM me)"),
        ("pg_namespace", "SELECT 'schema', n.oid FROM pg_namespace n WHERE n.xmin = (SELECT x FROM me)"),
    ]

    /// The objects whose catalog rows the current transaction wrote (created or changed in place), found by
    /// scanning the catalogs for rows whose xmin is this transaction's id: the cost follows the catalog tables'
    /// size in rows but renders nothing, unlike `listing()`. Removed objects leave no row behind, and objects that
    /// merely refer to a changed one are not included: use it only when the transaction cannot have dropped,
    /// renamed or moved anything (`SQLStatement.onlyAddsOrChangesInPlace`), and not across savepoints (rows
    /// written under a subtransaction carry its own id). The selection's summary files are incomplete.
    /// Only user objects are looked at (OIDs from FirstNormalObjectId, 16384, on, through the OID indexes, plus
    /// every schema, as `public` is older).
    ///
    /// `catalogs` limits the search to those system catalogs (`changedCatalogs` names them), for a transaction
    /// whose statements can only have written there (`SQLStatement.catalogsWritten`); nil searches them all.
    public func changedInCurrentTransaction(catalogs: Set<String>? = nil) throws(PostgresError) -> ObjectSelection {
        try changedInCurrentTransaction(catalogs: catalogs, pinning: false).selection
    }

    /// `changedInCurrentTransaction(catalogs:)` that also pins the capture settings in the same round trip, for
    /// captures by an `ObjectStateReader(connection:settingsPinned: true)`; returns the statement that restores them.
    ///
    /// The pin is a statement of its own, sent first: the search is then parsed and planned under the pinned,
    /// empty search_path, not under one the caller's transaction set (a bundle's `SET search_path = s, pg_catalog`
    /// would otherwise hand its operators and functions to whoever can create objects in `s`). Without `pinning`
    /// the search pins and restores the settings around itself.
    public func changedInCurrentTransaction(
        catalogs: Set<String>?, pinning: Bool
    ) throws(PostgresError) -> (selection: ObjectSelection, restore: SettingsRestore?) {
        let searches = Self.changedParts.contains { catalogs?.contains($0.catalog) ?? true }
        guard pinning else {
            guard searches else { return (ObjectSelection(completeSummaryFiles: false), nil) }
            let selection = try pinned { () throws(PostgresError) in Self.changed(from: try connection.query(Self.changedSQL(catalogs: catalogs))) }
            return (selection, nil)
        }
        var statements = [(sql: Self.pinSQL + " ORDER BY i", parameters: Self.pinParameters)]
        if searches { statements.append((Self.changedSQL(catalogs: catalogs), [])) }
        let results = try connection.pipelineResults(statements)
        let saved = results[0].rows.map { $0[1] ?? "" }
        let selection = searches ? Self.changed(from: results[1]) : ObjectSelection(completeSummaryFiles: false)
        return (selection, SettingsRestore(sql: Self.setLocallySQL, parameters: [pgArray(Self.pinnedSettings.map(\.0)), pgArray(saved)]))
    }

    /// The query behind `changedInCurrentTransaction`: (kind, OID) for each changed object. Its result columns
    /// are typed by qualified names: it may be prepared under a search_path other than the one it runs under.
    static func changedSQL(catalogs: Set<String>?) -> String {
        let parts = changedParts.filter { catalogs?.contains($0.catalog) ?? true }.map(\.sql)
        return """
            WITH me AS (SELECT pg_catalog.pg_current_xact_id()::pg_catalog.xid AS x),
            touched(kind, oid) AS (
                \(parts.joined(separator: "\n    UNION "))
            ),
            owner(kind, oid) AS (
                SELECT kind, oid FROM touched WHERE kind IN ('rel', 'proc', 'type', 'schema')
                UNION SELECT 'rel', i.indrelid FROM touched JOIN pg_index i ON i.indexrelid = touched.oid WHERE kind = 'index'
                UNION SELECT 'type', c.reltype FROM touched JOIN pg_class c ON c.oid = touched.oid WHERE kind = 'rowtype'
            )
            -- Only objects of the kinds a capture renders (not toast tables, row types, array types, aggregates).
            SELECT 'rel'::pg_catalog.text, c.oid::pg_catalog.text FROM owner JOIN pg_class c ON c.oid = owner.oid
                WHERE owner.kind = 'rel' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
            UNION ALL SELECT 'proc', p.oid::pg_catalog.text FROM owner JOIN pg_proc p ON p.oid = owner.oid
                WHERE owner.kind = 'proc' AND p.prokind IN ('f', 'p', 'w')
            UNION ALL SELECT 'type', t.oid::pg_catalog.text FROM owner JOIN pg_type t ON t.oid = owner.oid
                WHERE owner.kind = 'type'
                  AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
            UNION ALL SELECT 'schema', oid::pg_catalog.text FROM owner WHERE kind = 'schema'
            """
    }

    /// The selection from the rows of `changedSQL`.
    static func changed(from result: QueryResult) -> ObjectSelection {
        var selection = ObjectSelection(completeSummaryFiles: false)
        for row in result.rows {
            guard let kind = row[0], let text = row[1], let oid = UInt32(text) else { continue }
            selection.insert(kind: kind, oid: oid)
        }
        return selection
    }

    /// The state paths of the routines called one of `names` (any user schema, any arguments), by OID. CREATE OR
    /// REPLACE FUNCTION keeps a routine's OID but may give it a new path: it may name parameters that had no
    /// name, which changes its identity arguments. Comparing this before and after a bundle finds such moves.
    public func routinePaths(named names: [String]) throws(PostgresError) -> [UInt32: String] {
        try pinned { () throws(PostgresError) in
            var paths: [UInt32: String] = [:]
            for row in try connection.query(
                """
                SELECT p.oid, n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE p.proname = ANY($1::text[]) AND p.prokind IN ('f', 'p', 'w') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                """, [pgArray(names)]
            ).rows {
                guard let oid = UInt32(row[0] ?? "") else { continue }
                paths[oid] = Self.routinePath(schema: row[1]!, signature: row[2]!)
            }
            return paths
        }
    }

    /// The selection of the objects whose listing entries differ between `before` and `after` (added or changed).
    public static func selection(changedFrom before: [String: ListedObject], to after: [String: ListedObject]) -> ObjectSelection {
        var selection = ObjectSelection()
        for (key, object) in after where before[key] != object {
            let parts = key.split(separator: ":")
            guard parts.count == 2, let oid = UInt32(parts[1]) else { continue }
            selection.insert(kind: String(parts[0]), oid: oid)
        }
        return selection
    }

    /// A quoted name's inside with each doubled `"` made single again (scalar by scalar, see `replacingScalar`).
    public static func undoublingQuotes(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var previousWasQuote = false
        for scalar in text.unicodeScalars {
            if scalar == "\"" && previousWasQuote {
                previousWasQuote = false
                continue
            }
            previousWasQuote = scalar == "\""
            out.append(scalar)
        }
        return String(out)
    }

    static let privilegeLetters: [Character: String] = [
        "r": "SELECT", "w": "UPDATE", "a": "INSERT", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES", "t": "TRIGGER", "X": "EXECUTE",
        "U": "USAGE", "C": "CREATE", "c": "CONNECT", "T": "TEMPORARY", "s": "SET", "A": "ALTER SYSTEM",
    ]

    /// `text` without leading and trailing line breaks (the characters of `CharacterSet.newlines`), without
    /// Foundation's trimming, which goes through UTF-16 (it was a tenth of a whole capture's time).
    static func trimmingLineBreaks(_ text: String) -> String {
        func isBreak(_ scalar: Unicode.Scalar) -> Bool {
            (0x0A...0x0D).contains(scalar.value) || scalar.value == 0x85 || scalar.value == 0x2028 || scalar.value == 0x2029
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isBreak($0) }), let last = scalars.lastIndex(where: { !isBreak($0) }) else { return "" }
        if first == scalars.startIndex && scalars.index(after: last) == scalars.endIndex { return text }
        return String(scalars[first...last])
    }

    /// GRANT statements from an ACL (`aclitem[]` as text). NULL means default privileges: nothing is written. The
    /// owner's full default privileges are implied; a missing default PUBLIC privilege is written as a REVOKE.
    static func grants(acl: String?, object: String, owner: String, fullOwnerCount: Int, publicByDefault: Bool, column: String? = nil) -> String {
        guard let acl else { return "" }
        let letters = Self.privilegeLetters
        var lines: [String] = []
        var publicSeen = false
        for item in parsePGArray(acl) {
            guard let equals = item.firstIndex(of: "="), let slash = item.lastIndex(of: "/") else { continue }
            let grantee = String(item[..<equals])
            let privileges = item[item.index(after: equals)..<slash]
            if grantee.isEmpty { publicSeen = true }
            var plain: [String] = []
            var withOption: [String] = []
            var index = privileges.startIndex
            while index < privileges.endIndex {
                let letter = privileges[index]
                let next = privileges.index(after: index)
                let grantable = next < privileges.endIndex && privileges[next] == "*"
                if let name = letters[letter] { (grantable ? { withOption.append(name) } : { plain.append(name) })() }
                index = grantable ? privileges.index(after: next) : next
            }
            let unquoted = grantee.hasPrefix("\"") ? Self.undoublingQuotes(String(grantee.unicodeScalars.dropFirst().dropLast())) : grantee
            if column == nil && sameBytes(unquoted, owner) && plain.count + withOption.count == fullOwnerCount && withOption.isEmpty { continue }
            // PUBLIC's default privilege (EXECUTE on routines, USAGE on types) is implied, as for a NULL ACL.
            if column == nil && grantee.isEmpty && publicByDefault && plain.count == 1 && withOption.isEmpty { continue }
            let role = grantee.isEmpty ? "PUBLIC" : quoteIdentifier(unquoted)
            let columnPart = column.map { " (\($0))" } ?? ""
            if !plain.isEmpty { lines.append("GRANT \(plain.sorted().map { $0 + columnPart }.joined(separator: ", ")) ON \(object) TO \(role);") }
            if !withOption.isEmpty {
                lines.append("GRANT \(withOption.sorted().map { $0 + columnPart }.joined(separator: ", ")) ON \(object) TO \(role) WITH GRANT OPTION;")
            }
        }
        lines.sort(by: bytesPrecede)
        if publicByDefault && !publicSeen && column == nil { lines.insert("REVOKE ALL ON \(object) FROM PUBLIC;", at: 0) }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// The state path of a routine: `<schema>/functions/<name>(<identity arguments>).sql`.
    static func routinePath(schema: String, signature: String) -> String {
        "\(component(schema))/functions/\(component(signature)).sql"
    }

    /// A file-name component: the raw name with '%', '/', control characters and a leading '.' percent-encoded.
    ///
    /// A name that is not in Unicode NFC also has its non-ASCII characters escaped (as their UTF-8 bytes): paths
    /// are `String` keys, which Swift compares by canonical equivalence, and PostgreSQL allows both "é" (U+00E9)
    /// and "é" (e + U+0301) as distinct names. The NFC form keeps its characters.
    public static func component(_ name: String) -> String {
        let ascii = name.utf8.allSatisfy { $0 < 0x80 }
        if name.utf8.first != 0x2E, name.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F && $0 != 0x25 && $0 != 0x2F }),
            ascii || sameBytes(name, name.precomposedStringWithCanonicalMapping)
        {
            return name
        }
        let escapeNonASCII = !ascii && !sameBytes(name, name.precomposedStringWithCanonicalMapping)
        var out = ""
        for (offset, scalar) in name.unicodeScalars.enumerated() {
            if scalar == "%" || scalar == "/" || scalar.value < 0x20 || scalar.value == 0x7F || (offset == 0 && scalar == ".") {
                out += String(format: "%%%02X", scalar.value)
            } else if escapeNonASCII && scalar.value >= 0x80 {
                for byte in String(scalar).utf8 { out += String(format: "%%%02X", byte) }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func literal(_ text: String) -> String {
        "'" + replacingScalar("'", with: "''", in: text) + "'"
    }

    /// `schema.table` (as written in a watch list) quoted for SQL.
    static func qualify(_ name: String) -> String {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        return parts.map(quoteIdentifier).joined(separator: ".")
    }
}
