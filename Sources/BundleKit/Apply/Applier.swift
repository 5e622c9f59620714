import ContentHash
import Foundation
import GitHistory
import PostgresCatalog
import SQLSyntax

/// Options of `bundle apply`.
public struct ApplyOptions: Sendable {
    /// Name of the target (the branch is `bundle/<target>`); default: the database name.
    public var target: String?
    /// Run the whole lock as one transaction (all or nothing).
    public var atomic: Bool = false
    public var lockTimeout: String = "5s"
    public var statementTimeout: String = "0"
    /// Plan and report what would run; change nothing.
    public var dryRun: Bool = false
    /// Take a `pg_dump -Fc` into this directory before the first bundle.
    public var backupDirectory: URL?
    /// Commit author; default: the repository's user.name/user.email, else the OS user.
    public var author: Signature?
    /// How long to wait for another applier of the same target.
    public var applierWait: TimeInterval = 60
    /// How many times a bundle that hit lock_timeout (55P03) is retried.
    public var lockRetries: Int = 3
    /// Apply even when objects the pending bundles touch were changed outside bundle.
    public var allowDrift: Bool = false

    public init() {}
}

/// A bundle that was applied (or skipped because it already was).
public struct AppliedBundle: Sendable, Equatable {
    public var txn: Int
    public var name: String
    public var path: String
    public var statements: Int
    public var commitID: String
    public var registryID: Int
    public var seconds: Double
}

/// Why an apply stopped.
public struct ApplyFailure: Sendable, Equatable, CustomStringConvertible {
    public var txn: Int
    public var name: String
    public var path: String
    public var statement: Int
    public var line: Int
    public var column: Int
    public var server: ServerMessage?
    public var message: String

    public var description: String {
        var text = "\(path):\(line):\(column): error: TXN-\(txn) \(name) statement \(statement) failed and was rolled back: "
        if let server {
            text += "ERROR \(server.sqlstate): \(server.message)"
            if let detail = server.detail { text += "\n    detail: \(detail)" }
            if let hint = server.hint { text += "\n    hint: \(hint)" }
        } else {
            text += message
        }
        return text
    }
}

/// A backup taken before the first bundle.
public struct BackupRecord: Sendable, Equatable {
    public var path: String
    public var sha256: String
    public var bytes: Int
    /// The header of `pg_restore -l` (archive facts, TOC entries).
    public var tocHeader: String
}

/// What `bundle apply` did.
public struct ApplyReport: Sendable {
    public var plan: PlanReport
    public var target: String
    public var branch: String
    public var baselineCommit: String?
    public var applied: [AppliedBundle] = []
    public var skipped: [String] = []
    public var pending: [String] = []
    public var failure: ApplyFailure?
    public var backup: BackupRecord?
    public var reconciled: [String] = []
    /// Objects changed outside bundle since the last recorded state (blocking ones refuse the apply).
    public var drift: [DriftItem] = []
    /// Set when the apply was refused because of blocking drift (and --allow-drift was not given).
    public var blockedByDrift = false
    /// How the pre-apply drift check knew the live catalog: by its catalog mark (nothing changed since the tip's
    /// state was recorded: no capture needed) or by a full capture; nil when there was no recorded state yet.
    public var driftCheck: DriftCheck?
    /// Set when a bundle failed and, after that, the commits of the bundles committed before it could not be
    /// written to the repository (the next command writes them from the registry).
    public var historyProblem: String?

    /// 0 when everything pending was applied (or nothing was pending), 1 when the plan blocked or a bundle failed.
    public var exitCode: Int32 { failure == nil && !plan.isBlocked && !blockedByDrift ? 0 : 1 }
}

/// How `bundle apply` checked the live catalog against the recorded state before running anything.
public enum DriftCheck: String, Sendable, Codable {
    /// The catalog mark recorded with the tip equals the live one: no catalog row changed since.
    case catalogMark = "catalog-mark"
    /// The catalog was captured and compared with the tip's files.
    case capture
}

