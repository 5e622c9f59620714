import Foundation
import PostgresCatalog
import SQLSyntax

/// Options of a plan run.
public struct PlanOptions: Sendable {
    /// Also run each bundle for real inside a transaction that is always rolled back.
    public var rehearse: Bool
    /// `lock_timeout` for rehearsals and data probes.
    public var lockTimeout: String
    /// `statement_timeout` for rehearsals and data probes.
    public var statementTimeout: String
    /// The bundles will run in one transaction (`apply --atomic`): a SET LOCAL lasts until the end of the lock.
    public var oneTransaction: Bool

    public init(rehearse: Bool = false, lockTimeout: String = "3s", statementTimeout: String = "5s", oneTransaction: Bool = false) {
        self.rehearse = rehearse
        self.lockTimeout = lockTimeout
        self.statementTimeout = statementTimeout
        self.oneTransaction = oneTransaction
    }
}

/// `bundle plan`: predicts, from the live catalog, what each bundle of a lock would do and how it would fail.
///
/// Reads the catalog with a few set-based queries scoped to the objects the bundles name, walks the bundles in lock
/// order over an overlay of that catalog, and never writes to the target (rehearsals and probes run inside
/// transactions that are always rolled back).
public struct Planner {
    public let connection: PostgresConnection
    public let options: PlanOptions

    public init(connection: PostgresConnection, options: PlanOptions = PlanOptions()) {
        self.connection = connection
        self.options = options
    }

    /// Plans every bundle of `lock`. Bundles named in `applied` (the target's registry records them) are reported
    /// with status `applied` and not analysed: their effects are already in the live catalog.
    public func plan(_ lock: VerifiedLock, applied: Set<String> = []) throws(BundleError) -> PlanReport {
        let pending = lock.bundles.filter { !applied.contains($0.locked.name) }
        let scope = Self.scope(of: pending.flatMap(\.script.statements))
        let snapshot: CatalogSnapshot
        do {
            snapshot = try CatalogReader(connection: connection).read(scope: scope)
        } catch {
            throw .database("cannot read the catalog: \(error.errorDescription ?? "\(error)")")
        }
        var overlay = CatalogOverlay(snapshot: snapshot)
        let probe = ConnectionProbe(connection: connection, statementTimeout: options.statementTimeout, lockTimeout: options.lockTimeout)
        let immutable = Set((lock.lock.immutable ?? []).map { $0.replacingOccurrences(of: " ", with: "") })
        var plans: [BundlePlan] = []
        for bundle in lock.bundles {
            if applied.contains(bundle.locked.name) {
                plans.append(
                    BundlePlan(
                        txn: bundle.locked.txn, name: bundle.locked.name, path: bundle.locked.path, sha256: bundle.locked.sha256,
                        status: .applied, statements: [], findings: [], rehearsal: nil))
                continue
            }
            // A new transaction: enum values added before are committed, deferred trigger events fired (with
            // --atomic the bundles share one transaction, and both carry over).
            if !options.oneTransaction {
                overlay.enumValuesAddedInTransaction = [:]
                overlay.pendingTriggerEvents = []
            }
            var statements: [StatementSummary] = []
            var findings: [Finding] = []
            for statement in bundle.script.statements {
                var analyzer = StatementAnalyzer(statement: statement, immutable: immutable, probe: probe)
                var candidate = overlay
                analyzer.analyze(&candidate)
                if !analyzer.hasError { overlay = candidate }
                statements.append(analyzer.summary)
                findings.append(contentsOf: analyzer.findings)
                if bundle.rollbackSQL == nil, let unrecorded = UnrecordedStatements.finding(statement) { findings.append(unrecorded) }
            }
            // SET LOCAL ends with the bundle's transaction (with --atomic, with the lock's); a plain SET stays for the
            // next bundles (one session).
            if !options.oneTransaction {
                overlay.searchPathSetting = overlay.sessionSearchPathSetting
                overlay.currentUser = overlay.sessionCurrentUser
                for name in overlay.droppedAtCommit {
                    if let relation = overlay.relations[CatalogOverlay.key(CatalogOverlay.temporarySchema, name)] { overlay.removeRelation(relation) }
                }
                overlay.droppedAtCommit = []
            }
            let status: BundlePlan.Status =
                findings.contains { $0.severity == .error } ? .blocked : findings.contains { $0.severity == .warning } ? .warning : .ok
            plans.append(
                BundlePlan(
                    txn: bundle.locked.txn, name: bundle.locked.name, path: bundle.locked.path, sha256: bundle.locked.sha256,
                    status: status, statements: statements, findings: findings, rehearsal: nil))
        }
        if options.rehearse {
            try rehearse(lock, plans: &plans)
        }
        return PlanReport(
            lock: lock.lock.name, lockSHA256: lock.sha256,
            database: PlanDatabase(name: snapshot.session.database, serverVersion: snapshot.session.serverVersion, user: snapshot.session.user),
            bundles: plans)
    }

