import ArgumentParser
import BundleKit
import Foundation

struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Return the database to the state recorded at a revision of bundle/<target>, verified object by object.",
        discussion: """
            Runs the rollback scripts of every bundle applied after REV, newest first, each in one transaction. \
            After each, the objects it touched are compared with the state recorded in git; any difference rolls \
            that step back and stops (exit 1), printing the difference. Each step is recorded in the registry and \
            committed on the branch: history is append-only, like git revert.

            Examples:
              bundle rollback bundle/m3a~2 --dry-run
              bundle rollback 3f2a9c1 --db "$(bundle sandbox url)"
            """
    )

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Argument(help: "The revision to return to: a commit id, bundle/<target>~N, a tag.")
    var revision: String

    @Option(help: "Target name (default: the database name).")
    var target: String?

    @Flag(help: "Print the steps and their scripts; change nothing.")
    var dryRun = false

    @Option(help: "lock_timeout per step.")
    var lockTimeout = "5s"

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let project = try projectOptions.locate()
            var options = RollbackOptions()
            options.target = target
            options.dryRun = dryRun
            options.lockTimeout = lockTimeout
            let report = try RollbackRunner(project: project, conninfo: databaseOptions.conninfo, options: options).rollback(to: revision)
            if report.steps.isEmpty {
                print("nothing to roll back: no bundle applied after \(report.revision.prefix(12)) is still applied")
                return 0
            }
            if dryRun {
                for step in report.steps {
                    print("-- step: undo TXN-\(step.txn) \(step.bundleName) (commit \(step.commit.prefix(12)))\(step.irreversible ? " [IRREVERSIBLE]" : "")")
                    print(step.script)
                }
                if let plan = report.plan {
                    print("-- plan of the rollback scripts (the same planner as any bundle):")
                    print(PlanTextRenderer.render(plan), terminator: "")
                }
                return report.exitCode
            }
            for (step, commit) in zip(report.undone, report.commits) {
                print("undone   TXN-\(step.txn) \(step.bundleName): verified against the recorded state; commit \(commit.prefix(12))")
            }
            for difference in report.differences { print(difference.description) }
            if let failure = report.failure {
                printError("bundle: error: \(failure)")
                return 1
            }
            print("rolled back to \(report.revision.prefix(12)) on bundle/\(report.target)")
            return 0
        }
    }
}

struct DriftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Compare the live catalog with the state at the tip of bundle/<target> (exit 1 on drift).",
        discussion: """
            Lists objects added, removed or changed outside bundle (a hand-made CREATE OR REPLACE, a GRANT, a \
            column default). With a lock, drift on objects its pending bundles touch is marked blocking.

            Example:
              bundle drift --db "$(bundle sandbox url)" --target m3a
            """
    )

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: "Target name (default: the database name).")
    var target: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let project = try projectOptions.locate()
            let report = try DriftDetector.detect(project: project, conninfo: databaseOptions.conninfo, target: target)
            if format == .json {
                print(jsonText(report))
            } else {
                for item in report.items {
                    print("\(item.change.padding(toLength: 8, withPad: " ", startingAt: 0)) \(item.path)\(item.blocking ? "  [blocking]" : "")")
                    if let diff = item.diff { print(diff.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")) }
                }
                print(report.hasDrift ? "drift: \(report.items.count) object(s) differ from bundle/\(report.target) (\(report.commit.prefix(12)))" : "no drift: the live catalog matches bundle/\(report.target) (\(report.commit.prefix(12)))")
            }
            return report.hasDrift ? 1 : 0
        }
    }
}

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "The catalog difference between two revisions, per object, from git alone.",
        discussion: "Example:\n  bundle diff bundle/m3a~3 bundle/m3a")

    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "From this revision.") var from: String
    @Argument(help: "To this revision (default: the tip of bundle/<target>).") var to: String?
    @Option(help: "Target name.") var target: String?

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let changes = try HistoryView(project: try projectOptions.locate()).diff(from, to, target: target)
            for change in changes {
                print("\(change.change.padding(toLength: 8, withPad: " ", startingAt: 0)) \(change.path)")
                if let diff = change.diff { print(diff.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n")) }
            }
            if changes.isEmpty { print("no catalog difference") }
            return 0
        }
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "What one revision did: message, trailers, objects changed and its rollback script.",
        discussion: "Example:\n  bundle show bundle/m3a")

    @OptionGroup var projectOptions: ProjectOptions
    @Argument(help: "The revision.") var revision: String
    @Option(help: "Target name.") var target: String?

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let view = try HistoryView(project: try projectOptions.locate()).show(revision, target: target)
            print("commit \(view.commit.id.hex)")
            print("Author: \(view.commit.author.name) <\(view.commit.author.email)>")
            print("")
            print(view.commit.message)
            for change in view.changes { print("\(change.change.padding(toLength: 8, withPad: " ", startingAt: 0)) \(change.path)") }
            if let script = view.rollbackScript {
                print("\nrollback script:")
                print(script)
            }
            return 0
        }
    }
}
