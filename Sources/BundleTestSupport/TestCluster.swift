import Foundation
import PostgresCatalog

/// One throwaway PostgreSQL cluster per test process, plus a fresh database per test.
///
/// The cluster starts lazily on first use in `/tmp/bundle-test-<pid>-<random>` (short, so the Unix socket fits),
/// with `durable: false`. It is stopped and deleted when the process exits normally (an `atexit` handler); a
/// crashed test process leaves the server running in that directory until it is stopped by hand.
public enum TestCluster {
    private static let lock = NSLock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private static var cluster: LocalCluster?
    /// Guarded by `lock`: a start failure is remembered so every later test fails fast with the same error.
    nonisolated(unsafe) private static var startError: PostgresError?

    /// The process-wide cluster, started on first use. Thread-safe.
    public static func shared() throws(PostgresError) -> LocalCluster {
        lock.lock()
        defer { lock.unlock() }
        if let cluster { return cluster }
        if let startError { throw startError }
        let newCluster: LocalCluster
        do {
            newCluster = try isolated()
        } catch {
            startError = error
            throw error
        }
        cluster = newCluster
        atexit { TestCluster.removeSharedCluster() }
        return newCluster
    }

    /// A cluster of its own (started, in `/tmp/bundle-test-<pid>-<random>`), for a test that other tests' activity
    /// in a shared cluster would disturb (catalog marks: transaction ids and roles are cluster-wide); also what
    /// `shared()` starts. The caller removes it (`remove()`).
    public static func isolated() throws(PostgresError) -> LocalCluster {
        let directory = URL(fileURLWithPath: "/tmp/bundle-test-\(getpid())-\(randomSuffix())", isDirectory: true)
        let cluster = LocalCluster(stateDirectory: directory, durable: false)
        do {
            try cluster.start()
        } catch {
            try? cluster.remove()
            throw error
        }
        return cluster
    }

    /// Creates a new, uniquely named database in the shared cluster and returns its name and connection string.
    /// `prefix` is lowercased and reduced to `[a-z0-9_]`; databases live until the cluster is removed.
    public static func makeDatabase(prefix: String) throws(PostgresError) -> (name: String, conninfo: String) {
        let cluster = try shared()
        let cleaned = String(prefix.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" }
            .prefix(40))
        let name = (cleaned.isEmpty ? "test" : cleaned) + "_" + randomSuffix()
        let connection = try PostgresConnection(conninfo: cluster.conninfo)
        defer { connection.close() }
        try connection.execute("CREATE DATABASE \"\(name)\"")
        return (name, cluster.conninfo(database: name))
    }

    /// Connects to a fresh database (see `makeDatabase(prefix:)`).
    public static func connectToNewDatabase(prefix: String) throws(PostgresError) -> PostgresConnection {
        try PostgresConnection(conninfo: makeDatabase(prefix: prefix).conninfo)
    }

    private static func removeSharedCluster() {
        lock.lock()
        defer { lock.unlock() }
        try? cluster?.remove()
        cluster = nil
    }

    private static func randomSuffix() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }
}

/// The `psql` next to the server binaries (`LocalCluster.findServerBinaries()`), else `psql` from `$PATH`.
public var psqlPath: String {
    if let directory = try? LocalCluster.findServerBinaries() {
        let path = directory.appendingPathComponent("psql").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return "psql"
}

/// Runs `exe` with `args` and waits for it. `exe` is a path, or a name looked up on `$PATH`. `environment` replaces
/// the inherited environment when given; `stdin` is fed to the command (else it reads /dev/null).
/// Output is collected through temporary files, so large output never blocks. A command that cannot be started
/// returns status 127 with the reason in `stderr`.
///
/// Do not use it for commands that leave a daemon running (`pg_ctl start`): Foundation's `Process` would wait for the
/// daemon too (see `LocalCluster`, which handles that case).
public func runProcess(
    _ exe: String, _ args: [String], environment: [String: String]? = nil, stdin: Data? = nil
) -> (status: Int32, stdout: String, stderr: String) {
    let fileManager = FileManager.default
    let base = fileManager.temporaryDirectory.appendingPathComponent("bundle-run-\(UUID().uuidString)")
    let paths = ["in", "out", "err"].map { base.appendingPathExtension($0).path }
    defer { paths.forEach { try? fileManager.removeItem(atPath: $0) } }
    do {
        guard fileManager.createFile(atPath: paths[0], contents: stdin ?? Data()),
              fileManager.createFile(atPath: paths[1], contents: nil),
              fileManager.createFile(atPath: paths[2], contents: nil)
        else { return (127, "", "could not create temporary files in \(fileManager.temporaryDirectory.path)") }
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: paths[0]))
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: paths[1]))
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: paths[2]))
        defer { [input, output, errors].forEach { try? $0.close() } }
        let process = Process()
        if exe.contains("/") {
            process.executableURL = URL(fileURLWithPath: exe)
            process.arguments = args
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [exe] + args
        }
        if let environment { process.environment = environment }
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let stdout = (try? String(contentsOfFile: paths[1], encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: paths[2], encoding: .utf8)) ?? ""
        return (process.terminationStatus, stdout, stderr)
    } catch {
        return (127, "", "could not run \(exe): \(error.localizedDescription)")
    }
}
