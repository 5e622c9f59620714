/// The kind of a transaction control statement (`TransactionStmt.kind` in the parse tree).
public enum TransactionControl: String, Sendable, Hashable, CaseIterable {
    /// `BEGIN`
    case begin = "TRANS_STMT_BEGIN"
    /// `START TRANSACTION`
    case start = "TRANS_STMT_START"
    /// `COMMIT` or `END`
    case commit = "TRANS_STMT_COMMIT"
    /// `ROLLBACK` or `ABORT`
    case rollback = "TRANS_STMT_ROLLBACK"
    /// `SAVEPOINT name`
    case savepoint = "TRANS_STMT_SAVEPOINT"
    /// `RELEASE [SAVEPOINT] name`
    case release = "TRANS_STMT_RELEASE"
    /// `ROLLBACK TO [SAVEPOINT] name`
    case rollbackTo = "TRANS_STMT_ROLLBACK_TO"
    /// `PREPARE TRANSACTION 'gid'`
    case prepare = "TRANS_STMT_PREPARE"
    /// `COMMIT PREPARED 'gid'`
    case commitPrepared = "TRANS_STMT_COMMIT_PREPARED"
    /// `ROLLBACK PREPARED 'gid'`
    case rollbackPrepared = "TRANS_STMT_ROLLBACK_PREPARED"
}

extension SQLStatement {
    /// For a `BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`, `PREPARE TRANSACTION`,
    /// `COMMIT PREPARED` or `ROLLBACK PREPARED` statement, its kind; nil for every other statement.
    public var transactionControl: TransactionControl? {
        guard kind == "TransactionStmt", let raw = tree["kind"]?.string else { return nil }
        return TransactionControl(rawValue: raw)
    }

    /// Why the statement cannot run inside a transaction block (PostgreSQL 15 calls PreventInTransactionBlock
    /// for it), or nil when it can.
    ///
    /// Covers CREATE/DROP INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY, REINDEX SCHEMA/SYSTEM/DATABASE, VACUUM,
    /// CREATE/DROP DATABASE, ALTER DATABASE SET TABLESPACE, ALTER SYSTEM, CREATE/DROP TABLESPACE, CLUSTER without
    /// a table, ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY, DISCARD ALL, COMMIT/ROLLBACK PREPARED,
    /// CREATE SUBSCRIPTION that creates a slot, ALTER SUBSCRIPTION that refreshes, and DROP SUBSCRIPTION (which
    /// is refused in a transaction block when the subscription has a replication slot, as it has by default).
    /// Not detectable from the text, hence not reported: REINDEX of a partitioned table or index.
    /// `ALTER TYPE ... ADD VALUE` runs in a transaction block in PostgreSQL 15 (but the new value cannot be used
    /// before the transaction commits), so it is not reported.
    public var nonTransactionalReason: String? {
        guard let command = nonTransactionalCommand else { return nil }
        return "\(command) cannot run inside a transaction block"
    }

    /// The command name PostgreSQL 15 reports when refusing to run the statement in a transaction block.
    private var nonTransactionalCommand: String? {
        switch kind {
        case "IndexStmt":
            return tree["concurrent"]?.bool == true ? "CREATE INDEX CONCURRENTLY" : nil
        case "DropStmt":
            return tree["concurrent"]?.bool == true ? "DROP INDEX CONCURRENTLY" : nil
        case "ReindexStmt":
            let concurrently = (tree["params"]?.array ?? []).contains {
                $0.nodeBody?["defname"]?.string == "concurrently" && definitionBoolean($0) != false
            }
            if concurrently { return "REINDEX CONCURRENTLY" }
            switch tree["kind"]?.string {
            case "REINDEX_OBJECT_SCHEMA": return "REINDEX SCHEMA"
            case "REINDEX_OBJECT_SYSTEM": return "REINDEX SYSTEM"
            case "REINDEX_OBJECT_DATABASE": return "REINDEX DATABASE"
            default: return nil
            }
        case "VacuumStmt":
            return tree["is_vacuumcmd"]?.bool == true ? "VACUUM" : nil
        case "CreatedbStmt":
            return "CREATE DATABASE"
        case "DropdbStmt":
            return "DROP DATABASE"
        case "AlterDatabaseStmt":
            return option("tablespace", in: tree["options"]) != nil ? "ALTER DATABASE SET TABLESPACE" : nil
        case "AlterSystemStmt":
            return "ALTER SYSTEM"
        case "CreateTableSpaceStmt":
            return "CREATE TABLESPACE"
        case "DropTableSpaceStmt":
            return "DROP TABLESPACE"
        case "ClusterStmt":
            return tree["relation"] == nil ? "CLUSTER" : nil
        case "AlterTableStmt":
            let detachesConcurrently = (tree["cmds"]?.array ?? []).contains { command in
                let body = command.nodeBody
                return body?["subtype"]?.string == "AT_DetachPartition"
                    && body?["def"]?.nodeBody?["concurrent"]?.bool == true
            }
            return detachesConcurrently ? "ALTER TABLE ... DETACH CONCURRENTLY" : nil
        case "DiscardStmt":
            return tree["target"]?.string == "DISCARD_ALL" ? "DISCARD ALL" : nil
        case "TransactionStmt":
            switch transactionControl {
            case .commitPrepared: return "COMMIT PREPARED"
            case .rollbackPrepared: return "ROLLBACK PREPARED"
            default: return nil
            }
        case "CreateSubscriptionStmt":
            let options = tree["options"]
            let connect = option("connect", in: options).map { definitionBoolean($0) ?? true } ?? true
            let createSlot = option("create_slot", in: options).map { definitionBoolean($0) ?? true } ?? connect
            return createSlot ? "CREATE SUBSCRIPTION ... WITH (create_slot = true)" : nil
        case "AlterSubscriptionStmt":
            switch tree["kind"]?.string {
            case "ALTER_SUBSCRIPTION_REFRESH":
                return "ALTER SUBSCRIPTION ... REFRESH"
            case "ALTER_SUBSCRIPTION_SET_PUBLICATION", "ALTER_SUBSCRIPTION_ADD_PUBLICATION",
                 "ALTER_SUBSCRIPTION_DROP_PUBLICATION":
                let refresh = option("refresh", in: tree["options"]).map { definitionBoolean($0) ?? true } ?? true
                return refresh ? "ALTER SUBSCRIPTION with refresh" : nil
            default:
                return nil
            }
        case "DropSubscriptionStmt":
            return "DROP SUBSCRIPTION (of a subscription with a replication slot)"
        default:
            return nil
        }
    }

