import ContentHash
import Foundation
import GitHistory
import PostgresCatalog
import SQLSyntax

/// Options of `bundle rollback`.
public struct RollbackOptions: Sendable {
    public var target: String?
    public var dryRun: Bool = false
    public var atomic: Bool = false
    public var lockTimeout: String = "5s"
    public var statementTimeout: String = "0"
    public var author: Signature?
    public init() {}
}

/// One step of a rollback: undoing one applied bundle.
public struct RollbackStep: Sendable {
    /// The apply commit being undone.
    public var commit: String
    public var lockName: String
    public var txn: Int
    public var bundleName: String
    public var sha256: String
    /// The script (from `rollback/` of that commit).
    public var script: String
    /// State paths the apply changed (what is verified after the undo).
    public var touched: [String]
    public var irreversible: Bool
}

/// A difference between the live catalog and the state a step should return to.
public struct StateDifference: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// `missing` (expected, not live), `unexpected` (live, not expected), `different`.
    public var kind: String
    public var expected: String?
    public var actual: String?

    public var description: String {
        switch kind {
        case "missing": return "missing: \(path) (the recorded state has it; the database does not)"
        case "unexpected": return "unexpected: \(path) (the database has it; the recorded state does not)"
        default:
            return "different: \(path)\n" + TextDiff.unified(expected ?? "", actual ?? "", labels: ("recorded", "live")).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")
        }
    }
}

/// What `bundle rollback` did.
public struct RollbackReport: Sendable {
    public var target: String
    public var revision: String
    public var steps: [RollbackStep]
    public var undone: [RollbackStep] = []
    public var commits: [String] = []
    /// Set when a step's result differed from the recorded state (that step was rolled back).
    public var differences: [StateDifference] = []
    public var failure: String?
    /// With --dry-run: the rollback scripts planned like any bundle, in the order they would run.
    public var plan: PlanReport?
    public var exitCode: Int32 { failure == nil && differences.isEmpty && plan?.isBlocked != true ? 0 : 1 }
}

/// `bundle rollback REV`: runs the rollback scripts of every bundle applied after REV, newest first, each in one
/// transaction, verifies each against the state recorded in git, and records it (registry row + commit).
public final class RollbackRunner {
    public let project: Project
    public let conninfo: String
    public let options: RollbackOptions

    public init(project: Project, conninfo: String, options: RollbackOptions) {
        self.project = project
        self.conninfo = conninfo
        self.options = options
    }

