import Foundation
import PostgresCatalog

/// A throwaway bundle project (`bundles/`, `locks/`) in a temporary directory.
public struct TestProject: Sendable {
    public let root: URL

    /// Creates an empty project with `bundles/` and `locks/`.
    public init(prefix: String = "bundle-project") throws {
        root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("bundles"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("locks"), withIntermediateDirectories: true)
    }

    /// Writes `contents` at the project-relative `path` (creating directories) and returns the path.
    @discardableResult
    public func write(_ path: String, _ contents: String) throws -> String {
        try write(path, Data(contents.utf8))
    }

    /// Writes raw bytes at the project-relative `path`.
    @discardableResult
    public func write(_ path: String, _ data: Data) throws -> String {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return path
    }

    /// Reads a project file.
    public func read(_ path: String) -> Data? {
        FileManager.default.contents(atPath: root.appendingPathComponent(path).path)
    }

    /// Removes the project directory.
    public func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}

/// The usual set-up of a CLI test: a project with its bundle files written, `bundle init` run and the files locked
/// in order as one lock, and a new database with a pre-state loaded.
public struct LockedTestProject: Sendable {
    /// What went wrong while setting up (the command and its output).
    public struct SetupError: Error, CustomStringConvertible {
        public let description: String
    }

    public let project: TestProject
    public let conninfo: String
    public var root: URL { project.root }

    /// Writes `bundles` (project-relative path → SQL), runs `bundle init .` and `bundle lock LOCK PATH…`, makes a
    /// database (`prefix` names it) and runs `prestate` there; throws when a step fails.
    public init(prefix: String, lock: String, bundles: [(path: String, sql: String)], prestate: String? = nil) throws {
        project = try TestProject(prefix: prefix)
        do {
            for (path, sql) in bundles { try project.write(path, sql) }
            for arguments in [["init", "."], ["lock", lock] + bundles.map(\.path).filter { !$0.hasSuffix(".rollback.sql") && !$0.hasSuffix(".verify.sql") }] {
                let result = runBundle(arguments, cwd: project.root)
                guard result.status == 0 else { throw SetupError(description: "bundle \(arguments.joined(separator: " ")): \(result.stdout)\(result.stderr)") }
            }
            conninfo = try TestCluster.makeDatabase(prefix: prefix.replacingOccurrences(of: "-", with: "_")).conninfo
            if let prestate {
                let connection = try PostgresConnection(conninfo: conninfo)
                defer { connection.close() }
                try connection.execute(prestate)
            }
        } catch {
            project.remove()
            throw error
        }
    }

    /// Removes the project directory (the database stays with the test cluster).
    public func remove() { project.remove() }
}

/// The repository's own root (where Package.swift is), found from this source file.
public let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}()

/// The built `bundle` executable next to the test bundle (`.build/<config>/bundle`).
public var bundleExecutablePath: String {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while directory.path != "/" {
        let candidate = directory.appendingPathComponent("bundle")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileManager.default.isExecutableFile(atPath: candidate.path)
        {
            return candidate.path
        }
        directory.deleteLastPathComponent()
    }
    return repositoryRoot.appendingPathComponent(".build/debug/bundle").path
}

private let psqlLoadLock = NSLock()

/// Runs a SQL file with `psql -X -q -1 -v ON_ERROR_STOP=1` against `conninfo`. Loads are serialised across the
/// test process because pre-states create cluster-wide roles, which concurrent loads would race on.
public func loadSQLFile(conninfo: String, path: String) -> (status: Int32, stdout: String, stderr: String) {
    psqlLoadLock.lock()
    defer { psqlLoadLock.unlock() }
    return runProcess(
        psqlPath, ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-d", conninfo, "-f", path],
        environment: ["PGOPTIONS": "-c lc_messages=C", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
}

/// Runs the built `bundle` executable in `cwd` with a minimal environment (plus `environment`).
public func runBundle(_ args: [String], cwd: URL = repositoryRoot, environment: [String: String] = [:]) -> (status: Int32, stdout: String, stderr: String) {
    var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    env.merge(environment) { _, new in new }
    return runProcess("/bin/sh", ["-c", "cd \"$0\" && exec \"$@\"", cwd.path, bundleExecutablePath] + args, environment: env)
}

/// `pg_dump --schema-only` of a database without bundle's registry schema and without pg_dump's random
/// `\restrict`/`\unrestrict` lines, for comparing schemas. Returns nil when pg_dump fails.
public func dumpSchema(_ conninfo: String, extraArguments: [String] = ["--schema-only"]) -> String? {
    guard let bin = try? LocalCluster.findServerBinaries() else { return nil }
    let result = runProcess(bin.appendingPathComponent("pg_dump").path, extraArguments + ["--exclude-schema=bundle", "-d", conninfo])
    guard result.status == 0 else { return nil }
    return result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        .filter { !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }.joined(separator: "\n")
}

/// SplitMix64: a small deterministic generator for seeded fuzz tests, so a failure reproduces with the same seed.
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
