import Foundation
import PostgresCatalog

/// `bundle status`: each bundle of a lock against the target's registry.
public struct TargetStatus: Codable, Sendable {
    public struct Row: Codable, Sendable {
        public var txn: Int
        public var name: String
        public var path: String
        /// `applied`, `pending` or `changed` (applied with a different sha256 than the lock pins now).
        public var state: String
        public var commit: String?
        public var appliedAt: String?
    }

    public var lock: String
    public var target: String
    public var bundles: [Row]

    public static func read(lock: LockFile, conninfo: String, target: String?) throws(BundleError) -> TargetStatus {
        let connection = try DatabaseTarget.connect(conninfo)
        defer { connection.close() }
        let target = target ?? connection.database
        let applied = Registry.appliedBundles(try db { try Registry(connection: connection).entries(target: target) }, lockName: lock.name)
        let rows = lock.bundles.map { bundle -> Row in
            guard let entry = applied[bundle.name] else {
                return Row(txn: bundle.txn, name: bundle.name, path: bundle.path, state: "pending", commit: nil, appliedAt: nil)
            }
            return Row(
                txn: bundle.txn, name: bundle.name, path: bundle.path, state: entry.sha256 == bundle.sha256 ? "applied" : "changed",
                commit: entry.commitID, appliedAt: entry.finishedAt)
        }
        return TargetStatus(lock: lock.name, target: target, bundles: rows)
    }
}
