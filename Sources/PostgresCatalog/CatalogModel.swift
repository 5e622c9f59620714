import Foundation

/// Facts about the session the catalog was read with.
public struct SessionInfo: Sendable, Equatable {
    public var database: String
    public var user: String
    public var serverVersion: String
    /// `current_schemas(true)`: the effective search path, pg_catalog included.
    public var searchPath: [String]
    /// The schema new unqualified objects are created in (first existing schema of the search path that is not
    /// pg_catalog or pg_temp), nil when there is none.
    public var creationSchema: String?
    public var isSuperuser: Bool
    /// `search_path` as set (`current_setting`), e.g. `"$user", public` (`""` or empty: no schema): what SET
    /// search_path TO DEFAULT and RESET go back to. Nil when unknown.
    public var searchPathSetting: String?

    public init(
        database: String, user: String, serverVersion: String, searchPath: [String], creationSchema: String?, isSuperuser: Bool,
        searchPathSetting: String? = nil
    ) {
        self.searchPathSetting = searchPathSetting
        self.database = database
        self.user = user
        self.serverVersion = serverVersion
        self.searchPath = searchPath
        self.creationSchema = creationSchema
        self.isSuperuser = isSuperuser
    }
}

/// A schema and what the current role may do in it.
public struct SchemaInfo: Sendable, Equatable {
    public var name: String
    public var owner: String
    public var canCreate: Bool
    public var canUse: Bool

    public init(name: String, owner: String, canCreate: Bool, canUse: Bool) {
        self.name = name
        self.owner = owner
        self.canCreate = canCreate
        self.canUse = canUse
    }
}

/// One column of a table or view.
public struct ColumnInfo: Sendable, Equatable {
    public var name: String
    public var position: Int
    /// `format_type(atttypid, atttypmod)`, e.g. `character varying(20)`.
    public var type: String
    public var typeOID: UInt32
    public var typmod: Int
    public var notNull: Bool
    public var hasDefault: Bool
    /// "" , "s" (stored generated).
    public var generated: String
    /// Collation name when it differs from the type's default, else nil.
    public var collation: String?
    /// `attidentity`: "" , "a" (GENERATED ALWAYS), "d" (BY DEFAULT).
    public var identity: String

    public init(
        name: String, position: Int, type: String, typeOID: UInt32, typmod: Int, notNull: Bool, hasDefault: Bool, generated: String, collation: String?,
        identity: String = ""
    ) {
        self.identity = identity
        self.name = name
        self.position = position
        self.type = type
        self.typeOID = typeOID
        self.typmod = typmod
        self.notNull = notNull
        self.hasDefault = hasDefault
        self.generated = generated
        self.collation = collation
    }
}

/// A table, view, sequence, index, …
public struct RelationInfo: Sendable, Equatable {
    public var oid: UInt32
    public var schema: String
    public var name: String
    /// `pg_class.relkind`: r table, v view, m materialized view, i index, S sequence, p partitioned table, f foreign, c composite, I partitioned index.
    public var kind: String
    public var owner: String
    public var isOwnedByCurrentRole: Bool
    public var estimatedRows: Double
    public var totalBytes: Int64
    public var columns: [ColumnInfo]

    /// `schema.name`, quoted where needed.
    public var qualifiedName: String { "\(quoteIdentifier(schema)).\(quoteIdentifier(name))" }

    public init(oid: UInt32, schema: String, name: String, kind: String, owner: String, isOwnedByCurrentRole: Bool, estimatedRows: Double, totalBytes: Int64, columns: [ColumnInfo]) {
        self.oid = oid
        self.schema = schema
        self.name = name
        self.kind = kind
        self.owner = owner
        self.isOwnedByCurrentRole = isOwnedByCurrentRole
        self.estimatedRows = estimatedRows
        self.totalBytes = totalBytes
        self.columns = columns
    }
}

/// A table constraint.
public struct ConstraintInfo: Sendable, Equatable {
    public var name: String
    public var schema: String
    public var table: String
    /// `c` check, `f` foreign key, `p` primary key, `u` unique, `t` trigger, `x` exclusion.
    public var type: String
    /// The index that implements it (unique, primary key, exclusion), if any; for a foreign key, the referenced
    /// table's unique index it depends on.
    public var indexName: String?
    public var columns: [String]
    public var definition: String
    /// For a foreign key: the schema and name of the referenced table.
    public var referencedSchema: String?
    public var referencedTable: String?
    /// A partition's copy of its parent's constraint (`conparentid` set): it comes and goes with the parent's.
    public var isInherited: Bool

    public init(
        name: String, schema: String, table: String, type: String, indexName: String?, columns: [String], definition: String,
        referencedSchema: String? = nil, referencedTable: String? = nil, isInherited: Bool = false
    ) {
        self.isInherited = isInherited
        self.name = name
        self.schema = schema
        self.table = table
        self.type = type
        self.indexName = indexName
        self.columns = columns
        self.definition = definition
        self.referencedSchema = referencedSchema
        self.referencedTable = referencedTable
    }
}

