import Foundation

/// Facts about the session the catalog was read with.
public struct SessionInfo: Sendable, Equatable {
    public let database: String
    public let user: String
    public let serverVersion: String
    /// `current_schemas(true)`: the effective search path, pg_catalog included.
    public let searchPath: [String]
    /// The schema new unqualified objects are created in (first existing schema of the search path that is not
    /// pg_catalog or pg_temp), nil when there is none.
    public let creationSchema: String?
    public let isSuperuser: Bool
}

/// A schema and what the current role may do in it.
public struct SchemaInfo: Sendable, Equatable {
    public let name: String
    public let owner: String
    public let canCreate: Bool
    public let canUse: Bool
}

/// One column of a table or view.
public struct ColumnInfo: Sendable, Equatable {
    public let name: String
    public let position: Int
    /// `format_type(atttypid, atttypmod)`, e.g. `character varying(20)`.
    public let type: String
    public let typeOID: UInt32
    public let typmod: Int
    public let notNull: Bool
    public let hasDefault: Bool
    /// "" , "s" (stored generated).
    public let generated: String
    /// Collation name when it differs from the type's default, else nil.
    public let collation: String?
}

/// A table, view, sequence, index, …
public struct RelationInfo: Sendable, Equatable {
    public let oid: UInt32
    public let schema: String
    public let name: String
    /// `pg_class.relkind`: r table, v view, m materialized view, i index, S sequence, p partitioned table, f foreign, c composite, I partitioned index.
    public let kind: String
    public let owner: String
    public let isOwnedByCurrentRole: Bool
    public let estimatedRows: Double
    public let totalBytes: Int64
    public var columns: [ColumnInfo]

    /// `schema.name`, quoted where needed.
    public var qualifiedName: String { "\(quoteIdentifier(schema)).\(quoteIdentifier(name))" }
}

/// A table constraint.
public struct ConstraintInfo: Sendable, Equatable {
    public let name: String
    public let schema: String
    public let table: String
    /// `c` check, `f` foreign key, `p` primary key, `u` unique, `t` trigger, `x` exclusion.
    public let type: String
    /// The index that implements it (unique, primary key, exclusion), if any.
    public let indexName: String?
    public let columns: [String]
    public let definition: String
}

/// An index.
public struct IndexInfo: Sendable, Equatable {
    public let schema: String
    public let name: String
    public let table: String
    public let isUnique: Bool
    public let isPrimary: Bool
    /// Key column names (expressions appear as nil and are left out).
    public let columns: [String]
    /// The constraint that owns the index, if any.
    public let constraint: String?
}

/// A trigger.
public struct TriggerInfo: Sendable, Equatable {
    public let schema: String
    public let table: String
    public let name: String
    public let isInternal: Bool
    public let isConstraint: Bool
    public let function: String
}

/// A function, procedure, aggregate or window function.
public struct RoutineInfo: Sendable, Equatable {
    public let oid: UInt32
    public let schema: String
    public let name: String
    /// `f` function, `p` procedure, `a` aggregate, `w` window.
    public let kind: String
    /// Input argument types (IN, INOUT, VARIADIC) as `format_type` names, e.g. `["uuid", "text"]`.
    public let inputTypes: [String]
    /// Names of the input arguments ("" when unnamed).
    public let inputNames: [String]
    /// `pg_get_function_identity_arguments`.
    public let identityArguments: String
    /// `pg_get_function_arguments` (with defaults).
    public let fullArguments: String
    /// Number of trailing input arguments with defaults.
    public let defaultCount: Int
    /// The type of each default expression, in order (for the last `defaultCount` inputs).
    public let defaultTypes: [String]
    /// `format_type(prorettype)`, e.g. `jsonb`, `trigger`, `record`, `void`.
    public let returnType: String
    public let returnsSet: Bool
    /// Output argument (OUT, INOUT, TABLE) types and names, in order.
    public let outputTypes: [String]
    public let outputNames: [String]
    public let language: String
    public let securityDefiner: Bool
    /// `proconfig`, e.g. `["search_path=pg_catalog, public"]`.
    public let config: [String]
    public let bodyMD5: String
    public let bodyLength: Int
    public let owner: String
    public let isOwnedByCurrentRole: Bool
    /// `oid::regprocedure::text`: the form PostgreSQL prints in messages (schema shown only when not visible).
    public let displaySignature: String

    /// `schema.name(type,type)`: the stable identity bundle uses in reports.
    public var identity: String { "\(schema).\(name)(\(inputTypes.joined(separator: ",")))" }
}

/// A type (base, enum, domain, composite, …).
public struct TypeInfo: Sendable, Equatable {
    public let oid: UInt32
    public let schema: String
    public let name: String
    /// `pg_type.typtype`: b base, c composite, d domain, e enum, p pseudo, r range, m multirange.
    public let kind: String
    public let enumLabels: [String]
}

/// One object that depends on another (from `pg_depend`, normal dependencies).
public struct DependentInfo: Sendable, Equatable {
    /// The object depended on: `pg_describe_object` of it, e.g. `table iu_core.t`.
    public let referenced: String
    public let referencedOID: UInt32
    /// Column number when the dependency is on a column (0 for the whole object).
    public let referencedColumn: Int
    /// `pg_describe_object` of the dependent, e.g. `view v`, `function f(integer)`.
    public let dependent: String
}

/// A resolved type name.
public struct ResolvedType: Sendable, Equatable {
    /// The name as written in the bundle (deparsed).
    public let written: String
    public let oid: UInt32
    /// `format_type(oid, NULL)`.
    public let name: String
}

/// Quotes an identifier the way `quote_ident` does.
public func quoteIdentifier(_ name: String) -> String {
    let plain = !name.isEmpty
        && name.unicodeScalars.first.map { ($0 >= "a" && $0 <= "z") || $0 == "_" } == true
        && name.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
        && !reservedKeywords.contains(name)
    return plain ? name : "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
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