/// Progress as the apply goes (for a terminal); BundleKit never prints.
public enum ApplyProgress: Sendable {
    case waitingForApplier(holder: String)
    case reconciled(String)
    case baseline(commit: String)
    case backup(BackupRecord)
    case bundleStarted(txn: Int, of: Int, name: String, statements: Int)
    case statement(txn: Int, index: Int, of: Int)
    case bundleApplied(AppliedBundle)
    case retrying(txn: Int, attempt: Int, reason: String)
}

/// `bundle apply --txn`: plans first, serialises appliers, applies each bundle as exactly one transaction, records
/// it in the target's registry and commits the resulting catalog state and rollback script to `bundle/<target>`.
///
/// Crash consistency: the commit is built before COMMIT (kept in memory) and its id and recipe stored in the
/// registry row inside the transaction; after COMMIT the commits are written as one pack and the branch moves.
/// Every run first reconciles: a registry row whose commit is missing is written from its recipe, a registry row
/// whose commit is not on the branch fast-forwards it; a commit without a registry row is ignored.
public final class Applier {
    public let project: Project
    public let conninfo: String
    public let options: ApplyOptions
    private let progress: @Sendable (ApplyProgress) -> Void
    /// Set by `reconcile` without the lock when it stopped at a registry row whose commit exists only as a recipe.
    private var recipesLeft = false

    public init(project: Project, conninfo: String, options: ApplyOptions, progress: @escaping @Sendable (ApplyProgress) -> Void = { _ in }) {
        self.project = project
        self.conninfo = conninfo
        self.options = options
        self.progress = progress
    }

