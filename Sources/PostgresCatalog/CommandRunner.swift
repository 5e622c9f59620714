import Foundation

/// The outcome of running an external command.
struct CommandOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String

    /// stdout and stderr together, trimmed, for error messages.
    var combined: String {
        [stdout, stderr].map { $0.trimmingTrailingNewlines() }.filter { !$0.isEmpty }.joined(separator: "\n")
    }
}

/// Runs external commands (initdb, pg_ctl, pg_config) with Foundation.Process.
///
/// Output goes to temporary files rather than pipes, so a command that fills a pipe buffer, or a daemon that
/// inherits a pipe, can never block the caller.
///
/// `startsDaemon`: on Linux, Foundation's `Process` learns that a child exited when a socket it passes to the child
/// reaches end-of-file. A daemon the child leaves behind (the postmaster started by `pg_ctl start`) inherits that
/// socket, and `waitUntilExit()` would then wait until the daemon exits. With `startsDaemon`, the command runs under
/// `bash`, which closes every descriptor above 2 before `exec`ing it; Foundation then waits with `waitpid`.
enum CommandRunner {
    /// Closes descriptors 3 and up, then execs "$@".
    private static let closeDescriptorsScript = """
        for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-"; fi; done 2>/dev/null
        exec "$@"
        """

    static func run(
        _ executable: String, _ arguments: [String],
        currentDirectory: URL? = nil, environment: [String: String]? = nil, startsDaemon: Bool = false
    ) throws(PostgresError) -> CommandOutput {
        #if os(Linux)
        if startsDaemon, FileManager.default.isExecutableFile(atPath: "/bin/bash") {
            return try run(
                "/bin/bash", ["-c", closeDescriptorsScript, "bundle-close-fds", executable] + arguments,
                currentDirectory: currentDirectory, environment: environment)
        }
        #endif
        let fileManager = FileManager.default
        let base = fileManager.temporaryDirectory.appendingPathComponent("bundle-cmd-\(UUID().uuidString)")
        let stdoutURL = base.appendingPathExtension("out")
        let stderrURL = base.appendingPathExtension("err")
        defer {
            try? fileManager.removeItem(at: stdoutURL)
            try? fileManager.removeItem(at: stderrURL)
        }
        do {
            guard fileManager.createFile(atPath: stdoutURL.path, contents: nil),
                  fileManager.createFile(atPath: stderrURL.path, contents: nil)
            else { throw CocoaError(.fileWriteUnknown) }
            let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
            let stderrHandle = try FileHandle(forWritingTo: stderrURL)
            defer {
                try? stdoutHandle.close()
                try? stderrHandle.close()
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let currentDirectory { process.currentDirectoryURL = currentDirectory }
            if let environment { process.environment = environment }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = stdoutHandle
            process.standardError = stderrHandle
            try process.run()
            process.waitUntilExit()
            let stdout = (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
            let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
            return CommandOutput(status: process.terminationStatus, stdout: stdout, stderr: stderr)
        } catch {
            throw .cluster("could not run \(executable): \(error.localizedDescription)")
        }
    }

    /// The first executable named `name` on `$PATH`, or in the usual system directories.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
        for directory in directories {
            let candidate = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
