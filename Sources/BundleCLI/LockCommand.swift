import ArgumentParser
import BundleKit
import Foundation

struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock",
        abstract: "Pin bundle files (sha256 of their exact bytes) and their execution order in locks/NAME.lock.",
        discussion: """
            The files run in the order given, as TXN-1…TXN-n. A sibling FILE.rollback.sql or FILE.verify.sql is \
            pinned with its bundle. Exit 1 from --check when any pinned file differs.

            Examples:
              bundle lock m3a bundles/m3a/A-lifecycle-vocab-and-log.sql bundles/m3a/B-immutability-triggers.sql
              bundle lock m3a --update     # re-pin after reviewing an edit
              bundle lock m3a --check      # cosmetic (whitespace/comments) vs real changes
            """
    )

    @OptionGroup var projectOptions: ProjectOptions

    @Argument(help: "The lock's name (locks/NAME.lock).")
    var name: String

    @Argument(help: "Bundle files, in execution order.")
    var files: [String] = []

    @Flag(help: "Re-pin the files of an existing lock.")
    var update = false

    @Flag(help: "Compare the files with their pins; report cosmetic and real changes.")
    var check = false

    @Option(help: "Output format for --check.")
    var format: OutputFormat = .text

    func validate() throws {
        if update && check { throw ValidationError("--update and --check cannot be combined") }
        if (update || check) && !files.isEmpty { throw ValidationError("--update and --check take no files: the lock already names them") }
        if !update && !check && files.isEmpty { throw ValidationError("name at least one bundle file, e.g. `bundle lock \(name) bundles/\(name)/*.sql`") }
    }

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let project = try projectOptions.locate()
            let smith = Locksmith(project: project)
            if check {
                let url = try project.lockURL(for: name, cwd: projectOptions.cwd)
                let entries = try smith.check(url)
                if format == .json {
                    print(LockCheckReport(lock: name, entries: entries).json())
                } else {
                    for entry in entries {
                        let txn = entry.txn.map { "TXN-\($0)" } ?? "-"
                        var line = "\(entry.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(txn.padding(toLength: 7, withPad: " ", startingAt: 0)) \(entry.path)"
                        if entry.state != .ok, let pinned = entry.pinned { line += "\n  pinned sha256 \(pinned)" }
                        if entry.state != .ok, let actual = entry.actual { line += "\n  actual sha256 \(actual)" }
                        if let detail = entry.detail { line += "\n  \(detail)" }
                        print(line)
                    }
                }
                return entries.allSatisfy { $0.state == .ok } ? 0 : 1
            }
            let lock: LockFile
            if update {
                lock = try smith.update(try project.lockURL(for: name, cwd: projectOptions.cwd))
            } else {
                var paths: [String] = []
                for file in files { paths.append(try project.relativePath(of: file, cwd: projectOptions.cwd)) }
                // Re-locking an existing lock keeps the names of the files it already pinned.
                let existing = project.locksDirectory.appendingPathComponent("\(name).lock")
                let previous = FileManager.default.fileExists(atPath: existing.path) ? (try? smith.read(existing))?.lock : nil
                lock = try smith.makeLock(name: name, paths: paths, keeping: previous)
            }
            let url = try smith.write(lock)
            print("wrote \(url.path) (\(lock.bundles.count) bundle\(lock.bundles.count == 1 ? "" : "s"))")
            for bundle in lock.bundles {
                print("  \(bundle.label)  \(bundle.name)  \(bundle.sha256)  \(bundle.path)")
            }
            return 0
        }
    }
}

/// JSON form of `lock --check`.
struct LockCheckReport: Encodable {
    struct Entry: Encodable {
        let txn: Int?
        let path: String
        let state: String
        let pinned: String?
        let actual: String?
        let detail: String?
    }

    let lock: String
    let files: [Entry]

    init(lock: String, entries: [LockCheckEntry]) {
        self.lock = lock
        files = entries.map { Entry(txn: $0.txn, path: $0.path, state: $0.state.rawValue, pinned: $0.pinned, actual: $0.actual, detail: $0.detail) }
    }

    func json() -> String { jsonText(self) }
}
