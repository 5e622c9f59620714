import ArgumentParser
import BundleKit
import Foundation

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Predict, from the live catalog, what each locked bundle would do and exactly how it would fail.",
        discussion: """
            Verifies the lock, parses every bundle, reads the catalog objects the bundles name, and walks the bundles \
            in lock order over that catalog: the effects of earlier statements are visible to later ones. Each error \
            finding carries the SQLSTATE and message the server would raise. Plan never writes to the target; \
            --rehearse also runs the bundles inside a transaction that is always rolled back and reports the server's \
            actual outcome beside the prediction.

            Exit codes: 0 nothing blocks; 1 a bundle is blocked; 2 usage, lock-integrity or connection error.

            Examples:
              bundle plan locks/m3a.lock --db "$(bundle sandbox url)"
              bundle plan m3a-fixed --format json
              bundle plan m3a --rehearse --lock-timeout 2s
              bundle plan m3a --atomic     # as `bundle apply m3a --atomic` will run it
            """
    )

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Argument(help: "The lock: a path to a .lock file or a name in locks/ (default: the only lock).")
    var lock: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    @Option(help: "Target name whose registry marks applied bundles (default: the database name).")
    var target: String?

    @Flag(help: "Also run the bundles in a transaction that is always rolled back, and compare.")
    var rehearse = false

    @Flag(help: "Plan for `apply --atomic`: every bundle in one transaction (SET LOCAL, ON COMMIT DROP tables, new enum values and deferred trigger events last until its end).")
    var atomic = false

    @Option(help: "lock_timeout for rehearsals and data checks.")
    var lockTimeout = "3s"

    @Option(help: "statement_timeout for rehearsals and data checks.")
    var statementTimeout = "5s"

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let project = try projectOptions.locate()
            let url = try project.lockURL(for: lock, cwd: projectOptions.cwd)
            let verified = try Locksmith(project: project).load(url)
            let connection = try DatabaseTarget.connect(databaseOptions.conninfo)
            let planner = Planner(connection: connection, options: PlanOptions(rehearse: rehearse, lockTimeout: lockTimeout, statementTimeout: statementTimeout, oneTransaction: atomic))
            let report = try planner.planAgainstRegistry(verified, target: target)
            connection.close()
            switch format {
            case .json: print(report.json())
            case .text: print(PlanTextRenderer.render(report), terminator: "")
            }
            return report.isBlocked ? 1 : 0
        }
    }
}

/// The text form of a plan: `path:line:col: severity: [rule] message` lines, then a summary table.
enum PlanTextRenderer {
    static func render(_ report: PlanReport) -> String {
        var out = ""
        for bundle in report.bundles {
            for finding in bundle.findings.sorted(by: { ($0.statement, $0.severity) < ($1.statement, $1.severity) }) {
                var line = "\(bundle.path):\(finding.line):\(finding.column): \(finding.severity.rawValue): [\(finding.rule)] "
                if let sqlstate = finding.sqlstate { line += "ERROR \(sqlstate): " }
                line += finding.message
                out += line + "\n"
                if let detail = finding.detail {
                    for part in detail.split(separator: "\n") { out += "    detail: \(part)\n" }
                }
                if let hint = finding.hint { out += "    hint: \(hint)\n" }
            }
            if let rehearsal = bundle.rehearsal {
                let outcome = rehearsal.ok ? "ok" : "\(rehearsal.sqlstate ?? "-") \(rehearsal.message ?? "")"
                out += "\(bundle.path): rehearsal: \(outcome)\(rehearsal.matchesPrediction ? " (as predicted)" : " (differs from the prediction)")\n"
            }
        }
        let rows = report.bundles.map { bundle -> [String] in
            [bundle.txn == 0 ? "-" : "TXN-\(bundle.txn)", bundle.name, String(bundle.statements.count), bundle.status.rawValue, bundle.path]
        }
        let header = ["TXN", "BUNDLE", "STATEMENTS", "STATUS", "PATH"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        if !out.isEmpty { out += "\n" }
        out += "plan \(report.lock) against \(report.database.name) (PostgreSQL \(report.database.serverVersion), role \(report.database.user))\n"
        for row in [header] + rows {
            out += row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
                .joined(separator: "  ") + "\n"
        }
        let blocked = report.bundles.filter { $0.status == .blocked }.count
        out += blocked == 0 ? "no blocking findings\n" : "\(blocked) bundle\(blocked == 1 ? "" : "s") blocked: nothing should be applied\n"
        return out
    }
}