    public func rollback(to revision: String) throws(BundleError) -> RollbackReport {
        let connection = try DatabaseTarget.connect(conninfo)
        defer { connection.close() }
        let target = options.target ?? connection.database
        let branch = "refs/heads/bundle/\(target)"
        let repository: GitRepository
        do { repository = try GitRepository.open(at: project.root) } catch { throw .history("not inside a git repository: \(error.errorDescription ?? "")") }
        let registry = Registry(connection: connection)
        let applier = Applier(project: project, conninfo: conninfo, options: ApplyOptions())
        // Hold the applier lock for the whole rollback (reconcile, plan the steps, run them): no apply or rollback
        // can move the branch or the registry underneath it. A dry run changes nothing and takes no lock.
        let lockConnection = try DatabaseTarget.connect(conninfo)
        defer { lockConnection.close() }
        if !options.dryRun {
            guard try Applier.tryApplierLock(lockConnection, target: target) else { throw .database("another bundle apply or rollback is running on target '\(target)'; try again when it has finished") }
        }
        defer { if !options.dryRun { Applier.releaseApplierLock(lockConnection, target: target) } }
        _ = try applier.reconcile(repository: repository, registry: registry, target: target, branch: branch, holdsLock: !options.dryRun)
        guard let tip = repository.referenceTarget(branch) else { throw .usage("no branch bundle/\(target): nothing was applied to target '\(target)'") }
        let goal = try resolve(revision, repository: repository, target: target)
        guard try git({ try repository.isAncestor(goal, of: tip) }) else {
            throw .usage("\(revision) (\(goal.short)) is not on bundle/\(target): name a commit of `git log bundle/\(target)`")
        }
        let entries = try db { try registry.entries(target: target) }
        let steps = try plannedSteps(repository: repository, from: tip, to: goal, entries: entries)
        var report = RollbackReport(target: target, revision: goal.hex, steps: steps)
        if steps.isEmpty { return report }
        if options.dryRun {
            report.plan = try Planner(connection: connection).plan(try Self.scriptsAsLock(steps))
            return report
        }
        if let irreversible = steps.first(where: \.irreversible) {
            let backup = try backupInHistory(repository, tip: tip)
            throw .database(
                "TXN-\(irreversible.txn) \(irreversible.bundleName) dropped data (a table or column); its rollback cannot restore rows. "
                    + (backup.map { "Restore from the backup recorded in history: \($0)" } ?? "No backup is recorded in history (apply --backup DIR takes one).")
                    + " Nothing was rolled back.")
        }


        let author = options.author ?? repository.configuredIdentity().map { Signature(name: $0.name, email: $0.email) }
            ?? Signature(name: NSUserName(), email: "\(NSUserName())@\(ProcessInfo.processInfo.hostName)")
        let role = (try? connection.query("SELECT current_user").rows[0][0] ?? nil) ?? connection.user
        var currentTip = tip
        for step in steps {
            let applyCommit = ObjectID(hex: step.commit)!
            let parent = try git { try repository.commit(applyCommit) }.parents[0]
            let expected = try readState(repository, at: parent)
            // The lock's watch list, so watched rows are captured and compared too (skipped if the lock is gone).
            let watch = (try? Locksmith(project: project).read(project.locksDirectory.appendingPathComponent("\(step.lockName).lock")))?.lock.watch
            _ = try db { try connection.execute("BEGIN") }
            do {
                try db { try connection.setLocalTimeouts(lock: options.lockTimeout, statement: options.statementTimeout) }
                let startedAt = try db { try connection.query("SELECT pg_catalog.clock_timestamp()::pg_catalog.text").rows[0][0]! }
                // A script with nothing to run (a data-only bundle) is a no-op step: still verified and recorded.
                var statements: [SQLStatement] = []
                do { statements = try SQLScript.parse(Data(step.script.utf8), path: "rollback/TXN-\(step.txn)-\(step.bundleName).sql").statements } catch {
                    if case .empty = error {} else { throw BundleError.syntax(error.localizedDescription) }
                }
                for statement in statements {
                    do { try connection.execute(statement.text) } catch {
                        throw BundleError.database(
                            "rollback of TXN-\(step.txn) \(step.bundleName), statement \(statement.index) (line \(statement.start.line)): \(error.errorDescription ?? "")")
                    }
                }
                _ = connection.takeNotices()
                let live = try captureState(connection, watch: watch)
                let differences = Self.compare(
                    expected: expected, actual: live, paths: step.touched.filter { watch != nil || !$0.hasPrefix("watch/") })
                if !differences.isEmpty {
                    _ = try? connection.execute("ROLLBACK")
                    report.differences = differences
                    report.failure = "the rollback of TXN-\(step.txn) \(step.bundleName) did not restore the recorded state; it was rolled back and nothing after it ran"
                    return report
                }
                let currentInfo = try git { try repository.commit(currentTip) }
                let currentState = try readState(repository, at: currentTip)
                var changes: [TreeChange] = []
                for (path, text) in live where !sameBytes(currentState[path], text) { changes.append(.upsert(path: "state/" + path, contents: Data(text.utf8))) }
                for path in currentState.keys where live[path] == nil { changes.append(.remove(path: "state/" + path)) }
                let message = """
                    rollback \(step.lockName) to \(goal.short): undo TXN-\(step.txn) \(step.bundleName)

                    Ran rollback/TXN-\(step.txn)-\(step.bundleName).sql of \(String(step.commit.prefix(12))) in one transaction; the objects it touched match the state recorded at \(parent.short).

                    Undoes: \(step.commit)
                    Lock: \(step.lockName)
                    Txn: \(step.txn)
                    Target: \(target)
                    Database: \(connection.database)
                    Server-Version: \(connection.serverVersion)
                    Role: \(role)

                    """
                let commit = try git {
                    try repository.writeCommit(baseTree: currentInfo.tree, changes: changes, parents: [currentTip], message: message, author: author, committer: author)
                }
                // Qualified: a hand-written rollback script may have set its own search_path.
                _ = try db {
                    try connection.query(
                        """
                        INSERT INTO bundle.registry (kind, lock_name, lock_sha256, bundle_name, txn, sha256, semantic_sha256, commit_id, parent_commit_id, target, started_at)
                        SELECT 'rollback', lock_name, lock_sha256, bundle_name, txn, sha256, semantic_sha256, $1, $2, target, $3::pg_catalog.timestamptz
                        FROM bundle.registry WHERE commit_id OPERATOR(pg_catalog.=) $4 AND kind OPERATOR(pg_catalog.=) 'apply'
                        """, [commit.hex, currentTip.hex, startedAt, step.commit])
                }
                _ = try db { try connection.execute("COMMIT") }
                try git { try repository.updateReference(branch, to: commit, expected: currentTip, logMessage: "bundle: rollback TXN-\(step.txn) \(step.bundleName)") }
                currentTip = commit
                report.undone.append(step)
                report.commits.append(commit.hex)
            } catch {
                _ = try? connection.execute("ROLLBACK")
                report.failure = (error as? BundleError)?.errorDescription ?? "\(error)"
                return report
            }
        }
        return report
    }

    /// The rollback scripts as a lock of their own, so they go through the same planner as any bundle.
    static func scriptsAsLock(_ steps: [RollbackStep]) throws(BundleError) -> VerifiedLock {
        var bundles: [LoadedBundle] = []
        for (offset, step) in steps.enumerated() {
            let path = "rollback/TXN-\(step.txn)-\(step.bundleName).sql"
            let data = Data(step.script.utf8)
            let script: SQLScript
            do { script = try SQLScript.parse(data, path: path) } catch {
                if case .empty = error { continue }  // nothing to run, nothing to plan
                throw .syntax(error.localizedDescription)
            }
            let locked = LockedBundle(
                txn: offset + 1, name: "undo-\(step.txn)-\(step.bundleName)", path: path, sha256: SHA256.hex(data), semanticSha256: script.semanticHash)
            bundles.append(LoadedBundle(locked: locked, data: data, script: script, rollbackSQL: nil, verifySQL: nil))
        }
        let lock = LockFile(name: "rollback", bundles: bundles.map(\.locked))
        return VerifiedLock(lock: lock, path: "rollback", sha256: SHA256.hex(lock.encoded()), bundles: bundles)
    }

