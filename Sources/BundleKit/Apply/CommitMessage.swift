import Foundation

/// Commit messages of `bundle/<target>`: one summary line, a short body, and git trailers.
enum CommitMessage {
    static func baseline(target: String, facts: SessionFacts) -> String {
        """
        baseline \(target): catalog before the first bundle applied to this target

        Captured before any mutation, so every applied bundle has a recorded state to return to.

        Target: \(target)
        Database: \(facts.database)
        Server-Version: \(facts.serverVersion)
        Role: \(facts.role)
        """
    }

    static func apply(
        lock: VerifiedLock, bundle: LockedBundle, summary: BundlePlan?, touched: [String], facts: SessionFacts, backup: BackupRecord?,
        irreversible: [String]
    ) -> String {
        var actions: [String] = []
        var seen = Set<String>()
        for statement in summary?.statements ?? [] {
            guard let object = statement.object, ["create", "replace", "alter", "drop"].contains(statement.action) else { continue }
            let line = "\(statement.action) \(object)"
            if seen.insert(line).inserted { actions.append(line) }
        }
        if actions.isEmpty {
            actions = summary.map { plan in Array(Set(plan.statements.map(\.action))).sorted() } ?? []
        }
        let head = actions.prefix(3).joined(separator: ", ") + (actions.count > 3 ? " (+\(actions.count - 3) more)" : "")
        var body = "apply \(lock.lock.name) \(bundle.label) \(bundle.name): \(head)\n\n"
        body += "Bundle \(bundle.path) (\(summary?.statements.count ?? 0) statements) applied as one transaction.\n"
        if !touched.isEmpty { body += "Objects changed: \(touched.joined(separator: ", "))\n" }
        if !irreversible.isEmpty { body += "Irreversible without a backup: \(irreversible.joined(separator: ", "))\n" }
        body += "\n"
        var trailers = [
            ("Bundle-Sha256", bundle.sha256), ("Lock", lock.lock.name), ("Lock-Sha256", lock.sha256), ("Txn", String(bundle.txn)),
            ("Target", facts.target), ("Database", facts.database), ("Server-Version", facts.serverVersion), ("Role", facts.role),
        ]
        if let backup {
            trailers.append(("Backup-Sha256", backup.sha256))
            trailers.append(("Backup-Path", backup.path))
        }
        body += trailers.map { "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
        return body
    }
}
