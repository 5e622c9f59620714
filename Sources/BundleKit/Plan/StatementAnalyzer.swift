import Foundation
import PostgresCatalog
import SQLSyntax

/// Read-only questions the analyzer may ask the live database (data checks, view column probes).
protocol LiveProbe {
    /// Runs a read-only query in a transaction that is always rolled back; nil when it failed or timed out.
    func rows(_ sql: String) -> [[String?]]?
    /// The output columns of a SELECT, as a view over it would have them; nil when it cannot be described.
    func viewColumns(selectSQL: String) -> [ColumnInfo]?
    /// Runs `statements` in a transaction that is always rolled back (temporary objects only) and reports how the
    /// first failing one failed.
    func attempt(_ statements: [String]) -> ProbeOutcome
}

/// The outcome of `LiveProbe.attempt`.
enum ProbeOutcome {
    /// Every statement ran.
    case succeeded
    /// A statement failed with this server error.
    case failed(ServerMessage)
    /// The probe could not run (connection trouble, lock or statement timeout).
    case unavailable
}

/// Plans one statement against the overlay: what it does, which findings apply, and its effect on the overlay.
struct StatementAnalyzer {
    let statement: SQLStatement
    let immutable: Set<String>
    let probe: LiveProbe?

    private(set) var findings: [Finding] = []
    private(set) var summary: StatementSummary

    init(statement: SQLStatement, immutable: Set<String>, probe: LiveProbe?) {
        self.statement = statement
        self.immutable = immutable
        self.probe = probe
        summary = StatementSummary(index: statement.index, line: statement.start.line, kind: statement.kind, action: "other", object: nil, lock: nil)
    }

    var hasError: Bool { findings.contains { $0.severity == .error } }

    // MARK: Findings

    mutating func error(_ rule: String, _ sqlstate: String?, _ message: String, detail: String? = nil, hint: String? = nil, object: String? = nil) {
        findings.append(
            Finding(
                rule: rule, severity: .error, statement: statement.index, line: statement.start.line, column: statement.start.column,
                object: object ?? summary.object, sqlstate: sqlstate, message: message, detail: detail, hint: hint))
    }

    mutating func warning(_ rule: String, _ message: String, hint: String? = nil, object: String? = nil) {
        findings.append(
            Finding(
                rule: rule, severity: .warning, statement: statement.index, line: statement.start.line, column: statement.start.column,
                object: object ?? summary.object, message: message, hint: hint))
    }

    mutating func info(_ rule: String, _ message: String, object: String? = nil) {
        findings.append(
            Finding(
                rule: rule, severity: .info, statement: statement.index, line: statement.start.line, column: statement.start.column,
                object: object ?? summary.object, message: message))
    }

    // MARK: Dispatch

    /// Analyzes the statement and applies its effects to `overlay` (only when no error is predicted).
    mutating func analyze(_ overlay: inout CatalogOverlay) {
        let tree = statement.tree
        if let reason = statement.nonTransactionalReason {
            summary.action = "other"
            error(
                "not-in-transaction-block", "25001", reason,
                hint: "bundle runs every bundle as one transaction. Move this statement to a bundle of its own that is applied without --txn, or use the non-concurrent form.")
            return
        }
        if let control = statement.transactionControl {
            summary.action = "transaction"
            error(
                "transaction-control", nil,
                "\(control.rawValue.replacingOccurrences(of: "TRANS_STMT_", with: "")) inside a bundle would break its atomicity: bundle runs each bundle as exactly one transaction",
                hint: "Remove BEGIN/COMMIT/ROLLBACK/SAVEPOINT from the bundle file; the bundle's statements already run in one transaction.")
            return
        }
        checkEnumValueUse(overlay)
        if hasError { return }
        // Code the plan cannot see (DO, CALL, a function a SELECT calls) may add constraints under any name.
        if ["DoStmt", "CallStmt"].contains(statement.kind) { overlay.constraintNamesUncertain = true }
        if statement.kind == "SelectStmt" {
            var callsFunction = false
            Syntax.walk(statement.tree) { type, _ in if type == "FuncCall" { callsFunction = true } }
            if callsFunction { overlay.constraintNamesUncertain = true }
        }
        switch statement.kind {
        case "CreateFunctionStmt": createFunction(tree, &overlay)
        case "CreateTrigStmt": createTrigger(tree, &overlay)
        case "CreateStmt": createTable(tree, &overlay)
        case "CreateSeqStmt": createSequence(tree, &overlay)
        case "AlterSeqStmt": alterSequence(tree, &overlay)
        case "ViewStmt": createView(tree, &overlay)
        case "CreateTableAsStmt": createTableAs(tree, &overlay)
        case "IndexStmt": createIndex(tree, &overlay)
        case "AlterTableStmt": alterTable(tree, &overlay)
        case "DropStmt": drop(tree, &overlay)
        case "RenameStmt": rename(tree, &overlay)
        case "AlterObjectSchemaStmt": alterObjectSchema(tree, &overlay)
        case "CreateSchemaStmt": createSchema(tree, &overlay)
        case "GrantStmt": grant(tree, &overlay)
        case "GrantRoleStmt": grantRole(tree, &overlay)
        case "AlterDefaultPrivilegesStmt": alterDefaultPrivileges(tree, overlay)
        case "CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt", "CreateRangeStmt": createType(tree, &overlay)
        case "AlterEnumStmt": alterEnum(tree, &overlay)
        case "CreateRoleStmt":
            // Later statements of the plan may grant to the new role.
            summary.action = "other"
            if let role = tree["role"]?.string { overlay.roles.insert(role) }
        case "DropRoleStmt":
            summary.action = "other"
            for role in (tree["roles"]?.listItems ?? []).compactMap({ $0.nodeBody?["rolename"]?.string }) { overlay.roles.remove(role) }
        case "InsertStmt", "UpdateStmt", "DeleteStmt":
            checkCalls(tree, overlay)
            if hasError { return }
            dml(tree, &overlay)
        case "ConstraintsSetStmt":
            summary.action = "set"
            // SET CONSTRAINTS … IMMEDIATE fires the queued events (conservatively: all of them).
            if tree["deferred"]?.bool != true { overlay.pendingTriggerEvents = [] }
        case "CommentStmt":
            summary.action = "comment"
        case "VariableSetStmt": variableSet(tree, &overlay)
        case "AlterFunctionStmt", "AlterOwnerStmt":
            summary.action = "alter"
        case "AlterObjectSchemaStmt":
            summary.action = "alter"
            overlay.schemasWithRemovedObjects.insert("*")
        case "DoStmt":
            summary.action = "other"
            info("opaque-do-block", "DO block: bundle cannot see what it does; run `bundle plan --rehearse` to check it on the server")
        case "SelectStmt":
            summary.action = "select"
            summary.lock = "AccessShareLock"
            checkCalls(tree, overlay)
            // SELECT … INTO t creates t, as CREATE TABLE t AS would (its columns are not known ahead).
            if !hasError, let into = Self.intoClause(tree) { createTableAs(.object(["into": into]), &overlay, describing: false) }
            // `SELECT pg_catalog.set_config('search_path', '', false)` (how pg_dump's output starts) is a SET.
            if !hasError, let (value, local) = Self.searchPathConfigCall(tree) {
                overlay.searchPathSetting = CatalogOverlay.searchPathElements(value)
                if !local { overlay.sessionSearchPathSetting = overlay.searchPathSetting }
            }
        default:
            summary.action = "other"
        }
    }

    // MARK: Functions and procedures

    private struct Parameter {
        var name: String
        var mode: String
        var written: String?
        var display: String
        var type: String?
        var hasDefault: Bool
        var isInput: Bool { ["FUNC_PARAM_DEFAULT", "FUNC_PARAM_IN", "FUNC_PARAM_INOUT", "FUNC_PARAM_VARIADIC"].contains(mode) }
        var isOutput: Bool { ["FUNC_PARAM_OUT", "FUNC_PARAM_INOUT", "FUNC_PARAM_TABLE"].contains(mode) }
    }

    private mutating func createFunction(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        let isProcedure = tree["is_procedure"]?.bool ?? false
        let replace = tree["replace"]?.bool ?? false
        guard let (explicitSchema, name) = Syntax.qualified(Syntax.names(tree["funcname"])) else { return }
        guard let schema = resolveCreationSchema(explicitSchema, &overlay) else { return }
        let params: [Parameter] = (tree["parameters"]?.listItems ?? []).compactMap { item in
            guard let body = item.nodeBody else { return nil }
            let written = Syntax.writtenType(body["argType"])
            let display = Syntax.displayType(body["argType"])
            return Parameter(
                name: body["name"]?.string ?? "", mode: body["mode"]?.string ?? "FUNC_PARAM_DEFAULT", written: written, display: display,
                type: overlay.canonicalType(written: written, display: display), hasDefault: body["defexpr"] != nil)
        }
        for param in params where param.type == nil && param.written != nil {
            error("type-does-not-exist", "42704", "type \(param.display) does not exist", hint: "Create the type first, or fix its name.")
            return
        }
        let inputs = params.filter(\.isInput)
        let outputs = params.filter(\.isOutput)
        let inputTypes = inputs.map { $0.type ?? "?" }
        let identity = "\(schema).\(name)(\(inputTypes.joined(separator: ",")))"
        summary.object = identity
        let kind = isProcedure ? "p" : "f"

        var returnType: String
        var returnsSet = false
        if isProcedure {
            returnType = outputs.isEmpty ? "void" : "record"
        } else if let declared = tree["returnType"] {
            let written = Syntax.writtenType(declared)
            guard let canonical = overlay.canonicalType(written: written, display: Syntax.displayType(declared)) else {
                error("type-does-not-exist", "42704", "type \"\(Syntax.displayType(declared))\" does not exist", hint: "Create the type first, or fix its name.")
                return
            }
            returnType = canonical
            returnsSet = Syntax.isSetOf(declared)
        } else {
            returnType = outputs.count == 1 ? (outputs[0].type ?? "?") : "record"
        }
        if !isProcedure && outputs.count >= 2 { returnType = "record" }
        let outputTypes = outputs.map { $0.type ?? "?" }
        let outputNames = outputs.map(\.name)
        let defaultCount = inputs.reversed().prefix { $0.hasDefault }.count

        let existing = overlay.routines.firstIndex { $0.schema == schema && $0.name == name && $0.inputTypes == inputTypes }
        let options = tree["options"]
        let securityDefiner = Syntax.option(options, "security")?.booleanValue ?? false
        let setClauses = (options?.listItems ?? []).compactMap { item -> String? in
            guard item.nodeType == "DefElem", item.nodeBody?["defname"]?.string == "set",
                let set = item.nodeBody?["arg"]?.nodeBody, let variable = set["name"]?.string
            else { return nil }
            return variable
        }
        let language = Syntax.functionLanguage(tree)

        if let existing {
            let old = overlay.routines[existing]
            summary.action = "replace"
            let dropCommand = old.kind == "p" ? "DROP PROCEDURE" : old.kind == "a" ? "DROP AGGREGATE" : "DROP FUNCTION"
            let hint = "Use \(dropCommand) \(old.displaySignature) first."
            let dependentsNote = dropAdvice(for: old, overlay: overlay)
            if !replace {
                error(
                    "function-already-exists", "42723", "function \"\(name)\" already exists with same argument types",
                    hint: "Use CREATE OR REPLACE to replace \(old.displaySignature), or change the argument types to create an overload.")
                return
            }
            if !old.isOwnedByCurrentRole && !overlay.session.isSuperuser {
                error(
                    "routine-not-owner", "42501", "must be owner of function \(name)",
                    hint: "Apply as the owner (\(old.owner)) or a member of it: `SET ROLE \(old.owner)` in the bundle, or --db with that role.")
                return
            }
            if old.kind != kind {
                let what = ["f": "a function", "p": "a procedure", "a": "an aggregate function", "w": "a window function"][old.kind] ?? "a routine"
                error("function-change-kind", "42809", "cannot change routine kind", detail: "\"\(name)\" is \(what).", hint: hint + dependentsNote)
                return
            }
            if returnType != old.returnType || returnsSet != old.returnsSet {
                error(
                    kind == "p" ? "procedure-change-output-params" : "function-change-return-type", "42P13",
                    kind == "p" ? "cannot change whether a procedure has output parameters" : "cannot change return type of existing function",
                    hint: hint + dependentsNote)
                return
            }
            if returnType == "record" && (old.outputTypes != outputTypes || old.outputNames != outputNames) {
                error(
                    "function-change-out-row", "42P13", "cannot change return type of existing function",
                    detail: "Row type defined by OUT parameters is different.", hint: hint + dependentsNote)
                return
            }
            for (position, oldName) in old.inputNames.enumerated() where !oldName.isEmpty {
                let newName = position < inputs.count ? inputs[position].name : ""
                if newName != oldName {
                    error(
                        "function-rename-param", "42P13", "cannot change name of input parameter \"\(oldName)\"",
                        hint: hint + " Or keep the parameter name \"\(oldName)\"." + dependentsNote)
                    return
                }
            }
            if old.defaultCount > 0 && defaultCount < old.defaultCount {
                let missing = old.inputNames.suffix(old.defaultCount).enumerated().compactMap { offset, paramName -> String? in
                    let position = old.inputTypes.count - old.defaultCount + offset
                    guard position < inputs.count, !inputs[position].hasDefault else { return nil }
                    let type = old.inputTypes[position]
                    return paramName.isEmpty ? "$\(position + 1) \(type)" : "\(paramName) \(type)"
                }
                let live = old.fullArguments.isEmpty ? "" : " The live function is \(old.schema).\(old.name)(\(old.fullArguments));"
                error(
                    "function-remove-param-default", "42P13", "cannot remove parameter defaults from existing function",
                    hint: hint + live + " keep the default\(missing.count == 1 ? "" : "s") on \(missing.joined(separator: ", ")) in the replacement (e.g. `DEFAULT NULL::text`), or drop and recreate the function." + dependentsNote)
                return
            }
            var replaced = RoutineInfo(
                oid: old.oid, schema: schema, name: name, kind: kind, inputTypes: inputTypes,
                inputNames: inputs.map(\.name), identityArguments: old.identityArguments, fullArguments: old.fullArguments,
                defaultCount: max(defaultCount, old.defaultCount), defaultTypes: old.defaultTypes, returnType: returnType, returnsSet: returnsSet,
                outputTypes: outputTypes, outputNames: outputNames, language: language, securityDefiner: securityDefiner,
                config: setClauses, bodyMD5: "", bodyLength: 0, owner: old.owner, isOwnedByCurrentRole: old.isOwnedByCurrentRole,
                displaySignature: old.displaySignature, grants: old.grants)
            replaced.defaultCount = defaultCount
            overlay.routines[existing] = replaced
        } else {
            summary.action = "create"
            let siblings = overlay.routines.filter { $0.schema == schema && $0.name == name }
            if replace && !siblings.isEmpty {
                warning(
                    "function-new-overload",
                    "CREATE OR REPLACE creates a new overload \(identity): no existing \(name) has argument types (\(inputTypes.joined(separator: ","))); existing: \(siblings.map(\.displaySignature).joined(separator: ", "))",
                    hint: "If this was meant to replace the existing function, use exactly its argument types. Otherwise later references without an argument list (DROP FUNCTION \(name), GRANT … ON FUNCTION \(name)) become ambiguous.")
            }
            let display = overlay.display(schema: schema, name: name) + "(\(inputTypes.joined(separator: ",")))"
            overlay.routines.append(
                RoutineInfo(
                    oid: 0, schema: schema, name: name, kind: kind, inputTypes: inputTypes, inputNames: inputs.map(\.name),
                    identityArguments: "", fullArguments: "", defaultCount: defaultCount, defaultTypes: [], returnType: returnType,
                    returnsSet: returnsSet, outputTypes: outputTypes, outputNames: outputNames, language: language,
                    securityDefiner: securityDefiner, config: setClauses, bodyMD5: "", bodyLength: 0, owner: overlay.session.user,
                    isOwnedByCurrentRole: true, displaySignature: display))
        }
        if securityDefiner && !setClauses.contains("search_path") {
            warning(
                "security-definer-search-path",
                "SECURITY DEFINER routine \(identity) does not pin search_path: callers can hijack unqualified names",
                hint: "Add `SET search_path = pg_catalog, <schema>` to the function definition.")
        }
        checkImmutable(identity, name: name, schema: schema, types: inputTypes)
    }

    /// The objects that would be lost with a DROP of `routine` (for hints that suggest dropping it).
    private func dropAdvice(for routine: RoutineInfo, overlay: CatalogOverlay) -> String {
        var advice = ""
        let dependents = Self.uniqueDependents(overlay.dependents(of: routine.oid))
        if !dependents.isEmpty {
            advice += " DROP FUNCTION would fail while these depend on it (CASCADE would drop them): " + dependents.joined(separator: ", ") + "."
        }
        if !routine.grants.isEmpty {
            advice += " Dropping it also loses its privileges (\(routine.grants.joined(separator: ", "))): re-GRANT them after re-creating it."
        }
        return advice
    }

    private mutating func checkImmutable(_ identity: String, name: String, schema: String, types: [String]) {
        let short = "\(name)(\(types.joined(separator: ",")))"
        if immutable.contains(identity) || immutable.contains(short) {
            warning(
                "immutable-object", "\(identity) is marked immutable by the lock, and this statement changes it",
                hint: "Remove the change, or remove the object from the lock's \"immutable\" list after review.")
        }
    }

    // MARK: Triggers

    private mutating func createTrigger(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = (tree["replace"]?.bool ?? false) ? "replace" : "create"
        summary.lock = "ShareRowExclusiveLock"
        let triggerName = tree["trigname"]?.string ?? ""
        guard let (schema, table) = Syntax.rangeVar(tree["relation"]) else { return }
        guard let relation = overlay.relation(schema: schema, name: table) else {
            if let schema, !overlay.schemaExists(schema) {
                error("schema-does-not-exist", "3F000", "schema \"\(schema)\" does not exist")
            } else {
                error("relation-does-not-exist", "42P01", "relation \"\(table)\" does not exist", hint: "Create the table first, or fix its name.")
            }
            return
        }
        summary.object = "\(triggerName) on \(relation.schema).\(relation.name)"
        let funcParts = Syntax.names(tree["funcname"])
        guard let (funcSchema, funcName) = Syntax.qualified(funcParts) else { return }
        let candidates = overlay.routines(schema: funcSchema, name: funcName).filter { $0.inputTypes.isEmpty && $0.kind != "p" }
        guard let function = candidates.first else {
            error(
                "trigger-function-does-not-exist", "42883", "function \(funcParts.joined(separator: "."))() does not exist",
                hint: "Create the trigger function (RETURNS trigger, no arguments) before the trigger.")
            return
        }
        if function.returnType != "trigger" {
            error(
                "trigger-function-return-type", "42P17", "function \(funcParts.joined(separator: ".")) must return type trigger",
                hint: "\(function.displaySignature) returns \(function.returnType); a trigger needs a function declared RETURNS trigger.")
            return
        }
        if let existing = overlay.triggers.first(where: { $0.schema == relation.schema && $0.table == relation.name && $0.name == triggerName }) {
            if !(tree["replace"]?.bool ?? false) {
                error(
                    "trigger-already-exists", "42710", "trigger \"\(triggerName)\" for relation \"\(relation.name)\" already exists",
                    hint: "Use CREATE OR REPLACE TRIGGER, or DROP TRIGGER IF EXISTS first.")
                return
            }
            if existing.isInternal {
                error("trigger-replace-internal", "42710", "trigger \"\(triggerName)\" for relation \"\(relation.name)\" is an internal or a child trigger")
                return
            }
            if existing.isConstraint {
                error(
                    "trigger-replace-constraint", "42710", "trigger \"\(triggerName)\" for relation \"\(relation.name)\" is a constraint trigger",
                    hint: "Drop the constraint trigger and create it again.")
                return
            }
            overlay.triggers.removeAll { $0 == existing }
        }
        overlay.triggers.append(
            TriggerInfo(
                schema: relation.schema, table: relation.name, name: triggerName, isInternal: false, isConstraint: tree["isconstraint"]?.bool ?? false,
                function: function.displaySignature,
                // A CONSTRAINT TRIGGER … INITIALLY DEFERRED FOR EACH ROW queues its events until COMMIT.
                isAlwaysDeferred: tree["isconstraint"]?.bool == true && tree["initdeferred"]?.bool == true && tree["row"]?.bool == true,
                eventBits: tree["events"]?.int ?? 0))
    }