/// An index.
public struct IndexInfo: Sendable, Equatable {
    public var schema: String
    public var name: String
    public var table: String
    public var isUnique: Bool
    public var isPrimary: Bool
    /// Key column names (expressions appear as nil and are left out).
    public var columns: [String]
    /// The constraint that owns the index, if any.
    public var constraint: String?

    public init(schema: String, name: String, table: String, isUnique: Bool, isPrimary: Bool, columns: [String], constraint: String?) {
        self.schema = schema
        self.name = name
        self.table = table
        self.isUnique = isUnique
        self.isPrimary = isPrimary
        self.columns = columns
        self.constraint = constraint
    }
}

/// A trigger.
public struct TriggerInfo: Sendable, Equatable {
    public var schema: String
    public var table: String
    public var name: String
    public var isInternal: Bool
    public var isConstraint: Bool
    public var function: String
    /// Whether the trigger is enabled, `INITIALLY DEFERRED` and has no WHEN condition: every row event it fires on
    /// stays queued until COMMIT (or `SET CONSTRAINTS … IMMEDIATE`). Foreign keys declared `DEFERRABLE INITIALLY
    /// DEFERRED` have such internal triggers.
    public var isAlwaysDeferred: Bool
    /// `pg_trigger.tgtype` (bits: 4 INSERT, 8 DELETE, 16 UPDATE, 32 TRUNCATE).
    public var eventBits: Int

    public init(schema: String, table: String, name: String, isInternal: Bool, isConstraint: Bool, function: String, isAlwaysDeferred: Bool = false, eventBits: Int = 0) {
        self.schema = schema
        self.table = table
        self.name = name
        self.isInternal = isInternal
        self.isConstraint = isConstraint
        self.function = function
        self.isAlwaysDeferred = isAlwaysDeferred
        self.eventBits = eventBits
    }
}

/// A function, procedure, aggregate or window function.
public struct RoutineInfo: Sendable, Equatable {
    public var oid: UInt32
    public var schema: String
    public var name: String
    /// `f` function, `p` procedure, `a` aggregate, `w` window.
    public var kind: String
    /// Input argument types (IN, INOUT, VARIADIC) as `format_type` names, e.g. `["uuid", "text"]`.
    public var inputTypes: [String]
    /// Names of the input arguments ("" when unnamed).
    public var inputNames: [String]
    /// `pg_get_function_identity_arguments`.
    public var identityArguments: String
    /// `pg_get_function_arguments` (with defaults).
    public var fullArguments: String
    /// Number of trailing input arguments with defaults.
    public var defaultCount: Int
    /// The type of each default expression, in order (for the last `defaultCount` inputs).
    public var defaultTypes: [String]
    /// `format_type(prorettype)`, e.g. `jsonb`, `trigger`, `record`, `void`.
    public var returnType: String
    public var returnsSet: Bool
    /// Output argument (OUT, INOUT, TABLE) types and names, in order.
    public var outputTypes: [String]
    public var outputNames: [String]
    public var language: String
    public var securityDefiner: Bool
    /// `proconfig`, e.g. `["search_path=pg_catalog, public"]`.
    public var config: [String]
    public var bodyMD5: String
    public var bodyLength: Int
    public var owner: String
    public var isOwnedByCurrentRole: Bool
    /// `oid::regprocedure::text`: the form PostgreSQL prints in messages (schema shown only when not visible).
    public var displaySignature: String
    /// `proacl` entries (`role=X/grantor`); empty when the routine has default privileges.
    public var grants: [String] = []

    /// `schema.name(type,type)`: the stable identity bundle uses in reports.
    public var identity: String { "\(schema).\(name)(\(inputTypes.joined(separator: ",")))" }

    public init(oid: UInt32, schema: String, name: String, kind: String, inputTypes: [String], inputNames: [String], identityArguments: String, fullArguments: String, defaultCount: Int, defaultTypes: [String], returnType: String, returnsSet: Bool, outputTypes: [String], outputNames: [String], language: String, securityDefiner: Bool, config: [String], bodyMD5: String, bodyLength: Int, owner: String, isOwnedByCurrentRole: Bool, displaySignature: String, grants: [String] = []) {
        self.grants = grants
        self.oid = oid
        self.schema = schema
        self.name = name
        self.kind = kind
        self.inputTypes = inputTypes
        self.inputNames = inputNames
        self.identityArguments = identityArguments
        self.fullArguments = fullArguments
        self.defaultCount = defaultCount
        self.defaultTypes = defaultTypes
        self.returnType = returnType
        self.returnsSet = returnsSet
        self.outputTypes = outputTypes
        self.outputNames = outputNames
        self.language = language
        self.securityDefiner = securityDefiner
        self.config = config
        self.bodyMD5 = bodyMD5
        self.bodyLength = bodyLength
        self.owner = owner
        self.isOwnedByCurrentRole = isOwnedByCurrentRole
        self.displaySignature = displaySignature
    }
}

/// A type (base, enum, domain, composite, …).
public struct TypeInfo: Sendable, Equatable {
    public var oid: UInt32
    public var schema: String
    public var name: String
    /// `pg_type.typtype`: b base, c composite, d domain, e enum, p pseudo, r range, m multirange.
    public var kind: String
    public var enumLabels: [String]

