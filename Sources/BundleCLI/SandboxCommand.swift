import ArgumentParser
import BundleKit
import Foundation

struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "A private PostgreSQL server for trying bundles (state in .bundle/sandbox, Unix socket only).",
        discussion: """
            Example:
              bundle sandbox start
              bundle plan m3a --db "$(bundle sandbox url)"
              bundle sandbox stop
            """,
        subcommands: [Start.self, Stop.self, Status.self, URLCommand.self]
    )

    struct Options: ParsableArguments {
        @OptionGroup var projectOptions: ProjectOptions

        @Option(help: ArgumentHelp("State directory of the sandbox (default: PROJECT/.bundle/sandbox).", valueName: "dir"))
        var stateDir: String?

        func sandbox() throws(BundleError) -> Sandbox {
            if let stateDir {
                let url = URL(fileURLWithPath: stateDir, relativeTo: projectOptions.cwd).standardizedFileURL
                return Sandbox(project: Project(root: projectOptions.cwd), stateDirectory: url)
            }
            return Sandbox(project: try projectOptions.locate())
        }
    }

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Initialise (first time) and start the sandbox server; print its conninfo.",
            discussion: "Example:\n  bundle sandbox start")
        @OptionGroup var options: Options

        func run() throws {
            try reporting { () throws(BundleError) -> Int32 in
                print(try options.sandbox().start())
                return 0
            }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop the sandbox server and delete its data (--keep keeps the data).",
            discussion: "Example:\n  bundle sandbox stop")
        @OptionGroup var options: Options
        @Flag(help: "Keep the data directory for the next start.")
        var keep = false

        func run() throws {
            try reporting { () throws(BundleError) -> Int32 in
                try options.sandbox().stop(keep: keep)
                print(keep ? "stopped" : "stopped and removed")
                return 0
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say whether the sandbox server runs (exit 1 when it does not).",
            discussion: "Example:\n  bundle sandbox status")
        @OptionGroup var options: Options

        func run() throws {
            try reporting { () throws(BundleError) -> Int32 in
                let status = try options.sandbox().status()
                if status.running {
                    print("running (pid \(status.pid.map(String.init) ?? "?")): \(status.conninfo)")
                    return 0
                }
                print(status.initialised ? "stopped (data in \(status.dataDirectory))" : "not created")
                return 1
            }
        }
    }

    struct URLCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url",
            abstract: "Print the sandbox server's conninfo (for --db).",
            discussion: "Example:\n  bundle plan m3a --db \"$(bundle sandbox url)\"")
        @OptionGroup var options: Options

        func run() throws {
            try reporting { () throws(BundleError) -> Int32 in
                let status = try options.sandbox().status()
                print(status.conninfo)
                return status.running ? 0 : 1
            }
        }
    }
}
