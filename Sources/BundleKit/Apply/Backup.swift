import ContentHash
import Foundation
import PostgresCatalog

/// `--backup DIR`: one `pg_dump -Fc` of the target before the first bundle, as the seed operators took by hand.
enum Backup {
    static func take(conninfo: String, database: String, directory: URL) throws(BundleError) -> BackupRecord {
        let bin: URL
        do { bin = try LocalCluster.findServerBinaries() } catch { throw .database("cannot find pg_dump: \(error.errorDescription ?? "")") }
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw .io(path: directory.path, reason: "cannot create the backup directory: \(error.localizedDescription)")
        }
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let file = directory.appendingPathComponent("\(database)-\(stamp).dump")
        // The connection travels in libpq's environment variables, never on the command line (no password in `ps`).
        var environment = ProcessInfo.processInfo.environment
        guard let connection = ConnectionString.environment(for: conninfo) else {
            throw .connection("cannot parse the connection string \(ConnectionString.redact(conninfo))")
        }
        environment.merge(connection) { _, new in new }
        let dump = run(bin.appendingPathComponent("pg_dump").path, ["-Fc", "-f", file.path], environment: environment)
        guard dump.status == 0 else {
            throw .database("pg_dump failed: \(ConnectionString.scrub(dump.stderr, conninfo: conninfo))")
        }
        guard let data = FileManager.default.contents(atPath: file.path) else { throw .io(path: file.path, reason: "backup file is missing") }
        let toc = run(bin.appendingPathComponent("pg_restore").path, ["-l", file.path], environment: environment)
        let header = toc.stdout.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix(";\n") }
            .prefix(16).joined(separator: "\n")
        return BackupRecord(path: file.path, sha256: SHA256.hex(data), bytes: data.count, tocHeader: header)
    }

    private static func run(_ executable: String, _ arguments: [String], environment: [String: String]) -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID().uuidString).out")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        do {
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = try FileHandle(forWritingTo: err)
            try process.run()
            process.waitUntilExit()
        } catch {
            return (127, "", "\(error)")
        }
        return (
            process.terminationStatus, String(decoding: FileManager.default.contents(atPath: out.path) ?? Data(), as: UTF8.self),
            String(decoding: FileManager.default.contents(atPath: err.path) ?? Data(), as: UTF8.self)
        )
    }
}
