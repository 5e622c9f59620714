import ArgumentParser
import BundleKit
import Foundation

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per TXN of a lock: applied, pending, or changed since it was applied (from the target's registry).",
        discussion: """
            Exit 1 when a bundle changed after it was applied.

            Example:
              bundle status m3a-fixed --db "$(bundle sandbox url)"
            """
    )

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Argument(help: "The lock (default: the only lock).")
    var lock: String?

    @Option(help: "Target name (default: the database name).")
    var target: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let project = try projectOptions.locate()
            let url = try project.lockURL(for: lock, cwd: projectOptions.cwd)
            let (lockFile, _) = try Locksmith(project: project).read(url)
            let status = try TargetStatus.read(lock: lockFile, conninfo: databaseOptions.conninfo, target: target)
            if format == .json {
                print(jsonText(status))
            } else {
                print("target \(status.target) (lock \(status.lock))")
                for row in status.bundles {
                    var line = "\(row.state.padding(toLength: 8, withPad: " ", startingAt: 0)) TXN-\(row.txn)  \(row.name)  \(row.path)"
                    if let commit = row.commit { line += "  commit \(commit.prefix(12))" }
                    if let at = row.appliedAt { line += "  at \(at)" }
                    print(line)
                }
            }
            return status.bundles.contains { $0.state == "changed" } ? 1 : 0
        }
    }
}

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "The audit trail of a target, read from git alone: commits, bundles, who, when, where.",
        discussion: """
            With OBJECT, only the commits that changed it.

            Examples:
              bundle log --target m3a
              bundle log 'iu_core.fn_iu_enact(uuid,text)' --format json
            """
    )

    @OptionGroup var projectOptions: ProjectOptions

    @Argument(help: "Only commits that changed this object, e.g. public.fn_x(uuid,text) or iu_core.iu_lifecycle_log.")
    var object: String?

    @Option(help: "Target name (default: the only bundle/<target> branch).")
    var target: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let project = try projectOptions.locate()
            let log = AuditLog(project: project)
            let target = try log.resolveTarget(self.target)
            let entries = try log.entries(target: target, object: object)
            if format == .json {
                print(jsonText(entries))
                return 0
            }
            let formatter = ISO8601DateFormatter()
            for entry in entries {
                print("\(entry.commit.prefix(12))  \(formatter.string(from: entry.time))  \(entry.author) <\(entry.email)>")
                print("    \(entry.summary)")
                let facts = ["Database", "Role", "Server-Version", "Bundle-Sha256", "Backup-Sha256"].compactMap { key in entry.trailers[key].map { "\(key): \($0)" } }
                if !facts.isEmpty { print("    " + facts.joined(separator: "  ")) }
            }
            if entries.isEmpty { print(object.map { "no commit on bundle/\(target) changed \($0)" } ?? "no commits") }
            return 0
        }
    }
}