    /// Plans `lock` against `target`'s registry: bundles it records as applied (with the same sha256) are marked
    /// `applied`; one recorded with a different sha256 is a lock-integrity error (the lock was edited after apply).
    public func planAgainstRegistry(_ lock: VerifiedLock, target: String?) throws(BundleError) -> PlanReport {
        let entries = try db { try Registry(connection: connection).entries(target: target ?? connection.database) }
        let applied = Registry.appliedBundles(entries, lockName: lock.lock.name)
        var violations: [LockViolation] = []
        for bundle in lock.bundles {
            if let entry = applied[bundle.locked.name], entry.sha256 != bundle.locked.sha256 {
                violations.append(LockViolation(kind: .changedSinceApply, path: bundle.locked.path, pinned: entry.sha256, actual: bundle.locked.sha256))
            }
        }
        if !violations.isEmpty { throw .lockIntegrity(violations) }
        return try plan(lock, applied: Set(applied.keys))
    }

    /// The names the statements refer to (what the catalog reader fetches).
    static func scope(of statements: [SQLStatement]) -> CatalogScope {
        var scope = CatalogScope()
        for statement in statements {
            Syntax.walkObjects(statement.tree) { members in
                let body = ParseNode.object(members)
                if members["relname"] != nil, let name = members["relname"]?.string {
                    scope.relationNames.insert(name)
                }
                if Syntax.isTypeName(members) {
                    if let name = Syntax.names(body["names"]).last {
                        scope.typeNames.insert(name)
                        scope.relationNames.insert(name)
                    }
                    if let written = Syntax.writtenType(body) { scope.writtenTypes.insert(written) }
                    if let column = Syntax.columnType(body) { scope.writtenTypes.insert(column) }
                }
                if members["objname"] != nil, let name = Syntax.names(body["objname"]).last {
                    scope.routineNames.insert(name)
                    for arg in body["objargs"]?.listItems ?? [] {
                        if let written = Syntax.writtenType(arg) { scope.writtenTypes.insert(written) }
                    }
                }
                if members["funcname"] != nil, let name = Syntax.names(body["funcname"]).last {
                    scope.routineNames.insert(name)
                }
                if members["roletype"] != nil, let name = members["rolename"]?.string {
                    scope.roleNames.insert(name)
                }
                if let name = members["priv_name"]?.string {
                    scope.roleNames.insert(name)
                }
            }
            let tree = statement.tree
            // DROP … CASCADE (of objects, a column or a schema) reads the views over views it takes along.
            if statement.kind == "DropStmt", tree["behavior"]?.string == "DROP_CASCADE" { scope.transitiveDependents = true }
            if statement.kind == "AlterTableStmt",
                (tree["cmds"]?.listItems ?? []).contains(where: { $0.nodeBody?["behavior"]?.string == "DROP_CASCADE" })
            {
                scope.transitiveDependents = true
            }
            switch statement.kind {
            case "CreateFunctionStmt":
                if let name = Syntax.names(tree["funcname"]).last { scope.routineNames.insert(name) }
            case "CreateTrigStmt":
                if let name = Syntax.names(tree["funcname"]).last { scope.routineNames.insert(name) }
                if let name = tree["trigname"]?.string { scope.triggerNames.insert(name) }
            case "IndexStmt":
                if let name = tree["idxname"]?.string { scope.relationNames.insert(name) }
            case "RenameStmt":
                if let name = tree["newname"]?.string {
                    scope.relationNames.insert(name)
                    scope.typeNames.insert(name)
                    scope.routineNames.insert(name)
                }
                if ["OBJECT_TYPE", "OBJECT_DOMAIN"].contains(tree["renameType"]?.string ?? ""), let name = Syntax.names(tree["object"]).last {
                    scope.typeNames.insert(name)
                    scope.relationNames.insert(name)
                }
            case "DropStmt":
                for object in tree["objects"]?.listItems ?? [] {
                    if let name = Syntax.names(object).last {
                        scope.relationNames.insert(name)
                        scope.typeNames.insert(name)
                    }
                }
            case "AlterEnumStmt", "CreateEnumStmt", "CreateDomainStmt", "CreateRangeStmt":
                // A domain's `typeName` is its base type; its own name is `domainname`.
                if let name = Syntax.names(statement.kind == "CreateDomainStmt" ? tree["domainname"] : tree["typeName"]).last {
                    scope.typeNames.insert(name)
                    scope.relationNames.insert(name)
                }
            case "CreateSchemaStmt":
                if let name = tree["authrole"]?["rolename"]?.string { scope.roleNames.insert(name) }
            case "CreateSeqStmt", "AlterSeqStmt":
                // OWNED BY table.column: the table.
                for option in (tree["options"]?.listItems ?? []).compactMap(\.nodeBody) where option["defname"]?.string == "owned_by" {
                    let parts = Syntax.names(option["arg"])
                    if parts.count >= 2 { scope.relationNames.insert(parts[parts.count - 2]) }
                }
            case "CreateStmt", "AlterTableStmt":
                // The names a serial or identity column's sequence may get (`table_column_seq`, `…_seq1`, …): a
                // relation already called so makes the server pick the next.
                guard let table = Syntax.rangeVar(tree["relation"])?.name else { break }
                func insertCandidates(_ name2: String?, _ label: String) {
                    for suffix in [""] + (1...9).map(String.init) { scope.relationNames.insert(CatalogOverlay.objectName(table, name2, label: label + suffix)) }
                }
                Syntax.walkObjects(tree) { members in
                    // PRIMARY KEY / UNIQUE constraints' indexes (`table_pkey`, `table_cols_key`).
                    if let constraint = members["Constraint"], let type = constraint["contype"]?.string, ["CONSTR_PRIMARY", "CONSTR_UNIQUE"].contains(type),
                       constraint["conname"] == nil {
                        let keys = (constraint["keys"]?.listItems ?? []).compactMap(\.stringValue)
                        if type == "CONSTR_PRIMARY" { insertCandidates(nil, "pkey") } else if !keys.isEmpty { insertCandidates(keys.joined(separator: "_"), "key") }
                    }
                    guard let column = members["ColumnDef"], let name = column["colname"]?.string else { return }
                    let constraints = (column["constraints"]?.listItems ?? []).compactMap(\.nodeBody)
                    if constraints.contains(where: { $0["contype"]?.string == "CONSTR_UNIQUE" && $0["conname"] == nil }) { insertCandidates(name, "key") }
                    let identity = constraints.contains { $0["contype"]?.string == "CONSTR_IDENTITY" }
                    guard identity || Syntax.isSerial(column["typeName"]) else { return }
                    insertCandidates(name, "seq")
                }
            default:
                break
            }
        }
        return scope
    }

