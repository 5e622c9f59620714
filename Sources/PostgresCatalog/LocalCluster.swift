import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private PostgreSQL cluster (15 or whatever `findServerBinaries()` finds) in a state directory, reachable only
/// through a Unix socket.
///
/// The state directory holds `data/` (the cluster), `server.log`, `cluster.json` (the remembered port and socket
/// directory) and, when its path is short enough, `socket/`. Unix socket paths are limited to about 107 bytes, so a
/// long state directory gets its socket directory in `/tmp/bundle-<hash>` instead.
///
/// When the process runs as root, `initdb` and `pg_ctl` run as the `postgres` OS user (`runuser -u postgres --`),
/// and the state and socket directories are chowned to it.
///
/// `Sendable`: every stored property is an immutable value. The lifecycle methods (`start`, `stop`, `remove`) act on
/// the file system and server processes, so callers must not run them concurrently for the same cluster.
public final class LocalCluster: Sendable {
    /// What `status()` found.
    public struct Status: Sendable, Equatable {
        /// Whether a postmaster is running for the data directory.
        public var running: Bool
        /// The postmaster's process ID when running.
        public var pid: Int?
        /// The port (the Unix socket is `<socketDirectory>/.s.PGSQL.<port>`).
        public var port: Int
        /// The directory holding the Unix socket.
        public var socketDirectory: String
        /// The cluster's data directory.
        public var dataDirectory: String
    }

    /// The directory holding everything belonging to this cluster.
    public let stateDirectory: URL
    /// The port number, which names the Unix socket file; the server does not listen on TCP.
    public let port: Int
    /// The directory holding the Unix socket.
    public let socketDirectory: String
    /// The cluster's data directory, `<stateDirectory>/data`.
    public let dataDirectory: String
    /// The server log file, `<stateDirectory>/server.log`.
    public let logFile: String
    /// `false` turns off `fsync`, `full_page_writes` and `synchronous_commit` (and syncing in initdb): fast, but a
    /// machine crash can corrupt the cluster. Only for throwaway test clusters.
    public let durable: Bool

    private struct SavedState: Codable {
        var port: Int
        var socketDirectory: String
    }

    private var stateFile: URL { stateDirectory.appendingPathComponent("cluster.json") }

    /// Describes a cluster in `stateDirectory`; nothing is started until `start()`.
    ///
    /// The port and socket directory remembered in the state directory are reused. Otherwise `port` (or a free port
    /// when `nil`) is chosen and remembered at once, so every `LocalCluster` for this directory agrees on it.
    public init(stateDirectory: URL, port: Int? = nil, durable: Bool = true) {
        let directory = stateDirectory.absoluteURL.standardizedFileURL
        self.stateDirectory = directory
        self.durable = durable
        self.dataDirectory = directory.appendingPathComponent("data").path
        self.logFile = directory.appendingPathComponent("server.log").path
        let saved = (try? Data(contentsOf: directory.appendingPathComponent("cluster.json")))
            .flatMap { try? JSONDecoder().decode(SavedState.self, from: $0) }
        self.port = port ?? saved?.port ?? Self.freePort()
        self.socketDirectory = saved?.socketDirectory ?? Self.socketDirectory(for: directory)
        try? saveState()
    }

    /// The connection string for the `postgres` database as the `postgres` user:
    /// `host=<socketdir> port=<port> user=postgres dbname=postgres`.
    public var conninfo: String { conninfo(database: "postgres") }

    /// The connection string for `database` as the `postgres` user.
    public func conninfo(database: String) -> String {
        "host=\(ConnectionString.quoteValue(socketDirectory)) port=\(port) user=postgres "
            + "dbname=\(ConnectionString.quoteValue(database))"
    }

    // MARK: - Lifecycle