    /// The `DefElem` named `name` in an options list.
    private func option(_ name: String, in options: ParseNode?) -> ParseNode? {
        (options?.array ?? []).first { $0.nodeBody?["defname"]?.string == name }
    }

    /// The boolean value of a `DefElem` as PostgreSQL's defGetBoolean reads it: no argument is true;
    /// nil when the value is not a boolean.
    private func definitionBoolean(_ definition: ParseNode) -> Bool? {
        guard let argument = definition.nodeBody?["arg"] else { return true }
        if let integer = argument.integerValue { return integer == 0 ? false : integer == 1 ? true : nil }
        if let boolean = argument.booleanValue { return boolean }
        // defGetString: a bare word such as `off` arrives as a TypeName.
        let word = argument.nodeType == "TypeName" ? qualifiedName(argument.nodeBody?["names"]).joined(separator: ".") : nil
        guard let text = (argument.stringValue ?? word)?.lowercased() else { return nil }
        switch text {
        case "true", "on", "yes", "t", "y", "1": return true
        case "false", "off", "no", "f", "n", "0": return false
        default: return nil
        }
    }
}

extension SQLStatement {
    /// True when the statement can create objects or change them in place but can never drop, rename or move one
    /// (nor, through CASCADE, any other object): CREATE of tables, views, functions, triggers, indexes, sequences,
    /// types, schemas and policies; COMMENT; GRANT/REVOKE; ALTER TABLE with only additive or in-place
    /// subcommands (ADD COLUMN/CONSTRAINT, SET/DROP DEFAULT, SET/DROP NOT NULL, options, row level security,
    /// trigger enabling, owner, identity); ALTER FUNCTION/SEQUENCE/ENUM ADD VALUE; INSERT/UPDATE/DELETE without
    /// function calls; SET; COMMENT with a text.
    ///
    /// bundle uses it to record a bundle's catalog changes from the rows its transaction wrote, without listing
    /// the whole catalog: a removed object leaves no row behind, so any other statement falls back to the full
    /// listing. (DML can fire triggers that run arbitrary DDL; such a change would be reported by `bundle drift`.)
    public var onlyAddsOrChangesInPlace: Bool {
        switch kind {
        case "CreateStmt", "CreateFunctionStmt", "GrantStmt", "GrantRoleStmt", "ViewStmt", "CreateTrigStmt", "CreateSeqStmt",
             "AlterSeqStmt", "CompositeTypeStmt", "CreateEnumStmt", "CreateDomainStmt", "CreateRangeStmt", "CreatePolicyStmt",
             "AlterPolicyStmt", "VariableSetStmt", "AlterOwnerStmt", "AlterFunctionStmt":
            return true
        case "CommentStmt":
            // COMMENT ... IS NULL (or '') deletes the comment's row, which leaves nothing to find.
            return !(tree["comment"]?.string ?? "").isEmpty
        case "InsertStmt", "UpdateStmt", "DeleteStmt", "CreateTableAsStmt":
            // Data changes, unless they call functions (which may run any DDL, even in subtransactions).
            return !Self.callsFunctions(tree)
        case "IndexStmt":
            return tree["concurrent"]?.bool != true
        case "AlterEnumStmt":
            return tree["oldVal"] == nil  // ADD VALUE (RENAME VALUE changes the type in place too, but keep it simple)
        case "CreateSchemaStmt":
            return (tree["schemaElts"]?.array ?? []).allSatisfy { element in
                guard let type = element.nodeType, let body = element.nodeBody else { return false }
                return SQLStatement.additive(kind: type, tree: body)
            }
        case "AlterTableStmt":
            return (tree["cmds"]?.array ?? []).allSatisfy { command in
                guard let subtype = command.nodeBody?["subtype"]?.string else { return false }
                return Self.inPlaceAlterTableSubtypes.contains(subtype)
            }
        default:
            return false
        }
    }

