import ArgumentParser
import BundleKit
import Foundation

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply the pending bundles of a lock, each as exactly one transaction, and commit state + rollback to git.",
        discussion: """
            Plans first: any blocking finding refuses the apply before a statement runs (exit 1). Appliers of one \
            target are serialised with a session advisory lock. Each bundle runs as one transaction: its statements \
            one at a time, its pinned .verify.sql, then a row in the target's registry (schema bundle) and COMMIT. \
            For each bundle one commit lands on the branch bundle/<target> of the project repository with the \
            catalog state after it (state/), the script that undoes it (rollback/) and the exact bytes applied \
            (applied/). Re-running is a no-op. --atomic runs the whole lock as one transaction.

            Examples:
              bundle apply locks/m3a-fixed.lock --txn --db "$(bundle sandbox url)"
              bundle apply m3a-fixed --txn --atomic --backup backups/
              git log bundle/m3a
            """
    )

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Argument(help: "The lock: a path to a .lock file or a name in locks/ (default: the only lock).")
    var lock: String?

    @Flag(help: "Apply each bundle as exactly one transaction (required: bundle never applies outside a transaction).")
    var txn = false

    @Flag(help: "Apply the whole lock as one transaction: all or nothing.")
    var atomic = false

    @Option(help: "Target name; the audit branch is bundle/<target> (default: the database name).")
    var target: String?

    @Option(help: ArgumentHelp("Before the first bundle, pg_dump -Fc the target into this directory.", valueName: "dir"))
    var backup: String?

    @Option(help: "lock_timeout per bundle transaction (a 55P03 is retried with backoff).")
    var lockTimeout = "5s"

    @Option(help: "statement_timeout per bundle transaction (0: none).")
    var statementTimeout = "0"

    @Option(help: "Seconds to wait for another applier of the same target.")
    var wait: Double = 60

    @Option(help: ArgumentHelp("Commit author as 'Name <email>' (default: git user.name/user.email, else the OS user).", valueName: "author"))
    var author: String?

    @Flag(help: "Apply even when objects the pending bundles touch were changed outside bundle (see bundle drift).")
    var allowDrift = false

    @Flag(help: "Plan and show what would be applied; change nothing.")
    var dryRun = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func validate() throws {
        if !txn && !atomic {
            throw ValidationError("pass --txn (one transaction per bundle) or --atomic (one transaction for the whole lock)")
        }
        if let author, Self.parseAuthor(author) == nil {
            throw ValidationError("--author must look like 'Name <email>'")
        }
    }

    static func parseAuthor(_ text: String) -> (String, String)? {
        guard let open = text.firstIndex(of: "<"), text.hasSuffix(">") else { return nil }
        let name = text[..<open].trimmingCharacters(in: .whitespaces)
        let email = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        return name.isEmpty || email.isEmpty ? nil : (name, email)
    }

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let project = try projectOptions.locate()
            let url = try project.lockURL(for: lock, cwd: projectOptions.cwd)
            let verified = try Locksmith(project: project).load(url)
            var options = ApplyOptions()
            options.target = target
            options.atomic = atomic
            options.lockTimeout = lockTimeout
            options.statementTimeout = statementTimeout
            options.dryRun = dryRun
            options.applierWait = wait
            options.allowDrift = allowDrift
            options.backupDirectory = backup.map { URL(fileURLWithPath: $0, relativeTo: projectOptions.cwd).standardizedFileURL }
            if let author, let (name, email) = Self.parseAuthor(author) { options.author = .init(name: name, email: email) }
            let interactive = isatty(STDERR_FILENO) == 1 && format == .text
            let applier = Applier(project: project, conninfo: databaseOptions.conninfo, options: options) { event in
                ApplyProgressPrinter.print(event, interactive: interactive)
            }
            let report = try applier.apply(verified)
            if format == .json {
                print(ApplyReportJSON(report).json())
            } else {
                print(ApplyReportText.render(report), terminator: "")
            }
            return report.exitCode
        }
    }
}

/// Progress lines on stderr: always for waits and reconciliations, per bundle only on a terminal.
enum ApplyProgressPrinter {
    static func print(_ event: ApplyProgress, interactive: Bool) {
        switch event {
        case .waitingForApplier(let holder):
            printError("bundle: waiting for another apply of this target (held by backend \(holder))…")
        case .reconciled(let note):
            printError("bundle: reconciled: \(note)")
        case .retrying(let txn, let attempt, let reason):
            printError("bundle: TXN-\(txn): \(reason); retrying (attempt \(attempt + 1))")
        case .bundleStarted(let txn, let total, let name, let statements):
            if interactive { printError("TXN \(txn)/\(total) \(name): \(statements) statements…") }
        case .bundleApplied(let bundle):
            if interactive { printError(String(format: "TXN-%d %@ applied in %.2fs", bundle.txn, bundle.name, bundle.seconds)) }
        case .baseline(let commit):
            if interactive { printError("baseline commit \(commit.prefix(7))") }
        case .backup(let record):
            if interactive { printError("backup \(record.path) (\(record.bytes) bytes, sha256 \(record.sha256))") }
        case .statement:
            break
        }
    }
}