    // MARK: Rehearsal

    /// Runs every bundle inside one outer transaction (each under a savepoint), then rolls everything back.
    private func rehearse(_ lock: VerifiedLock, plans: inout [BundlePlan]) throws(BundleError) {
        func run(_ sql: String) throws(BundleError) {
            do { try connection.execute(sql) } catch { throw .database("rehearsal: \(error.errorDescription ?? "\(error)")") }
        }
        try run("BEGIN")
        defer { _ = try? connection.execute("ROLLBACK") }
        do { try connection.setLocalTimeouts(lock: options.lockTimeout, statement: options.statementTimeout) } catch {
            throw .database("rehearsal: \(error.errorDescription ?? "\(error)")")
        }
        for (offset, bundle) in lock.bundles.enumerated() where plans[offset].status != .applied {
            if bundle.script.statements.contains(where: { $0.nonTransactionalReason != nil || $0.transactionControl != nil }) {
                let predicted = plans[offset].firstError
                plans[offset].rehearsal = Rehearsal(
                    ok: false, sqlstate: predicted?.sqlstate, message: "not rehearsed: the bundle cannot run inside a transaction", detail: nil, hint: nil,
                    statement: predicted?.statement, matchesPrediction: true)
                continue
            }
            try run("SAVEPOINT bundle_rehearsal")
            var failure: (statement: Int, message: ServerMessage)? = nil
            for statement in bundle.script.statements {
                do {
                    try connection.execute(statement.text)
                } catch {
                    if case .server(let message) = error {
                        failure = (statement.index, message)
                    } else {
                        throw .database("rehearsal of \(bundle.locked.path) statement \(statement.index): \(error.errorDescription ?? "\(error)")")
                    }
                    break
                }
            }
            _ = connection.takeNotices()
            if failure != nil {
                try run("ROLLBACK TO SAVEPOINT bundle_rehearsal")
            } else {
                try run("RELEASE SAVEPOINT bundle_rehearsal")
            }
            let predicted = plans[offset].firstError
            let matches: Bool
            if let failure {
                matches = predicted?.sqlstate == failure.message.sqlstate && predicted?.message == failure.message.message
                    && predicted?.statement == failure.statement
            } else {
                matches = predicted == nil
            }
            plans[offset].rehearsal = Rehearsal(
                ok: failure == nil, sqlstate: failure?.message.sqlstate, message: failure?.message.message, detail: failure?.message.detail,
                hint: failure?.message.hint, statement: failure?.statement, matchesPrediction: matches)
            if !matches {
                let statement = failure.flatMap { f in bundle.script.statements.first { $0.index == f.statement } }
                if let failure, let statement {
                    plans[offset].findings.append(
                        Finding(
                            rule: "rehearsal-failed", severity: .error, statement: failure.statement, line: statement.start.line,
                            column: statement.start.column, object: nil, sqlstate: failure.message.sqlstate, message: failure.message.message,
                            detail: failure.message.detail,
                            hint: [failure.message.hint, "The server raised this during the rehearsal, but the plan did not predict it."].compactMap { $0 }.joined(separator: " ")))
                    plans[offset].status = .blocked
                } else if let predicted {
                    plans[offset].findings.append(
                        Finding(
                            rule: "rehearsal-mismatch", severity: .warning, statement: predicted.statement, line: predicted.line,
                            column: predicted.column, object: predicted.object,
                            message: "the plan predicted \(predicted.sqlstate ?? "an error") \"\(predicted.message)\", but the rehearsal succeeded"))
                }
            }
        }
    }
}

