import Foundation
import PostgresCatalog

/// The embedded PostgreSQL server of a project: a private cluster in `.bundle/sandbox`, on a Unix socket.
public struct Sandbox: Sendable {
    /// What `status` reports.
    public struct Status: Sendable, Equatable {
        public let running: Bool
        public let initialised: Bool
        public let pid: Int?
        public let conninfo: String
        public let dataDirectory: String
    }

    public let stateDirectory: URL

    /// The sandbox of `project` (or of an explicit state directory).
    public init(project: Project, stateDirectory: URL? = nil) {
        self.stateDirectory = stateDirectory ?? project.stateDirectory.appendingPathComponent("sandbox")
    }

    private var cluster: LocalCluster { LocalCluster(stateDirectory: stateDirectory) }

    /// Initialises (first time) and starts the cluster; returns its conninfo.
    public func start() throws(BundleError) -> String {
        let cluster = self.cluster
        do {
            try cluster.start()
        } catch {
            throw .database("cannot start the sandbox PostgreSQL server: \(error.errorDescription ?? "\(error)")")
        }
        return cluster.conninfo
    }

    /// Stops the cluster and, unless `keep`, deletes its data.
    public func stop(keep: Bool) throws(BundleError) {
        let cluster = self.cluster
        do {
            if keep { try cluster.stop(mode: "fast") } else { try cluster.remove() }
        } catch {
            throw .database("cannot stop the sandbox PostgreSQL server: \(error.errorDescription ?? "\(error)")")
        }
    }

    /// Whether the cluster exists and runs.
    public func status() -> Status {
        let cluster = self.cluster
        let status = cluster.status()
        let initialised = FileManager.default.fileExists(atPath: URL(fileURLWithPath: status.dataDirectory).appendingPathComponent("PG_VERSION").path)
        return Status(running: status.running, initialised: initialised, pid: status.pid, conninfo: cluster.conninfo, dataDirectory: status.dataDirectory)
    }
}
