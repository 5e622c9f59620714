import ContentHash
import Foundation
import GitHistory
import PostgresCatalog
import SQLSyntax

/// Applies bundles on one connection: one transaction per bundle (or one for all with --atomic).
struct BundleRunner {
    let connection: PostgresConnection
    let repository: GitRepository
    let lock: VerifiedLock
    let facts: SessionFacts
    let author: Signature
    let branch: String
    let watch: WatchList?
    let options: ApplyOptions
    let progress: @Sendable (ApplyProgress) -> Void
    let backup: BackupRecord?
    /// The target has enabled event triggers: any DDL may run user code, so the search for the rows a bundle
    /// wrote is never narrowed to the catalogs its statements write (`catalogsWritten(by:)`).
    var eventTriggers = true
    /// What the run's last bundle needs to record a catalog mark (`CatalogMark.guardedExpression`), kept up to
    /// date as bundles commit; `start(from:safeLanguages:)` begins it (without it, no mark is recorded).
    let marking = MarkTracking()

    /// The snapshot the run's starting state was captured or checked in and the run's own transactions since
    /// (a reference: the runner's methods are not mutating).
    final class MarkTracking {
        private(set) var since: String?
        private(set) var ownTransactions: [String] = []
        /// Languages whose validator is PostgreSQL's own (sql, plpgsql, c, internal): CREATE FUNCTION in them runs
        /// no user code.
        private(set) var safeLanguages: Set<String> = []

        /// Starts from the mark of the catalog that the run's starting state equals.
        func start(from reading: CatalogMark.Reading, safeLanguages: Set<String>) {
            since = reading.snapshot
            self.safeLanguages = safeLanguages
        }

        /// No mark for this run.
        func stop() { since = nil }

        /// A transaction of the run committed (its id, when it had one).
        func committed(xid: String?) {
            if let xid { ownTransactions.append(xid) }
        }

        /// The guard for the run's last registry row (nil: no mark).
        var guardForLastTransaction: Registry.MarkGuard? {
            since.map { Registry.MarkGuard(since: $0, ownTransactions: ownTransactions) }
        }

        /// Whether the state recorded for `bundle` is provably exactly what its transaction changed, as a mark
        /// recorded after it requires (else the next run must capture): its statements are all of the kinds whose
        /// written catalogs are known and that run no user code (`SQLStatement.catalogsWritten`; no DML, SET,
        /// DROP, ALTER, DO…), a CREATE FUNCTION is in a language with PostgreSQL's own validator, and no event
        /// trigger can run on DDL. A pinned verify script runs in a savepoint that is rolled back.
        func recordsExactState(_ bundle: LoadedBundle, eventTriggers: Bool) -> Bool {
            guard !eventTriggers, BundleRunner.catalogsWritten(by: bundle.script.statements) != nil else { return false }
            return bundle.script.statements.allSatisfy { statement in
                statement.kind != "CreateFunctionStmt" || safeLanguages.contains(Syntax.functionLanguage(statement.tree).lowercased())
            }
        }
    }

