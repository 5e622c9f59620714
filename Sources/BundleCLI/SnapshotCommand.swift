import ArgumentParser
import BundleKit
import Foundation

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "The baseline capture: row counts of watched tables, config gates and routine signatures (with a Δ column).",
        discussion: """
            The watch list comes from the lock ("watch": tables and config rows). With --baseline, compares with a \
            snapshot file written by --save, or with the state recorded at a git revision, and prints a Δ column.

            Examples:
              bundle snapshot m3a --save before.json
              bundle snapshot m3a --baseline before.json
              bundle snapshot m3a --baseline bundle/m3a~5
            """
    )

    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var databaseOptions: DatabaseOptions

    @Argument(help: "The lock whose watch list to use (default: the only lock).")
    var lock: String?

    @Option(help: ArgumentHelp("Write the snapshot as JSON to this file.", valueName: "file"))
    var save: String?

    @Option(help: ArgumentHelp("Compare with a saved snapshot file or a git revision.", valueName: "file-or-rev"))
    var baseline: String?

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let project = try projectOptions.locate()
            let url = try project.lockURL(for: lock, cwd: projectOptions.cwd)
            let (lockFile, _) = try Locksmith(project: project).read(url)
            let now = try Snapshot.capture(conninfo: databaseOptions.conninfo, watch: lockFile.watch)
            if let save {
                let path = URL(fileURLWithPath: save, relativeTo: projectOptions.cwd)
                do { try Data(jsonText(now).utf8).write(to: path) } catch { throw .io(path: path.path, reason: "cannot write the snapshot: \(error.localizedDescription)") }
            }
            var before: Snapshot? = nil
            if let baseline {
                let file = URL(fileURLWithPath: baseline, relativeTo: projectOptions.cwd)
                if let data = FileManager.default.contents(atPath: file.path) {
                    guard let decoded = try? JSONDecoder().decode(Snapshot.self, from: data) else {
                        throw .usage("\(baseline): not a snapshot file written by `bundle snapshot --save`")
                    }
                    before = decoded
                } else {
                    before = try Snapshot.recorded(project: project, revision: baseline)
                }
            }
            if format == .json {
                print(jsonText(now))
                return 0
            }
            let rows = Snapshot.compare(before ?? now, now)
            var section = ""
            for row in rows {
                if row.section != section {
                    section = row.section
                    print(before == nil ? "\n\(section)" : "\n\(section)  (baseline | now | Δ)")
                }
                print(before == nil ? "  \(row.item)  \(row.after)" : "  \(row.item)  \(row.before) | \(row.after) | \(row.delta)")
            }
            return 0
        }
    }
}
