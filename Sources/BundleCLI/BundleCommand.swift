import ArgumentParser
import BundleKit
import Foundation

/// The `bundle` command: a versioned DDL bundle manager for PostgreSQL.
public struct BundleCommand: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Versioned, content-addressed DDL bundles for PostgreSQL: plan against the live catalog, apply one transaction per bundle, audit in git.",
        discussion: """
            Exit codes: 0 success; 1 the operation found problems or failed (blocking plan findings, \
            a failed and rolled-back apply, drift); 2 usage, configuration, lock-integrity or connection error.

            Example:
              bundle init
              bundle lock m3a bundles/m3a/A-*.sql bundles/m3a/B-*.sql
              bundle plan m3a --db postgres://app@db.example/prod
            """,
        version: version,
        subcommands: [InitCommand.self, LockCommand.self, SandboxCommand.self, PlanCommand.self, ApplyCommand.self, StatusCommand.self, LogCommand.self, RollbackCommand.self, DriftCommand.self, DiffCommand.self, ShowCommand.self, SnapshotCommand.self]
    )

    public init() {}

    /// Parses the process arguments, runs the command and exits with bundle's stable exit codes
    /// (argument-parser's own usage failures become exit code 2).
    public static func runMain(_ arguments: [String]? = nil) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Options shared by every command that works on a project.
struct ProjectOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The project directory (default: the nearest directory with locks/).", valueName: "dir"))
    var project: String?

    var cwd: URL { URL(fileURLWithPath: FileManager.default.currentDirectoryPath) }

    func locate() throws(BundleError) -> Project {
        try Project.locate(explicit: project, start: cwd)
    }
}

/// Options for commands that connect to a database.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Connection string or postgres:// URI (default: $DATABASE_URL, else libpq's PG* environment).", valueName: "conninfo"))
    var db: String?

    var conninfo: String {
        DatabaseTarget.resolve(explicit: db, environment: ProcessInfo.processInfo.environment)
    }
}

/// Output formats for commands that report.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

/// Writes to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
}

/// Runs a command body, turning `BundleError` into a message on stderr and its stable exit code.
func reporting(_ body: () throws(BundleError) -> Int32) throws {
    let code: Int32
    do {
        code = try body()
    } catch {
        printError("bundle: error: " + (error.errorDescription ?? "\(error)"))
        throw ExitCode(error.exitCode)
    }
    if code != 0 { throw ExitCode(code) }
}

/// Pretty, key-sorted JSON text (dates as ISO 8601): the one JSON style of every `--format json`.
func jsonText<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
}