    /// The system catalogs this statement can write rows to, for statements that run no user code (no function
    /// body, trigger, default or check expression is evaluated, no table is scanned); nil for any other statement,
    /// which may write anywhere. Used with `onlyAddsOrChangesInPlace` to search fewer catalogs for the rows a
    /// bundle's transaction wrote. Each set is a superset: a new relation's own rows (columns, its row type) are
    /// found through its new `pg_class` row. Two things these sets do not see, both checked by bundle elsewhere or
    /// accepted: event triggers (any DDL runs user code; apply searches every catalog when the target has any
    /// enabled) and procedural-language validators that execute code while checking a function body (plv8's
    /// start_proc, plperl BEGIN blocks); a change made that way shows in `bundle drift`.
    public var catalogsWritten: Set<String>? {
        switch kind {
        case "CreateFunctionStmt":
            return ["pg_proc"]
        case "CommentStmt":
            return ["pg_description"]
        case "CreateStmt":
            // PARTITION OF evaluates bound expressions and checks the default partition's rows.
            // Everything it renders belongs to the new relation or its new sequences, found by their new pg_class
            // rows (columns, defaults, constraints, indexes, comments copied by LIKE); an INHERITS parent's row is
            // updated too.
            guard tree["partbound"] == nil else { return nil }
            return ["pg_class"]
        case "ViewStmt":
            // CREATE OR REPLACE VIEW rewrites the view's rule (and its pg_class row when columns are added).
            return ["pg_class", "pg_rewrite"]
        case "CreateTrigStmt":
            return ["pg_trigger"]
        case "CreateSeqStmt":
            return ["pg_class"]
        case "CreatePolicyStmt":
            return ["pg_policy"]
        case "GrantStmt":
            return ["pg_class", "pg_attribute", "pg_proc", "pg_namespace", "pg_type"]
        case "CreateEnumStmt":
            return ["pg_type", "pg_enum"]
        case "CompositeTypeStmt":
            return ["pg_class", "pg_type"]
        case "CreateDomainStmt":
            return ["pg_type", "pg_constraint"]
        case "CreateSchemaStmt":
            // Without schema elements (CREATE SCHEMA s CREATE TABLE …, statements of their own).
            guard tree["schemaElts"] == nil else { return nil }
            return ["pg_namespace"]
        default:
            return nil
        }
    }

    /// Whether the statement refers to a parameter (`$1` outside any string): run alone, the server reports that
    /// no such parameter exists.
    public var refersToParameters: Bool { Self.contains("ParamRef", in: tree) }

    static func contains(_ nodeType: String, in node: ParseNode) -> Bool {
        switch node {
        case .object(let members):
            return members[nodeType] != nil || members.values.contains { contains(nodeType, in: $0) }
        case .array(let items):
            return items.contains { contains(nodeType, in: $0) }
        default:
            return false
        }
    }

    /// Whether a parse tree contains a function call (`FuncCall`) anywhere.
    static func callsFunctions(_ node: ParseNode) -> Bool {
        switch node {
        case .object(let members):
            return members["FuncCall"] != nil || members.values.contains(where: callsFunctions)
        case .array(let items):
            return items.contains(where: callsFunctions)
        default:
            return false
        }
    }

    /// ALTER TABLE subcommands that neither drop, rename nor rebuild anything.
    static let inPlaceAlterTableSubtypes: Set<String> = [
        "AT_AddColumn", "AT_ColumnDefault", "AT_AddConstraint", "AT_SetNotNull", "AT_DropNotNull", "AT_ValidateConstraint",
        "AT_EnableRowSecurity", "AT_DisableRowSecurity", "AT_ForceRowSecurity", "AT_NoForceRowSecurity", "AT_EnableTrig",
        "AT_DisableTrig", "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig", "AT_EnableTrigAll", "AT_DisableTrigAll", "AT_EnableTrigUser",
        "AT_DisableTrigUser", "AT_SetRelOptions", "AT_ResetRelOptions", "AT_ReplaceRelOptions", "AT_SetStatistics", "AT_SetOptions",
        "AT_ResetOptions", "AT_SetStorage", "AT_ChangeOwner", "AT_AddIdentity", "AT_SetIdentity", "AT_ReplicaIdentity",
    ]

    /// `onlyAddsOrChangesInPlace` for a schema element of CREATE SCHEMA.
    static func additive(kind: String, tree: ParseNode) -> Bool {
        ["CreateStmt", "ViewStmt", "IndexStmt", "GrantStmt", "CreateSeqStmt", "CreateTrigStmt"].contains(kind) && tree["concurrent"]?.bool != true
    }
}