    /// Applies the pending bundles of `lock`.
    public func apply(_ lock: VerifiedLock) throws(BundleError) -> ApplyReport {
        let connection = try DatabaseTarget.connect(conninfo)
        defer { connection.close() }
        let target = options.target ?? connection.database
        guard Self.isValidTarget(target) else {
            throw .usage("target name '\(target)' must be letters, digits, '.', '_' or '-' (it becomes the branch bundle/\(target))")
        }
        let branch = "refs/heads/bundle/\(target)"
        let repository = try openRepository()
        _ = try? connection.execute("SET application_name = 'bundle apply'")

        // Reconcile before anything else, then plan.
        var reconciled = try Profiler.measure("reconcile") { () throws(BundleError) in try reconcile(repository: repository, registry: Registry(connection: connection), target: target, branch: branch, holdsLock: false) }
        let registry = Registry(connection: connection)
        var applied = Registry.appliedBundles(try db { try registry.entries(target: target) }, lockName: lock.lock.name)
        TestHooks.pause("after-registry-read")
        try checkAppliedHashes(lock, applied: applied)
        // With --atomic a SET LOCAL lasts to the end of the lock: the plan must know.
        let planner = Planner(connection: connection, options: PlanOptions(oneTransaction: options.atomic))
        let plan = try Profiler.measure("plan") { () throws(BundleError) in try planner.plan(lock, applied: Set(applied.keys)) }
        var report = ApplyReport(plan: plan, target: target, branch: branch, reconciled: reconciled)
        report.skipped = lock.bundles.filter { applied[$0.locked.name] != nil }.map(\.locked.name)
        report.pending = lock.bundles.filter { applied[$0.locked.name] == nil }.map(\.locked.name)
        // A blocked plan is decided again under the applier lock (below): another applier may have committed
        // bundles between the registry read and the catalog read, making a pending bundle look blocked.
        if report.pending.isEmpty || (plan.isBlocked && options.dryRun) {
            // Nothing to run, but a crashed run may have left commits only as recipes: write them, under the lock
            // (if another applier holds it, its own commits are the ones waiting, and it writes them).
            if recipesLeft && !options.dryRun {
                if try Self.tryApplierLock(connection, target: target) {
                    defer { Self.releaseApplierLock(connection, target: target) }
                    report.reconciled += try reconcile(repository: repository, registry: registry, target: target, branch: branch, holdsLock: true)
                }
            }
            return report
        }

        // Serialise appliers of this target on a dedicated connection that runs nothing else, before the drift
        // check: another applier's committed bundles reach the branch only at the end of its run.
        var lockConnection: PostgresConnection? = nil
        defer {
            if let lockConnection {
                Self.releaseApplierLock(lockConnection, target: target)
                lockConnection.close()
            }
        }
        if !options.dryRun {
            let holder = try DatabaseTarget.connect(conninfo)
            lockConnection = holder
            try Profiler.measure("applierLock") { () throws(BundleError) in try acquireApplierLock(holder, target: target) }

            // Another applier may have finished while we waited: look again.
            reconciled += try reconcile(repository: repository, registry: registry, target: target, branch: branch, holdsLock: true)
            report.reconciled = reconciled
            applied = Registry.appliedBundles(try db { try registry.entries(target: target) }, lockName: lock.lock.name)
            try checkAppliedHashes(lock, applied: applied)
            report.skipped = lock.bundles.filter { applied[$0.locked.name] != nil }.map(\.locked.name)
            report.pending = lock.bundles.filter { applied[$0.locked.name] == nil }.map(\.locked.name)
            if report.pending.isEmpty {
                // Everything turned out applied: the plan taken before the lock is stale.
                if report.plan.isBlocked { report.plan = try planner.plan(lock, applied: Set(applied.keys)) }
                return report
            }
            if report.plan.isBlocked || report.pending.count != report.plan.bundles.filter({ $0.status != .applied }).count {
                report.plan = try planner.plan(lock, applied: Set(applied.keys))
                if report.plan.isBlocked { return report }
            }
        }
        let pending = lock.bundles.filter { applied[$0.locked.name] == nil }

        // The registry (and any column an earlier version's registry lacks) before the drift check: from that
        // check on, the run's own catalog writes are only its bundles' (see `BundleRunner.MarkTracking`).
        let capabilities = options.dryRun
            ? Registry.Capabilities(journal: false, marks: false)
            : try Profiler.measure("registryCreate") { () throws(BundleError) in try db { try registry.create() } }
        // Whether this run can record a catalog mark at all (`MarkTracking.recordsExactState`, by statement kinds
        // alone here): if not, the captures below need not take one.
        let runMayMark = capabilities.marks && pending.allSatisfy { BundleRunner.catalogsWritten(by: $0.script.statements) != nil }

        var liveState: [String: String]? = nil
        // The catalog's mark (and its snapshot) when it was found equal to the state this run starts from.
        var startMark: CatalogMark.Reading? = nil
        // The snapshot of a drift check that captured and found nothing: if the run applies nothing, the tip gets
        // the catalog's mark then, provided nothing else committed since that snapshot.
        var verifiedSince: String? = nil
        let tipAtDriftCheck = repository.referenceTarget(branch)
        // The state recorded at `tipAtDriftCheck`, when the mark check read it.
        var tipStateAtDriftCheck: [String: String]? = nil
        if let tipAtDriftCheck {
            let pendingObjects = report.plan.bundles.filter { $0.status != .applied }.flatMap(\.statements).compactMap { statement -> String? in
                guard let object = statement.object else { return nil }
                if let range = object.range(of: " on ") { return String(object[range.upperBound...]) }
                return object
            }
            // The catalog mark recorded when the catalog was exactly the tip's state: if the live catalog has the
            // same mark, no catalog row changed since, and a capture would give the tip's files (no drift).
            let recordedMark = try Profiler.measure("markLookup") { () throws(BundleError) in
                try db { try registry.catalogMark(target: target, commitID: tipAtDriftCheck.hex) }
            }
            if let recordedMark {
                // The tip's recorded state is read from git while the server computes the live mark: it is the
                // run's starting state when the marks agree (and, after a capture with drift, too).
                let (reading, tipState) = try Profiler.measure("markCheck") { () throws(BundleError) in
                    try CatalogMark.read(connection) { () throws(BundleError) in try readState(repository, at: tipAtDriftCheck) }
                }
                tipStateAtDriftCheck = tipState
                let live = try db { try reading.get() }
                if live.mark == recordedMark {
                    report.driftCheck = .catalogMark
                    startMark = live
                }
            }
            if report.driftCheck == nil {
                report.driftCheck = .capture
                let drift = try Profiler.measure("driftCapture") { () throws(BundleError) in
                    try DriftDetector.detectWithLiveState(
                        project: project, connection: connection, target: target, pendingObjects: pendingObjects, watch: lock.lock.watch,
                        marking: runMayMark)
                }
                report.drift = drift.report.items
                // Nothing drifted: the live capture is the recorded state, so no need to read it back from git, and
                // its mark stands for the tip. With drift (allowed), the run records no mark: the recorded state
                // is not the live catalog.
                if drift.report.items.isEmpty {
                    liveState = drift.live
                    startMark = drift.mark
                    verifiedSince = drift.mark?.snapshot
                }
                if report.drift.contains(where: \.blocking) && !options.allowDrift {
                    report.blockedByDrift = true
                    return report
                }
            }
        }
        if options.dryRun { return report }

        let watch = lock.lock.watch
        let author = resolveAuthor(repository)
        let facts = SessionFacts(
            database: connection.database, serverVersion: connection.serverVersion,
            role: (try? connection.query("SELECT current_user").rows.first?.first ?? nil) ?? connection.user, target: target)

        // Baseline: the catalog before the first bundle ever applied to this target.
        var tip = repository.referenceTarget(branch)
        var state: [String: String]
        if let tip {
            // The drift check's capture equals the recorded state when nothing drifted (and no other applier moved
            // the branch in between: the tip is re-read after the applier lock).
            // The drift check does not compare `watch/` (data, expected to move): those files come from the tip, so
            // that the state a bundle starts from is exactly its parent commit's (commit recipes rely on it).
            if tip != tipAtDriftCheck {
                startMark = nil
                verifiedSince = nil
            }
            if let liveState, tip == tipAtDriftCheck {
                state = liveState.filter { !$0.key.hasPrefix("watch/") }
                for (path, text) in try git({ try repository.readTextTree(at: tip, directory: "state/watch") }) {
                    state["watch/" + path] = text
                }
            } else if let tipStateAtDriftCheck, tip == tipAtDriftCheck {
                state = tipStateAtDriftCheck
            } else {
                state = try Profiler.measure("readTipState") { () throws(BundleError) in try readState(repository, at: tip) }
            }
        } else {
            let baseline = try Profiler.measure("baselineCapture") { () throws(BundleError) in
                try captureState(connection, watch: watch, marking: runMayMark)
            }
            state = baseline.files
            startMark = baseline.mark
            let message = CommitMessage.baseline(target: target, facts: facts)
            let commit = try Profiler.measure("baselineCommit") { () throws(BundleError) in try git {
                try repository.writeCommit(
                    files: Dictionary(uniqueKeysWithValues: state.map { ("state/" + $0.key, Data($0.value.utf8)) }), parents: [],
                    message: message, author: author, committer: author)
            } }
            try git { try repository.updateReference(branch, to: commit, expected: nil, logMessage: "bundle: baseline") }
            tip = commit
            report.baselineCommit = commit.hex
            progress(.baseline(commit: commit.hex))
        }

        if let directory = options.backupDirectory {
            let backup = try Backup.take(conninfo: conninfo, database: connection.database, directory: directory)
            report.backup = backup
            progress(.backup(backup))
        }

        // Bundle commits are kept in memory and written after COMMIT (every `CommitRecipe.flushEvery` bundles or
        // `flushInterval` seconds, and at the end); until then each registry row holds its commit's recipe. A repository that
        // cannot be written to at all is refused before the first bundle.
        try git { try repository.checkWritable() }
        if capabilities.journal { try git { try repository.bufferWrites() } }

        // Apply.
        var runner = BundleRunner(
            connection: connection, repository: repository, lock: lock, facts: facts, author: author, branch: branch, watch: watch,
            options: options, progress: progress, backup: report.backup)
        // Event triggers run user code on DDL: then every bundle's changes are searched for in every catalog. A
        // bundle can only create or enable one with statements that may write anywhere: look again after those.
        func checkEventTriggers() {
            // Qualified: it runs between bundles, under whatever search_path they set.
            runner.eventTriggers = (try? connection.query(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtenabled OPERATOR(pg_catalog.<>) 'D')").rows.first?.first) != "f"
        }
        checkEventTriggers()
        if capabilities.marks, let startMark {
            // Languages whose validator is PostgreSQL's own: CREATE FUNCTION in them runs no user code.
            let languages = (try? connection.query(
                """
                SELECT lanname FROM pg_catalog.pg_language
                WHERE lanvalidator = ANY (ARRAY[
                    pg_catalog.to_regproc('pg_catalog.fmgr_sql_validator'), pg_catalog.to_regproc('pg_catalog.plpgsql_validator'),
                    pg_catalog.to_regproc('pg_catalog.fmgr_c_validator'), pg_catalog.to_regproc('pg_catalog.fmgr_internal_validator')]::oid[])
                """).rows.compactMap { $0[0] }) ?? []
            runner.marking.start(from: startMark, safeLanguages: Set(languages))
        }
        var published = tip!
        var unpublished: [AppliedBundle] = []
        // Nothing applied: the catalog is still the tip's state if no one else committed since the drift check.
        func recordVerifiedMark() {
            guard let verifiedSince, let tip, capabilities.marks else { return }
            let mark = Registry.MarkGuard(since: verifiedSince, ownTransactions: runner.marking.ownTransactions)
            _ = try? registry.setCatalogMark(mark, target: target, commitID: tip.hex)
        }
        var lastPublished = Date()
        do {
            if options.atomic {
                report.applied = try runner.runAtomic(pending, plan: report.plan, tip: tip!, state: state)
                unpublished = report.applied
            } else {
                var currentTip = tip!
                var listing: [String: ListedObject]? = nil
                for (index, bundle) in pending.enumerated() {
                    // The run's last bundle records the catalog mark of its state (one scan of the catalogs per run).
                    let result = try runner.runOne(
                        bundle, plan: report.plan, tip: currentTip, state: state, listing: &listing,
                        marksCatalog: capabilities.marks && index == pending.count - 1)
                    if BundleRunner.catalogsWritten(by: bundle.script.statements) == nil { checkEventTriggers() }
                    report.applied.append(result.applied)
                    unpublished.append(result.applied)
                    currentTip = ObjectID(hex: result.applied.commitID)!
                    state = result.state
                    if unpublished.count >= CommitRecipe.flushEvery || Date().timeIntervalSince(lastPublished) >= CommitRecipe.flushInterval {
                        try runner.publish(unpublished, from: published)
                        published = currentTip
                        unpublished = []
                        lastPublished = Date()
                    }
                }
            }
            try runner.publish(unpublished, from: published)
            if report.applied.isEmpty { recordVerifiedMark() }
        } catch let failure as ApplyFailureError {
            report.failure = failure.failure
            report.applied += failure.appliedBefore
            if report.applied.isEmpty { recordVerifiedMark() }
            // The bundles before the failed one are committed: write their commits and move the branch. If that
            // fails too, the bundle's failure stays the headline; the registry keeps the recipes.
            do {
                try runner.publish(unpublished, from: published)
            } catch {
                report.historyProblem = (error as? BundleError)?.errorDescription ?? "\(error)"
            }
        } catch let error as BundleError {
            // Best effort for the bundles already committed; the registry keeps their recipes either way.
            _ = try? runner.publish(unpublished, from: published)
            throw error
        } catch {
            _ = try? runner.publish(unpublished, from: published)
            throw .database("\(error)")
        }
        return report
    }

    // MARK: Pieces

    private func openRepository() throws(BundleError) -> GitRepository {
        do {
            return try GitRepository.open(at: project.root)
        } catch {
            throw .history("\(project.root.path) is not inside a git repository: run `bundle init` (or `git init`) first. (\(error.errorDescription ?? ""))")
        }
    }

    static func isValidTarget(_ name: String) -> Bool { Locksmith.isValidLockName(name) }

    private func checkAppliedHashes(_ lock: VerifiedLock, applied: [String: RegistryEntry]) throws(BundleError) {
        for bundle in lock.bundles {
            if let entry = applied[bundle.locked.name], entry.sha256 != bundle.locked.sha256 {
                throw .lockIntegrity([LockViolation(kind: .changedSinceApply, path: bundle.locked.path, pinned: entry.sha256, actual: bundle.locked.sha256)])
            }
        }
    }

    /// Brings the branch up to the registry: writes the commits of registry rows that the repository does not have
    /// from the recipes the rows keep (a process ended between COMMIT and writing its commits), and fast-forwards
    /// the branch to rows whose commits are not on it. Returns what it did, one line each.
    ///
    /// `holdsLock`: the caller holds the applier lock. Without it another applier may be running, its committed
    /// bundles' commits still in its memory: such rows (and the rows after them) are left to it; with it, they
    /// belong to a process that ended, and are written here (recipes left behind by a run that ended between
    /// writing its commits and forgetting their recipes are forgotten too).
    func reconcile(repository: GitRepository, registry: Registry, target: String, branch: String, holdsLock: Bool) throws(BundleError) -> [String] {
        let entries = try db { try registry.entries(target: target) }
        var notes: [String] = []
        recipesLeft = false
        var written: Int? = nil
        // Recipes of commits that are now in the repository (written with fsync) are no longer needed.
        defer { if holdsLock, let written { _ = try? registry.clearJournals(target: target, through: written) } }
        var tip = repository.referenceTarget(branch)
        for entry in entries {
            if let id = ObjectID(hex: entry.commitID), !repository.commitExists(id),
               let journal = try db({ try registry.journal(id: entry.id) }), let recipe = CommitRecipe.decode(journal) {
                guard holdsLock else {
                    recipesLeft = true
                    break
                }
                // Committed in the database, but the process ended before its commit reached the repository.
                let written = try git { try recipe.write(to: repository) }
                guard written == id else {
                    throw .history("registry row \(entry.id) records commit \(id.hex), but its recorded recipe gives \(written.hex); the registry row was changed by hand?")
                }
                notes.append("wrote commit \(id.short) of registry row \(entry.id) (TXN-\(entry.txn) \(entry.bundleName)) from the registry: the process ended before writing it")
                progress(.reconciled(notes.last!))
            }
            guard let id = ObjectID(hex: entry.commitID), repository.commitExists(id) else {
                throw .history(
                    "registry row \(entry.id) (\(entry.kind) \(entry.lockName) TXN-\(entry.txn) \(entry.bundleName)) records commit \(entry.commitID), which this repository does not have.\n  Fetch the branch bundle/\(target) from the repository it was applied from, then run the command again.")
            }
            written = entry.id
            if let current = tip {
                if try git({ try repository.isAncestor(id, of: current) }) { continue }
                guard try git({ try repository.isAncestor(current, of: id) }) else {
                    throw .history(
                        "branch bundle/\(target) (\(current.short)) and registry row \(entry.id) (commit \(id.short)) have diverged; inspect `git log bundle/\(target)` and the registry (bundle status)")
                }
            }
            do {
                try repository.updateReference(branch, to: id, expected: tip, logMessage: "bundle: reconcile registry row \(entry.id)")
            } catch {
                // Another process moved the branch meanwhile; fine if it is at or past this row's commit.
                guard let now = repository.referenceTarget(branch), now == id || ((try? repository.isAncestor(id, of: now)) ?? false) else {
                    throw .history(error.errorDescription ?? "\(error)")
                }
                tip = now
                continue
            }
            notes.append("fast-forwarded bundle/\(target) to \(id.short): registry row \(entry.id) (TXN-\(entry.txn) \(entry.bundleName)) was committed but the branch had not moved")
            progress(.reconciled(notes.last!))
            tip = id
        }
        return notes
    }

    static let lockClass: Int32 = 0x6275_6e64  // "bund"

    /// Takes the session-level advisory lock that serialises appliers and rollbacks of `target`, if it is free.
    static func tryApplierLock(_ connection: PostgresConnection, target: String) throws(BundleError) -> Bool {
        try db { try connection.query("SELECT pg_try_advisory_lock($1::integer, hashtext($2))", [String(lockClass), target]).rows.first?.first } == "t"
    }

    /// Releases the lock `tryApplierLock` took (a lost connection releases it too).
    static func releaseApplierLock(_ connection: PostgresConnection, target: String) {
        _ = try? connection.query("SELECT pg_advisory_unlock($1::integer, hashtext($2))", [String(lockClass), target])
    }

    private func acquireApplierLock(_ connection: PostgresConnection, target: String) throws(BundleError) {
        _ = try? connection.execute("SET application_name = 'bundle apply (lock holder)'")
        let deadline = Date().addingTimeInterval(options.applierWait)
        var delay = 0.1
        var announced = false
        while true {
            if try Self.tryApplierLock(connection, target: target) { return }
            let holder = (try? connection.query(
                """
                SELECT a.pid::text || ' (' || coalesce(a.usename, '?') || '@' || coalesce(host(a.client_addr), 'local') || ', '
                       || coalesce(a.application_name, '') || ', since ' || to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS') || ')'
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::integer::oid
                  AND l.objid = ((hashtext($2)::bigint + 4294967296) % 4294967296)::oid
                LIMIT 1
                """, [String(Self.lockClass), target]
            ).rows.first?.first ?? nil) ?? "another session"
            if !announced {
                progress(.waitingForApplier(holder: holder))
                announced = true
            }
            if Date() > deadline {
                throw .database("another bundle apply holds target '\(target)': backend \(holder); gave up after \(Int(options.applierWait))s. Wait for it to finish, then run apply again (already-applied bundles are skipped).")
            }
            Thread.sleep(forTimeInterval: delay)
            delay = min(delay * 2, 2)
        }
    }

    private func resolveAuthor(_ repository: GitRepository) -> Signature {
        if let author = options.author { return author }
        if let identity = repository.configuredIdentity() { return Signature(name: identity.name, email: identity.email) }
        let user = ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
        let host = ProcessInfo.processInfo.hostName
        return Signature(name: user, email: "\(user)@\(host)")
    }
}

/// Facts recorded in commit trailers.
struct SessionFacts: Sendable {
    let database: String
    let serverVersion: String
    let role: String
    let target: String
}

/// A failed bundle, carrying what was applied before it.
struct ApplyFailureError: Error {
    let failure: ApplyFailure
    let appliedBefore: [AppliedBundle]
}

/// Runs libpq calls, mapping errors to `BundleError.database`.
func db<T>(_ body: () throws -> T) throws(BundleError) -> T {
    do { return try body() } catch let error as PostgresError { throw .database(error.errorDescription ?? "\(error)") } catch let error as BundleError {
        throw error
    } catch { throw .database("\(error)") }
}

/// Runs libgit2 calls, mapping errors to `BundleError.history`.
func git<T>(_ body: () throws -> T) throws(BundleError) -> T {
    do { return try body() } catch let error as GitHistoryError { throw .history(error.errorDescription ?? "\(error)") } catch let error as BundleError {
        throw error
    } catch { throw .history("\(error)") }
}

/// Reads `state/` of a commit, path (without the prefix) → text.
func readState(_ repository: GitRepository, at commit: ObjectID) throws(BundleError) -> [String: String] {
    try git { try repository.readTextTree(at: commit, directory: "state") }
}