    // MARK: Tables, views, indexes

    /// The schema a new object goes to; reports a missing schema or a missing CREATE privilege. `temporary`: the
    /// statement said TEMP/TEMPORARY; a name in `pg_temp` is temporary too (`CatalogOverlay.temporarySchema`).
    /// `relation`: the new relation's name (tables, views, sequences, composite types), which pg_catalog refuses
    /// even to a superuser.
    private mutating func resolveCreationSchema(
        _ explicit: String?, temporary: Bool = false, relation: String? = nil, _ overlay: inout CatalogOverlay
    ) -> String? {
        // An unqualified name goes to the temporary schema when search_path lists `pg_temp` first.
        if temporary || (explicit ?? overlay.creationSchema).map(CatalogOverlay.isTemporarySchema) == true {
            if temporary, let explicit, !CatalogOverlay.isTemporarySchema(explicit) {
                error(
                    "temporary-in-permanent-schema", "42P16", "cannot create temporary relation in non-temporary schema",
                    hint: "Leave the schema out: temporary objects live in the session's own schema (pg_temp).")
                return nil
            }
            overlay.temporarySchemaExists = true
            return CatalogOverlay.temporarySchema
        }
        guard let schema = explicit ?? overlay.creationSchema else {
            error("no-creation-schema", "3F000", "no schema has been selected to create in", hint: "Qualify the name with a schema, or fix search_path.")
            return nil
        }
        guard let info = overlay.schemas[schema] else {
            error("schema-does-not-exist", "3F000", "schema \"\(schema)\" does not exist", hint: "Create the schema first (CREATE SCHEMA \(quoteIdentifier(schema))).")
            return nil
        }
        if !info.canCreate && !overlay.session.isSuperuser {
            error(
                "schema-create-denied", "42501", "permission denied for schema \(schema)",
                hint: "GRANT CREATE ON SCHEMA \(quoteIdentifier(schema)) TO \(quoteIdentifier(overlay.session.user)), or apply as the schema owner (\(info.owner)).")
            return nil
        }
        if let relation, schema == "pg_catalog" {
            // `heap_create`: without allow_system_table_mods, no new relation in pg_catalog (a search_path that lists
            // pg_catalog first puts unqualified names there).
            error(
                "system-catalog-create", "42501", "permission denied to create \"pg_catalog.\(relation)\"", detail: "System catalog modifications are currently disallowed.",
                hint: "Qualify the name with a schema, or list pg_catalog after it in search_path.")
            return nil
        }
        return schema
    }

    private mutating func createTable(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "create"
        summary.lock = "AccessExclusiveLock"
        guard let (explicit, name) = Syntax.rangeVar(tree["relation"]) else { return }
        guard let schema = resolveCreationSchema(explicit, temporary: Syntax.isTemporary(tree["relation"]), relation: name, &overlay) else { return }
        summary.object = "\(schema).\(name)"
        if relationNameTaken(schema: schema, name: name, ifNotExists: tree["if_not_exists"]?.bool == true, statement: "CREATE TABLE", overlay) { return }
        let onCommit = tree["oncommit"]?.string ?? "ONCOMMIT_NOOP"
        if onCommit != "ONCOMMIT_NOOP" && !CatalogOverlay.isTemporarySchema(schema) {
            error("on-commit-not-temporary", "42P16", "ON COMMIT can only be used on temporary tables", hint: "Make the table TEMPORARY, or leave ON COMMIT out.")
            return
        }
        // ON COMMIT DROP: gone when the bundle's transaction commits (`Planner` removes it then).
        if onCommit == "ONCOMMIT_DROP" { overlay.droppedAtCommit.append(name) }
        if let type = overlay.types[CatalogOverlay.key(schema, name)], type.kind != "c" {
            error(
                "relation-name-collides-with-type", "42710", "type \"\(name)\" already exists",
                hint: "A relation has an associated type of the same name, so you must use a name that doesn't conflict with any existing type.")
            return
        }
        var columns: [ColumnInfo] = []
        var seen = Set<String>()
        var foreignKeys: [ParseNode] = []
        // Foreign keys are checked once the table exists (it may reference itself), as the server adds them after
        // creating it.
        var foreignKeyChecks: [(constraint: ParseNode, columns: [String])] = []
        var columnDefinitions: [(name: String, definition: ParseNode)] = []
        // PRIMARY KEY and UNIQUE constraints, in order: each makes an index.
        var keyConstraints: [(constraint: ParseNode, keys: [String])] = []
        for element in tree["tableElts"]?.listItems ?? [] {
            switch element.nodeType {
            case "ColumnDef":
                guard let column = element.nodeBody, let columnName = column["colname"]?.string else { continue }
                // PostgreSQL transforms each column definition (serial first) before it looks for duplicates.
                if Syntax.isSerialArray(column["typeName"]) {
                    error("serial-array", "0A000", "array of serial is not implemented", hint: "Use an integer array column, or a serial column.")
                    return
                }
                if !seen.insert(columnName).inserted {
                    error("column-duplicate", "42701", "column \"\(columnName)\" specified more than once")
                    return
                }
                // `OF type (a PRIMARY KEY)` and `PARTITION OF parent (a NOT NULL)`: options for a column the table
                // gets from its type or parent, without a type of its own.
                if column["typeName"] == nil { continue }
                let written = Syntax.columnType(column["typeName"])
                let display = Syntax.displayType(column["typeName"])
                guard let type = overlay.canonicalType(written: written, display: display) else {
                    error("type-does-not-exist", "42704", "type \"\(display)\" does not exist", hint: "Create the type first, or fix its name.")
                    return
                }
                let constraints = (column["constraints"]?.listItems ?? []).compactMap { $0.nodeBody }
                for (offset, constraint) in constraints.enumerated() where constraint["contype"]?.string == "CONSTR_FOREIGN" {
                    foreignKeyChecks.append((constraint, [columnName]))
                    // Column constraints carry DEFERRABLE / INITIALLY DEFERRED as separate attribute nodes after them.
                    let attributes = constraints[(offset + 1)...].prefix { $0["contype"]?.string?.hasPrefix("CONSTR_ATTR_") == true }
                    if attributes.contains(where: { $0["contype"]?.string == "CONSTR_ATTR_DEFERRED" }), var members = constraint.object {
                        members["initdeferred"] = .bool(true)
                        foreignKeys.append(.object(members))
                    } else {
                        foreignKeys.append(constraint)
                    }
                }
                let notNull = constraints.contains { ["CONSTR_NOTNULL", "CONSTR_PRIMARY"].contains($0["contype"]?.string ?? "") }
                let hasDefault = constraints.contains { $0["contype"]?.string == "CONSTR_DEFAULT" }
                columnDefinitions.append((columnName, column))
                for constraint in constraints where ["CONSTR_PRIMARY", "CONSTR_UNIQUE"].contains(constraint["contype"]?.string ?? "") {
                    keyConstraints.append((.object(constraint.object ?? [:]), [columnName]))
                }
                columns.append(
                    ColumnInfo(
                        name: columnName, position: columns.count + 1, type: type, typeOID: 0, typmod: -1, notNull: notNull,
                        hasDefault: hasDefault, generated: "", collation: nil))
            case "Constraint":
                guard let constraint = element.nodeBody else { continue }
                if ["CONSTR_PRIMARY", "CONSTR_UNIQUE"].contains(constraint["contype"]?.string ?? "") {
                    keyConstraints.append((constraint, (constraint["keys"]?.listItems ?? []).compactMap(\.stringValue)))
                }
                if constraint["contype"]?.string == "CONSTR_FOREIGN" {
                    foreignKeyChecks.append((constraint, Syntax.names(constraint["fk_attrs"])))
                    foreignKeys.append(constraint)
                }
            default:
                continue
            }
        }
        // Temporary and permanent relations do not mix in a hierarchy (`MergeAttributes`, `DefineRelation`).
        let partition = tree["partbound"] != nil
        let temporaryChild = CatalogOverlay.isTemporarySchema(schema)
        for parent in (tree["inhRelations"]?.listItems ?? []).compactMap({ Syntax.rangeVar($0) }) {
            guard let parentInfo = overlay.relation(schema: parent.schema, name: parent.name) else { continue }
            let temporaryParent = CatalogOverlay.isTemporarySchema(parentInfo.schema)
            if temporaryParent && !temporaryChild {
                let message = partition
                    ? "cannot create a permanent relation as partition of temporary relation \"\(parentInfo.name)\""
                    : "cannot inherit from temporary relation \"\(parentInfo.name)\""
                return error("temporary-parent", "42809", message, hint: "Make the new table TEMPORARY too, or its parent permanent.")
            }
            if partition && temporaryChild && !temporaryParent {
                return error(
                    "temporary-partition", "42809", "cannot create a temporary relation as partition of permanent relation \"\(parentInfo.name)\"",
                    hint: "Make the partition permanent: a permanent table's partitions are permanent.")
            }
        }
        if tree["partbound"] != nil, let parent = (tree["inhRelations"]?.listItems ?? []).first.flatMap({ Syntax.rangeVar($0) }) {
            checkPartitionBound(parent: parent, partition: nil, overlay: overlay)
            if hasError { return }
        }
        let created = RelationInfo(
            oid: 0, schema: schema, name: name, kind: tree["partspec"] != nil ? "p" : "r", owner: overlay.session.user,
            isOwnedByCurrentRole: true, estimatedRows: 0, totalBytes: 0, columns: columns)
        // The sequences of serial and identity columns are made first (then the table, which cannot clash with them).
        for (columnName, definition) in columnDefinitions {
            addColumnSequence(definition, column: columnName, table: created, overlay: &overlay)
            if hasError { return }
        }
        overlay.putRelation(created)
        for (constraint, keys) in keyConstraints {
            let primary = constraint["contype"]?.string == "CONSTR_PRIMARY"
            let name = constraint["conname"]?.string
                ?? overlay.chooseRelationName(name, primary ? nil : keys.joined(separator: "_"), label: primary ? "pkey" : "key", schema: schema)
            addConstraintIndex(name: name, primary: primary, keys: keys, table: created, overlay: &overlay)
        }
        let copiesKeys = (tree["tableElts"]?.listItems ?? []).contains { $0.nodeType == "TableLikeClause" }
        if !copiesKeys && tree["inhRelations"] == nil && tree["partbound"] == nil && tree["ofTypename"] == nil {
            overlay.relationsWithKnownKeys.insert(CatalogOverlay.key(schema, name))
        }
        for (constraint, columns) in foreignKeyChecks where !checkForeignKey(constraint, columns: columns, overlay: overlay) { return }
        for foreignKey in foreignKeys { addForeignKeyTriggers(foreignKey, relation: created, overlay: &overlay) }
        overlay.types[CatalogOverlay.key(schema, name)] = TypeInfo(oid: 0, schema: schema, name: name, kind: "c", enumLabels: [])
    }

    /// Partition bounds (overlap with an existing partition, a second default partition, rows of the default
    /// partition that would belong to the new one, …) are checked by the server itself: the statement runs in a
    /// transaction that is always rolled back, with a 50 ms lock timeout so a busy parent is never blocked for
    /// long (then the check is skipped with a warning). Only when the parent and the attached table are live.
    private mutating func checkPartitionBound(parent: (schema: String?, name: String), partition: (schema: String?, name: String)?, overlay: CatalogOverlay) {
        guard let probe, !overlay.partitionBoundsChanged, let parentInfo = overlay.relation(schema: parent.schema, name: parent.name),
            overlay.liveRelationOIDs.contains(parentInfo.oid)
        else { return }
        if let partition {
            guard let attached = overlay.relation(schema: partition.schema, name: partition.name), overlay.liveRelationOIDs.contains(attached.oid) else { return }
        }
        switch probe.attempt(["SET LOCAL lock_timeout = '50ms'", statement.text]) {
        case .succeeded:
            break
        case .failed(let message) where ["42P17", "23514", "42P16", "42809", "42804"].contains(message.sqlstate):
            error(
                "partition-bound-conflict", message.sqlstate, message.message, detail: message.detail,
                hint: [message.hint, "Checked by running the statement on the server in a transaction that was rolled back."].compactMap { $0 }.joined(separator: " "),
                object: "\(parentInfo.schema).\(parentInfo.name)")
        case .failed:
            break
        case .unavailable:
            warning(
                "partition-bound-unchecked", "could not check the partition bounds of \(parentInfo.schema).\(parentInfo.name) (the table was busy or the check timed out)",
                object: "\(parentInfo.schema).\(parentInfo.name)")
        }
    }

    /// 42P07 when a relation of that name exists in the schema (a skip notice with IF NOT EXISTS); true when taken.
    private mutating func relationNameTaken(schema: String, name: String, ifNotExists: Bool, statement: String, _ overlay: CatalogOverlay) -> Bool {
        guard overlay.relations[CatalogOverlay.key(schema, name)] != nil else { return false }
        if ifNotExists {
            summary.action = "skip"
            info("relation-already-exists", "relation \"\(name)\" already exists, skipping")
        } else {
            error("relation-already-exists", "42P07", "relation \"\(name)\" already exists", hint: "Use \(statement) IF NOT EXISTS, or choose another name.")
        }
        return true
    }

    /// CREATE TABLE … AS and CREATE MATERIALIZED VIEW: the new relation, with the query's columns when the live
    /// catalog can describe them (else unknown, and column checks on it are skipped). SELECT … INTO is parsed as
    /// a SELECT and not modeled.
    private mutating func createTableAs(_ tree: ParseNode, _ overlay: inout CatalogOverlay, describing: Bool = true) {
        let into = tree["into"].flatMap { $0.nodeType == "IntoClause" ? $0.nodeBody : $0 }
        guard let target = into?["rel"], let (explicit, name) = Syntax.rangeVar(target) else { return }
        let materialized = tree["objtype"]?.string == "OBJECT_MATVIEW"
        summary.action = "create"
        summary.lock = "AccessExclusiveLock"
        if materialized, Self.readsTemporaryRelation(tree["query"], overlay) {
            error("materialized-view-uses-temporary", "0A000", "materialized views must not use temporary tables or views", hint: "Read permanent relations only, or create a TEMPORARY table instead.")
            return
        }
        guard let schema = resolveCreationSchema(explicit, temporary: Syntax.isTemporary(target), relation: name, &overlay) else { return }
        summary.object = "\(schema).\(name)"
        let statementName = materialized ? "CREATE MATERIALIZED VIEW" : "CREATE TABLE"
        if relationNameTaken(schema: schema, name: name, ifNotExists: tree["if_not_exists"]?.bool == true, statement: statementName, overlay) { return }
        var columns: [ColumnInfo] = []
        if describing, let select = viewSelectText(tree).map(Self.withoutDataClause), let probed = probe?.viewColumns(selectSQL: select) {
            let aliases = Syntax.names(into?["colNames"])
            columns = probed.enumerated().map { offset, column in
                var renamed = column
                if offset < aliases.count { renamed.name = aliases[offset] }
                return renamed
            }
        }
        overlay.putRelation(
            RelationInfo(
                oid: 0, schema: schema, name: name, kind: materialized ? "m" : "r", owner: overlay.session.user, isOwnedByCurrentRole: true,
                estimatedRows: 0, totalBytes: 0, columns: columns))
        if materialized { recordViewDependencies(tree["query"], schema: schema, name: name, materialized: true, replacing: 0, overlay: &overlay) }
    }

    private mutating func createSequence(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "create"
        guard let (explicit, name) = Syntax.rangeVar(tree["sequence"]) else { return }
        guard let schema = resolveCreationSchema(explicit, temporary: Syntax.isTemporary(tree["sequence"]), relation: name, &overlay) else { return }
        summary.object = "\(schema).\(name)"
        if relationNameTaken(schema: schema, name: name, ifNotExists: tree["if_not_exists"]?.bool == true, statement: "CREATE SEQUENCE", overlay) { return }
        let sequence = RelationInfo(
            oid: 0, schema: schema, name: name, kind: "S", owner: overlay.session.user, isOwnedByCurrentRole: true, estimatedRows: 0, totalBytes: 0, columns: [])
        overlay.putRelation(sequence)
        setSequenceOwnedBy(tree["options"], sequence: sequence, &overlay)
    }

    /// ALTER SEQUENCE: the sequence must exist; OWNED BY is checked and recorded.
    private mutating func alterSequence(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "alter"
        guard let (schema, name) = Syntax.rangeVar(tree["sequence"]) else { return }
        guard let sequence = overlay.relation(schema: schema, name: name) else {
            if tree["missing_ok"]?.bool == true {
                info("relation-does-not-exist", "relation \"\(name)\" does not exist, skipping")
            } else {
                _ = requireRelation(schema: schema, name: name, overlay: overlay)
            }
            return
        }
        summary.object = "\(sequence.schema).\(sequence.name)"
        guard sequence.kind == "S" else {
            return error("not-a-sequence", "42809", "\"\(sequence.name)\" is not a sequence", hint: "Use ALTER TABLE / ALTER INDEX for \(sequence.schema).\(sequence.name).")
        }
        setSequenceOwnedBy(tree["options"], sequence: sequence, &overlay)
    }