    /// Applies one bundle in its own transaction, retrying lock timeouts; returns the result and the new state.
    ///
    /// `listing` is the catalog listing after the previous bundle of this run (nil at the start): it is still
    /// exact once that bundle committed (row xmins do not change at COMMIT), so each bundle lists the catalog
    /// once instead of twice. It is updated on success.
    func runOne(
        _ bundle: LoadedBundle, plan: PlanReport, tip: ObjectID, state: [String: String], listing: inout [String: ListedObject]?,
        marksCatalog: Bool = false
    ) throws -> (applied: AppliedBundle, state: [String: String]) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try attemptOne(bundle, plan: plan, tip: tip, state: state, listing: &listing, marksCatalog: marksCatalog)
            } catch var failure as ApplyFailureError where failure.failure.server?.sqlstate == "55P03" {
                let holders = lockHolders(plan.bundles.first { $0.txn == bundle.locked.txn })
                guard attempt <= options.lockRetries else {
                    if !holders.isEmpty {
                        var inner = failure.failure
                        inner.message = "lock timeout after \(attempt) attempts; blocked by: " + holders.joined(separator: "; ")
                        let detail = [inner.server?.detail, "blocked by: " + holders.joined(separator: "; ")].compactMap { $0 }.joined(separator: "\n")
                        inner.server?.detail = detail
                        failure = ApplyFailureError(failure: inner, appliedBefore: failure.appliedBefore)
                    }
                    throw failure
                }
                let reason = (failure.failure.server?.message ?? "lock timeout") + (holders.isEmpty ? "" : " (held by \(holders.joined(separator: "; ")))")
                progress(.retrying(txn: bundle.locked.txn, attempt: attempt, reason: reason))
                Thread.sleep(forTimeInterval: min(0.5 * pow(2, Double(attempt - 1)), 5))
            }
        }
    }

    /// Sessions holding locks on the relations a bundle touches: "pid 123 (idle in transaction for 00:00:12): query".
    private func lockHolders(_ summary: BundlePlan?) -> [String] {
        let relations = (summary?.statements ?? []).compactMap { statement -> String? in
            guard var object = statement.object, statement.lock != nil else { return nil }
            if let range = object.range(of: " on ") { object = String(object[range.upperBound...]) }
            guard let dot = object.firstIndex(of: "."), !object.contains("(") else { return nil }
            return "\(quoteIdentifier(String(object[..<dot]))).\(quoteIdentifier(String(object[object.index(after: dot)...])))"
        }
        guard !relations.isEmpty else { return [] }
        let rows = (try? connection.query(
            """
            SELECT DISTINCT a.pid, coalesce(a.state, '?'),
                   coalesce(pg_catalog.to_char(pg_catalog.now() OPERATOR(pg_catalog.-) a.xact_start, 'HH24:MI:SS'), '?'),
                   pg_catalog.left(coalesce(a.query, ''), 200)
            FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
            WHERE l.granted AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
              AND l.relation OPERATOR(pg_catalog.=) ANY (SELECT pg_catalog.to_regclass(r) FROM pg_catalog.unnest($1::pg_catalog.text[]) r)
            ORDER BY 1
            """, [pgArray(relations)]).rows) ?? []
        return rows.map { "pid \($0[0] ?? "?") (\($0[1] ?? "?") for \($0[2] ?? "?")): \($0[3] ?? "")" }
    }

    /// One bundle, staged inside the open transaction: what it did and the commit and registry row that record it.
    private struct StagedBundle {
        let commit: ObjectID
        /// The registry row's id; nil while its INSERT is still to be sent (`registryInsert`, with COMMIT).
        let registryID: Int?
        /// The registry row's INSERT, when the caller sends it with COMMIT in one round trip.
        let registryInsert: (sql: String, parameters: [String?])?
        /// Restores the session settings the in-place capture pinned (before COMMIT).
        let settingsRestore: ObjectStateReader.SettingsRestore?
        let state: [String: String]
        /// The catalog listing after the bundle, when one was taken (nil after an in-place bundle).
        let listing: [String: ListedObject]?
    }

    /// Runs a bundle inside the open transaction and records it: its statements (under a savepoint when several
    /// bundles share the transaction, so each one's catalog rows carry their own transaction id), post-conditions,
    /// verify script, the updated state, its rollback script, the commit object (not yet on the branch) and the
    /// registry row naming that commit.
    private func stage(
        _ bundle: LoadedBundle, plan: PlanReport, parent: ObjectID, state: [String: String], listing: [String: ListedObject]?,
        recordsBackup: Bool, savepoint: Bool, marksCatalog: Bool = false, executed: Bool = false
    ) throws -> StagedBundle {
        // One transaction per bundle: the registry row's start time is the transaction's (now()).
        let startedAt = savepoint ? try Profiler.measure("timestamp") { try timestamp() } : nil
        // A bundle that only adds objects or changes them in place, in its own transaction, is recorded from the
        // catalog rows its transaction wrote; any other needs a listing of the catalog before and after it.
        // (A pinned verify script runs in a savepoint that is rolled back: whatever it does is not recorded.)
        // (A bundle the caller ran through `beginAndExecute` is one: `runsPipelined` checked.)
        let inPlace = executed || (!savepoint && bundle.script.statements.allSatisfy(\.onlyAddsOrChangesInPlace))
        let listingBefore = inPlace ? nil : try Profiler.measure("listingBefore") { try listing ?? listObjects(connection) }
        // CREATE OR REPLACE may move a routine to a new path (it may name unnamed parameters): note where the
        // routines it names are now.
        let replacedRoutines = !inPlace ? [] : bundle.script.statements.compactMap { statement -> String? in
            Syntax.replacesRoutine(statement) ? Syntax.names(statement.tree["funcname"]).last : nil
        }
        let routinesBefore = replacedRoutines.isEmpty ? [:] : try db { try ObjectStateReader(connection: connection).routinePaths(named: replacedRoutines) }
        let summary = plan.bundles.first { $0.txn == bundle.locked.txn }
        // `executed`: the caller ran the statements and post-conditions already (`beginAndExecute`).
        if !executed {
            if savepoint { _ = try db { try connection.execute("SAVEPOINT bundle_step") } }
            try Profiler.measure("execute") { try execute(bundle, summary: summary) }
            if savepoint { _ = try db { try connection.execute("RELEASE SAVEPOINT bundle_step") } }
        }
        try verify(bundle)
        let after: [String: String]
        let listingAfter: [String: ListedObject]?
        var moves: [String: String] = [:]
        var changed: Set<String>? = nil
        var restore: ObjectStateReader.SettingsRestore? = nil
        if let listingBefore {
            let listed = try Profiler.measure("listingAfter") { try listObjects(connection) }
            after = try Profiler.measure("updatedState") { try updatedState(state, before: listingBefore, after: listed, connection: connection, watch: watch) }
            moves = movedPaths(listingBefore, listed)
            listingAfter = listed
        } else {
            // The capture's settings stay pinned until they are restored together with COMMIT.
            (after, changed, moves, restore) = try Profiler.measure("updatedStateInPlace") {
                try updatedStateInPlace(
                    state, connection: connection, watch: watch, routinesBefore: routinesBefore, routineNames: replacedRoutines,
                    catalogs: eventTriggers ? nil : Self.catalogsWritten(by: bundle.script.statements), pinning: !savepoint)
            }
            listingAfter = nil
        }
        let rollback = Profiler.measure("rollbackScript") { RollbackScript.make(for: bundle, before: state, after: after, watch: watch, moves: moves, changed: changed) }
        let (commit, journal) = try Profiler.measure("writeCommit") { try writeCommit(parent: parent, before: state, after: after, changed: changed, entries: [(bundle, rollback, summary)], first: recordsBackup) }
        if !savepoint {
            if !marking.recordsExactState(bundle, eventTriggers: eventTriggers) { marking.stop() }
            // One bundle, one transaction: the row is inserted in the same round trip as COMMIT.
            let insert = Registry.insertStatement(
                kind: "apply", lockName: lock.lock.name, lockSHA256: lock.sha256, bundle: bundle.locked, commitID: commit.hex,
                parentCommitID: parent.hex, target: facts.target, startedAt: startedAt, journal: journal,
                mark: marksCatalog ? marking.guardForLastTransaction : nil)
            return StagedBundle(
                commit: commit, registryID: nil, registryInsert: insert, settingsRestore: restore, state: after, listing: listingAfter)
        }
        let registryID = try Profiler.measure("registry") { try db {
            try Registry(connection: connection).record(
                kind: "apply", lockName: lock.lock.name, lockSHA256: lock.sha256, bundle: bundle.locked, commitID: commit.hex,
                parentCommitID: parent.hex, target: facts.target, startedAt: startedAt,
                journal: journal)
        } }
        return StagedBundle(
            commit: commit, registryID: registryID, registryInsert: nil, settingsRestore: restore, state: after, listing: listingAfter)
    }

    private func appliedBundle(_ bundle: LoadedBundle, _ staged: StagedBundle, registryID: Int, since started: Date) -> AppliedBundle {
        AppliedBundle(
            txn: bundle.locked.txn, name: bundle.locked.name, path: bundle.locked.path, statements: bundle.script.statements.count,
            commitID: staged.commit.hex, registryID: registryID, seconds: Date().timeIntervalSince(started))
    }

    private func attemptOne(
        _ bundle: LoadedBundle, plan: PlanReport, tip: ObjectID, state: [String: String],
        listing: inout [String: ListedObject]?, marksCatalog: Bool
    ) throws -> (applied: AppliedBundle, state: [String: String]) {
        let started = Date()
        let pipelined = Self.runsPipelined(bundle)
        if !pipelined { try Profiler.measure("begin") { try begin() } }
        do {
            if pipelined {
                try Profiler.measure("beginExecute") { try beginAndExecute(bundle, summary: plan.bundles.first { $0.txn == bundle.locked.txn }) }
            }
            let staged = try stage(
                bundle, plan: plan, parent: tip, state: state, listing: listing,
                recordsBackup: backup != nil && bundle.locked.txn == firstPendingTxn(plan), savepoint: false, marksCatalog: marksCatalog,
                executed: pipelined)
            TestHooks.pause("before-commit")
            let registryID = try Profiler.measure("registry+COMMIT") { try recordAndCommit(bundle, staged) }
            TestHooks.pause("after-commit")
            if !repository.isBufferingWrites {
                try moveBranch(to: staged.commit, from: tip, label: "\(bundle.locked.label) \(bundle.locked.name)", registryID: registryID)
            }
            let result = appliedBundle(bundle, staged, registryID: registryID, since: started)
            progress(.bundleApplied(result))
            listing = staged.listing
            return (result, staged.state)
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// `--atomic`: every pending bundle in one transaction; one commit per bundle, all written before COMMIT.
    /// (No catalog mark: each bundle runs in a savepoint, so its rows carry a subtransaction's id.)
    func runAtomic(_ bundles: [LoadedBundle], plan: PlanReport, tip: ObjectID, state: [String: String]) throws -> [AppliedBundle] {
        let started = Date()
        try begin()
        do {
            var parent = tip
            var current = state
            var results: [AppliedBundle] = []
            var listing: [String: ListedObject]? = nil
            for bundle in bundles {
                let staged = try stage(
                    bundle, plan: plan, parent: parent, state: current, listing: listing,
                    recordsBackup: backup != nil && bundle.locked.txn == bundles.first?.locked.txn, savepoint: true)
                results.append(appliedBundle(bundle, staged, registryID: staged.registryID!, since: started))
                parent = staged.commit
                current = staged.state
                listing = staged.listing
            }
            TestHooks.pause("before-commit")
            try commitTransaction(bundles.last!)
            TestHooks.pause("after-commit")
            if !repository.isBufferingWrites { try moveBranch(to: parent, from: tip, label: "--atomic", registryID: nil) }
            for result in results { progress(.bundleApplied(result)) }
            return results
        } catch let failure as ApplyFailureError {
            _ = try? connection.execute("ROLLBACK")
            throw ApplyFailureError(failure: failure.failure, appliedBefore: [])
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Inserts the bundle's registry row, restores the settings its capture pinned and commits, in one round trip;
    /// returns the row's id. A failed INSERT leaves the transaction aborted (the caller rolls it back); a failed
    /// COMMIT is reported as `commitTransaction` reports it.
    private func recordAndCommit(_ bundle: LoadedBundle, _ staged: StagedBundle) throws -> Int {
        guard let insert = staged.registryInsert else {
            try commitTransaction(bundle)
            return staged.registryID!
        }
        var statements = [insert]
        if let restore = staged.settingsRestore { statements.append((restore.sql, restore.parameters)) }
        statements.append(("COMMIT", []))
        let outcomes = try db { try connection.pipeline(statements) }
        let label = "\(bundle.locked.label) \(bundle.locked.name)"
        switch outcomes.last! {
        case .done:
            // Committed: the INSERT before it succeeded and returned the row's id.
            guard case .done(let inserted) = outcomes[0], let text = inserted.rows.first?.first ?? nil, let id = Int(text) else {
                throw BundleError.database("\(label) is committed, but the registry did not return its row id; `bundle status` shows it")
            }
            let row = inserted.rows.first ?? []
            marking.committed(xid: row.count > 1 ? row[1] : nil)
            return id
        case .failed(let error) where error.isConnectionLost || error.serverMessage == nil:
            // Lost, or an error libpq made itself (no SQLSTATE): the server may or may not have committed; the
            // registry row (written in the same transaction) says.
            throw failureAtEnd(
                bundle, server: nil,
                message: "COMMIT got no answer: whether \(label) committed is unknown here; its registry row decides, and the next bundle command (apply, status) reconciles it (\(error.errorDescription ?? "\(error)"))")
        case .failed(let error):
            if case .failed(let insertError) = outcomes[0] { throw BundleError.database(insertError.errorDescription ?? "\(insertError)") }
            throw failureAtEnd(bundle, server: error.serverMessage, message: "COMMIT failed: \(error.errorDescription ?? "\(error)")")
        case .skipped:
            for case .failed(let earlier) in outcomes { throw BundleError.database(earlier.errorDescription ?? "\(earlier)") }
            throw BundleError.database("the registry row of \(label) was not written")
        case .notSent(let error):
            // COMMIT never reached the server: the transaction is still open, and the caller rolls it back.
            throw BundleError.database("\(label) was not committed: \(error.errorDescription ?? "\(error)")")
        }
    }

    /// COMMIT; a failure there (a deferred constraint, a serialization failure) rolled the transaction back and is
    /// reported like a failed statement, at the end of the bundle file.
    private func commitTransaction(_ bundle: LoadedBundle) throws {
        do {
            try connection.execute("COMMIT")
        } catch {
            throw failureAtEnd(bundle, server: error.serverMessage, message: "COMMIT failed: \(error.errorDescription ?? "\(error)")")
        }
    }

    /// A failure of the bundle's COMMIT, reported at the end of its file (after its last statement).
    private func failureAtEnd(_ bundle: LoadedBundle, server: ServerMessage?, message: String) -> ApplyFailureError {
        let last = bundle.script.statements.last
        let location = last?.end ?? SourceLocation(line: 1, column: 1)
        return ApplyFailureError(
            failure: ApplyFailure(
                txn: bundle.locked.txn, name: bundle.locked.name, path: bundle.locked.path, statement: last?.index ?? 0, line: location.line,
                column: location.column, server: server, message: message),
            appliedBefore: [])
    }

    /// Writes the buffered commits of bundles committed in the database (one pack), moves the branch from `tip`
    /// to the newest of them, then forgets their recipes in the registry. The branch may already have been moved
    /// part of the way (or all of it) by another bundle process reconciling from the registry: that is fine.
    /// A failure here happens after the database committed; the message says so, and the next bundle command
    /// writes the commits from the registry.
    func publish(_ applied: [AppliedBundle], from tip: ObjectID) throws {
        guard let last = applied.last, let newest = ObjectID(hex: last.commitID) else { return }
        let label = applied.count == 1 ? "TXN-\(last.txn) \(last.name)" : "TXN-\(applied[0].txn)…\(last.txn) (\(applied.count) bundles)"
        let rows = applied.map(\.registryID)
        do {
            try Profiler.measure("flushCommits") { () throws(GitHistoryError) in try repository.flushBufferedWrites() }
        } catch {
            throw BundleError.history(
                "\(label) \(applied.count == 1 ? "is" : "are") committed in the database (registry rows \(rows.map(String.init).joined(separator: ", "))), but the commits could not be written to the repository: \(error.errorDescription ?? "\(error)")\n  Nothing is lost: the registry holds what each commit is made of; the next bundle command (apply, rollback) writes them and moves the branch once the repository is writable again.")
        }
        try Profiler.measure("moveBranch") { try moveBranch(to: newest, from: tip, label: label, registryID: rows.last) }
        // The commits are in the repository: the recipes are no longer needed (a failure only leaves them behind).
        marking.committed(xid: (try? Registry(connection: connection).clearJournals(ids: rows)) ?? nil)
    }

    /// Moves the branch after COMMIT. Another bundle process may already have fast-forwarded it to this very commit
    /// (its reconcile step): that is success. Any other failure happens after the database committed, so the
    /// message says so; the next bundle command reconciles the branch.
    private func moveBranch(to commit: ObjectID, from tip: ObjectID, label: String, registryID: Int?) throws {
        do {
            var expected = tip
            // Another process may have fast-forwarded the branch part of the way (reconciling registry rows).
            if let current = repository.referenceTarget(branch), current != tip, current != commit,
               (try? repository.isAncestor(current, of: commit)) == true {
                expected = current
            }
            try repository.updateReference(branch, to: commit, expected: expected, logMessage: "bundle: apply \(lock.lock.name) \(label)")
        } catch {
            if repository.referenceTarget(branch) == commit { return }
            throw BundleError.history(
                "\(label) is committed in the database\(registryID.map { " (registry row \($0))" } ?? ""), but the branch \(branch.replacingOccurrences(of: "refs/heads/", with: "")) could not be moved to its commit \(commit.short): \(error.errorDescription ?? "\(error)")\n  Nothing is lost: the next bundle command (apply, rollback) fast-forwards the branch once the repository is writable again.")
        }
    }

    private func firstPendingTxn(_ plan: PlanReport) -> Int? {
        plan.bundles.first { $0.status != .applied }?.txn
    }

    private func begin() throws {
        try db { try connection.beginWithLocalTimeouts(lock: options.lockTimeout, statement: options.statementTimeout) }
        TestHooks.pause("after-begin")
    }

    private func timestamp() throws -> String {
        try db { try connection.query("SELECT pg_catalog.clock_timestamp()::pg_catalog.text").rows[0][0]! }
    }

    /// The system catalogs a bundle's statements can write (the union of `SQLStatement.catalogsWritten`); nil
    /// when one of them may write anywhere. A verify script is not counted: it runs in a savepoint rolled back.
    static func catalogsWritten(by statements: [SQLStatement]) -> Set<String>? {
        var catalogs: Set<String> = []
        for statement in statements {
            guard let written = statement.catalogsWritten else { return nil }
            catalogs.formUnion(written)
        }
        return catalogs
    }

    /// Whether a bundle runs in its own transaction through `beginAndExecute`: one that is recorded from the rows
    /// it writes (nothing to list before it), replaces no routine (whose paths are noted before it), has no COPY
    /// (not possible in pipeline mode), no `$1` outside strings (the extended protocol would report a protocol
    /// error instead of "there is no parameter $1") and no statement over 1 MB (parsed faster as a simple query).
    static func runsPipelined(_ bundle: LoadedBundle) -> Bool {
        bundle.script.statements.allSatisfy { statement in
            statement.onlyAddsOrChangesInPlace && statement.kind != "CopyStmt" && !statement.refersToParameters
                && statement.text.utf8.count <= 1 << 20
                && !Syntax.replacesRoutine(statement)
        }
    }

    /// One step of `beginAndExecute`'s pipelines.
    private enum PipelineStep {
        case control(String, [String?])
        case statement(SQLStatement)
        case postCondition(StatementSummary, String, [String?])
    }

    /// BEGIN with its timeouts, the bundle's statements (still one at a time, each its own protocol message), each
    /// followed by its post-condition checks, in at most two round trips (libpq pipeline mode): BEGIN, the timeouts
    /// and the first statement, then (after the `mid-bundle` test hook) the other statements. Failures are reported
    /// as `execute` reports them; the caller rolls back.
    private func beginAndExecute(_ bundle: LoadedBundle, summary: BundlePlan?) throws {
        let statements = bundle.script.statements
        progress(.bundleStarted(txn: bundle.locked.txn, of: lock.bundles.count, name: bundle.locked.name, statements: statements.count))
        let checks = Self.postConditions(summary, statements: statements)
        func withChecks(_ statement: SQLStatement) -> [PipelineStep] {
            [.statement(statement)] + checks.filter { $0.statement.index == statement.index }.map { .postCondition($0.statement, $0.sql, $0.parameters) }
        }
        let timeouts = PostgresConnection.localTimeoutsSQL
        // Everything prepared is prepared now, before BEGIN: a pipeline inside the transaction has only its own
        // round trip (and a connection lost there is reported at the statement it stopped).
        try db {
            try connection.prepare("BEGIN", parameterCount: 0)
            try connection.prepare(timeouts, parameterCount: 2)
            for check in checks { try connection.prepare(check.sql, parameterCount: check.parameters.count) }
        }
        var first: [PipelineStep] = [.control("BEGIN", []), .control(timeouts, [options.lockTimeout, options.statementTimeout])]
        first += statements.prefix(1).flatMap(withChecks)
        try runPipeline(first, bundle)
        TestHooks.pause("after-begin")
        guard statements.count > 1 else { return }
        TestHooks.pause("mid-bundle")
        try runPipeline(statements.dropFirst().flatMap(withChecks), bundle)
    }

    private func runPipeline(_ steps: [PipelineStep], _ bundle: LoadedBundle) throws {
        var sql: [(sql: String, parameters: [String?])] = []
        var unprepared: Set<Int> = []
        for (index, step) in steps.enumerated() {
            switch step {
            case .control(let text, let parameters), .postCondition(_, let text, let parameters):
                sql.append((text, parameters))
            case .statement(let statement):
                progress(.statement(txn: bundle.locked.txn, index: statement.index, of: bundle.script.statements.count))
                sql.append((statement.text, []))
                unprepared.insert(index)
            }
        }
        // Nothing sent (the connection is gone): the first step's failure, as `execute` or `begin` would report it.
        let outcomes: [PostgresConnection.PipelineOutcome]
        do {
            outcomes = try connection.pipeline(sql, unprepared: unprepared)
        } catch {
            outcomes = steps.map { _ in .failed(error) }
        }
        _ = connection.takeNotices()
        // The first failure is thrown: a statement reached as skipped had no failure before it.
        for (step, outcome) in zip(steps, outcomes) {
            let error: PostgresError
            switch outcome {
            case .done(let result):
                if case .postCondition(let statement, _, _) = step, result.rows.first?.first != "t" { throw postConditionFailure(bundle, statement) }
                continue
            case .skipped:
                error = .protocolError("the server skipped this statement without an error before it")
            case .failed(let failure), .notSent(let failure):
                error = failure
            }
            // BEGIN, the timeouts or a check failed: reported as `begin` and `execute` report it.
            guard case .statement(let statement) = step else { throw BundleError.database(error.errorDescription ?? "\(error)") }
            throw applyFailure(bundle, statement, error)
        }
    }

    /// A statement's failure, reported at its file location (the server's error position within it, if any).
    private func applyFailure(_ bundle: LoadedBundle, _ statement: SQLStatement, _ error: PostgresError) -> ApplyFailureError {
        let location = Self.location(of: error.serverMessage?.position, in: statement)
        return ApplyFailureError(
            failure: ApplyFailure(
                txn: bundle.locked.txn, name: bundle.locked.name, path: bundle.locked.path, statement: statement.index,
                line: location.line, column: location.column, server: error.serverMessage, message: error.errorDescription ?? "\(error)"),
            appliedBefore: [])
    }

    /// Runs the bundle's statements one at a time, each followed by its post-condition checks; a failure becomes an
    /// `ApplyFailureError` with file:line:col.
    private func execute(_ bundle: LoadedBundle, summary: BundlePlan?) throws {
        let statements = bundle.script.statements
        let checks = Self.postConditions(summary, statements: statements)
        progress(.bundleStarted(txn: bundle.locked.txn, of: lock.bundles.count, name: bundle.locked.name, statements: statements.count))
        for statement in statements {
            progress(.statement(txn: bundle.locked.txn, index: statement.index, of: statements.count))
            if statement.index == 2 { TestHooks.pause("mid-bundle") }
            do {
                try connection.execute(statement.text)
            } catch {
                throw applyFailure(bundle, statement, error)
            }
            _ = connection.takeNotices()
            for check in checks where check.statement.index == statement.index {
                let exists = try Profiler.measure("postconditions") { try db { try connection.query(check.sql, check.parameters).rows.first?.first } }
                if exists != "t" { throw postConditionFailure(bundle, check.statement) }
            }
        }
    }

    /// The file location of a server error position (1-based characters within the statement text).
    static func location(of position: Int?, in statement: SQLStatement) -> SourceLocation {
        guard let position, position >= 1 else { return statement.start }
        let scalars = statement.text.unicodeScalars
        let prefix = String(String.UnicodeScalarView(scalars.prefix(position - 1)))
        return statement.location(ofByte: statement.byteRange.lowerBound + prefix.utf8.count)
    }

    /// In-transaction post-conditions: one query per object the plan predicts a statement creates or replaces, run
    /// right after that statement (so a scratch object the bundle drops or renames later still counts); each
    /// returns `t` when the object exists.
    ///
    /// The checks read the catalogs by name (a function by schema and name, not by its argument list): they need no
    /// privilege on the schema (a bundle may have switched to a role without USAGE on it) and parse nothing, so a
    /// check cannot fail where the statement itself succeeded. An index without a name of its own is not checked:
    /// its name is the server's choice. `pg_temp` is the session's own temporary schema.
    static func postConditions(
        _ summary: BundlePlan?, statements: [SQLStatement]
    ) -> [(statement: StatementSummary, sql: String, parameters: [String?])] {
        // Every name and operator qualified: a check runs under the bundle's own search_path.
        func inSchema(_ schema: String) -> String {
            "(n.nspname OPERATOR(pg_catalog.=) \(schema) OR (\(schema) OPERATOR(pg_catalog.=) 'pg_temp' AND n.oid OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema()))"
        }
        /// Whether a row of `catalog` (`pg_class r`, `pg_proc r`) has one of the (schema, name) `candidates`. One
        /// candidate (the usual case: no '.' in the names) gets a query without arrays, whose generic plan the
        /// server keeps after a few runs; the array form is planned again on every run.
        func nameCheck(_ catalog: String, name: String, namespace: String, _ candidates: [(String, String)]) -> (String, [String?]) {
            if candidates.count == 1 {
                return (
                    """
                    SELECT EXISTS (SELECT 1 FROM pg_catalog.\(catalog) r JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) r.\(namespace)
                      WHERE r.\(name) OPERATOR(pg_catalog.=) $2::pg_catalog.name AND \(inSchema("$1::pg_catalog.name")))
                    """, [candidates[0].0, candidates[0].1])
            }
            return (
                """
                SELECT EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.name[]), pg_catalog.unnest($2::pg_catalog.name[])) AS c(schema, name)
                  JOIN pg_catalog.\(catalog) r ON r.\(name) OPERATOR(pg_catalog.=) c.name
                  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) r.\(namespace) WHERE \(inSchema("c.schema")))
                """, [pgArray(candidates.map(\.0)), pgArray(candidates.map(\.1))])
        }
        var checks: [(statement: StatementSummary, sql: String, parameters: [String?])] = []
        for statement in summary?.statements ?? [] where ["create", "replace"].contains(statement.action) {
            guard let object = statement.object else { continue }
            // `object` is display text ("schema.name"); a name may itself contain '.', so every split is tried.
            switch statement.kind {
            case "CreateFunctionStmt":
                guard let open = object.firstIndex(of: "(") else { continue }
                let candidates = Self.splits(object[..<open], at: ".")
                guard !candidates.isEmpty else { continue }
                let (sql, parameters) = nameCheck("pg_proc", name: "proname", namespace: "pronamespace", candidates)
                checks.append((statement, sql, parameters))
            case "CreateStmt", "ViewStmt", "IndexStmt", "CreateTableAsStmt":
                if statement.kind == "IndexStmt",
                   statements.first(where: { $0.index == statement.index })?.tree["idxname"]?.string == nil { continue }
                let candidates = Self.splits(object[...], at: ".")
                guard !candidates.isEmpty else { continue }
                let (sql, parameters) = nameCheck("pg_class", name: "relname", namespace: "relnamespace", candidates)
                checks.append((statement, sql, parameters))
            case "CreateTrigStmt":
                let candidates = Self.splits(object[...], at: " on ").flatMap { trigger, table in
                    Self.splits(table[...], at: ".").map { (trigger, $0.0, $0.1) }
                }
                guard !candidates.isEmpty else { continue }
                checks.append((
                    statement,
                    """
                    SELECT EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.name[]), pg_catalog.unnest($2::pg_catalog.name[]), pg_catalog.unnest($3::pg_catalog.name[])) AS c(trigger, schema, name)
                      JOIN pg_catalog.pg_class r ON r.relname OPERATOR(pg_catalog.=) c.name
                      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) r.relnamespace
                      JOIN pg_catalog.pg_trigger t ON t.tgrelid OPERATOR(pg_catalog.=) r.oid AND t.tgname OPERATOR(pg_catalog.=) c.trigger
                      WHERE \(inSchema("c.schema")))
                    """,
                    [pgArray(candidates.map(\.0)), pgArray(candidates.map(\.1)), pgArray(candidates.map(\.2))]
                ))
            default:
                continue
            }
        }
        return checks
    }

    private func postConditionFailure(_ bundle: LoadedBundle, _ statement: StatementSummary) -> ApplyFailureError {
        ApplyFailureError(
            failure: ApplyFailure(
                txn: bundle.locked.txn, name: bundle.locked.name, path: bundle.locked.path, statement: statement.index, line: statement.line, column: 1,
                server: nil,
                message: "post-condition failed: the plan predicted this statement would \(statement.action) \(statement.object ?? "?"), but it does not exist after the statement; the bundle was rolled back"),
            appliedBefore: [])
    }

    /// Every way to read `text` as `left<separator>right`, e.g. `a.b.c` → (`a`, `b.c`), (`a.b`, `c`).
    static func splits(_ text: Substring, at separator: String) -> [(String, String)] {
        var result: [(String, String)] = []
        var from = text.startIndex
        while from < text.endIndex, let range = text.range(of: separator, range: from..<text.endIndex) {
            result.append((String(text[..<range.lowerBound]), String(text[range.upperBound...])))
            from = text.index(after: range.lowerBound)
        }
        return result
    }

    /// Runs the pinned verify script: it must not fail, and no returned value may be false.
    /// The script runs in a savepoint that is rolled back afterwards: a verification checks, it never changes the
    /// target (and so the recorded state is the bundle's alone).
    private func verify(_ bundle: LoadedBundle) throws {
        guard let sql = bundle.verifySQL, let path = bundle.locked.verify?.path else { return }
        let script: SQLScript
        do { script = try SQLScript.parse(Data(sql.utf8), path: path) } catch { throw BundleError.syntax(error.localizedDescription) }
        // Transaction control would end (or commit) the bundle's transaction from inside its check.
        if let control = script.statements.first(where: { $0.transactionControl != nil }) {
            throw ApplyFailureError(
                failure: ApplyFailure(
                    txn: bundle.locked.txn, name: bundle.locked.name, path: path, statement: control.index, line: control.start.line,
                    column: control.start.column, server: nil,
                    message: "a verify script must not contain transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT): it runs inside the bundle's transaction; the bundle was rolled back"),
                appliedBefore: [])
        }
        _ = try db { try connection.execute("SAVEPOINT bundle_verify") }
        for statement in script.statements {
            let result: QueryResult
            do {
                result = try connection.execute(statement.text)
            } catch {
                let location = Self.location(of: error.serverMessage?.position, in: statement)
                throw ApplyFailureError(
                    failure: ApplyFailure(
                        txn: bundle.locked.txn, name: bundle.locked.name, path: path, statement: statement.index, line: location.line,
                        column: location.column, server: error.serverMessage, message: error.errorDescription ?? "\(error)"),
                    appliedBefore: [])
            }
            // A verification returns booleans: false or NULL (e.g. bool_and over no rows) fails it.
            if result.rows.contains(where: { $0.contains { $0 == nil || $0 == "f" || $0 == "false" } }) {
                throw ApplyFailureError(
                    failure: ApplyFailure(
                        txn: bundle.locked.txn, name: bundle.locked.name, path: path, statement: statement.index, line: statement.start.line,
                        column: statement.start.column, server: nil, message: "verification returned false or NULL; the bundle was rolled back"),
                    appliedBefore: [])
            }
        }
        // Undo whatever the check did; on failure above, the caller rolls the whole transaction back.
        _ = try db { try connection.execute("ROLLBACK TO SAVEPOINT bundle_verify; RELEASE SAVEPOINT bundle_verify") }
    }

    /// Builds the commit for one bundle (not moving any reference).
    private func writeCommit(
        parent: ObjectID, before: [String: String], after: [String: String], changed: Set<String>?, entries: [(LoadedBundle, RollbackScript, BundlePlan?)],
        first: Bool
    ) throws -> (ObjectID, String?) {
        var changes: [TreeChange] = []
        for path in (changed ?? Set(before.keys).union(after.keys)).sorted() where !sameBytes(before[path], after[path]) {
            if let text = after[path] {
                changes.append(.upsert(path: "state/" + path, contents: Data(text.utf8)))
            } else {
                changes.append(.remove(path: "state/" + path))
            }
        }
        var objects: [String] = []
        for (bundle, rollback, _) in entries {
            let file = "\(bundle.locked.label)-\(bundle.locked.name).sql"
            changes.append(.upsert(path: "applied/" + file, contents: bundle.data))
            changes.append(.upsert(path: "rollback/" + file, contents: Data(rollback.text.utf8)))
            objects += rollback.touchedObjects
        }
        let parentInfo = try Profiler.measure("wc.parent") { () throws(BundleError) in try git { try repository.commit(parent) } }
        let (bundle, rollback, summary) = entries[0]
        let message = CommitMessage.apply(
            lock: lock, bundle: bundle.locked, summary: summary, touched: rollback.touchedObjects, facts: facts, backup: first ? backup : nil,
            irreversible: rollback.irreversible)
        // While commits are buffered, the registry row keeps what this one is made of.
        let journal = Profiler.measure("wc.recipe") { repository.isBufferingWrites
            ? CommitRecipe(
                parent: parent, changes: changes, message: message, author: author, committer: author,
                previous: { path in path.hasPrefix("state/") ? before[String(path.dropFirst(6))].map { Data($0.utf8) } : nil }
            ).json() : nil }
        let id = try Profiler.measure("wc.write") { () throws(BundleError) in try git {
            try repository.writeCommit(baseTree: parentInfo.tree, changes: changes, parents: [parent], message: message, author: author, committer: author)
        } }
        return (id, journal)
    }
}

/// A SQL string literal (standard_conforming_strings).
func sqlLiteral(_ value: String) -> String {
    "'" + replacingScalar("'", with: "''", in: value) + "'"
}

/// Test-only fault injection: `BUNDLE_TEST_KILL_AT=<step>` makes the process SIGKILL itself at that step
/// (`after-registry-read`, `after-begin`, `mid-bundle`, `before-commit`, `after-commit`), so tests can prove crash
/// consistency; `BUNDLE_TEST_SLEEP_AT=<step>:<seconds>` pauses there instead. `mid-bundle` is after the bundle's
/// first statement ran, in its open transaction; `after-begin` is after BEGIN, and for a bundle run through
/// `beginAndExecute` after its first statement too.
enum TestHooks {
    static let killAt = ProcessInfo.processInfo.environment["BUNDLE_TEST_KILL_AT"]
    static let sleepAt = ProcessInfo.processInfo.environment["BUNDLE_TEST_SLEEP_AT"]

    static func pause(_ step: String) {
        if killAt == step { kill(getpid(), SIGKILL) }
        if let sleepAt, sleepAt.hasPrefix(step + ":"), let seconds = Double(sleepAt.dropFirst(step.count + 1)) {
            Thread.sleep(forTimeInterval: seconds)
        }
    }
}
