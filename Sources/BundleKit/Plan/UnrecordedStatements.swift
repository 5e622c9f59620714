import Foundation
import SQLSyntax

/// Statements that create or change objects the recorded catalog state does not hold (`state/` captures schemas,
/// tables, views, sequences, routines, types, extensions, default privileges, grants and comments on them). What they do is not in
/// a commit's state, `bundle drift` does not see it, and a generated rollback script does not undo it: the plan
/// warns (unless the lock pins a hand-written rollback) and the generated script says so.
enum UnrecordedStatements {
    /// Object types (libpg_query's `OBJECT_…`) whose objects the state does not hold, with their plural noun.
    static let unrecordedObjectTypes: [String: String] = [
        "OBJECT_AGGREGATE": "aggregates", "OBJECT_OPERATOR": "operators", "OBJECT_COLLATION": "collations",
        "OBJECT_TSCONFIGURATION": "text search configurations", "OBJECT_TSDICTIONARY": "text search dictionaries",
        "OBJECT_TSPARSER": "text search parsers", "OBJECT_TSTEMPLATE": "text search templates", "OBJECT_CAST": "casts",
        "OBJECT_RULE": "rules", "OBJECT_STATISTIC_EXT": "extended statistics", "OBJECT_EVENT_TRIGGER": "event triggers",
        "OBJECT_PUBLICATION": "publications", "OBJECT_PUBLICATION_NAMESPACE": "publications", "OBJECT_PUBLICATION_REL": "publications",
        "OBJECT_SUBSCRIPTION": "subscriptions", "OBJECT_FDW": "foreign-data wrappers", "OBJECT_FOREIGN_SERVER": "foreign servers",
        "OBJECT_USER_MAPPING": "user mappings", "OBJECT_ACCESS_METHOD": "access methods", "OBJECT_LANGUAGE": "procedural languages",
        "OBJECT_OPCLASS": "operator classes", "OBJECT_OPFAMILY": "operator families", "OBJECT_AMOP": "operator families",
        "OBJECT_AMPROC": "operator families", "OBJECT_CONVERSION": "conversions", "OBJECT_TRANSFORM": "transforms",
        "OBJECT_DATABASE": "database settings, comments and privileges", "OBJECT_ROLE": "roles", "OBJECT_TABLESPACE": "tablespaces",
        "OBJECT_LARGEOBJECT": "large objects", "OBJECT_PARAMETER_ACL": "parameter privileges",
    ]

    /// What `statement` changes that is not recorded ("aggregates", "casts", …), or nil.
    static func noun(for statement: SQLStatement) -> String? {
        let tree = statement.tree
        func objectType(_ field: String) -> String? { tree[field]?.string.flatMap { unrecordedObjectTypes[$0] } }
        switch statement.kind {
        case "DefineStmt":
            // CREATE AGGREGATE / OPERATOR / COLLATION / TEXT SEARCH …, and base types (CREATE TYPE … (INPUT = …)).
            return objectType("kind") ?? (tree["kind"]?.string == "OBJECT_TYPE" ? "base types" : nil)
        case "DropStmt": return objectType("removeType")
        case "RenameStmt": return objectType("renameType")
        case "AlterOwnerStmt", "AlterObjectSchemaStmt": return objectType("objectType")
        case "CommentStmt":
            // Comments on a table's or domain's parts other than columns are not rendered either.
            if ["OBJECT_INDEX", "OBJECT_TABCONSTRAINT", "OBJECT_DOMCONSTRAINT", "OBJECT_TRIGGER", "OBJECT_POLICY"].contains(tree["objtype"]?.string ?? "") {
                return "comments on indexes, constraints, triggers and policies"
            }
            return objectType("objtype")
        case "GrantStmt": return objectType("objtype")
        case "CreateRoleStmt", "AlterRoleStmt", "DropRoleStmt", "GrantRoleStmt", "AlterRoleSetStmt": return "roles and role memberships"
        case "AlterDatabaseSetStmt", "AlterDatabaseStmt", "AlterDatabaseRefreshCollStmt": return "database settings"
        case "CreateCastStmt": return "casts"
        case "CreateEventTrigStmt", "AlterEventTrigStmt": return "event triggers"
        case "CreatePublicationStmt", "AlterPublicationStmt": return "publications"
        case "CreateSubscriptionStmt", "AlterSubscriptionStmt": return "subscriptions"
        case "CreateFdwStmt", "AlterFdwStmt": return "foreign-data wrappers"
        case "CreateForeignServerStmt", "AlterForeignServerStmt": return "foreign servers"
        case "CreateUserMappingStmt", "AlterUserMappingStmt", "DropUserMappingStmt": return "user mappings"
        case "CreateOpClassStmt": return "operator classes"
        case "CreateOpFamilyStmt", "AlterOpFamilyStmt": return "operator families"
        case "AlterOperatorStmt": return "operators"
        case "AlterCollationStmt": return "collations"
        case "AlterTSDictionaryStmt": return "text search dictionaries"
        case "AlterTSConfigurationStmt": return "text search configurations"
        case "CreateConversionStmt": return "conversions"
        case "CreateStatsStmt", "AlterStatsStmt": return "extended statistics"
        case "RuleStmt": return "rules"
        case "CreateTransformStmt": return "transforms"
        case "CreateAmStmt": return "access methods"
        case "CreatePLangStmt": return "procedural languages"
        case "AlterExtensionContentsStmt": return "extension membership"
        case "SecLabelStmt": return "security labels"
        default: return nil
        }
    }

    /// The warning for `statement`, when what it changes is not recorded.
    static func finding(_ statement: SQLStatement) -> Finding? {
        guard let noun = noun(for: statement) else { return nil }
        return Finding(
            rule: "not-recorded", severity: .warning, statement: statement.index, line: statement.start.line, column: statement.start.column,
            object: nil,
            message: "\(noun) are not recorded in the catalog state: the generated rollback script does not undo this statement, and `bundle drift` does not see what it does",
            hint: "Pin a hand-written rollback next to the bundle (FILE.rollback.sql, then `bundle lock --update`), or make this change in a separate, manual step.")
    }
}