/// Read-only probes over the planning connection: each runs in its own transaction that is rolled back.
struct ConnectionProbe: LiveProbe {
    let connection: PostgresConnection
    let statementTimeout: String
    let lockTimeout: String

    /// Runs `body` in a transaction (read-only when asked) with the probe's timeouts, and always rolls it back.
    /// Nil when the transaction could not be started or `body` failed.
    private func rolledBack<T>(readOnly: Bool = false, _ body: () throws -> T) -> T? {
        guard (try? connection.execute(readOnly ? "BEGIN READ ONLY" : "BEGIN")) != nil else { return nil }
        defer {
            _ = try? connection.execute("ROLLBACK")
            _ = connection.takeNotices()
        }
        do {
            try connection.setLocalTimeouts(lock: lockTimeout, statement: statementTimeout)
            return try body()
        } catch {
            return nil
        }
    }

    func rows(_ sql: String) -> [[String?]]? {
        rolledBack(readOnly: true) { try connection.execute(sql).rows }
    }

    func attempt(_ statements: [String]) -> ProbeOutcome {
        rolledBack { () -> ProbeOutcome in
            for sql in statements {
                do {
                    try connection.execute(sql)
                } catch {
                    // Timeouts and cancellations say nothing about the statement.
                    guard let message = (error as? PostgresError)?.serverMessage, !["57014", "55P03", "40P01"].contains(message.sqlstate) else { return .unavailable }
                    return .failed(message)
                }
            }
            return .succeeded
        } ?? .unavailable
    }

    func viewColumns(selectSQL: String) -> [ColumnInfo]? {
        rolledBack {
            try connection.execute("CREATE TEMPORARY VIEW bundle_plan_probe AS " + selectSQL)
            return try connection.query(
                """
                SELECT a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.atttypid, a.atttypmod,
                       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END
                FROM pg_attribute a
                JOIN pg_type t ON t.oid = a.atttypid
                LEFT JOIN pg_collation co ON co.oid = a.attcollation
                WHERE a.attrelid = 'pg_temp.bundle_plan_probe'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum
                """
            ).rows.map { row in
                ColumnInfo(
                    name: row[0]!, position: Int(row[1]!)!, type: row[2]!, typeOID: UInt32(row[3]!)!, typmod: Int(row[4]!)!, notNull: false,
                    hasDefault: false, generated: "", collation: row[5])
            }
        }
    }
}
