import Foundation
import SQLSyntax

/// Statements that create or change objects the recorded catalog state does not hold (`state/` captures schemas,
/// tables, views, sequences, routines, types, extensions, grants and comments on them). What they do is not in
/// a commit's state, `bundle drift` does not see it, and a generated rollback script does not undo it: the plan
/// warns (unless the lock pins a hand-written rollback) and the generated script says so.
enum UnrecordedStatements {
    /// What `statement` changes that is not recorded ("aggregates", "default privileges", …), or nil.
    static func noun(for statement: SQLStatement) -> String? {
        switch statement.kind {
        case "DefineStmt":
            return [
                "OBJECT_AGGREGATE": "aggregates", "OBJECT_OPERATOR": "operators", "OBJECT_COLLATION": "collations",
                "OBJECT_TSCONFIGURATION": "text search configurations", "OBJECT_TSDICTIONARY": "text search dictionaries",
                "OBJECT_TSPARSER": "text search parsers", "OBJECT_TSTEMPLATE": "text search templates",
            ][statement.tree["kind"]?.string ?? ""] ?? "objects of this kind"
        case "AlterDefaultPrivilegesStmt": return "default privileges"
        case "CreateRoleStmt", "AlterRoleStmt", "DropRoleStmt", "GrantRoleStmt", "AlterRoleSetStmt": return "roles and role memberships"
        case "AlterDatabaseSetStmt", "AlterDatabaseStmt": return "database settings"
        case "CreateCastStmt": return "casts"
        case "CreateEventTrigStmt", "AlterEventTrigStmt": return "event triggers"
        case "CreatePublicationStmt", "AlterPublicationStmt", "CreateSubscriptionStmt", "AlterSubscriptionStmt": return "publications and subscriptions"
        case "CreateFdwStmt", "CreateForeignServerStmt", "CreateUserMappingStmt", "AlterFdwStmt", "AlterForeignServerStmt", "AlterUserMappingStmt":
            return "foreign-data wrappers, servers and user mappings"
        case "CreateOpClassStmt", "CreateOpFamilyStmt", "AlterOpFamilyStmt": return "operator classes and families"
        case "CreateConversionStmt": return "conversions"
        case "CreateStatsStmt", "AlterStatsStmt": return "extended statistics"
        case "RuleStmt": return "rules"
        case "CreateTransformStmt": return "transforms"
        case "CreateAmStmt": return "access methods"
        case "CreatePLangStmt": return "procedural languages"
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