enum ApplyReportText {
    static func render(_ report: ApplyReport) -> String {
        var out = ""
        if report.plan.isBlocked {
            out += PlanTextRenderer.render(report.plan)
            out += "apply refused: the plan has blocking findings; nothing was applied\n"
            return out
        }
        for note in report.reconciled { out += "reconciled: \(note)\n" }
        for item in report.drift {
            out += "drift: \(item.change) \(item.path)\(item.blocking ? " [blocking: a pending bundle touches it]" : "")\n"
        }
        if let check = report.driftCheck, report.drift.isEmpty {
            let branch = report.branch.replacingOccurrences(of: "refs/heads/", with: "")
            out += check == .catalogMark
                ? "no drift: no catalog row changed since \(branch) was recorded (catalog mark)\n"
                : "no drift: the catalog matches \(branch) (full capture)\n"
        }
        if report.blockedByDrift {
            out += "apply refused: objects the pending bundles touch were changed outside bundle since \(report.branch.replacingOccurrences(of: "refs/heads/", with: "")); review `bundle drift`, then re-run with --allow-drift\n"
            return out
        }
        if let baseline = report.baselineCommit { out += "baseline \(String(baseline.prefix(12))) on \(report.branch)\n" }
        if let backup = report.backup { out += "backup \(backup.path) sha256 \(backup.sha256) (\(backup.bytes) bytes)\n" }
        for name in report.skipped { out += "skip     \(name): already applied\n" }
        for bundle in report.applied {
            out += String(format: "applied  TXN-%d %@ (%d statements, %.2fs) commit %@\n", bundle.txn, bundle.name, bundle.statements, bundle.seconds, String(bundle.commitID.prefix(12)))
        }
        if let failure = report.failure {
            out += failure.description + "\n"
            out += "apply stopped at TXN-\(failure.txn) \(failure.name): that bundle was rolled back completely"
            out += report.applied.isEmpty ? "; nothing was applied\n" : "; the bundles above stay committed\n"
            if let problem = report.historyProblem { out += "also: \(problem)\n" }
        } else if report.applied.isEmpty && report.pending.isEmpty {
            out += "nothing to apply: every bundle of \(report.plan.lock) is already applied to \(report.target)\n"
        } else if report.applied.isEmpty {
            out += "dry run: would apply \(report.pending.joined(separator: ", ")) to \(report.target)\n"
        } else {
            out += "\(report.applied.count) bundle\(report.applied.count == 1 ? "" : "s") applied to \(report.target); audit: git log \(report.branch.replacingOccurrences(of: "refs/heads/", with: ""))\n"
        }
        return out
    }
}

struct ApplyReportJSON: Encodable {
    struct Bundle: Encodable {
        let txn: Int
        let name: String
        let path: String
        let statements: Int
        let commit: String
        let registry_id: Int
        let seconds: Double
    }
    struct Failure: Encodable {
        let txn: Int
        let name: String
        let path: String
        let statement: Int
        let line: Int
        let column: Int
        let sqlstate: String?
        let message: String
        let detail: String?
        let hint: String?
    }

    let target: String
    let branch: String
    let baseline: String?
    let applied: [Bundle]
    let skipped: [String]
    let failure: Failure?
    let history_problem: String?
    /// How the live catalog was checked against the recorded state: "catalog-mark", "capture", or null (no recorded state yet).
    let drift_check: DriftCheck?
    /// Objects changed outside bundle since the recorded state (path, change, blocking, diff).
    let drift: [DriftItem]
    let plan: PlanReport

    init(_ report: ApplyReport) {
        target = report.target
        branch = report.branch
        baseline = report.baselineCommit
        applied = report.applied.map {
            Bundle(txn: $0.txn, name: $0.name, path: $0.path, statements: $0.statements, commit: $0.commitID, registry_id: $0.registryID, seconds: $0.seconds)
        }
        skipped = report.skipped
        failure = report.failure.map {
            Failure(
                txn: $0.txn, name: $0.name, path: $0.path, statement: $0.statement, line: $0.line, column: $0.column, sqlstate: $0.server?.sqlstate,
                message: $0.server?.message ?? $0.message, detail: $0.server?.detail, hint: $0.server?.hint)
        }
        history_problem = report.historyProblem
        drift_check = report.driftCheck
        drift = report.drift
        plan = report.plan
    }

    func json() -> String { jsonText(self) }
}
