import Foundation
import GitHistory
import PostgresCatalog

/// The seed's Phase 3 baseline: row counts of watched tables, config gates and routine signatures.
public struct Snapshot: Codable, Sendable, Equatable {
    public struct Signature: Codable, Sendable, Equatable {
        public var schema: String
        public var name: String
        public var identityArguments: String
        public var fullArguments: String
        public var bodyMD5: String
        public var bodyLength: Int
        public var securityDefiner: Bool
        public var config: String

        enum CodingKeys: String, CodingKey {
            case schema, name, config
            case identityArguments = "identity_args"
            case fullArguments = "full_args"
            case bodyMD5 = "body_md5"
            case bodyLength = "body_length"
            case securityDefiner = "security_definer"
        }

        public var identity: String { "\(schema).\(name)(\(identityArguments))" }
    }

    public struct ConfigRow: Codable, Sendable, Equatable {
        public var table: String
        public var key: String
        public var value: String
    }

    public var rowCounts: [String: Int]
    public var config: [ConfigRow]
    public var signatures: [Signature]

    enum CodingKeys: String, CodingKey {
        case config, signatures
        case rowCounts = "row_counts"
    }

    /// Reads a snapshot from captured state files (live or from git).
    public init(state: [String: String]) {
        func rows(_ path: String) -> [[String]] {
            (state[path] ?? "").split(separator: "\n").dropFirst().map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        }
        rowCounts = Dictionary(rows("watch/row-counts.tsv").compactMap { $0.count >= 2 ? ($0[0], Int($0[1]) ?? 0) : nil }, uniquingKeysWith: { a, _ in a })
        config = rows("watch/config.tsv").compactMap { $0.count >= 3 ? ConfigRow(table: $0[0], key: $0[1], value: $0[2...].joined(separator: "\t")) : nil }
        signatures = rows("signatures.tsv").compactMap { f in
            guard f.count >= 8 else { return nil }
            return Signature(
                schema: f[0], name: f[1], identityArguments: f[2], fullArguments: f[3], bodyMD5: f[4], bodyLength: Int(f[5]) ?? 0,
                securityDefiner: f[6] == "t", config: f[7])
        }
    }

    /// Captures the live snapshot, with the watch list of a lock.
    public static func capture(conninfo: String, watch: WatchList?) throws(BundleError) -> Snapshot {
        let connection = try DatabaseTarget.connect(conninfo)
        defer { connection.close() }
        return Snapshot(state: try captureState(connection, watch: watch ?? WatchList(tables: [], config: [])))
    }

    /// The snapshot recorded at a revision of the project repository.
    public static func recorded(project: Project, revision: String) throws(BundleError) -> Snapshot {
        let repository: GitRepository
        do { repository = try GitRepository.open(at: project.root) } catch { throw .history("not inside a git repository: \(error.errorDescription ?? "")") }
        guard let id = try? repository.resolveCommit(revision) else { throw .usage("unknown revision '\(revision)'") }
        return Snapshot(state: try readState(repository, at: id))
    }

    /// Lines of a before/after table with a Δ column.
    public static func compare(_ before: Snapshot, _ after: Snapshot) -> [(section: String, item: String, before: String, after: String, delta: String)] {
        var lines: [(String, String, String, String, String)] = []
        for table in Set(before.rowCounts.keys).union(after.rowCounts.keys).sorted() {
            let a = before.rowCounts[table]
            let b = after.rowCounts[table]
            let delta = (a != nil && b != nil) ? (b! - a! == 0 ? "0" : String(format: "%+d", b! - a!)) : "n/a"
            lines.append(("row counts", table, a.map(String.init) ?? "-", b.map(String.init) ?? "-", delta))
        }
        // Keys and values by bytes: PostgreSQL tells apart what differs only in Unicode normalization.
        let keys = uniqueSortedByBytes(before.config.map { "\($0.table)\t\($0.key)" } + after.config.map { "\($0.table)\t\($0.key)" })
        for key in keys {
            let a = before.config.first { sameBytes("\($0.table)\t\($0.key)", key) }?.value
            let b = after.config.first { sameBytes("\($0.table)\t\($0.key)", key) }?.value
            lines.append(("config", key.replacingOccurrences(of: "\t", with: " "), a ?? "-", b ?? "-", sameBytes(a, b) ? "unchanged" : a == nil ? "added" : b == nil ? "removed" : "changed"))
        }
        let identities = uniqueSortedByBytes(before.signatures.map(\.identity) + after.signatures.map(\.identity))
        for identity in identities {
            let a = before.signatures.first { sameBytes($0.identity, identity) }
            let b = after.signatures.first { sameBytes($0.identity, identity) }
            func describe(_ s: Signature?) -> String {
                s.map { "md5 \($0.bodyMD5.prefix(8)) len \($0.bodyLength) secdef \($0.securityDefiner ? "t" : "f") \($0.config)" } ?? "-"
            }
            lines.append(("signatures", identity, describe(a), describe(b), a == b ? "identical" : a == nil ? "added" : b == nil ? "removed" : "changed"))
        }
        return lines
    }
}