    private func resolve(_ revision: String, repository: GitRepository, target: String) throws(BundleError) -> ObjectID {
        for candidate in [revision, "bundle/\(target)/\(revision)"] {
            if let id = try? repository.resolveCommit(candidate) { return id }
        }
        throw .usage("unknown revision '\(revision)': use a commit id, bundle/\(target)~N, or a tag")
    }

    /// Apply commits after `goal` whose bundles are still applied, newest first.
    private func plannedSteps(repository: GitRepository, from tip: ObjectID, to goal: ObjectID, entries: [RegistryEntry]) throws(BundleError) -> [RollbackStep] {
        let commits = try git { try repository.log(from: tip) }
        var undone = Set<String>()
        for entry in entries where entry.kind == "rollback" {
            if let undoes = try? repository.commit(ObjectID(hex: entry.commitID)!).trailers.first(where: { $0.key == "Undoes" })?.value { undone.insert(undoes) }
        }
        var steps: [RollbackStep] = []
        for commit in commits {
            if commit.id == goal { break }
            guard commit.summary.hasPrefix("apply "), !undone.contains(commit.id.hex),
                let entry = entries.first(where: { $0.commitID == commit.id.hex && $0.kind == "apply" })
            else { continue }
            let changed = try git { try repository.changedPaths(from: commit.parents.first, to: commit.id) }
            // The script is at its known path; a re-apply after a rollback writes the same bytes there again, so it
            // need not show up among the commit's changed paths.
            let knownPath = "rollback/TXN-\(entry.txn)-\(entry.bundleName).sql"
            let knownScript = try git { try repository.readFile(knownPath, at: commit.id) }
            let scriptPath = knownScript != nil ? knownPath : changed.map(\.path).first(where: { $0.hasPrefix("rollback/") })
            var data = knownScript
            if data == nil, let scriptPath { data = try git { try repository.readFile(scriptPath, at: commit.id) } }
            guard let data
            else {
                throw .history("commit \(commit.id.short) (TXN-\(entry.txn) \(entry.bundleName)) records no rollback script")
            }
            let script = String(decoding: data, as: UTF8.self)
            steps.append(
                RollbackStep(
                    commit: commit.id.hex, lockName: entry.lockName, txn: entry.txn, bundleName: entry.bundleName, sha256: entry.sha256, script: script,
                    touched: changed.map(\.path).filter { $0.hasPrefix("state/") }.map { String($0.dropFirst(6)) },
                    irreversible: script.contains("-- IRREVERSIBLE:")))
        }
        return steps
    }

    private func backupInHistory(_ repository: GitRepository, tip: ObjectID) throws(BundleError) -> String? {
        for commit in try git({ try repository.log(from: tip) }) {
            if let path = commit.trailers.first(where: { $0.key == "Backup-Path" })?.value {
                let sha = commit.trailers.first { $0.key == "Backup-Sha256" }?.value ?? "?"
                return "\(path) (sha256 \(sha), commit \(commit.id.short))"
            }
        }
        return nil
    }

    /// Compares the touched paths of the live state with the expected (recorded) state.
    static func compare(expected: [String: String], actual: [String: String], paths: [String]) -> [StateDifference] {
        paths.sorted().compactMap { path in
            switch (expected[path], actual[path]) {
            case (nil, nil): return nil
            // A state recorded before bundle captured default privileges says nothing about them.
            case (nil, _?) where path == ObjectStateReader.defaultPrivilegesPath: return nil
            case (let e?, nil): return StateDifference(path: path, kind: "missing", expected: e, actual: nil)
            case (nil, let a?): return StateDifference(path: path, kind: "unexpected", expected: nil, actual: a)
            case (let e?, let a?): return sameBytes(e, a) ? nil : StateDifference(path: path, kind: "different", expected: e, actual: a)
            }
        }
    }
}

/// A small line diff for messages (longest common subsequence; fine for object-sized files).
public enum TextDiff {
    public static func unified(_ old: String, _ new: String, labels: (String, String)) -> String {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard a.count * b.count <= 4_000_000 else { return "--- \(labels.0)\n+++ \(labels.1)\n(files too large to diff)" }
        var lcs = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = sameBytes(a[i], b[j]) ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out = ["--- \(labels.0)", "+++ \(labels.1)"]
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, sameBytes(a[i], b[j]) {
                i += 1
                j += 1
            } else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] {
                out.append("+" + b[j])
                j += 1
            } else {
                out.append("-" + a[i])
                i += 1
            }
        }
        return out.joined(separator: "\n")
    }
}