    public init(oid: UInt32, schema: String, name: String, kind: String, enumLabels: [String]) {
        self.oid = oid
        self.schema = schema
        self.name = name
        self.kind = kind
        self.enumLabels = enumLabels
    }
}

/// One object that depends on another (from `pg_depend`, normal dependencies).
public struct DependentInfo: Sendable, Equatable {
    /// The object depended on: `pg_describe_object` of it, e.g. `table iu_core.t`.
    public let referenced: String
    public let referencedOID: UInt32
    /// Column number when the dependency is on a column (0 for the whole object).
    public let referencedColumn: Int
    /// `pg_describe_object` of the dependent as PostgreSQL names it in DETAIL lines, e.g. `rule _RETURN on view v`,
    /// `constraint b_a_fkey on table b`, `function f(integer)`.
    public let dependent: String
    /// The dependent with rewrite rules replaced by their view, e.g. `view v` (as DROP's DETAIL prints it).
    public let dependentObject: String
    /// The relation the dependent belongs to (its view, its constraint's, trigger's or generated column's table), or
    /// the object itself.
    public let dependentOwnerOID: UInt32
    /// The dependent is the expression of a generated column (`dependentObject` is then `column g of table t`).
    public let isGeneratedColumnExpression: Bool

    public init(referenced: String, referencedOID: UInt32, referencedColumn: Int, dependent: String, dependentObject: String, dependentOwnerOID: UInt32, isGeneratedColumnExpression: Bool = false) {
        self.referenced = referenced
        self.referencedOID = referencedOID
        self.referencedColumn = referencedColumn
        self.dependent = dependent
        self.dependentObject = dependentObject
        self.dependentOwnerOID = dependentOwnerOID
        self.isGeneratedColumnExpression = isGeneratedColumnExpression
    }

    /// For a generated column's expression: the generated column's name (from `column g of table t`).
    public var generatedColumnName: String? {
        guard isGeneratedColumnExpression, dependentObject.hasPrefix("column "), let range = dependentObject.range(of: " of ", options: .backwards)
        else { return nil }
        return String(dependentObject[dependentObject.index(dependentObject.startIndex, offsetBy: 7)..<range.lowerBound])
    }
}

/// A resolved type name.
public struct ResolvedType: Sendable, Equatable {
    /// The name as written in the bundle (deparsed).
    public var written: String
    public var oid: UInt32
    /// `format_type(oid, NULL)`.
    public var name: String

    public init(written: String, oid: UInt32, name: String) {
        self.written = written
        self.oid = oid
        self.name = name
    }
}

/// Quotes an identifier the way `quote_ident` does.
public func quoteIdentifier(_ name: String) -> String {
    let plain = !name.isEmpty
        && name.unicodeScalars.first.map { ($0 >= "a" && $0 <= "z") || $0 == "_" } == true
        && name.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
        && !reservedKeywords.contains(name)
    return plain ? name : "\"" + replacingScalar("\"", with: "\"\"", in: name) + "\""
}

/// `text` with every `scalar` replaced by `replacement`, scalar by scalar. (String's own replacing works on
/// characters: a quote followed by a combining mark is one character and would be left alone, yet the server
/// sees a quote.)
public func replacingScalar(_ scalar: Unicode.Scalar, with replacement: String, in text: String) -> String {
    guard text.unicodeScalars.contains(scalar) else { return text }
    var out = String.UnicodeScalarView()
    for each in text.unicodeScalars {
        if each == scalar { out.append(contentsOf: replacement.unicodeScalars) } else { out.append(each) }
    }
    return String(out)
}

/// PostgreSQL's reserved (and type/function-name) keywords that `quote_ident` quotes.
let reservedKeywords: Set<String> = [
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between", "bigint",
    "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce", "collate", "collation",
    "column", "concurrently", "constraint", "create", "cross", "current_catalog", "current_date", "current_role",
    "current_schema", "current_time", "current_timestamp", "current_user", "dec", "decimal", "default", "deferrable",
    "desc", "distinct", "do", "else", "end", "except", "exists", "extract", "false", "fetch", "float", "for", "foreign",
    "freeze", "from", "full", "grant", "greatest", "group", "grouping", "having", "ilike", "in", "initially", "inner",
    "inout", "int", "integer", "intersect", "interval", "into", "is", "isnull", "join", "json", "lateral", "leading",
    "least", "left", "like", "limit", "localtime", "localtimestamp", "national", "natural", "nchar", "none", "normalize",
    "not", "notnull", "null", "nullif", "numeric", "offset", "on", "only", "or", "order", "out", "outer", "overlaps",
    "overlay", "placing", "position", "precision", "primary", "real", "references", "returning", "right", "row",
    "select", "session_user", "setof", "similar", "smallint", "some", "substring", "symmetric", "table", "tablesample",
    "then", "time", "timestamp", "to", "trailing", "treat", "trim", "true", "union", "unique", "user", "using", "values",
    "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement",
    "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
]