    /// OWNED BY t.c / NONE (`process_owned_by`): the table must exist, be a table, have the sequence's owner and
    /// schema, and the column; the sequence then goes with the column.
    private mutating func setSequenceOwnedBy(_ options: ParseNode?, sequence: RelationInfo, _ overlay: inout CatalogOverlay) {
        guard let option = (options?.listItems ?? []).compactMap(\.nodeBody).last(where: { $0["defname"]?.string == "owned_by" }) else { return }
        let parts = Syntax.names(option["arg"])
        let sequenceKey = CatalogOverlay.key(sequence.schema, sequence.name)
        if parts.count == 1 && parts[0] == "none" {
            overlay.sequenceOwners[sequenceKey] = nil
            return
        }
        guard parts.count >= 2, let column = parts.last, let (schema, table) = Syntax.qualified(Array(parts.dropLast())) else { return }
        guard let owner = requireRelation(schema: schema, name: table, overlay: overlay) else { return }
        guard ["r", "p", "f"].contains(owner.kind) else {
            return error("sequence-owner-wrong-kind", "42809", "sequence cannot be owned by relation \"\(owner.name)\"")
        }
        if !overlay.roleChangedByPlan && !sameBytes(owner.owner, sequence.owner) {
            return error(
                "sequence-owner-mismatch", "55000", "sequence must have same owner as table it is linked to",
                hint: "\(sequence.schema).\(sequence.name) is owned by \(sequence.owner), \(owner.schema).\(owner.name) by \(owner.owner): change one owner first.")
        }
        if !sameBytes(owner.schema, sequence.schema) {
            return error("sequence-schema-mismatch", "55000", "sequence must be in same schema as table it is linked to")
        }
        if !owner.columns.isEmpty && !owner.columns.contains(where: { sameBytes($0.name, column) }) {
            return error("column-does-not-exist", "42703", "column \"\(column)\" of relation \"\(owner.name)\" does not exist")
        }
        overlay.sequenceOwners[sequenceKey] = CatalogOverlay.SequenceOwner(table: CatalogOverlay.key(owner.schema, owner.name), column: column)
    }

    /// FK checks: target exists, has a matching unique key. Returns false after reporting an error.
    private mutating func checkForeignKey(_ constraint: ParseNode, columns: [String], overlay: CatalogOverlay) -> Bool {
        guard let (schema, table) = Syntax.rangeVar(constraint["pktable"]) else { return true }
        guard let target = overlay.relation(schema: schema, name: table) else {
            error("relation-does-not-exist", "42P01", "relation \"\(table)\" does not exist", hint: "Create the referenced table first.")
            return false
        }
        let keys = Syntax.names(constraint["pk_attrs"])
        let unique = overlay.indexes.filter { $0.schema == target.schema && $0.table == target.name && $0.isUnique }
        // Created by the plan: its keys are known only when it was made by a plain CREATE TABLE (and not moved since).
        if target.oid == 0 && !overlay.relationsWithKnownKeys.contains(CatalogOverlay.key(target.schema, target.name)) { return true }
        if keys.isEmpty {
            if !unique.contains(where: \.isPrimary) {
                error(
                    "foreign-key-no-primary-key", "42704", "there is no primary key for referenced table \"\(target.name)\"",
                    hint: "Name the referenced columns, or add a primary key to \(target.name).")
                return false
            }
        } else if !unique.contains(where: { Set($0.columns) == Set(keys) && $0.columns.count == keys.count }) {
            error(
                "foreign-key-no-unique-key", "42830", "there is no unique constraint matching given keys for referenced table \"\(target.name)\"",
                hint: "Add a UNIQUE or PRIMARY KEY constraint on \(target.name)(\(keys.joined(separator: ", "))).")
            return false
        }
        return true
    }

    private mutating func createView(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        let replace = tree["replace"]?.bool ?? false
        summary.action = replace ? "replace" : "create"
        summary.lock = "AccessExclusiveLock"
        guard let (explicit, name) = Syntax.rangeVar(tree["view"]) else { return }
        // A view that reads a temporary relation is temporary itself (PostgreSQL says so in a NOTICE).
        let temporary = Syntax.isTemporary(tree["view"]) || Self.readsTemporaryRelation(tree["query"], overlay)
        guard let schema = resolveCreationSchema(explicit, temporary: temporary, relation: name, &overlay) else { return }
        summary.object = "\(schema).\(name)"
        let existing = overlay.relations[CatalogOverlay.key(schema, name)]
        var newColumns: [ColumnInfo]? = nil
        if let select = viewSelectText(tree), let probed = probe?.viewColumns(selectSQL: select) {
            let aliases = Syntax.names(tree["aliases"])
            newColumns = probed.enumerated().map { offset, column in
                var renamed = column
                if offset < aliases.count { renamed.name = aliases[offset] }
                return renamed
            }
        }
        if let existing {
            guard replace else {
                error("relation-already-exists", "42P07", "relation \"\(name)\" already exists", hint: "Use CREATE OR REPLACE VIEW, or choose another name.")
                return
            }
            guard existing.kind == "v" else {
                error("view-replace-not-a-view", "42809", "\"\(name)\" is not a view", hint: "\(existing.schema).\(existing.name) is not a view; choose another name.")
                return
            }
            summary.action = "replace"
            if let newColumns, !existing.columns.isEmpty {
                let hint = "Use DROP VIEW and CREATE VIEW (re-granting privileges), or keep the existing columns and append new ones at the end."
                if newColumns.count < existing.columns.count {
                    error("view-drop-column", "42P16", "cannot drop columns from view", hint: hint)
                    return
                }
                for (old, new) in zip(existing.columns, newColumns) {
                    if old.name != new.name {
                        error(
                            "view-rename-column", "42P16", "cannot change name of view column \"\(old.name)\" to \"\(new.name)\"",
                            hint: "Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.")
                        return
                    }
                    if old.type != new.type {
                        error("view-change-column-type", "42P16", "cannot change data type of view column \"\(old.name)\" from \(old.type) to \(new.type)", hint: hint)
                        return
                    }
                    if old.collation != new.collation {
                        error(
                            "view-change-column-collation", "42P16",
                            "cannot change collation of view column \"\(old.name)\" from \"\(old.collation ?? "default")\" to \"\(new.collation ?? "default")\"", hint: hint)
                        return
                    }
                }
            } else if newColumns == nil {
                info("view-columns-unchecked", "could not compare the new view's columns ahead of time (it reads objects the plan creates); run `bundle plan --rehearse`")
            }
        }
        overlay.putRelation(
            RelationInfo(
                oid: existing?.oid ?? 0, schema: schema, name: name, kind: "v", owner: existing?.owner ?? overlay.session.user,
                isOwnedByCurrentRole: true, estimatedRows: 0, totalBytes: 0, columns: newColumns ?? existing?.columns ?? []))
        recordViewDependencies(tree["query"], schema: schema, name: name, materialized: false, replacing: existing?.oid ?? 0, overlay: &overlay)
    }