    /// Creates the cluster if needed (`initdb -A trust -U postgres -E UTF8 --locale=C`) and starts it with
    /// `pg_ctl start -w`. Does nothing if it is already running.
    public func start() throws(PostgresError) {
        let binaries = try Self.findServerBinaries()
        try prepareDirectories()
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            if fileManager.fileExists(atPath: dataDirectory) {
                // Left over from an interrupted initdb; initdb refuses a non-empty directory.
                try removeItem(dataDirectory)
            }
            var arguments = ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C",
                             "--no-instructions"]
            if !durable { arguments.append("--no-sync") }
            let output = try runServerTool(binaries, "initdb", arguments)
            guard output.status == 0 else {
                throw .cluster("initdb failed (exit \(output.status)) for \(dataDirectory):\n\(output.combined)")
            }
        }
        if status().running { return }
        var settings = ["listen_addresses=", "unix_socket_directories=\(socketDirectory)", "port=\(port)"]
        if !durable { settings += ["fsync=off", "full_page_writes=off", "synchronous_commit=off"] }
        let options = settings.map { "-c " + Self.shellQuote($0) }.joined(separator: " ")
        let output = try runServerTool(
            binaries, "pg_ctl", ["-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "-o", options, "start"],
            startsDaemon: true)
        guard output.status == 0 else {
            throw .cluster("""
                pg_ctl start failed (exit \(output.status)) for \(dataDirectory):
                \(output.combined)
                Server log \(logFile) (last lines):
                \(logTail())
                """)
        }
    }

    /// Stops the server with `pg_ctl stop -m <mode>` (`smart`, `fast` or `immediate`) and waits for it to exit.
    /// Does nothing if it is not running.
    public func stop(mode: String = "fast") throws(PostgresError) {
        guard ["smart", "fast", "immediate"].contains(mode) else {
            throw .cluster("unknown shutdown mode \"\(mode)\"; use smart, fast or immediate")
        }
        guard status().running else { return }
        let binaries = try Self.findServerBinaries()
        let output = try runServerTool(binaries, "pg_ctl", ["-D", dataDirectory, "-m", mode, "-w", "-t", "60", "stop"])
        guard output.status == 0 else {
            throw .cluster("""
                pg_ctl stop failed (exit \(output.status)) for \(dataDirectory):
                \(output.combined)
                Server log \(logFile) (last lines):
                \(logTail())
                """)
        }
    }

    /// Stops the server (fast, else immediate) and deletes the state directory and socket directory.
    public func remove() throws(PostgresError) {
        if status().running {
            do throws(PostgresError) {
                try stop(mode: "fast")
            } catch {
                try stop(mode: "immediate")
            }
        }
        if !socketDirectory.hasPrefix(stateDirectory.path + "/"), FileManager.default.fileExists(atPath: socketDirectory) {
            try removeItem(socketDirectory)
        }
        if FileManager.default.fileExists(atPath: stateDirectory.path) {
            try removeItem(stateDirectory.path)
        }
    }

    /// Whether the server runs, judged from `postmaster.pid` and whether that process exists.
    public func status() -> Status {
        var pid: Int?
        if let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
           let first = text.split(separator: "\n").first, let number = Int32(first.trimmingCharacters(in: .whitespaces)),
           number > 0, kill(number, 0) == 0 || errno == EPERM {
            pid = Int(number)
        }
        return Status(
            running: pid != nil, pid: pid, port: port, socketDirectory: socketDirectory, dataDirectory: dataDirectory)
    }

    /// The last `lines` lines of the server log, or a note that there is none.
    public func logTail(lines: Int = 30) -> String {
        guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return "(no server log)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    // MARK: - Server binaries

    /// Locates the directory with the server binaries (`initdb`, `pg_ctl`, `postgres`, `psql`):
    /// `$BUNDLE_PG_BINDIR`, else `pg_config --bindir`, else the newest `/usr/lib/postgresql/<version>/bin`.
    public static func findServerBinaries() throws(PostgresError) -> URL {
        let fileManager = FileManager.default
        func hasServer(_ directory: String) -> Bool {
            ["initdb", "pg_ctl"].allSatisfy { fileManager.isExecutableFile(atPath: directory + "/" + $0) }
        }
        if let explicit = ProcessInfo.processInfo.environment["BUNDLE_PG_BINDIR"], !explicit.isEmpty {
            guard hasServer(explicit) else {
                throw .cluster("BUNDLE_PG_BINDIR=\(explicit) does not contain initdb and pg_ctl; point it at the "
                    + "PostgreSQL server bin directory, e.g. /usr/lib/postgresql/15/bin")
            }
            return URL(fileURLWithPath: explicit, isDirectory: true)
        }
        if let pgConfig = CommandRunner.which("pg_config"),
           let output = try? CommandRunner.run(pgConfig, ["--bindir"]), output.status == 0 {
            let directory = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if hasServer(directory) { return URL(fileURLWithPath: directory, isDirectory: true) }
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? fileManager.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { name in Double(name).map { (name, $0) } }
            .sorted { $0.1 > $1.1 }
        for (name, _) in versions where hasServer("\(root)/\(name)/bin") {
            return URL(fileURLWithPath: "\(root)/\(name)/bin", isDirectory: true)
        }
        throw .cluster("PostgreSQL server binaries (initdb, pg_ctl) not found: set BUNDLE_PG_BINDIR, or install "
            + "the server (e.g. apt-get install postgresql-15)")
    }

    // MARK: - Internals

    private static var isRoot: Bool { geteuid() == 0 }

    /// Runs a server tool, as the `postgres` OS user when this process is root (the server refuses to run as root).
    private func runServerTool(
        _ binaries: URL, _ tool: String, _ arguments: [String], startsDaemon: Bool = false
    ) throws(PostgresError) -> CommandOutput {
        let executable = binaries.appendingPathComponent(tool).path
        var environment = ProcessInfo.processInfo.environment
        for key in ["PGDATA", "PGHOST", "PGPORT", "PGOPTIONS", "PGUSER", "PGDATABASE"] { environment[key] = nil }
        if Self.isRoot {
            guard let runuser = CommandRunner.which("runuser") else {
                throw .cluster("running as root but runuser(1) is not available to run \(tool) as the postgres user")
            }
            return try CommandRunner.run(
                runuser, ["-u", "postgres", "--", executable] + arguments,
                currentDirectory: stateDirectory, environment: environment, startsDaemon: startsDaemon)
        }
        return try CommandRunner.run(
            executable, arguments, currentDirectory: stateDirectory, environment: environment,
            startsDaemon: startsDaemon)
    }

    /// Creates the state and socket directories and, as root, hands them to the `postgres` user.
    private func prepareDirectories() throws(PostgresError) {
        let fileManager = FileManager.default
        do {
            for path in [stateDirectory.path, socketDirectory] {
                try fileManager.createDirectory(
                    atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
        } catch {
            throw .cluster("could not create \(stateDirectory.path): \(error.localizedDescription)")
        }
        try saveState()
        guard Self.isRoot else { return }
        guard let account = getpwnam("postgres") else {
            throw .cluster("running as root, but there is no postgres OS user to run the server as; create one "
                + "(useradd -r postgres) or run as a non-root user")
        }
        let uid = account.pointee.pw_uid
        let gid = account.pointee.pw_gid
        for path in [stateDirectory.path, socketDirectory] {
            guard chown(path, uid, gid) == 0 else {
                throw .cluster("could not chown \(path) to postgres: \(String(cString: strerror(errno)))")
            }
            // The postgres user must be able to reach the directory through all its parents.
            var parent = (path as NSString).deletingLastPathComponent
            while parent != "/" && !parent.isEmpty {
                var info = stat()
                if stat(parent, &info) == 0, info.st_mode & S_IXOTH == 0, info.st_uid != uid {
                    throw .cluster("the postgres user cannot enter \(parent) (mode \(String(info.st_mode & 0o777, radix: 8))); "
                        + "put the cluster state directory somewhere world-traversable, e.g. under /tmp")
                }
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
    }

    private func saveState() throws(PostgresError) {
        do {
            try FileManager.default.createDirectory(
                at: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            let data = try JSONEncoder().encode(SavedState(port: port, socketDirectory: socketDirectory))
            try data.write(to: stateFile, options: .atomic)
        } catch {
            throw .cluster("could not write \(stateFile.path): \(error.localizedDescription)")
        }
    }

    private func removeItem(_ path: String) throws(PostgresError) {
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw .cluster("could not delete \(path): \(error.localizedDescription)")
        }
    }

    /// `<state>/socket` when the socket path fits comfortably and needs no quoting, else `/tmp/bundle-<hash>`.
    private static func socketDirectory(for stateDirectory: URL) -> String {
        let candidate = stateDirectory.appendingPathComponent("socket").path
        let safe = candidate.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-".contains($0)) }
        if safe, (candidate + "/.s.PGSQL.65535").utf8.count <= 100 { return candidate }
        // FNV-1a of the state path: stable for the same state directory, distinct for different ones.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stateDirectory.path.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return "/tmp/bundle-" + String(hash, radix: 16)
    }

    /// A TCP port nobody listens on right now; the server only uses it to name its socket file.
    private static func freePort() -> Int {
        #if os(Linux)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return Int.random(in: 40000..<60000) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else { return Int.random(in: 40000..<60000) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func shellQuote(_ text: String) -> String {
        "'" + replacingScalar("'", with: "'\\''", in: text) + "'"
    }
}
