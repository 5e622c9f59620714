import ArgumentParser
import BundleKit
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create bundles/, locks/ and a git repository (if there is none).",
        discussion: """
            Example:
              bundle init            # in the current directory
              bundle init ops/ddl    # in ops/ddl
            """
    )

    @Argument(help: "Directory to initialise (default: the current directory).")
    var directory: String?

    func run() throws {
        try reporting { () throws(BundleError) -> Int32 in
            let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
            let root = URL(fileURLWithPath: directory ?? ".", relativeTo: cwd).standardizedFileURL
            let report = try ProjectSetup.initialise(at: root)
            for line in report { print(line) }
            return 0
        }
    }
}