    /// A CREATE TABLE AS query without its trailing `WITH [NO] DATA`.
    static func withoutDataClause(_ select: String) -> String {
        guard let range = select.range(of: #"\s+WITH\s+(NO\s+)?DATA\s*;?\s*$"#, options: [.regularExpression, .caseInsensitive]) else { return select }
        return String(select[..<range.lowerBound])
    }

    /// The queries of a WITH clause, each with the WITH names in scope for it (the earlier ones; its own too when
    /// RECURSIVE), and the names in scope after the clause.
    static func withQueries(_ with: ParseNode, scope: Set<String>) -> (queries: [(query: ParseNode, scope: Set<String>)], after: Set<String>) {
        let body = with.nodeType == "WithClause" ? with.nodeBody : with
        let recursive = body?["recursive"]?.bool == true
        var inner = scope
        var queries: [(ParseNode, Set<String>)] = []
        for cte in body?["ctes"]?.listItems ?? [] {
            let definition = cte.nodeType == "CommonTableExpr" ? cte.nodeBody : cte
            let name = definition?["ctename"]?.string
            if let query = definition?["ctequery"] { queries.append((query, recursive ? inner.union(name.map { [$0] } ?? []) : inner)) }
            if let name { inner.insert(name) }
        }
        return (queries, inner)
    }

    /// Whether a query names a relation that resolves to the session's temporary schema. An unqualified name that a
    /// WITH clause defines means that query where it is in scope: in the statement after the WITH, in later WITH
    /// queries, and in its own body only when RECURSIVE.
    static func readsTemporaryRelation(_ query: ParseNode?, _ overlay: CatalogOverlay) -> Bool {
        guard let query else { return false }
        func visit(_ node: ParseNode, _ scope: Set<String>) -> Bool {
            switch node {
            case .array(let items):
                return items.contains { visit($0, scope) }
            case .object(var members):
                if let name = members["relname"]?.string, members["schemaname"]?.string != nil || !scope.contains(name),
                   overlay.relation(schema: members["schemaname"]?.string, name: name)?.schema == CatalogOverlay.temporarySchema {
                    return true
                }
                var inner = scope
                if let with = members.removeValue(forKey: "withClause") {
                    let scoped = Self.withQueries(with, scope: scope)
                    if scoped.queries.contains(where: { visit($0.query, $0.scope) }) { return true }
                    inner = scoped.after
                }
                return members.values.contains { visit($0, inner) }
            default:
                return false
            }
        }
        return visit(query, [])
    }

    /// The INTO clause of SELECT … INTO: on the statement, or on the leftmost SELECT of a set operation.
    static func intoClause(_ tree: ParseNode) -> ParseNode? {
        var node: ParseNode? = tree
        while let current = node {
            if let into = current["intoClause"] { return into }
            node = current["larg"].flatMap { $0.nodeType == "SelectStmt" ? $0.nodeBody : $0 }
        }
        return nil
    }

    /// The SELECT of a CREATE VIEW statement: the text after the top-level `AS`, without WITH CHECK OPTION.
    private func viewSelectText(_ tree: ParseNode) -> String? {
        let text = statement.text
        let scalars = Array(text.unicodeScalars)
        var depth = 0
        var index = 0
        var inQuote: Unicode.Scalar? = nil
        while index < scalars.count {
            let ch = scalars[index]
            if let quote = inQuote {
                if ch == quote { inQuote = nil }
            } else if ch == "'" || ch == "\"" {
                inQuote = ch
            } else if ch == "(" {
                depth += 1
            } else if ch == ")" {
                depth -= 1
            } else if depth == 0, ch == "A" || ch == "a", index + 2 <= scalars.count,
                index > 0, scalars[index - 1].properties.isWhitespace,
                String(String.UnicodeScalarView(scalars[index..<min(index + 2, scalars.count)])).lowercased() == "as",
                index + 2 == scalars.count || scalars[index + 2].properties.isWhitespace || scalars[index + 2] == "("
            {
                var select = String(String.UnicodeScalarView(scalars[(index + 2)...]))
                if tree["withCheckOption"]?.string.map({ $0 != "NO_CHECK_OPTION" }) == true,
                    let range = select.range(of: #"\s+with\s+(local\s+|cascaded\s+)?check\s+option\s*$"#, options: [.regularExpression, .caseInsensitive])
                {
                    select.removeSubrange(range)
                }
                return select
            }
            index += 1
        }
        return nil
    }

    private mutating func createIndex(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "create"
        summary.lock = tree["concurrent"]?.bool == true ? "ShareUpdateExclusiveLock" : "ShareLock"
        guard let (schema, table) = Syntax.rangeVar(tree["relation"]) else { return }
        guard let relation = requireRelation(schema: schema, name: table, overlay: overlay) else { return }
        let columns = (tree["indexParams"]?.listItems ?? []).compactMap { $0.nodeBody?["name"]?.string }
        let unique = tree["unique"]?.bool ?? false
        // Unnamed: `ChooseIndexName` (columns, or `lower`/`expr` for expressions, shortened, numbered past taken names).
        let name = tree["idxname"]?.string ?? overlay.chooseRelationName(
            relation.name, tree["primary"]?.bool == true ? nil : Self.indexNameAddition(tree["indexParams"]?.listItems ?? []),
            label: tree["primary"]?.bool == true ? "pkey" : "idx", schema: relation.schema)
        summary.object = "\(relation.schema).\(name)"
        if tree["idxname"]?.string != nil,
            relationNameTaken(schema: relation.schema, name: name, ifNotExists: tree["if_not_exists"]?.bool == true, statement: "CREATE INDEX", overlay)
        {
            return
        }
        if !relation.columns.isEmpty {
            for column in columns where !relation.columns.contains(where: { $0.name == column }) {
                error("column-does-not-exist", "42703", "column \"\(column)\" does not exist", hint: "Fix the column name, or add the column first.")
                return
            }
        }
        let accessMethod = tree["accessMethod"]?.string ?? "btree"
        for element in tree["indexParams"]?.listItems ?? [] {
            guard let body = element.nodeBody, let columnName = body["name"]?.string, body["opclass"] == nil,
                let column = relation.columns.first(where: { $0.name == columnName })
            else { continue }
            checkDefaultOperatorClass(column, accessMethod: accessMethod)
            if hasError { return }
        }
        if unique && !columns.isEmpty {
            checkDuplicates(relation: relation, columns: columns, constraintName: name, overlay: overlay)
            if hasError { return }
        }
        warnLargeLock(relation)
        overlay.indexes.append(IndexInfo(schema: relation.schema, name: name, table: relation.name, isUnique: unique, isPrimary: false, columns: columns, constraint: nil))
        overlay.putRelation(
            RelationInfo(oid: 0, schema: relation.schema, name: name, kind: "i", owner: relation.owner, isOwnedByCurrentRole: true, estimatedRows: 0, totalBytes: 0, columns: []))
    }

    /// 42704 when the column's type has no default operator class for the access method (`ResolveOpClass`).
    /// Conservative: any default opclass for the type, its base type, a pseudo-type or a binary-coercible type counts.
    private mutating func checkDefaultOperatorClass(_ column: ColumnInfo, accessMethod: String) {
        guard let probe, column.typeOID != 0 else { return }
        let am = sqlLiteral(accessMethod)
        guard let rows = probe.rows(
            """
            WITH RECURSIVE chain(oid, typtype, typbasetype) AS (
                SELECT t.oid, t.typtype, t.typbasetype FROM pg_type t WHERE t.oid = \(column.typeOID)
                UNION ALL
                SELECT t.oid, t.typtype, t.typbasetype FROM pg_type t JOIN chain c ON t.oid = c.typbasetype WHERE c.typtype = 'd'),
            base AS (SELECT b.oid, b.typtype, b.typcategory FROM chain c JOIN pg_type b ON b.oid = c.oid WHERE c.typtype <> 'd')
            SELECT format_type(\(column.typeOID), NULL)
            FROM base, pg_am am
            WHERE am.amname = \(am) AND am.amtype = 'i'
              AND NOT EXISTS (
                SELECT 1 FROM pg_opclass oc JOIN pg_type it ON it.oid = oc.opcintype
                WHERE oc.opcmethod = am.oid AND oc.opcdefault
                  AND (oc.opcintype IN (SELECT oid FROM chain)
                       OR oc.opcintype IN (SELECT casttarget FROM pg_cast WHERE castsource = base.oid AND castmethod = 'b')
                       OR (it.typtype = 'p' AND CASE it.typname
                             WHEN 'anyarray' THEN base.typcategory = 'A'
                             WHEN 'anyenum' THEN base.typtype = 'e'
                             WHEN 'anyrange' THEN base.typtype = 'r'
                             WHEN 'anymultirange' THEN base.typtype = 'm'
                             WHEN 'record' THEN base.typtype = 'c'
                             ELSE true END)))
            """), let typeName = rows.first?[0]
        else { return }
        error(
            "no-default-operator-class", "42704", "data type \(typeName) has no default operator class for access method \"\(accessMethod)\"",
            hint: "You must specify an operator class for the index or define a default operator class for the data type."
                + (accessMethod == "btree" && typeName == "json" ? " (Or use jsonb, which has one.)" : ""))
    }

    /// `ChooseRelationName` for the common case: `table_col1_col2_suffix` (truncation past 63 bytes not modelled).
    /// The sequence a serial or identity column makes, owned by it: named `table_column_seq` as the server names it
    /// (`ChooseRelationName`: shortened to 63 bytes, numbered past names taken) in the table's schema, or as its
    /// SEQUENCE NAME option says.
    ///
    /// A SEQUENCE NAME in another schema fails: the server makes the sequence OWNED BY the table's name in the
    /// sequence's schema (`generateSerialExtraStmts`), which has no such table.
    private mutating func addColumnSequence(_ column: ParseNode, column name: String, table: RelationInfo, overlay: inout CatalogOverlay) {
        let identity = (column["constraints"]?.listItems ?? []).compactMap(\.nodeBody).first { $0["contype"]?.string == "CONSTR_IDENTITY" }
        guard identity != nil || Syntax.isSerial(column["typeName"]) else { return }
        var schema = table.schema
        var sequenceName: String
        let option = (identity?["options"]?.listItems ?? []).compactMap(\.nodeBody).first { $0["defname"]?.string == "sequence_name" }
        if let parts = option.map({ Syntax.names($0["arg"]) }), let last = parts.last {
            if parts.count > 1 { schema = parts[parts.count - 2] }
            sequenceName = last
            if !sameBytes(schema, table.schema), overlay.relation(schema: schema, name: table.name) == nil {
                error("relation-does-not-exist", "42P01", "relation \"\(schema).\(table.name)\" does not exist", hint: "Put the identity sequence in the table's own schema.")
                return
            }
        } else {
            sequenceName = overlay.chooseRelationName(table.name, name, label: "seq", schema: schema)
        }
        overlay.putRelation(
            RelationInfo(
                oid: 0, schema: schema, name: sequenceName, kind: "S", owner: overlay.session.user, isOwnedByCurrentRole: true,
                estimatedRows: 0, totalBytes: 0, columns: []))
        overlay.sequenceOwners[CatalogOverlay.key(schema, sequenceName)] = CatalogOverlay.SequenceOwner(table: CatalogOverlay.key(table.schema, table.name), column: name)
    }

    /// `ChooseIndexNameAddition` over `ChooseIndexColumnNames`: each key's column name, or for an expression the name
    /// the server figures for it (a function's name; `expr` otherwise), joined by `_`.
    static func indexNameAddition(_ parameters: [ParseNode]) -> String {
        func figure(_ node: ParseNode?) -> String? {
            guard let node, let type = node.nodeType, let body = node.nodeBody else { return nil }
            switch type {
            case "FuncCall": return Syntax.names(body["funcname"]).last
            case "TypeCast": return figure(body["arg"]) ?? Syntax.names(body["typeName"]?["names"]).last
            case "ColumnRef": return (body["fields"]?.listItems ?? []).last?.stringValue
            default: return nil
            }
        }
        var result = ""
        for parameter in parameters {
            let body = parameter.nodeBody
            let name = body?["name"]?.string ?? figure(body?["expr"]) ?? "expr"
            if !result.isEmpty { result += "_" }
            result += name
            if result.utf8.count >= 64 { break }
        }
        return result
    }

    /// The index a PRIMARY KEY or UNIQUE constraint makes, under the constraint's name: a relation of its own too
    /// (ALTER INDEX, DROP INDEX … and later statements name it).
    private func addConstraintIndex(name: String, primary: Bool, keys: [String], table: RelationInfo, overlay: inout CatalogOverlay) {
        overlay.putRelation(
            RelationInfo(
                oid: 0, schema: table.schema, name: name, kind: "i", owner: overlay.session.user, isOwnedByCurrentRole: true, estimatedRows: 0,
                totalBytes: 0, columns: []))
        overlay.indexes.append(IndexInfo(schema: table.schema, name: name, table: table.name, isUnique: true, isPrimary: primary, columns: keys, constraint: name))
    }

    /// The column's default expression is gone (SET/DROP DEFAULT, DROP COLUMN), and with it what it depended on.
    private func removeDefaultDependencies(of column: String, in relation: RelationInfo, overlay: inout CatalogOverlay) {
        guard relation.oid != 0 else { return }
        let prefix = "default value for column \(quoteIdentifier(column)) of table "
        let tables = [quoteIdentifier(relation.name), quoteIdentifier(relation.schema) + "." + quoteIdentifier(relation.name)]
        overlay.dependents.removeAll { dependent in
            !dependent.isGeneratedColumnExpression && tables.contains { sameBytes(dependent.dependent, prefix + $0) }
        }
    }

    /// "view v" / "materialized view s.v", as `pg_describe_object` names a view the plan created.
    private func plannedViewDescription(_ dependency: CatalogOverlay.PlannedDependency, _ overlay: CatalogOverlay) -> String {
        (dependency.materialized ? "materialized view " : "view ") + overlay.display(schema: dependency.viewSchema, name: dependency.viewName)
    }

    /// DROP … CASCADE of what views created by the plan read: those views, and views over them, leave the plan.
    private func dropPlannedDependents(_ dependencies: [CatalogOverlay.PlannedDependency], overlay: inout CatalogOverlay) {
        var pending = dependencies
        var visited = Set<String>()
        while let dependency = pending.popLast() {
            guard visited.insert(dependency.view).inserted, let view = overlay.relations[dependency.view] else { continue }
            pending += overlay.plannedDependencies.filter { $0.referenced == dependency.view }
            if view.oid != 0 { dropDependents(of: view.oid, overlay: &overlay) }
            overlay.removeRelation(view)
        }
    }

    /// Records what a view or materialized view the plan creates reads (replacing what an earlier definition of it
    /// read, in the catalog or the plan). The columns are known when it reads one relation, once, with no WITH,
    /// subquery or function in FROM; names in ORDER BY and GROUP BY are skipped (they may be output names).
    private func recordViewDependencies(_ query: ParseNode?, schema: String, name: String, materialized: Bool, replacing oid: UInt32, overlay: inout CatalogOverlay) {
        let viewKey = CatalogOverlay.key(schema, name)
        overlay.plannedDependencies.removeAll { $0.view == viewKey }
        if oid != 0 { overlay.dependents.removeAll { $0.dependentOwnerOID == oid && $0.dependent.hasPrefix("rule ") } }
        guard let query else { return }
        var read: [RelationInfo] = []
        var simple = true
        var columnNames: [String] = []
        var star = false
        func visit(_ node: ParseNode, _ scope: Set<String>, _ collectColumns: Bool) {
            switch node {
            case .array(let items):
                for item in items { visit(item, scope, collectColumns) }
            case .object(var members):
                if members["RangeSubselect"] != nil || members["RangeFunction"] != nil || members["RangeTableFunc"] != nil { simple = false }
                // FROM t AS q(x, y): the query's names are not the table's.
                if members["relname"] != nil, members["alias"]?["colnames"] != nil { simple = false }
                // SELECT * / t.* as a whole target: every column; a whole-row t.* inside an expression is a dependency
                // on the table only.
                if let targets = members["targetList"]?.listItems {
                    for target in targets {
                        guard let value = target.nodeBody?["val"], value.nodeType == "ColumnRef",
                            value.nodeBody?["fields"]?.listItems?.last?.nodeType == "A_Star"
                        else { continue }
                        star = true
                    }
                }
                if let name = members["relname"]?.string, members["schemaname"]?.string != nil || !scope.contains(name) {
                    if let relation = overlay.relation(schema: members["schemaname"]?.string, name: name) { read.append(relation) } else { simple = false }
                } else if members["relname"] != nil {
                    simple = false  // a WITH query's name
                }
                if collectColumns, let fields = members["fields"]?.listItems, members["location"] != nil, fields.last?.nodeType != "A_Star",
                    let last = fields.last?.nodeBody?["sval"]?.string ?? fields.last?.stringValue
                {
                    columnNames.append(last)
                }
                var inner = scope
                if let with = members.removeValue(forKey: "withClause") {
                    simple = false
                    let scoped = Self.withQueries(with, scope: scope)
                    for (cteQuery, own) in scoped.queries { visit(cteQuery, own, collectColumns) }
                    inner = scoped.after
                }
                for (key, value) in members {
                    visit(value, inner, collectColumns && !["sortClause", "groupClause", "distinctClause"].contains(key))
                }
            default:
                return
            }
        }
        visit(query, [], true)
        var seen = Set<String>()
        let relations = read.filter { seen.insert(CatalogOverlay.key($0.schema, $0.name)).inserted && $0.kind != "S" }
        let columnsKnown = simple && read.count == 1 && relations.count == 1 && !relations[0].columns.isEmpty
        for relation in relations {
            let columns: [String]? =
                columnsKnown
                ? (star ? relation.columns.map(\.name) : Array(Set(columnNames.filter { column in relation.columns.contains { sameBytes($0.name, column) } })).sorted())
                : nil
            overlay.plannedDependencies.append(
                CatalogOverlay.PlannedDependency(
                    referenced: CatalogOverlay.key(relation.schema, relation.name), columns: columns, viewSchema: schema, viewName: name, materialized: materialized))
        }
    }

    /// DROP … CASCADE: the views over the dropped object (or column), and the views over those, leave the plan too.
    private func dropDependents(of oid: UInt32, column: Int? = nil, overlay: inout CatalogOverlay) {
        var pending = overlay.dependents(of: oid, column: column)
        var visited: Set<UInt32> = [oid]
        while let dependent = pending.popLast() {
            guard dependent.dependent.hasPrefix("rule "), visited.insert(dependent.dependentOwnerOID).inserted else { continue }
            pending += overlay.dependents(of: dependent.dependentOwnerOID)
            if let view = overlay.relations.values.first(where: { $0.oid == dependent.dependentOwnerOID }) { overlay.removeRelation(view) }
        }
    }

    /// The constraint of `table` named `name`: a row of the catalog or the plan, or the index that implements it.
    private func constraint(named name: String, of table: RelationInfo, overlay: CatalogOverlay) -> (constraint: ConstraintInfo?, index: IndexInfo?)? {
        let row = overlay.constraints.first { sameBytes($0.schema, table.schema) && sameBytes($0.table, table.name) && sameBytes($0.name, name) }
        let index = overlay.indexes.first {
            sameBytes($0.schema, table.schema) && sameBytes($0.table, table.name) && $0.constraint.map { sameBytes($0, name) } == true
        }
        if row == nil && index == nil { return nil }
        return (row, index)
    }

    /// A constraint that is in neither the catalog nor the plan is certainly missing only on a live table (whose
    /// constraints were all read) when the plan added no constraint of that name anywhere and none it could not name.
    private func constraintCertainlyMissing(_ name: String, of table: RelationInfo, overlay: CatalogOverlay) -> Bool {
        table.oid != 0 && overlay.liveRelationOIDs.contains(table.oid) && !overlay.constraintNamesUncertain
            && !overlay.addedConstraintNames.contains(where: { sameBytes($0, name) })
    }

    /// ALTER TABLE … DROP CONSTRAINT: 42704 when it does not exist, 2BP01 when foreign keys depend on its index
    /// (without CASCADE); the constraint, its index and (with CASCADE) those foreign keys leave the plan.
    private mutating func dropConstraint(_ name: String, missingOK: Bool, cascade: Bool, table: RelationInfo, overlay: inout CatalogOverlay) {
        guard let (row, index) = constraint(named: name, of: table, overlay: overlay) else {
            if missingOK {
                info("constraint-does-not-exist", "constraint \"\(name)\" of relation \"\(table.name)\" does not exist, skipping")
            } else if constraintCertainlyMissing(name, of: table, overlay: overlay) {
                let known = overlay.constraints.filter { sameBytes($0.schema, table.schema) && sameBytes($0.table, table.name) }.map(\.name)
                error(
                    "constraint-does-not-exist", "42704", "constraint \"\(name)\" of relation \"\(table.name)\" does not exist",
                    hint: known.isEmpty
                        ? "The table has no constraints; use DROP CONSTRAINT IF EXISTS if that is expected."
                        : "Its constraints: \(known.sorted().joined(separator: ", ")). Use DROP CONSTRAINT IF EXISTS if it may be missing.")
            }
            return
        }
        let indexName = index?.name ?? (row?.type == "f" ? nil : row?.indexName)
        if let indexName {
            let referencing = overlay.constraints.filter {
                $0.type == "f" && !$0.isInherited && $0.indexName.map { sameBytes($0, indexName) } == true
                    && $0.referencedSchema.map { sameBytes($0, table.schema) } == true && $0.referencedTable.map { sameBytes($0, table.name) } == true
            }
            if !referencing.isEmpty && !cascade {
                error(
                    "drop-with-dependents", "2BP01",
                    "cannot drop constraint \(name) on table \(overlay.display(schema: table.schema, name: table.name)) because other objects depend on it",
                    detail: referencing.map {
                        "constraint \($0.name) on table \(overlay.display(schema: $0.schema, name: $0.table)) depends on index \(overlay.display(schema: table.schema, name: indexName))"
                    }.joined(separator: "\n"),
                    hint: "Use DROP ... CASCADE to drop the dependent objects too.")
                return
            }
            overlay.constraints.removeAll { candidate in referencing.contains { $0 == candidate } }
            overlay.indexes.removeAll { sameBytes($0.schema, table.schema) && sameBytes($0.table, table.name) && sameBytes($0.name, indexName) }
            overlay.relations[CatalogOverlay.key(table.schema, indexName)] = nil
        }
        overlay.constraints.removeAll { sameBytes($0.schema, table.schema) && sameBytes($0.table, table.name) && sameBytes($0.name, name) }
        overlay.droppedConstraintNames.insert(CatalogOverlay.key(table.schema, name))
    }

    /// ADD CONSTRAINT … USING INDEX: 42704 when the index does not exist; else the index becomes the constraint's,
    /// renamed to the constraint's name.
    private mutating func addConstraintUsingIndex(_ indexName: String, name: String?, primary: Bool, table: RelationInfo, overlay: inout CatalogOverlay) {
        let constraintName = name ?? indexName
        overlay.addedConstraintNames.insert(constraintName)
        guard let position = overlay.indexes.firstIndex(where: { sameBytes($0.schema, table.schema) && sameBytes($0.name, indexName) }) else {
            if table.oid != 0 && overlay.liveRelationOIDs.contains(table.oid) && overlay.relations[CatalogOverlay.key(table.schema, indexName)] == nil {
                error("index-does-not-exist", "42704", "index \"\(indexName)\" does not exist", hint: "Create the unique index first (CREATE UNIQUE INDEX … ON \(table.name)), or fix its name.")
            }
            return
        }
        overlay.indexes[position].constraint = constraintName
        if primary { overlay.indexes[position].isPrimary = true }
        guard !sameBytes(constraintName, indexName) else { return }
        overlay.indexes[position].name = constraintName
        if var relation = overlay.relations.removeValue(forKey: CatalogOverlay.key(table.schema, indexName)) {
            relation.name = constraintName
            overlay.putRelation(relation)
        }
    }

    /// Looks a relation up for a statement that needs it; reports 42P01 (or 3F000) when it is missing.
    private mutating func requireRelation(schema: String?, name: String, overlay: CatalogOverlay) -> RelationInfo? {
        if let found = overlay.relation(schema: schema, name: name) { return found }
        if let schema, !overlay.schemaExists(schema) {
            error("schema-does-not-exist", "3F000", "schema \"\(schema)\" does not exist")
        } else {
            // RangeVarGetRelidExtended names the schema when the statement did.
            error(
                "relation-does-not-exist", "42P01", "relation \"\(schema.map { "\($0)." } ?? "")\(name)\" does not exist",
                hint: "Create the relation first, or fix its name (search_path: \(overlay.searchPath.joined(separator: ", "))).")
        }
        return nil
    }

    private mutating func warnLargeLock(_ relation: RelationInfo) {
        guard summary.lock == "AccessExclusiveLock" || summary.lock == "ShareLock", relation.oid != 0 else { return }
        if relation.estimatedRows >= 1_000_000 || relation.totalBytes >= 1 << 30 {
            warning(
                "lock-on-large-table",
                "\(summary.lock!) on \(relation.schema).\(relation.name) (~\(Int(relation.estimatedRows)) rows, \(relation.totalBytes / (1 << 20)) MiB) blocks \(summary.lock == "ShareLock" ? "writes" : "all reads and writes") while the statement runs",
                hint: "Schedule it in a quiet window, or use a non-blocking form (CREATE INDEX CONCURRENTLY in its own non --txn bundle, ADD CONSTRAINT … NOT VALID then VALIDATE).",
                object: "\(relation.schema).\(relation.name)")
        }
    }

    /// Distinct column names an expression refers to (last field of each ColumnRef), in first-seen order.
    static func columnReferences(_ expression: ParseNode?) -> [String] {
        guard let expression else { return [] }
        var seen: [String] = []
        Syntax.walk(expression) { type, body in
            if type == "ColumnRef", let name = Syntax.names(body["fields"]).last, !seen.contains(name) { seen.append(name) }
        }
        return seen
    }

    /// 23514 when existing rows violate a validated CHECK (rows where the expression is false; NULL passes).
    private mutating func checkConstraintRows(_ def: ParseNode, relation: RelationInfo, constraintName: String) {
        guard let location = def["location"]?.int else { return }
        var hasSubquery = false
        if let expression = def["raw_expr"] { Syntax.walk(expression) { type, _ in if type == "SubLink" { hasSubquery = true } } }
        guard !hasSubquery, let expression = Self.parenthesizedText(statement.source, from: location, to: statement.byteRange.upperBound) else { return }
        checkConstraintRows(expression: expression, relation: relation, constraintName: constraintName)
    }

    /// 23514 when existing rows make `expression` false.
    private mutating func checkConstraintRows(expression: String, relation: RelationInfo, constraintName: String) {
        guard let probe else { return }
        guard let rows = probe.rows("SELECT 1 FROM \(relation.qualifiedName) WHERE NOT (\(expression)) LIMIT 1") else {
            warning(
                "check-constraint-unchecked",
                "could not check the existing rows of \(relation.schema).\(relation.name) against CHECK (\(expression)); the statement may fail with 23514",
                hint: "Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later bundle.")
            return
        }
        if !rows.isEmpty {
            error(
                "check-constraint-violated-by-rows", "23514", "check constraint \"\(constraintName)\" of relation \"\(relation.name)\" is violated by some row",
                hint: "Fix the rows first (SELECT * FROM \(relation.qualifiedName) WHERE NOT (\(expression))), or add the constraint NOT VALID and VALIDATE it after the cleanup.")
        }
    }

    /// 23503 when existing rows hold keys the referenced table lacks (MATCH SIMPLE: rows with a NULL key pass).
    private mutating func checkForeignKeyRows(_ def: ParseNode, relation: RelationInfo, columns: [String], constraintName: String, overlay: CatalogOverlay) {
        guard let probe, def["fk_matchtype"]?.string ?? "s" == "s", let (schema, table) = Syntax.rangeVar(def["pktable"]),
            let target = overlay.relation(schema: schema, name: table), overlay.liveRelationOIDs.contains(target.oid)
        else { return }
        var keys = Syntax.names(def["pk_attrs"])
        if keys.isEmpty {
            keys = overlay.indexes.first { $0.schema == target.schema && $0.table == target.name && $0.isPrimary }?.columns ?? []
        }
        guard !columns.isEmpty, keys.count == columns.count else { return }
        let present = columns.map { "fk.\(quoteIdentifier($0)) IS NOT NULL" }.joined(separator: " AND ")
        let match = zip(keys, columns).map { "pk.\(quoteIdentifier($0)) = fk.\(quoteIdentifier($1))" }.joined(separator: " AND ")
        guard let rows = probe.rows(
            "SELECT 1 FROM \(relation.qualifiedName) fk WHERE \(present) AND NOT EXISTS (SELECT 1 FROM \(target.qualifiedName) pk WHERE \(match)) LIMIT 1")
        else {
            warning(
                "foreign-key-unchecked", "could not check the existing rows of \(relation.schema).\(relation.name) against the foreign key; the statement may fail with 23503",
                hint: "Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later bundle.")
            return
        }
        if !rows.isEmpty {
            error(
                "foreign-key-violated-by-rows", "23503", "insert or update on table \"\(relation.name)\" violates foreign key constraint \"\(constraintName)\"",
                hint: "Delete or fix the rows of \(relation.name) whose (\(columns.joined(separator: ", "))) has no match in \(target.name), or add the constraint NOT VALID and VALIDATE it after the cleanup.")
        }
    }

    /// Models the RI triggers of a `DEFERRABLE INITIALLY DEFERRED` foreign key created by the plan.
    private func addForeignKeyTriggers(_ def: ParseNode, relation: RelationInfo, overlay: inout CatalogOverlay) {
        guard def["initdeferred"]?.bool == true, let (schema, table) = Syntax.rangeVar(def["pktable"]),
            let target = overlay.relation(schema: schema, name: table)
        else { return }
        overlay.triggers.append(
            TriggerInfo(schema: relation.schema, table: relation.name, name: "", isInternal: true, isConstraint: true, function: "RI_FKey_check", isAlwaysDeferred: true, eventBits: 4 | 16))
        overlay.triggers.append(
            TriggerInfo(schema: target.schema, table: target.name, name: "", isInternal: true, isConstraint: true, function: "RI_FKey_noaction", isAlwaysDeferred: true, eventBits: 8 | 16))
    }

    /// 55006: the table has deferred trigger events queued by DML earlier in the transaction.
    private mutating func reportPendingTriggerEvents(_ command: String, _ relation: RelationInfo) {
        error(
            "pending-trigger-events", "55006", "cannot \(command) \"\(relation.name)\" because it has pending trigger events",
            hint: "Run SET CONSTRAINTS ALL IMMEDIATE after the data change, or move the DDL before the data change or into another bundle.")
    }

    /// Reports 23505 when existing rows already hold duplicate keys (only for relations with live data).
    private mutating func checkDuplicates(relation: RelationInfo, columns: [String], constraintName: String, overlay: CatalogOverlay) {
        guard let probe, overlay.liveRelationOIDs.contains(relation.oid) else { return }
        let list = columns.map(quoteIdentifier).joined(separator: ", ")
        let notNull = columns.map { "\(quoteIdentifier($0)) IS NOT NULL" }.joined(separator: " AND ")
        guard let rows = probe.rows("SELECT \(columns.map { "(\(quoteIdentifier($0)))::text" }.joined(separator: ", ")) FROM \(relation.qualifiedName) WHERE \(notNull) GROUP BY \(list) HAVING count(*) > 1 LIMIT 1")
        else {
            warning("unique-check-skipped", "could not check \(relation.schema).\(relation.name) for duplicate keys in time; the statement may fail with 23505")
            return
        }
        if let row = rows.first {
            error(
                "unique-violated-by-rows", "23505", "could not create unique index \"\(constraintName)\"",
                detail: "Key (\(columns.joined(separator: ", ")))=(\(row.map { $0 ?? "null" }.joined(separator: ", "))) is duplicated.",
                hint: "Remove the duplicate rows first.")
        }
    }

    // MARK: ALTER TABLE

    private mutating func alterTable(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "alter"
        // ALTER TYPE … ADD/DROP/ALTER ATTRIBUTE arrives as ALTER TABLE on the composite type: not a table's change.
        if tree["objtype"]?.string == "OBJECT_TYPE" { return }
        guard let (schema, table) = Syntax.rangeVar(tree["relation"]) else { return }
        guard var relation = overlay.relation(schema: schema, name: table) else {
            if tree["missing_ok"]?.bool == true {
                summary.action = "skip"
                info("relation-does-not-exist", "relation \"\(table)\" does not exist, skipping")
            } else {
                _ = requireRelation(schema: schema, name: table, overlay: overlay)
            }
            return
        }
        summary.object = "\(relation.schema).\(relation.name)"
        let commands = (tree["cmds"]?.listItems ?? []).compactMap { $0.nodeBody }
        let onlyForeignKeys = commands.allSatisfy {
            $0["subtype"]?.string == "AT_AddConstraint" && $0["def"]?.nodeBody?["contype"]?.string == "CONSTR_FOREIGN"
        }
        summary.lock = onlyForeignKeys ? "ShareRowExclusiveLock" : "AccessExclusiveLock"
        let live = overlay.liveRelationOIDs.contains(relation.oid)
        if overlay.pendingTriggerEvents.contains(CatalogOverlay.key(relation.schema, relation.name)) {
            reportPendingTriggerEvents("ALTER TABLE", relation)
            return
        }
        var typeProbe: ProbeOutcome? = nil
        // Columns this statement changes (ALTER TABLE applies SET NOT NULL, defaults and keys before identities).
        let tableKey = CatalogOverlay.key(relation.schema, relation.name)
        let alteredBefore = overlay.columnsAlteredByPlan
        for command in commands {
            let subtype = command["subtype"]?.string ?? ""
            if ["AT_SetNotNull", "AT_DropNotNull", "AT_ColumnDefault", "AT_AddIdentity", "AT_DropIdentity", "AT_SetIdentity", "AT_AlterColumnType"].contains(subtype),
                let name = command["name"]?.string
            {
                overlay.columnsAlteredByPlan.insert(CatalogOverlay.key(tableKey, name))
                // The change recurses to inheritance children and partitions, which the plan does not list.
                overlay.columnsAlteredByPlan.insert(CatalogOverlay.key("*", name))
            }
            if subtype == "AT_AddConstraint" || subtype == "AT_AddIndex" || subtype == "AT_AttachPartition" || subtype == "AT_AddInherit" {
                overlay.columnsAlteredByPlan.insert(CatalogOverlay.key(tableKey, ""))
            }
        }
        for command in commands {
            let subtype = command["subtype"]?.string ?? ""
            let columnName = command["name"]?.string
            let column = columnName.flatMap { name in relation.columns.first { $0.name == name } }
            let columnKnown = !relation.columns.isEmpty || relation.oid != 0
            switch subtype {
            case "AT_AddColumn":
                guard let def = command["def"]?.nodeBody, let name = def["colname"]?.string else { continue }
                if relation.columns.contains(where: { $0.name == name }) {
                    if command["missing_ok"]?.bool == true {
                        info("column-already-exists", "column \"\(name)\" of relation \"\(relation.name)\" already exists, skipping")
                        continue
                    }
                    error("column-already-exists", "42701", "column \"\(name)\" of relation \"\(relation.name)\" already exists", hint: "Use ADD COLUMN IF NOT EXISTS, or choose another name.")
                    return
                }
                if Syntax.isSerialArray(def["typeName"]) {
                    error("serial-array", "0A000", "array of serial is not implemented")
                    return
                }
                let display = Syntax.displayType(def["typeName"])
                guard let type = overlay.canonicalType(written: Syntax.columnType(def["typeName"]), display: display) else {
                    error("type-does-not-exist", "42704", "type \"\(display)\" does not exist")
                    return
                }
                let constraints = (def["constraints"]?.listItems ?? []).compactMap { $0.nodeBody }
                let notNull = constraints.contains { ["CONSTR_NOTNULL", "CONSTR_PRIMARY"].contains($0["contype"]?.string ?? "") }
                let hasDefault = constraints.contains { $0["contype"]?.string == "CONSTR_DEFAULT" }
                let generation = constraints.first { $0["contype"]?.string == "CONSTR_GENERATED" }
                if let generation, columnKnown {
                    var references: [[String]] = []
                    if let expression = generation["raw_expr"] {
                        Syntax.walk(expression) { type, body in if type == "ColumnRef" { references.append(Syntax.names(body["fields"])) } }
                    }
                    for fields in references where fields.count == 1 && !relation.columns.contains(where: { $0.name == fields[0] }) {
                        error("column-does-not-exist", "42703", "column \"\(fields[0])\" does not exist", hint: "A generation expression can use the table's own columns only.")
                        return
                    }
                    if let used = references.first(where: { fields in fields.count == 1 && relation.columns.contains { $0.name == fields[0] && !$0.generated.isEmpty } }) {
                        error(
                            "generated-column-uses-generated-column", "42P17", "cannot use generated column \"\(used[0])\" in column generation expression",
                            detail: "A generated column cannot reference another generated column.",
                            hint: "Repeat the other generated column's expression instead.")
                        return
                    }
                }
                if notNull && !hasDefault && live, let rows = probe?.rows("SELECT 1 FROM \(relation.qualifiedName) LIMIT 1"), !rows.isEmpty {
                    error(
                        "add-column-not-null-without-default", "23502", "column \"\(name)\" of relation \"\(relation.name)\" contains null values",
                        hint: "Give the column a DEFAULT, or add it nullable, backfill it, then SET NOT NULL.")
                    return
                }
                addColumnSequence(def, column: name, table: relation, overlay: &overlay)
                if hasError { return }
                // Inline constraints: keys make their index (named as the server names it), checks and foreign keys
                // a constraint.
                for constraint in constraints {
                    let contype = constraint["contype"]?.string ?? ""
                    switch contype {
                    case "CONSTR_PRIMARY", "CONSTR_UNIQUE":
                        let primary = contype == "CONSTR_PRIMARY"
                        let constraintName = constraint["conname"]?.string
                            ?? overlay.chooseRelationName(relation.name, primary ? nil : name, label: primary ? "pkey" : "key", schema: relation.schema)
                        addConstraintIndex(name: constraintName, primary: primary, keys: [name], table: relation, overlay: &overlay)
                        overlay.addedConstraintNames.insert(constraintName)
                    case "CONSTR_CHECK", "CONSTR_FOREIGN":
                        if contype == "CONSTR_FOREIGN", !checkForeignKey(constraint, columns: [name], overlay: overlay) { return }
                        let columns = contype == "CONSTR_CHECK" ? Self.columnReferences(constraint["raw_expr"]) : [name]
                        if let constraintName = constraint["conname"]?.string
                            ?? chooseConstraintName(relation, columns: columns.count == 1 ? columns : [], label: contype == "CONSTR_CHECK" ? "check" : "fkey", overlay: overlay)
                        {
                            overlay.addedConstraintNames.insert(constraintName)
                        } else {
                            overlay.constraintNamesUncertain = true
                        }
                    case "CONSTR_EXCLUSION":
                        overlay.constraintNamesUncertain = true
                    default:
                        continue
                    }
                }
                relation.columns.append(
                    ColumnInfo(
                        name: name, position: relation.columns.count + 1, type: type, typeOID: 0, typmod: -1, notNull: notNull,
                        hasDefault: hasDefault || generation != nil, generated: generation == nil ? "" : "s", collation: nil))
            case "AT_ColumnDefault":
                // SET DEFAULT / DROP DEFAULT: the old default expression and what it depended on (a serial
                // column's sequence) are gone.
                guard let columnName else { continue }
                removeDefaultDependencies(of: columnName, in: relation, overlay: &overlay)
            case "AT_DropIdentity":
                // The identity's sequence is dropped with it (`DROP IDENTITY IF EXISTS` on a plain column: nothing).
                if let columnName { overlay.removeSequence(ownedBy: columnName, of: relation) }
            case "AT_AddIdentity":
                // ALTER COLUMN … ADD GENERATED … AS IDENTITY makes the column's sequence.
                guard let columnName, let definition = command["def"] else { continue }
                // The column as the catalog has it, unless an earlier statement or another command of this one changed it.
                let changedHere = commands.contains {
                    let other = $0["subtype"]?.string ?? ""
                    return other != "AT_AddIdentity" && ($0["name"]?.string == columnName || !Self.columnCommands.contains(other))
                }
                if let column, live, !changedHere, !alteredBefore.contains(CatalogOverlay.key(tableKey, columnName)),
                    !alteredBefore.contains(CatalogOverlay.key(tableKey, "")), !alteredBefore.contains(CatalogOverlay.key("*", columnName))
                {
                    let prefix = "column \"\(columnName)\" of relation \"\(relation.name)\""
                    if !column.notNull {
                        error(
                            "identity-column-nullable", "55000", "\(prefix) must be declared NOT NULL before identity can be added",
                            hint: "Add ALTER COLUMN \(columnName) SET NOT NULL before it (the column must hold no NULLs).")
                        return
                    }
                    if !column.identity.isEmpty {
                        error("identity-column-exists", "55000", "\(prefix) is already an identity column", hint: "Use ALTER COLUMN … SET GENERATED to change it.")
                        return
                    }
                    if column.hasDefault {
                        error(
                            "identity-column-has-default", "55000", "\(prefix) already has a default value",
                            hint: "Drop the default first (ALTER COLUMN \(columnName) DROP DEFAULT), and the old sequence after it.")
                        return
                    }
                }
                addColumnSequence(.object(["constraints": .array([definition])]), column: columnName, table: relation, overlay: &overlay)
                if hasError { return }
            case "AT_DropColumn":
                guard let columnName else { continue }
                guard let column else {
                    if command["missing_ok"]?.bool == true {
                        info("column-does-not-exist", "column \"\(columnName)\" of relation \"\(relation.name)\" does not exist, skipping")
                        continue
                    }
                    if columnKnown {
                        error("column-does-not-exist", "42703", "column \"\(columnName)\" of relation \"\(relation.name)\" does not exist")
                        return
                    }
                    continue
                }
                let dependents = overlay.dependents(of: relation.oid, column: column.position)
                let planned = overlay.plannedDependencies.filter { $0.referenced == tableKey && $0.columns?.contains { sameBytes($0, columnName) } == true }
                if command["behavior"]?.string != "DROP_CASCADE", !dependents.isEmpty || !planned.isEmpty {
                    let table = overlay.display(schema: relation.schema, name: relation.name)
                    error(
                        "drop-with-dependents", "2BP01",
                        "cannot drop column \(columnName) of table \(table) because other objects depend on it",
                        detail: (dependents.map { "\($0.dependentObject) depends on \($0.referenced)" }
                            + planned.map { "\(plannedViewDescription($0, overlay)) depends on column \(quoteIdentifier(columnName)) of table \(table)" })
                            .joined(separator: "\n"),
                        hint: "Use DROP ... CASCADE to drop the dependent objects too.")
                    return
                }
                if command["behavior"]?.string == "DROP_CASCADE" {
                    dropDependents(of: relation.oid, column: column.position, overlay: &overlay)
                    dropPlannedDependents(planned, overlay: &overlay)
                }
                warning(
                    "drop-data-loss", "dropping column \(relation.schema).\(relation.name).\(columnName) loses its data; an automatic rollback cannot restore it",
                    hint: "Take a backup (--backup) or keep the column until the data is no longer needed.")
                relation.columns.removeAll { $0.name == columnName }
                overlay.removeSequence(ownedBy: columnName, of: relation)
                // Constraints and indexes on the column go with it.
                overlay.constraints.removeAll {
                    sameBytes($0.schema, relation.schema) && sameBytes($0.table, relation.name) && $0.columns.contains { sameBytes($0, columnName) }
                }
                for index in overlay.indexes where sameBytes(index.schema, relation.schema) && sameBytes(index.table, relation.name)
                    && index.columns.contains(where: { sameBytes($0, columnName) }) {
                    overlay.relations[CatalogOverlay.key(index.schema, index.name)] = nil
                }
                overlay.indexes.removeAll {
                    sameBytes($0.schema, relation.schema) && sameBytes($0.table, relation.name) && $0.columns.contains { sameBytes($0, columnName) }
                }
                removeDefaultDependencies(of: columnName, in: relation, overlay: &overlay)
            case "AT_SetNotNull":
                guard let columnName else { continue }
                guard column != nil || !columnKnown else {
                    error("column-does-not-exist", "42703", "column \"\(columnName)\" of relation \"\(relation.name)\" does not exist")
                    return
                }
                if live, let probe {
                    if let rows = probe.rows("SELECT 1 FROM \(relation.qualifiedName) WHERE \(quoteIdentifier(columnName)) IS NULL LIMIT 1") {
                        if !rows.isEmpty {
                            error(
                                "set-not-null-violated-by-rows", "23502", "column \"\(columnName)\" of relation \"\(relation.name)\" contains null values",
                                hint: "Backfill the NULL rows in an earlier statement (UPDATE … SET \(columnName) = … WHERE \(columnName) IS NULL).")
                            return
                        }
                    } else {
                        warning("null-check-skipped", "could not check \(relation.name).\(columnName) for NULLs in time; SET NOT NULL may fail with 23502")
                    }
                }
            case "AT_AlterColumnType":
                guard let columnName else { continue }
                guard let column else {
                    if columnKnown {
                        error("column-does-not-exist", "42703", "column \"\(columnName)\" of relation \"\(relation.name)\" does not exist")
                        return
                    }
                    continue
                }
                if typeProbe == nil, live, commands.allSatisfy({ $0["subtype"]?.string == "AT_AlterColumnType" }) {
                    typeProbe = probeColumnTypeChange(relation)
                    if case .failed(let failure) = typeProbe, failure.sqlstate == "42804" {
                        error(
                            "alter-column-type-no-cast", failure.sqlstate, failure.message, detail: failure.detail,
                            hint: failure.hint ?? "Add a USING clause that converts the old values.")
                        return
                    }
                }
                let dependents = overlay.dependents(of: relation.oid, column: column.position)
                if let view = overlay.plannedDependencies.first(where: { $0.referenced == tableKey && $0.columns?.contains { sameBytes($0, columnName) } == true }) {
                    error(
                        "alter-column-type-used-by-view", "0A000", "cannot alter type of a column used by a view or rule",
                        detail: "rule _RETURN on \(plannedViewDescription(view, overlay)) depends on column \"\(columnName)\"",
                        hint: "Drop the view, alter the column, and recreate the view in the same bundle.")
                    return
                }
                if let view = dependents.first(where: { $0.dependent.hasPrefix("rule ") }) {
                    error(
                        "alter-column-type-used-by-view", "0A000", "cannot alter type of a column used by a view or rule",
                        detail: "\(view.dependent) depends on column \"\(columnName)\"",
                        hint: "Drop the view, alter the column, and recreate the view in the same bundle.")
                    return
                }
                if let policy = dependents.first(where: { $0.dependent.hasPrefix("policy ") }) {
                    error(
                        "alter-column-type-used-by-policy", "0A000", "cannot alter type of a column used in a policy definition",
                        detail: "\(policy.dependent) depends on column \"\(columnName)\"")
                    return
                }
                if let generated = dependents.first(where: \.isGeneratedColumnExpression)?.generatedColumnName {
                    error(
                        "alter-column-type-used-by-generated-column", "0A000", "cannot alter type of a column used by a generated column",
                        detail: "Column \"\(columnName)\" is used by generated column \"\(generated)\".",
                        hint: "Drop the generated column, alter the type, and add the generated column again.")
                    return
                }
            case "AT_ValidateConstraint":
                // A NOT VALID CHECK of a live table: VALIDATE scans the rows like ADD CHECK does.
                guard live, let name = command["name"]?.string,
                    let constraint = overlay.constraints.first(where: {
                        $0.schema == relation.schema && $0.table == relation.name && $0.name == name && $0.type == "c" && $0.definition.hasPrefix("CHECK")
                    })
                else { continue }
                let definition = SourceText(constraint.definition)
                if let expression = Self.parenthesizedText(definition, from: 0, to: definition.byteCount) {
                    checkConstraintRows(expression: expression, relation: relation, constraintName: name)
                    if hasError { return }
                }
            case "AT_ChangeOwner":
                // OWNER TO: its owned sequences follow (the plan does not know role memberships: privileges stay).
                guard let newOwner = Self.roleName(command["newowner"], overlay).name else { continue }
                relation.owner = newOwner
                for (sequence, owner) in overlay.sequenceOwners where owner.table == tableKey {
                    overlay.relations[sequence]?.owner = newOwner
                }
            case "AT_DetachPartition", "AT_DetachPartitionFinalize", "AT_DropInherit":
                overlay.partitionBoundsChanged = true
            case "AT_AttachPartition", "AT_AddInherit":
                // The new child may get constraints named after its own indexes (a partitioned parent's keys).
                overlay.constraintNamesUncertain = true
                guard subtype == "AT_AttachPartition" else { continue }
                let partition = Syntax.rangeVar(command["def"]?.nodeBody?["name"])
                checkPartitionBound(parent: (relation.schema, relation.name), partition: partition, overlay: overlay)
                if hasError { return }
            case "AT_AddConstraint":
                guard let def = command["def"]?.nodeBody else { continue }
                let contype = def["contype"]?.string ?? ""
                let keys = Syntax.names(def["keys"])
                if let indexName = def["indexname"]?.string {
                    // ADD CONSTRAINT … UNIQUE / PRIMARY KEY USING INDEX: the index becomes the constraint's (and is
                    // renamed to the constraint's name).
                    addConstraintUsingIndex(indexName, name: def["conname"]?.string, primary: contype == "CONSTR_PRIMARY", table: relation, overlay: &overlay)
                    if hasError { return }
                    continue
                }
                if relation.kind == "p" && ["CONSTR_UNIQUE", "CONSTR_PRIMARY", "CONSTR_EXCLUSION"].contains(contype) {
                    overlay.constraintNamesUncertain = true  // each partition gets its own, named after its index
                }
                if let explicit = def["conname"]?.string, ["CONSTR_FOREIGN", "CONSTR_CHECK"].contains(contype),
                    overlay.constraints.contains(where: { $0.schema == relation.schema && $0.table == relation.name && $0.name == explicit })
                {
                    error(
                        "constraint-already-exists", "42710", "constraint \"\(explicit)\" for relation \"\(relation.name)\" already exists",
                        hint: "Choose another constraint name, or drop the existing constraint first.")
                    return
                }
                if contype == "CONSTR_FOREIGN" {
                    let fkColumns = Syntax.names(def["fk_attrs"])
                    if !checkForeignKey(def, columns: fkColumns, overlay: overlay) { return }
                    let name = def["conname"]?.string ?? chooseConstraintName(relation, columns: fkColumns, label: "fkey", overlay: overlay)
                    if let name, live, def["skip_validation"]?.bool != true {
                        checkForeignKeyRows(def, relation: relation, columns: fkColumns, constraintName: name, overlay: overlay)
                        if hasError { return }
                    }
                    addForeignKeyTriggers(def, relation: relation, overlay: &overlay)
                    if let name {
                        let referenced = Syntax.rangeVar(def["pktable"]).flatMap { overlay.relation(schema: $0.schema, name: $0.name) }
                        let referencedKeys = Syntax.names(def["pk_attrs"])
                        // The server takes the first matching unique index by OID: with more than one, not known.
                        let candidates = referenced.map { table in
                            overlay.indexes.filter {
                                sameBytes($0.schema, table.schema) && sameBytes($0.table, table.name) && $0.isUnique
                                    && (referencedKeys.isEmpty ? $0.isPrimary : Set($0.columns) == Set(referencedKeys) && $0.columns.count == referencedKeys.count)
                            }
                        } ?? []
                        let referencedIndex = candidates.count == 1 ? candidates.first : nil
                        overlay.constraints.append(
                            ConstraintInfo(
                                name: name, schema: relation.schema, table: relation.name, type: "f", indexName: referencedIndex?.name, columns: fkColumns,
                                definition: "", referencedSchema: referenced?.schema, referencedTable: referenced?.name))
                        overlay.addedConstraintNames.insert(name)
                    } else {
                        overlay.constraintNamesUncertain = true
                    }
                } else if contype == "CONSTR_CHECK" {
                    let columns = Self.columnReferences(def["raw_expr"])
                    let name = def["conname"]?.string
                        ?? chooseConstraintName(relation, columns: columns.count == 1 ? columns : [], label: "check", overlay: overlay)
                    if let name, live, def["skip_validation"]?.bool != true {
                        checkConstraintRows(def, relation: relation, constraintName: name)
                        if hasError { return }
                    }
                    if let name {
                        overlay.constraints.append(
                            ConstraintInfo(name: name, schema: relation.schema, table: relation.name, type: "c", indexName: nil, columns: columns, definition: ""))
                        overlay.addedConstraintNames.insert(name)
                    } else {
                        overlay.constraintNamesUncertain = true
                    }
                } else if contype == "CONSTR_UNIQUE" || contype == "CONSTR_PRIMARY" {
                    let name = def["conname"]?.string ?? overlay.chooseRelationName(
                        relation.name, contype == "CONSTR_PRIMARY" ? nil : keys.joined(separator: "_"), label: contype == "CONSTR_PRIMARY" ? "pkey" : "key",
                        schema: relation.schema)
                    for key in keys {
                        guard let keyColumn = relation.columns.first(where: { $0.name == key }) else { continue }
                        checkDefaultOperatorClass(keyColumn, accessMethod: def["access_method"]?.string ?? "btree")
                        if hasError { return }
                    }
                    checkDuplicates(relation: relation, columns: keys, constraintName: name, overlay: overlay)
                    if hasError { return }
                    if contype == "CONSTR_PRIMARY", live, let probe {
                        for key in keys {
                            if let rows = probe.rows("SELECT 1 FROM \(relation.qualifiedName) WHERE \(quoteIdentifier(key)) IS NULL LIMIT 1"), !rows.isEmpty {
                                error("set-not-null-violated-by-rows", "23502", "column \"\(key)\" of relation \"\(relation.name)\" contains null values")
                                return
                            }
                        }
                    }
                    addConstraintIndex(name: name, primary: contype == "CONSTR_PRIMARY", keys: keys, table: relation, overlay: &overlay)
                    overlay.addedConstraintNames.insert(name)
                } else if let name = def["conname"]?.string {
                    overlay.addedConstraintNames.insert(name)
                } else {
                    overlay.constraintNamesUncertain = true
                }
            case "AT_DropConstraint":
                guard let name = command["name"]?.string else { continue }
                dropConstraint(name, missingOK: command["missing_ok"]?.bool == true, cascade: command["behavior"]?.string == "DROP_CASCADE", table: relation, overlay: &overlay)
                if hasError { return }
            default:
                continue
            }
        }
        if case .failed(let failure) = typeProbe {
            // The rewrite meets the rows in heap order, as the copy did; a synchronized scan of a big table may
            // start elsewhere and meet another bad value first.
            if relation.totalBytes < Self.exactScanOrderBytes {
                error(
                    "alter-column-type-conversion-failure", failure.sqlstate, failure.message, detail: failure.detail,
                    hint: [failure.hint, "Existing rows cannot be converted: fix them first, or convert them with USING."].compactMap { $0 }.joined(separator: " "))
                return
            }
            warning(
                "alter-column-type-conversion-failure",
                "converting existing rows fails (\(failure.sqlstate) \(failure.message)); which row the server meets first is not predictable on a table this size",
                hint: "Fix the rows first, or convert them with USING.")
        }
        warnLargeLock(relation)
        overlay.putRelation(relation)
    }

    /// ALTER TABLE subcommands on one named column that change nothing about the table's other columns.
    static let columnCommands: Set<String> = [
        "AT_SetNotNull", "AT_DropNotNull", "AT_ColumnDefault", "AT_AddIdentity", "AT_DropIdentity", "AT_SetIdentity", "AT_AlterColumnType",
        "AT_SetStatistics", "AT_SetOptions", "AT_ResetOptions", "AT_SetStorage", "AT_SetCompression",
    ]

    /// Tables below this size are scanned from their first block (synchronized scans start only above
    /// shared_buffers / 4, 32 MB by default), so a copy meets the rows in the same order as the server.
    static let exactScanOrderBytes: Int64 = 8 << 20

    /// Runs the statement's ALTER COLUMN … TYPE subcommands on a temporary copy of the table (rolled back): the
    /// server's own cast check (42804) and conversion of every existing row.
    private func probeColumnTypeChange(_ relation: RelationInfo) -> ProbeOutcome {
        guard let probe, relation.totalBytes < 256 << 20, let start = statement.tree["relation"]?.location,
            let end = Self.endOfQualifiedName(statement.source, from: start)
        else { return .unavailable }
        let commands = statement.source.text(ofBytes: end..<statement.byteRange.upperBound)
        return probe.attempt([
            "CREATE TEMPORARY TABLE bundle_plan_probe AS SELECT * FROM \(relation.qualifiedName)",
            "ALTER TABLE pg_temp.bundle_plan_probe " + commands,
        ])
    }

    /// The byte offset just after a (possibly qualified, quoted, `*`-suffixed) name that starts at `start`.
    static func endOfQualifiedName(_ source: SourceText, from start: Int) -> Int? {
        let bytes = Array(source.string.utf8)
        var index = start
        func skipSpace() { while index < bytes.count, [32, 9, 10, 13].contains(bytes[index]) { index += 1 } }
        func part() -> Bool {
            guard index < bytes.count else { return false }
            if bytes[index] == 34 {  // "quoted"
                index += 1
                while index < bytes.count {
                    if bytes[index] == 34 {
                        if index + 1 < bytes.count, bytes[index + 1] == 34 { index += 2; continue }
                        index += 1
                        return true
                    }
                    index += 1
                }
                return false
            }
            let begin = index
            while index < bytes.count, bytes[index] >= 0x80 || bytes[index] == 95 || bytes[index] == 36
                || (bytes[index] >= 48 && bytes[index] <= 57) || (bytes[index] | 0x20 >= 97 && bytes[index] | 0x20 <= 122)
            {
                index += 1
            }
            return index > begin
        }
        guard part() else { return nil }
        while true {
            let save = index
            skipSpace()
            if index < bytes.count, bytes[index] == 46 {
                index += 1
                skipSpace()
                guard part() else { return nil }
            } else {
                index = save
                break
            }
        }
        let save = index
        skipSpace()
        if index < bytes.count, bytes[index] == 42 { index += 1 } else { index = save }
        return index
    }

    /// The text inside the first top-level parentheses at or after byte `start` (quotes and comments skipped).
    static func parenthesizedText(_ source: SourceText, from start: Int, to end: Int) -> String? {
        let bytes = Array(source.string.utf8)
        var index = start
        var depth = 0
        var open = -1
        while index < min(end, bytes.count) {
            let byte = bytes[index]
            if byte == 39 || byte == 34 {  // '…' or "…" (doubled quotes re-enter immediately)
                index += 1
                while index < bytes.count, bytes[index] != byte { index += 1 }
            } else if byte == 45, index + 1 < bytes.count, bytes[index + 1] == 45 {  // -- comment
                while index < bytes.count, bytes[index] != 10 { index += 1 }
            } else if byte == 47, index + 1 < bytes.count, bytes[index + 1] == 42 {  // /* comment */
                index += 2
                while index + 1 < bytes.count, !(bytes[index] == 42 && bytes[index + 1] == 47) { index += 1 }
                index += 1
            } else if byte == 36 {  // dollar quotes are not expected in expressions: give up
                return nil
            } else if byte == 40 {
                if depth == 0 { open = index + 1 }
                depth += 1
            } else if byte == 41 {
                depth -= 1
                if depth == 0, open >= 0 { return String(decoding: bytes[open..<index], as: UTF8.self) }
                if depth < 0 { return nil }
            }
            index += 1
        }
        return nil
    }

    /// `ChooseConstraintName` for `table_col_label` / `table_label`, skipping names in use in the schema (live,
    /// asked over the probe, and planned); nil when it cannot be determined (names past 63 bytes, no probe answer).
    private func chooseConstraintName(_ relation: RelationInfo, columns: [String], label: String, overlay: CatalogOverlay) -> String? {
        let base = ([relation.name] + columns).joined(separator: "_")
        guard base.utf8.count + label.utf8.count + 3 <= 63 else { return nil }
        var used = Set(overlay.constraints.filter { $0.schema == relation.schema }.map(\.name))
        if relation.oid != 0 {
            guard let probe,
                let rows = probe.rows(
                    "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = \(sqlLiteral(relation.schema)) AND c.conname LIKE \(sqlLiteral(base + "%"))")
            else { return nil }
            used.formUnion(rows.compactMap { $0[0] }.filter { !overlay.droppedConstraintNames.contains(CatalogOverlay.key(relation.schema, $0)) })
        }
        var candidate = "\(base)_\(label)"
        var suffix = 0
        while used.contains(candidate) {
            suffix += 1
            candidate = "\(base)_\(label)\(suffix)"
        }
        return candidate
    }

    // MARK: DROP

    private static let dropKinds: [String: (noun: String, relkinds: [String], missingState: String)] = [
        "OBJECT_TABLE": ("table", ["r", "p"], "42P01"),
        "OBJECT_VIEW": ("view", ["v"], "42P01"),
        "OBJECT_MATVIEW": ("materialized view", ["m"], "42P01"),
        "OBJECT_SEQUENCE": ("sequence", ["S"], "42P01"),
        "OBJECT_INDEX": ("index", ["i", "I"], "42704"),
        "OBJECT_FOREIGN_TABLE": ("foreign table", ["f"], "42704"),
    ]

    private static let relkindNouns: [String: String] = [
        "r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence", "i": "index", "I": "index", "f": "foreign table",
    ]

    private mutating func drop(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "drop"
        let removeType = tree["removeType"]?.string ?? ""
        let missingOK = tree["missing_ok"]?.bool ?? false
        let cascade = tree["behavior"]?.string == "DROP_CASCADE"
        let objects = tree["objects"]?.listItems ?? []
        if let kind = Self.dropKinds[removeType] {
            summary.lock = "AccessExclusiveLock"
            var targets: [RelationInfo] = []
            for object in objects {
                guard let (schema, name) = Syntax.qualified(Syntax.names(object)) else { continue }
                guard let relation = overlay.relation(schema: schema, name: name) else {
                    if let schema, !overlay.schemaExists(schema) {
                        if missingOK { continue }
                        error("schema-does-not-exist", "3F000", "schema \"\(schema)\" does not exist")
                        return
                    }
                    if missingOK {
                        info("object-does-not-exist", "\(kind.noun) \"\(name)\" does not exist, skipping")
                        continue
                    }
                    error("object-does-not-exist", kind.missingState, "\(kind.noun) \"\(name)\" does not exist", hint: "Use DROP \(kind.noun.uppercased()) IF EXISTS, or fix the name.")
                    return
                }
                if !kind.relkinds.contains(relation.kind) {
                    let actual = Self.relkindNouns[relation.kind] ?? "relation"
                    error(
                        "drop-wrong-kind", "42809", "\"\(name)\" is not a\(kind.noun.first.map { "aeiou".contains($0) } == true ? "n" : "") \(kind.noun)",
                        hint: "Use DROP \(actual.uppercased()) to remove a\(actual.first.map { "aeiou".contains($0) } == true ? "n" : "") \(actual).")
                    return
                }
                targets.append(relation)
            }
            summary.object = targets.map { "\($0.schema).\($0.name)" }.joined(separator: ", ")
            let dropped = Set(targets.map(\.oid))
            for relation in targets {
                if relation.kind == "i" || relation.kind == "I",
                    let owner = overlay.indexes.first(where: { $0.schema == relation.schema && $0.name == relation.name })?.constraint
                {
                    let table = overlay.indexes.first { $0.schema == relation.schema && $0.name == relation.name }?.table ?? ""
                    error(
                        "drop-index-owned-by-constraint", "2BP01",
                        "cannot drop index \(relation.name) because constraint \(owner) on table \(table) requires it",
                        hint: "You can drop constraint \(owner) on table \(table) instead.")
                    return
                }
                let dependents = overlay.dependents(of: relation.oid, excluding: dropped)
                let planned = overlay.plannedDependencies.filter { dependency in
                    dependency.referenced == CatalogOverlay.key(relation.schema, relation.name) && !targets.contains { CatalogOverlay.key($0.schema, $0.name) == dependency.view }
                }
                if !cascade && (!dependents.isEmpty || !planned.isEmpty) {
                    let noun = Self.relkindNouns[relation.kind] ?? kind.noun
                    error(
                        "drop-with-dependents", "2BP01",
                        "cannot drop \(noun) \(overlay.display(schema: relation.schema, name: relation.name)) because other objects depend on it",
                        detail: (Self.uniqueDependents(dependents) + planned.map { plannedViewDescription($0, overlay) })
                            .map { "\($0) depends on \(noun) \(overlay.display(schema: relation.schema, name: relation.name))" }
                            .joined(separator: "\n"),
                        hint: "Use DROP ... CASCADE to drop the dependent objects too.")
                    return
                }
                if cascade { dropPlannedDependents(planned, overlay: &overlay) }
                if removeType == "OBJECT_TABLE", overlay.pendingTriggerEvents.contains(CatalogOverlay.key(relation.schema, relation.name)) {
                    reportPendingTriggerEvents("DROP TABLE", relation)
                    return
                }
                if cascade {
                    // Column defaults that used it go too ("default value for column c of table t").
                    for dependent in overlay.dependents(of: relation.oid) where dependent.dependent.hasPrefix("default value for column ") {
                        let rest = dependent.dependent.dropFirst("default value for column ".count)
                        if let end = rest.range(of: " of table ") {
                            overlay.columnsAlteredByPlan.insert(CatalogOverlay.key("*", RollbackGenerator.unquoted(String(rest[..<end.lowerBound]))))
                        }
                    }
                    dropDependents(of: relation.oid, overlay: &overlay)
                    // Other tables' foreign keys to it go too (their tables stay).
                    overlay.constraints.removeAll {
                        $0.type == "f" && $0.referencedSchema.map { sameBytes($0, relation.schema) } == true
                            && $0.referencedTable.map { sameBytes($0, relation.name) } == true
                    }
                }
                if ["r", "p", "m"].contains(relation.kind) && !CatalogOverlay.isTemporarySchema(relation.schema) {
                    warning(
                        "drop-data-loss",
                        "dropping \(relation.schema).\(relation.name) (~\(max(0, Int(relation.estimatedRows))) rows) loses its data; an automatic rollback cannot restore it",
                        hint: "Take a backup (--backup), or rename the table and drop it in a later rollout.", object: "\(relation.schema).\(relation.name)")
                }
                overlay.removeRelation(relation)
            }
            return
        }
        switch removeType {
        case "OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE", "OBJECT_AGGREGATE":
            for object in objects {
                guard let body = object.nodeBody else { continue }
                guard let routine = resolveRoutine(body, kindWord: removeType == "OBJECT_PROCEDURE" ? "procedure" : "function", missingOK: missingOK, overlay: overlay) else {
                    if hasError { return }
                    continue
                }
                summary.object = routine.identity
                let dependents = overlay.dependents(of: routine.oid)
                if !cascade && !dependents.isEmpty {
                    error(
                        "drop-with-dependents", "2BP01", "cannot drop function \(routine.displaySignature) because other objects depend on it",
                        detail: Self.uniqueDependents(dependents).map { "\($0) depends on function \(routine.displaySignature)" }.joined(separator: "\n"),
                        hint: "Use DROP ... CASCADE to drop the dependent objects too.")
                    return
                }
                checkImmutable(routine.identity, name: routine.name, schema: routine.schema, types: routine.inputTypes)
                if cascade { dropDependents(of: routine.oid, overlay: &overlay) }
                overlay.routines.removeAll { $0 == routine }
                overlay.schemasWithRemovedObjects.insert(routine.schema)
            }
        case "OBJECT_TRIGGER":
            for object in objects {
                let parts = Syntax.names(object)
                guard parts.count >= 2, let triggerName = parts.last else { continue }
                let tableParts = Array(parts.dropLast())
                guard let (schema, table) = Syntax.qualified(tableParts) else { continue }
                guard let relation = overlay.relation(schema: schema, name: table) else {
                    if missingOK { continue }
                    _ = requireRelation(schema: schema, name: table, overlay: overlay)
                    return
                }
                summary.object = "\(triggerName) on \(relation.schema).\(relation.name)"
                summary.lock = "AccessExclusiveLock"
                if !overlay.triggers.contains(where: { $0.schema == relation.schema && $0.table == relation.name && $0.name == triggerName }) {
                    if missingOK { continue }
                    error("trigger-does-not-exist", "42704", "trigger \"\(triggerName)\" for table \"\(relation.name)\" does not exist", hint: "Use DROP TRIGGER IF EXISTS, or fix the name.")
                    return
                }
                overlay.triggers.removeAll { $0.schema == relation.schema && $0.table == relation.name && $0.name == triggerName }
            }
        case "OBJECT_TYPE", "OBJECT_DOMAIN":
            for object in objects {
                let display = Syntax.displayType(object)
                let parts = Syntax.names(object.nodeBody?["names"])
                guard let (schema, name) = Syntax.qualified(parts) else { continue }
                guard let type = overlay.type(schema: schema, name: name) else {
                    if missingOK { continue }
                    error("type-does-not-exist", "42704", "type \"\(display)\" does not exist")
                    return
                }
                summary.object = "\(type.schema).\(type.name)"
                overlay.types[CatalogOverlay.key(type.schema, type.name)] = nil
                overlay.schemasWithRemovedObjects.insert(type.schema)
            }
        case "OBJECT_SCHEMA":
            for object in objects {
                guard let name = object.stringValue else { continue }
                summary.object = name
                guard let schema = overlay.schemas[name] else {
                    if missingOK { continue }
                    error("schema-does-not-exist", "3F000", "schema \"\(name)\" does not exist")
                    return
                }
                if !cascade && objects.count == 1 && (overlay.session.isSuperuser || schema.owner == overlay.session.user) {
                    checkSchemaEmpty(name, overlay: overlay)
                    if hasError { return }
                }
                removeSchemaContents(name, overlay: &overlay)
                overlay.schemas[name] = nil
            }
        default:
            break
        }
    }

    /// DROP SCHEMA: what the plan knows in it leaves with it (with CASCADE, also the views elsewhere over it), so
    /// the schema and its objects can be created again.
    private func removeSchemaContents(_ name: String, overlay: inout CatalogOverlay) {
        for relation in overlay.relations.values where sameBytes(relation.schema, name) {
            guard overlay.relations[CatalogOverlay.key(relation.schema, relation.name)] != nil else { continue }  // gone with its table
            if relation.oid != 0 { dropDependents(of: relation.oid, overlay: &overlay) }
            dropPlannedDependents(overlay.plannedDependencies.filter { $0.referenced == CatalogOverlay.key(relation.schema, relation.name) }, overlay: &overlay)
            overlay.constraints.removeAll {
                $0.type == "f" && $0.referencedSchema.map { sameBytes($0, name) } == true && $0.referencedTable.map { sameBytes($0, relation.name) } == true
            }
            overlay.removeRelation(relation)
        }
        for routine in overlay.routines where sameBytes(routine.schema, name) && routine.oid != 0 { dropDependents(of: routine.oid, overlay: &overlay) }
        overlay.routines.removeAll { sameBytes($0.schema, name) }
        for (key, type) in overlay.types where sameBytes(type.schema, name) { overlay.types[key] = nil }
        overlay.enumValuesAddedInTransaction = overlay.enumValuesAddedInTransaction.filter { _, typeKey in
            overlay.types[typeKey] != nil
        }
    }

    /// 2BP01 when DROP SCHEMA (RESTRICT) would meet objects still in the schema: live ones (unless the plan removed
    /// objects from it, which only a warning can cover) and ones the plan created.
    private mutating func checkSchemaEmpty(_ name: String, overlay: CatalogOverlay) {
        var contents = overlay.relations.values.filter { $0.schema == name && $0.oid == 0 }.map { "\(Self.relkindNouns[$0.kind] ?? "relation") \($0.name)" }
        contents += overlay.routines.filter { $0.schema == name && $0.oid == 0 }.map { "function \($0.name)" }
        contents += overlay.types.values.filter { $0.schema == name && $0.oid == 0 && $0.kind != "c" }.map { "type \($0.name)" }
        var live: [String] = []
        if let probe, let rows = probe.rows(
            """
            SELECT pg_describe_object(d.classid, d.objid, d.objsubid) FROM pg_depend d JOIN pg_namespace n ON n.oid = d.refobjid
            WHERE d.refclassid = 'pg_namespace'::regclass AND n.nspname = \(sqlLiteral(name)) AND d.deptype = 'n' LIMIT 5
            """)
        {
            live = rows.compactMap { $0[0] }
        }
        let removed = overlay.schemasWithRemovedObjects.contains(name) || overlay.schemasWithRemovedObjects.contains("*")
        if !contents.isEmpty || (!live.isEmpty && !removed) {
            error(
                "drop-schema-not-empty", "2BP01", "cannot drop schema \(name) because other objects depend on it",
                hint: "Use DROP ... CASCADE to drop the dependent objects too. Still in the schema: \((live + contents).prefix(5).joined(separator: ", ")).")
        } else if !live.isEmpty {
            warning(
                "drop-schema-not-empty", "schema \(name) still holds objects in the live database (\(live.joined(separator: ", "))); earlier statements remove some objects from it, so the plan cannot tell whether DROP SCHEMA will find it empty",
                hint: "Drop the remaining objects first, or use CASCADE deliberately.")
        }
    }

    /// Dependent object descriptions in first-seen order, without repeats.
    static func uniqueDependents(_ dependents: [DependentInfo]) -> [String] {
        var seen = Set<String>()
        return dependents.map(\.dependentObject).filter { seen.insert($0).inserted }
    }

    /// Resolves an ObjectWithArgs like `LookupFuncWithArgs`, reporting 42883/42725 (unless missing_ok).
    private mutating func resolveRoutine(_ body: ParseNode, kindWord: String, missingOK: Bool, overlay: CatalogOverlay) -> RoutineInfo? {
        let parts = Syntax.names(body["objname"])
        guard let (schema, name) = Syntax.qualified(parts) else { return nil }
        let written = parts.joined(separator: ".")
        let candidates = overlay.routines(schema: schema, name: name)
        if body["args_unspecified"]?.bool == true {
            if candidates.count > 1 {
                error(
                    "function-name-not-unique", "42725", "function name \"\(written)\" is not unique",
                    hint: "Specify the argument list to select the function unambiguously. Candidates: \(candidates.map(\.displaySignature).joined(separator: ", ")).")
                return nil
            }
            guard let only = candidates.first else {
                if !missingOK {
                    error("function-does-not-exist", "42883", "could not find a function named \"\(written)\"")
                }
                return nil
            }
            return only
        }
        let args = (body["objargs"]?.listItems ?? [])
        let types = args.map { overlay.canonicalType(written: Syntax.writtenType($0), display: Syntax.displayType($0)) ?? Syntax.displayType($0) }
        if let match = candidates.first(where: { $0.inputTypes == types }) { return match }
        if !missingOK {
            error(
                "function-does-not-exist", "42883", "\(kindWord) \(written)(\(types.joined(separator: ","))) does not exist",
                hint: candidates.isEmpty ? nil : "Existing: \(candidates.map(\.displaySignature).joined(separator: ", ")).")
        }
        return nil
    }

    // MARK: RENAME, SCHEMA, GRANT, TYPES

    private mutating func rename(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "alter"
        let renameType = tree["renameType"]?.string ?? ""
        guard let newName = tree["newname"]?.string else { return }
        if renameType == "OBJECT_TYPE" || renameType == "OBJECT_DOMAIN" {
            renameTypeObject(Syntax.names(tree["object"]), to: newName, missingOK: tree["missing_ok"]?.bool == true, &overlay)
            return
        }
        if ["OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE"].contains(renameType), let body = tree["object"]?.nodeBody {
            renameRoutine(body, kind: renameType, to: newName, &overlay)
            return
        }
        guard let (schema, name) = Syntax.rangeVar(tree["relation"]) else { return }
        summary.lock = "AccessExclusiveLock"
        guard var relation = overlay.relation(schema: schema, name: name) else {
            if tree["missing_ok"]?.bool == true { return }
            _ = requireRelation(schema: schema, name: name, overlay: overlay)
            return
        }
        summary.object = "\(relation.schema).\(relation.name)"
        if renameType == "OBJECT_TABCONSTRAINT" {
            // RENAME CONSTRAINT: an index that implements the constraint is renamed with it.
            let old = tree["subname"]?.string ?? ""
            if constraint(named: old, of: relation, overlay: overlay) == nil && constraintCertainlyMissing(old, of: relation, overlay: overlay) {
                error("constraint-does-not-exist", "42704", "constraint \"\(old)\" for table \"\(relation.name)\" does not exist")
                return
            }
            overlay.addedConstraintNames.insert(newName)
            let onTable = { (schema: String, table: String) in sameBytes(schema, relation.schema) && sameBytes(table, relation.name) }
            for index in overlay.constraints.indices where onTable(overlay.constraints[index].schema, overlay.constraints[index].table)
                && sameBytes(overlay.constraints[index].name, old) {
                overlay.constraints[index].name = newName
                if overlay.constraints[index].indexName.map({ sameBytes($0, old) }) == true { overlay.constraints[index].indexName = newName }
            }
            for index in overlay.indexes.indices where sameBytes(overlay.indexes[index].schema, relation.schema)
                && overlay.indexes[index].constraint.map({ sameBytes($0, old) }) == true && sameBytes(overlay.indexes[index].table, relation.name) {
                overlay.indexes[index].constraint = newName
                guard sameBytes(overlay.indexes[index].name, old) else { continue }
                overlay.indexes[index].name = newName
                // The index's own relation (read only when the bundle names it, else made from the table's).
                var indexRelation = overlay.relations.removeValue(forKey: CatalogOverlay.key(relation.schema, old))
                    ?? RelationInfo(
                        oid: 0, schema: relation.schema, name: old, kind: "i", owner: relation.owner, isOwnedByCurrentRole: relation.isOwnedByCurrentRole,
                        estimatedRows: 0, totalBytes: 0, columns: [])
                indexRelation.name = newName
                overlay.putRelation(indexRelation)
            }
            return
        }
        if renameType == "OBJECT_TRIGGER" {
            // ALTER TRIGGER old ON t RENAME TO new.
            let old = tree["subname"]?.string ?? ""
            let onTable = { (trigger: TriggerInfo) in sameBytes(trigger.schema, relation.schema) && sameBytes(trigger.table, relation.name) }
            if overlay.triggers.contains(where: { onTable($0) && sameBytes($0.name, newName) }) {
                return error("trigger-already-exists", "42710", "trigger \"\(newName)\" for relation \"\(relation.name)\" already exists")
            }
            guard let index = overlay.triggers.firstIndex(where: { onTable($0) && sameBytes($0.name, old) }) else {
                return error("trigger-does-not-exist", "42704", "trigger \"\(old)\" for table \"\(relation.name)\" does not exist")
            }
            overlay.triggers[index].name = newName
            return
        }
        if renameType == "OBJECT_COLUMN" {
            let old = tree["subname"]?.string ?? ""
            if !relation.columns.isEmpty && !relation.columns.contains(where: { $0.name == old }) {
                error("column-does-not-exist", "42703", "column \"\(old)\" does not exist")
                return
            }
            if relation.columns.contains(where: { $0.name == newName }) {
                error("column-already-exists", "42701", "column \"\(newName)\" of relation \"\(relation.name)\" already exists")
                return
            }
            relation.columns = relation.columns.map { column in
                var renamed = column
                if column.name == old { renamed.name = newName }
                return renamed
            }
            overlay.putRelation(relation)
            // Data probes read the live table, whose column still has the old name: none after a rename.
            overlay.liveRelationOIDs.remove(relation.oid)
            let tableKey = CatalogOverlay.key(relation.schema, relation.name)
            for (sequence, owner) in overlay.sequenceOwners where owner.table == tableKey && sameBytes(owner.column, old) {
                overlay.sequenceOwners[sequence]?.column = newName
            }
            for index in overlay.plannedDependencies.indices where overlay.plannedDependencies[index].referenced == tableKey {
                overlay.plannedDependencies[index].columns = overlay.plannedDependencies[index].columns?.map { sameBytes($0, old) ? newName : $0 }
            }
            return
        }
        if ["OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_INDEX", "OBJECT_SEQUENCE", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"].contains(renameType) {
            if overlay.relations[CatalogOverlay.key(relation.schema, newName)] != nil {
                error("relation-already-exists", "42P07", "relation \"\(newName)\" already exists", hint: "Choose another name, or drop the other relation first.")
                return
            }
            overlay.moveRelation(relation, toSchema: relation.schema, name: newName)
            if ["i", "I"].contains(relation.kind) {
                // An index renamed: its constraint (a key named like its index) is renamed with it.
                for index in overlay.indexes.indices where sameBytes(overlay.indexes[index].schema, relation.schema) && sameBytes(overlay.indexes[index].name, relation.name) {
                    overlay.indexes[index].name = newName
                    guard overlay.indexes[index].constraint.map({ sameBytes($0, relation.name) }) == true else { continue }
                    overlay.indexes[index].constraint = newName
                    let table = overlay.indexes[index].table
                    for position in overlay.constraints.indices where sameBytes(overlay.constraints[position].schema, relation.schema)
                        && sameBytes(overlay.constraints[position].table, table) && sameBytes(overlay.constraints[position].name, relation.name) {
                        overlay.constraints[position].name = newName
                        overlay.constraints[position].indexName = newName
                    }
                    overlay.addedConstraintNames.insert(newName)
                }
            }
        }
    }

    /// ALTER FUNCTION / PROCEDURE / ROUTINE … RENAME TO: the routine under its new name, same schema and arguments
    /// (42723 when that signature is taken).
    private mutating func renameRoutine(_ body: ParseNode, kind: String, to newName: String, _ overlay: inout CatalogOverlay) {
        let kindWord = kind == "OBJECT_PROCEDURE" ? "procedure" : "function"
        guard let routine = resolveRoutine(body, kindWord: kindWord, missingOK: false, overlay: overlay) else { return }
        summary.object = "\(routine.schema).\(routine.name)"
        if overlay.routines.contains(where: { sameBytes($0.schema, routine.schema) && sameBytes($0.name, newName) && $0.inputTypes == routine.inputTypes }) {
            return error(
                "function-already-exists", "42723",
                "function \(newName)(\(routine.inputTypes.joined(separator: ", "))) already exists in schema \"\(routine.schema)\"")
        }
        guard let index = overlay.routines.firstIndex(where: { $0 == routine }) else { return }
        overlay.routines[index].name = newName
    }

    /// ALTER TYPE / DOMAIN … RENAME TO: the type under its new name (42704 when missing, 42710 when taken).
    private mutating func renameTypeObject(_ parts: [String], to newName: String, missingOK: Bool, _ overlay: inout CatalogOverlay) {
        guard let (schema, name) = Syntax.qualified(parts) else { return }
        guard let type = overlay.type(schema: schema, name: name) else {
            if !missingOK { error("type-does-not-exist", "42704", "type \"\(parts.joined(separator: "."))\" does not exist") }
            return
        }
        // A table's (view's, sequence's) row type is renamed with its relation.
        if let relation = overlay.relations[CatalogOverlay.key(type.schema, type.name)], relation.kind != "c" {
            error("rename-row-type", "42809", "\(name) is a table's row type", hint: "Use ALTER TABLE instead.")
            return
        }
        summary.object = "\(type.schema).\(type.name)"
        if overlay.types[CatalogOverlay.key(type.schema, newName)] != nil {
            error("type-already-exists", "42710", "type \"\(newName)\" already exists")
            return
        }
        var renamed = type
        renamed.name = newName
        overlay.types[CatalogOverlay.key(type.schema, name)] = nil
        overlay.types[CatalogOverlay.key(type.schema, newName)] = renamed
    }

    /// ALTER TABLE / VIEW / SEQUENCE / MATERIALIZED VIEW … SET SCHEMA: the relation (with its indexes, constraints
    /// and triggers) in its new schema.
    private mutating func alterObjectSchema(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "alter"
        let kinds = ["OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_SEQUENCE", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"]
        guard kinds.contains(tree["objectType"]?.string ?? ""), let newSchema = tree["newschema"]?.string,
              let (schema, name) = Syntax.rangeVar(tree["relation"]) else { return }
        summary.lock = "AccessExclusiveLock"
        guard let relation = overlay.relation(schema: schema, name: name) else {
            if tree["missing_ok"]?.bool != true { _ = requireRelation(schema: schema, name: name, overlay: overlay) }
            return
        }
        summary.object = "\(relation.schema).\(relation.name)"
        if sameBytes(newSchema, relation.schema) { return }  // already there: nothing to do
        if CatalogOverlay.isTemporarySchema(relation.schema) || CatalogOverlay.isTemporarySchema(newSchema) {
            error("move-temporary", "0A000", "cannot move objects into or out of temporary schemas")
            return
        }
        guard overlay.schemas[newSchema] != nil else {
            error("schema-does-not-exist", "3F000", "schema \"\(newSchema)\" does not exist")
            return
        }
        // The table's indexes move with it: each name must be free there too.
        // The table, its indexes, then the sequences its columns own, as `AlterTableNamespaceInternal` moves them.
        let tableKey = CatalogOverlay.key(relation.schema, relation.name)
        let ownedSequences = overlay.sequenceOwners.filter { $0.value.table == tableKey }.keys.compactMap { overlay.relations[$0]?.name }.sorted(by: bytesPrecede)
        let moving = [relation.name] + overlay.indexes.filter { sameBytes($0.schema, relation.schema) && sameBytes($0.table, relation.name) }.map(\.name)
            + ownedSequences
        if let taken = moving.first(where: { overlay.relations[CatalogOverlay.key(newSchema, $0)] != nil }) {
            error("relation-already-exists", "42P07", "relation \"\(taken)\" already exists in schema \"\(newSchema)\"")
            return
        }
        overlay.moveRelation(relation, toSchema: newSchema, name: relation.name)
    }

    /// The role a RoleSpec field names (`newowner`, `authrole`: fields, not wrapped nodes): a name, or the current
    /// or session user; `named` when it was written as a name (it may not exist).
    static func roleName(_ spec: ParseNode?, _ overlay: CatalogOverlay) -> (name: String?, named: Bool) {
        let body = spec.flatMap { $0.nodeType == "RoleSpec" ? $0.nodeBody : $0 }
        switch body?["roletype"]?.string {
        case "ROLESPEC_CSTRING": return (body?["rolename"]?.string, true)
        case "ROLESPEC_CURRENT_USER", "ROLESPEC_CURRENT_ROLE": return (overlay.currentUser, false)
        case "ROLESPEC_SESSION_USER": return (overlay.session.user, false)
        default: return (nil, false)
        }
    }

    private mutating func createSchema(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "create"
        let (role, named) = Self.roleName(tree["authrole"], overlay)
        guard let name = tree["schemaname"]?.string ?? role else { return }
        summary.object = name
        if let role, named, !overlay.roles.contains(role) {
            error("role-does-not-exist", "42704", "role \"\(role)\" does not exist", hint: "Create the role first (CREATE ROLE \(quoteIdentifier(role))).")
            return
        }
        if overlay.schemas[name] != nil {
            if tree["if_not_exists"]?.bool == true {
                summary.action = "skip"
                info("schema-already-exists", "schema \"\(name)\" already exists, skipping")
            } else {
                error("schema-already-exists", "42P06", "schema \"\(name)\" already exists", hint: "Use CREATE SCHEMA IF NOT EXISTS.")
            }
            return
        }
        overlay.schemas[name] = SchemaInfo(name: name, owner: role ?? overlay.session.user, canCreate: true, canUse: true)
    }

    private mutating func grant(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        let isGrant = tree["is_grant"]?.bool ?? false
        summary.action = isGrant ? "grant" : "revoke"
        let objtype = tree["objtype"]?.string ?? ""
        if tree["targtype"]?.string == "ACL_TARGET_OBJECT" {
            for object in tree["objects"]?.listItems ?? [] {
                switch objtype {
                case "OBJECT_TABLE", "OBJECT_SEQUENCE":
                    guard let (schema, name) = Syntax.rangeVar(object) else { continue }
                    guard let relation = requireRelation(schema: schema, name: name, overlay: overlay) else { return }
                    summary.object = "\(relation.schema).\(relation.name)"
                case "OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE":
                    guard let body = object.nodeBody else { continue }
                    guard let routine = resolveRoutine(body, kindWord: objtype == "OBJECT_PROCEDURE" ? "procedure" : "function", missingOK: false, overlay: overlay) else {
                        return
                    }
                    summary.object = routine.identity
                    let grantees = (tree["grantees"]?.listItems ?? []).compactMap { $0.nodeBody?["roletype"]?.string }
                    if isGrant && routine.securityDefiner && grantees.contains("ROLESPEC_PUBLIC") {
                        warning(
                            "security-definer-public-execute", "GRANT EXECUTE on SECURITY DEFINER \(routine.identity) to PUBLIC: every role can run it with the owner's rights",
                            hint: "Grant EXECUTE to the roles that need it instead.")
                    }
                case "OBJECT_SCHEMA":
                    guard let name = object.stringValue else { continue }
                    summary.object = name
                    if overlay.schemas[name] == nil {
                        error("schema-does-not-exist", "3F000", "schema \"\(name)\" does not exist")
                        return
                    }
                default:
                    continue
                }
            }
        }
        for grantee in tree["grantees"]?.listItems ?? [] {
            guard let body = grantee.nodeBody, body["roletype"]?.string == "ROLESPEC_CSTRING", let role = body["rolename"]?.string else { continue }
            if !overlay.roles.contains(role) {
                error("role-does-not-exist", "42704", "role \"\(role)\" does not exist", hint: "Create the role first (CREATE ROLE \(quoteIdentifier(role))), or fix the name.", object: role)
                return
            }
        }
    }

    /// ALTER DEFAULT PRIVILEGES, checked in the server's order (`ExecAlterDefaultPrivilegesStmt`): the grantees,
    /// each FOR ROLE, then each IN SCHEMA (which must exist, and cannot be combined with ON SCHEMAS).
    private mutating func alterDefaultPrivileges(_ tree: ParseNode, _ overlay: CatalogOverlay) {
        let action = tree["action"]
        summary.action = (action?["is_grant"]?.bool ?? false) ? "grant" : "revoke"
        var roles: [ParseNode] = []
        var schemas: [String] = []
        for option in tree["options"]?.listItems ?? [] {
            guard let body = option.nodeBody else { continue }
            switch body["defname"]?.string {
            case "roles": roles = body["arg"]?.listItems ?? []
            case "schemas": schemas = (body["arg"]?.listItems ?? []).compactMap(\.stringValue)
            default: break
            }
        }
        func missingRole(_ spec: ParseNode) -> String? {
            guard let body = spec.nodeBody, body["roletype"]?.string == "ROLESPEC_CSTRING", let role = body["rolename"]?.string else { return nil }
            return overlay.roles.contains(role) ? nil : role
        }
        func reportMissing(_ role: String) {
            error("role-does-not-exist", "42704", "role \"\(role)\" does not exist", hint: "Create the role first (CREATE ROLE \(quoteIdentifier(role))), or fix the name.", object: role)
        }
        if let role = (action?["grantees"]?.listItems ?? []).lazy.compactMap(missingRole).first { return reportMissing(role) }
        summary.object = schemas.first
        // Per FOR ROLE (or the current user): the role, then the schemas in order. On SCHEMAS, the first schema
        // found is refused.
        for role in roles.isEmpty ? [nil] : roles.map(Optional.some) {
            if let role, let missing = missingRole(role) { return reportMissing(missing) }
            for schema in schemas {
                if !overlay.schemaExists(schema) {
                    return error("schema-does-not-exist", "3F000", "schema \"\(schema)\" does not exist", hint: "Create the schema first, or fix the name.", object: schema)
                }
                if action?["objtype"]?.string == "OBJECT_SCHEMA" {
                    return error(
                        "in-schema-on-schemas", "0LP01", "cannot use IN SCHEMA clause when using GRANT/REVOKE ON SCHEMAS",
                        hint: "Leave out IN SCHEMA: default privileges on schemas are set per role only.")
                }
            }
        }
    }

    private mutating func grantRole(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = (tree["is_grant"]?.bool ?? false) ? "grant" : "revoke"
        let granted = (tree["granted_roles"]?.listItems ?? []).compactMap { $0.nodeBody?["priv_name"]?.string }
        let grantees = (tree["grantee_roles"]?.listItems ?? []).compactMap { $0.nodeBody?["rolename"]?.string }
        for role in granted + grantees where !overlay.roles.contains(role) {
            error("role-does-not-exist", "42704", "role \"\(role)\" does not exist", hint: "Create the role first, or fix the name.", object: role)
            return
        }
    }

    private mutating func createType(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "create"
        let parts: [String]
        if statement.kind == "CompositeTypeStmt" {
            guard let (schema, name) = Syntax.rangeVar(tree["typevar"]) else { return }
            parts = (schema.map { [$0] } ?? []) + [name]
        } else {
            // A domain's `typeName` is its base type; its own name is `domainname`.
            parts = Syntax.names(statement.kind == "CreateDomainStmt" ? tree["domainname"] : tree["typeName"])
        }
        guard let (explicit, name) = Syntax.qualified(parts) else { return }
        let composite = statement.kind == "CompositeTypeStmt"
        guard let schema = resolveCreationSchema(explicit, relation: composite ? name : nil, &overlay) else { return }
        summary.object = "\(schema).\(name)"
        if overlay.types[CatalogOverlay.key(schema, name)] != nil || overlay.relations[CatalogOverlay.key(schema, name)] != nil {
            if statement.kind == "CompositeTypeStmt" && overlay.relations[CatalogOverlay.key(schema, name)] != nil {
                error("relation-already-exists", "42P07", "relation \"\(name)\" already exists")
            } else {
                error("type-already-exists", "42710", "type \"\(name)\" already exists", hint: "Choose another name, or ALTER the existing type.")
            }
            return
        }
        let labels = (tree["vals"]?.listItems ?? []).compactMap(\.stringValue)
        let kind = ["CreateEnumStmt": "e", "CompositeTypeStmt": "c", "CreateDomainStmt": "d", "CreateRangeStmt": "r"][statement.kind] ?? "b"
        overlay.types[CatalogOverlay.key(schema, name)] = TypeInfo(oid: 0, schema: schema, name: name, kind: kind, enumLabels: labels)
    }

    private mutating func alterEnum(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "alter"
        guard let (schema, name) = Syntax.qualified(Syntax.names(tree["typeName"])) else { return }
        guard var type = overlay.type(schema: schema, name: name) else {
            error("type-does-not-exist", "42704", "type \"\(Syntax.names(tree["typeName"]).joined(separator: "."))\" does not exist")
            return
        }
        summary.object = "\(type.schema).\(type.name)"
        guard let newValue = tree["newVal"]?.string else { return }
        if let oldValue = tree["oldVal"]?.string {
            if !type.enumLabels.contains(oldValue) {
                error("enum-label-does-not-exist", "22023", "\"\(oldValue)\" is not an existing enum label")
                return
            }
            if type.enumLabels.contains(newValue) {
                error("enum-label-already-exists", "42710", "enum label \"\(newValue)\" already exists")
                return
            }
            type.enumLabels = type.enumLabels.map { $0 == oldValue ? newValue : $0 }
        } else {
            if type.enumLabels.contains(newValue) {
                if tree["skipIfNewValExists"]?.bool == true {
                    info("enum-label-already-exists", "enum label \"\(newValue)\" already exists, skipping")
                    return
                }
                error("enum-label-already-exists", "42710", "enum label \"\(newValue)\" already exists", hint: "Use ADD VALUE IF NOT EXISTS.")
                return
            }
            type.enumLabels.append(newValue)
            overlay.enumValuesAddedInTransaction[newValue] = CatalogOverlay.key(type.schema, type.name)
        }
        overlay.types[CatalogOverlay.key(type.schema, type.name)] = type
    }

    /// 55P04: a label added by ADD VALUE earlier in the same transaction, used as a constant of that enum.
    private mutating func checkEnumValueUse(_ overlay: CatalogOverlay) {
        guard !overlay.enumValuesAddedInTransaction.isEmpty, statement.kind != "AlterEnumStmt" else { return }
        var mentioned = Set<String>()
        Syntax.walkObjects(statement.tree) { members in
            let body = ParseNode.object(members)
            if Syntax.isTypeName(members), let name = Syntax.names(body["names"]).last { mentioned.insert(name) }
            if let name = members["relname"]?.string {
                if let relation = overlay.relation(schema: members["schemaname"]?.string, name: name) {
                    for column in relation.columns { mentioned.insert(column.type.split(separator: ".").last.map(String.init) ?? column.type) }
                }
            }
        }
        for constant in Syntax.stringConstants(statement.tree) {
            if let key = overlay.enumValuesAddedInTransaction[constant], let type = overlay.types[key], mentioned.contains(type.name) {
                // Named as the server names it now: qualified unless the type is visible on the current search path.
                error(
                    "enum-unsafe-new-value", "55P04", "unsafe use of new value \"\(constant)\" of enum type \(overlay.display(schema: type.schema, name: type.name))",
                    hint: "New enum values must be committed before they can be used: move the ALTER TYPE … ADD VALUE into an earlier bundle (with --atomic, into an earlier apply).")
                return
            }
        }
    }

    // MARK: Function calls

    /// Types an `integer` argument reaches by an implicit cast (`pg_cast` castcontext 'i' from int4, all of type
    /// category N), and types it cannot reach implicitly. A candidate with any other parameter type is not judged.
    private static let implicitFromInteger: Set<String> = [
        "bigint", "numeric", "real", "double precision", "oid", "regproc", "regprocedure", "regoper", "regoperator", "regclass",
        "regtype", "regconfig", "regdictionary", "regnamespace", "regrole", "regcollation",
    ]
    private static let notImplicitFromInteger: Set<String> = [
        "smallint", "money", "bit", "\"char\"", "boolean", "text", "character varying", "character", "uuid", "json", "jsonb", "bytea",
        "date", "timestamp without time zone", "timestamp with time zone", "interval", "inet", "xml", "name",
    ]
    /// Preferred types of category N (`typispreferred`).
    private static let preferredNumeric: Set<String> = ["double precision", "oid"]

    /// 42725 for calls like `f(1, 2)` (integer constants only) that PostgreSQL's function resolution
    /// (`func_select_candidate`) cannot narrow to one candidate — e.g. after CREATE OR REPLACE added an overload.
    private mutating func checkCalls(_ tree: ParseNode, _ overlay: CatalogOverlay) {
        var calls: [ParseNode] = []
        Syntax.walk(tree) { type, body in if type == "FuncCall" { calls.append(body) } }
        for call in calls {
            let parts = Syntax.names(call["funcname"])
            guard let (schema, name) = Syntax.qualified(parts) else { continue }
            let args = call["args"]?.listItems ?? []
            guard !args.isEmpty, call["agg_star"] == nil, call["agg_distinct"] == nil, call["func_variadic"] == nil, call["over"] == nil,
                call["agg_order"] == nil, call["agg_filter"] == nil,
                args.allSatisfy({ $0.nodeType == "A_Const" && $0.nodeBody?["ival"] != nil })
            else { continue }
            let visible = overlay.routines(schema: schema, name: name)
            // Defaults, variadics, polymorphics, procedures and type-named functions resolve in ways not modelled here.
            guard visible.count >= 2, !Self.implicitFromInteger.contains(name), !Self.notImplicitFromInteger.contains(name), name != "integer",
                visible.allSatisfy({ routine in
                    routine.defaultCount == 0 && routine.kind != "p"
                        && routine.inputTypes.allSatisfy { !$0.hasSuffix("[]") && !$0.hasPrefix("any") && $0 != "\"any\"" }
                })
            else { continue }
            let sameArity = visible.filter { $0.inputTypes.count == args.count }
            guard sameArity.allSatisfy({ $0.inputTypes.allSatisfy { $0 == "integer" || Self.implicitFromInteger.contains($0) || Self.notImplicitFromInteger.contains($0) } })
            else { continue }
            if sameArity.contains(where: { $0.inputTypes.allSatisfy { $0 == "integer" } }) { continue }
            var candidates = sameArity.filter { $0.inputTypes.allSatisfy { $0 == "integer" || Self.implicitFromInteger.contains($0) } }
            guard candidates.count >= 2 else { continue }
            let exact = candidates.map { $0.inputTypes.filter { $0 == "integer" }.count }
            candidates = zip(candidates, exact).filter { $0.1 == exact.max()! }.map(\.0)
            let preferred = candidates.map { $0.inputTypes.filter { $0 == "integer" || Self.preferredNumeric.contains($0) }.count }
            candidates = zip(candidates, preferred).filter { $0.1 == preferred.max()! }.map(\.0)
            guard candidates.count >= 2 else { continue }
            let signature = "\(parts.joined(separator: "."))(\(Array(repeating: "integer", count: args.count).joined(separator: ", ")))"
            error(
                "function-call-not-unique", "42725", "function \(signature) is not unique",
                hint: "Could not choose a best candidate function. You might need to add explicit type casts. Candidates: \(candidates.map(\.displaySignature).joined(separator: ", ")).",
                object: parts.joined(separator: "."))
            return
        }
    }

    // MARK: DML and settings

    private mutating func dml(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = ["InsertStmt": "insert", "UpdateStmt": "update", "DeleteStmt": "delete"][statement.kind] ?? "other"
        summary.lock = "RowExclusiveLock"
        guard let (schema, name) = Syntax.rangeVar(tree["relation"]) else { return }
        guard let relation = requireRelation(schema: schema, name: name, overlay: overlay) else { return }
        summary.object = "\(relation.schema).\(relation.name)"
        if relation.kind == "v" || relation.kind == "m" {
            return
        }
        noteDeferredTriggerEvents(tree, relation: relation, overlay: &overlay)
        // The data probes of later statements would read the rows as they were before this statement.
        overlay.liveRelationOIDs.remove(relation.oid)
        for target in tree["cols"]?.listItems ?? [] {
            guard let column = target.nodeBody?["name"]?.string, !relation.columns.isEmpty else { continue }
            if !relation.columns.contains(where: { $0.name == column }) {
                error("column-does-not-exist", "42703", "column \"\(column)\" of relation \"\(relation.name)\" does not exist")
                return
            }
        }
    }

    /// Queues the relation as having pending deferred trigger events when the statement certainly fires an
    /// INITIALLY DEFERRED trigger (INSERT … VALUES; DELETE without WHERE on a table with rows).
    private func noteDeferredTriggerEvents(_ tree: ParseNode, relation: RelationInfo, overlay: inout CatalogOverlay) {
        let bit: Int
        var firesRows = false
        switch statement.kind {
        case "InsertStmt":
            bit = 4
            let values = tree["selectStmt"]?.nodeBody?["valuesLists"]?.listItems ?? []
            firesRows = !values.isEmpty && tree["onConflictClause"] == nil
        case "DeleteStmt":
            bit = 8
            guard tree["whereClause"] == nil, tree["usingClause"] == nil, overlay.liveRelationOIDs.contains(relation.oid) else { return }
            guard overlay.triggers.contains(where: { $0.schema == relation.schema && $0.table == relation.name && $0.isAlwaysDeferred && $0.eventBits & 8 != 0 })
            else { return }
            firesRows = probe?.rows("SELECT 1 FROM \(relation.qualifiedName) LIMIT 1").map { !$0.isEmpty } ?? false
        default:
            return
        }
        guard firesRows,
            overlay.triggers.contains(where: { $0.schema == relation.schema && $0.table == relation.name && $0.isAlwaysDeferred && $0.eventBits & bit != 0 })
        else { return }
        overlay.pendingTriggerEvents.insert(CatalogOverlay.key(relation.schema, relation.name))
    }

    /// SET [LOCAL] search_path, SET search_path TO DEFAULT / FROM CURRENT, RESET search_path, RESET ALL. A plain
    /// SET outlives the bundle's transaction: apply runs every bundle on one session, so later bundles see it
    /// (`CatalogOverlay.sessionSearchPath`). Schemas are kept by name even when they do not exist (yet): PostgreSQL
    /// looks the path up again for every name, so a schema the bundle creates afterwards counts from then on.
    /// A plain `SELECT [pg_catalog.]set_config('search_path', 'value', is_local)` with constant arguments: the
    /// value and whether it is local (other SELECTs, and calls inside larger queries, are not read).
    static func searchPathConfigCall(_ tree: ParseNode) -> (value: String, local: Bool)? {
        guard tree["fromClause"] == nil, tree["whereClause"] == nil, let targets = tree["targetList"]?.listItems, targets.count == 1,
              let call = targets[0].nodeBody?["val"]?["FuncCall"], Syntax.names(call["funcname"]).last == "set_config",
              [["set_config"], ["pg_catalog", "set_config"]].contains(Syntax.names(call["funcname"])),
              let args = call["args"]?.listItems, args.count == 3,
              args[0].nodeBody?["sval"]?["sval"]?.string == "search_path",
              let constant = args[1].nodeBody, let value = constant["sval"].map({ $0["sval"]?.string ?? "" }),
              let flag = args[2].nodeBody?["boolval"]
        else { return nil }
        return (value, flag["boolval"]?.bool ?? false)
    }

    private mutating func variableSet(_ tree: ParseNode, _ overlay: inout CatalogOverlay) {
        summary.action = "set"
        let local = tree["is_local"]?.bool == true
        /// The new value of search_path or of the role, for this bundle, and with a plain SET for the next ones too
        /// (a plain SET keeps its own setting only: a SET LOCAL of the other still ends with the transaction).
        func setPath(_ path: [String]) {
            overlay.searchPathSetting = path
            if !local { overlay.sessionSearchPathSetting = path }
        }
        func setUser(_ user: String) {
            overlay.roleChangedByPlan = true
            overlay.currentUser = user
            if !local { overlay.sessionCurrentUser = user }
        }
        let kind = tree["kind"]?.string
        // RESET ALL leaves the role alone (it is not reset by RESET ALL on the server either).
        if kind == "VAR_RESET_ALL" { return setPath(overlay.defaultSearchPathSetting) }
        // Each element is one name: an identifier, or a string constant taken whole (`'a, b'` names the schema
        // "a, b"), as the server quotes list elements of search_path and reads SET ROLE's argument.
        let values = (tree["args"]?.listItems ?? []).compactMap { arg -> String? in
            let constant = arg.nodeBody?["sval"]
            return constant?["sval"]?.string ?? constant?.stringValue ?? constant?.string
        }
        switch (tree["name"]?.string, kind) {
        case ("search_path", "VAR_SET_VALUE"): setPath(values)
        case ("search_path", "VAR_SET_DEFAULT"), ("search_path", "VAR_RESET"): setPath(overlay.defaultSearchPathSetting)
        // FROM CURRENT: the value in effect becomes the session's (a SET LOCAL's value outlives the transaction);
        // SET LOCAL … FROM CURRENT changes nothing.
        case ("search_path", "VAR_SET_CURRENT"): setPath(overlay.searchPathSetting)
        case ("role", "VAR_SET_CURRENT"): setUser(overlay.currentUser)
        // SET ROLE changes what `$user` in search_path means (NONE: back to the session's role).
        case ("role", "VAR_SET_VALUE"), ("session_authorization", "VAR_SET_VALUE"):
            guard let role = values.first else { return }
            setUser(role == "none" ? overlay.session.user : role)
        case ("role", "VAR_SET_DEFAULT"), ("role", "VAR_RESET"), ("session_authorization", "VAR_SET_DEFAULT"), ("session_authorization", "VAR_RESET"):
            setUser(overlay.session.user)
        default:
            return
        }
    }
}

