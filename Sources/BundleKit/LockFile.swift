import ContentHash
import Foundation
import SQLSyntax

/// A file pinned by a lock: its project-relative path and the sha256 of its exact bytes.
public struct PinnedFile: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String

    public init(path: String, sha256: String) {
        self.path = path
        self.sha256 = sha256
    }
}

/// One bundle of a lock: a SQL file applied as transaction `TXN-<txn>`.
public struct LockedBundle: Codable, Sendable, Equatable {
    /// 1-based position in the execution order.
    public var txn: Int
    /// Short name, unique within the lock (`A`, `E`, or the file stem).
    public var name: String
    /// Project-relative path of the SQL file.
    public var path: String
    /// sha256 of the file's exact bytes.
    public var sha256: String
    /// sha256 of the parse tree without locations: equal across whitespace/comment-only edits.
    public var semanticSha256: String
    /// Optional hand-written rollback script (`FILE.rollback.sql`).
    public var rollback: PinnedFile?
    /// Optional verification script (`FILE.verify.sql`): must succeed and not return false.
    public var verify: PinnedFile?

    enum CodingKeys: String, CodingKey {
        case txn, name, path, sha256, rollback, verify
        case semanticSha256 = "semantic_sha256"
    }

    /// The `TXN-n` label.
    public var label: String { "TXN-\(txn)" }
}

/// Rows of a configuration table that are recorded with the state (the seed's "config gates").
public struct ConfigWatch: Codable, Sendable, Equatable {
    /// Qualified table name, e.g. `public.dot_config`.
    public var table: String
    /// Key column.
    public var key: String
    /// Value column.
    public var value: String
    /// Only keys starting with this prefix, when set.
    public var prefix: String?
}

/// Tables and configuration rows whose counts/values are recorded before and after a change.
public struct WatchList: Codable, Sendable, Equatable {
    public var tables: [String]?
    public var config: [ConfigWatch]?
}

/// A lockfile (`locks/NAME.lock`): the pinned bundles of a rollout and their execution order.
///
/// The format is pretty, key-sorted JSON, byte-for-byte stable for the same inputs.
public struct LockFile: Codable, Sendable, Equatable {
    /// The only format version this build reads and writes.
    public static let currentVersion = 1

    public var version: Int
    public var name: String
    public var bundles: [LockedBundle]
    /// Object identities that no bundle of this lock may change, e.g. `public.fn_x(uuid,text)`.
    public var immutable: [String]?
    /// Tables and config rows to record with each state.
    public var watch: WatchList?

    public init(name: String, bundles: [LockedBundle], immutable: [String]? = nil, watch: WatchList? = nil) {
        self.version = Self.currentVersion
        self.name = name
        self.bundles = bundles
        self.immutable = immutable
        self.watch = watch
    }

    /// The exact bytes written to disk.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain value types cannot fail.
        var data = (try? encoder.encode(self)) ?? Data()
        data.append(0x0A)
        return data
    }

    /// Decodes and validates a lockfile's bytes. `path` is used in messages.
    public static func decode(_ data: Data, path: String) throws(BundleError) -> LockFile {
        let lock: LockFile
        do {
            // Check the version first so an unknown version is named as such, not as a missing key.
            if let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                let version = object["version"] as? Int, version != currentVersion
            {
                throw BundleError.invalidLock(
                    path: path, reason: "unknown version \(version) (this bundle reads version \(currentVersion)); upgrade bundle or re-create the lock")
            }
            lock = try JSONDecoder().decode(LockFile.self, from: data)
        } catch let error as BundleError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidLock(path: path, reason: "missing key '\(key.stringValue)'\(codingPath(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .invalidLock(path: path, reason: "wrong type\(codingPath(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw .invalidLock(path: path, reason: "null value\(codingPath(context.codingPath))")
        } catch {
            throw .invalidLock(path: path, reason: "not valid JSON (\(describeJSONError(error))); fix the file or re-create it with `bundle lock`")
        }
        try lock.validate(path: path)
        return lock
    }

    /// Structural checks: version, TXN numbering, unique names and paths, plausible hashes.
    public func validate(path: String) throws(BundleError) {
        guard version == Self.currentVersion else {
            throw .invalidLock(path: path, reason: "unknown version \(version) (this bundle reads version \(Self.currentVersion))")
        }
        guard !bundles.isEmpty else { throw .invalidLock(path: path, reason: "the lock pins no bundles") }
        var names = Set<String>()
        var paths = Set<String>()
        for (offset, bundle) in bundles.enumerated() {
            if bundle.txn != offset + 1 {
                let duplicate = bundles.prefix(offset).contains { $0.txn == bundle.txn }
                throw .invalidLock(
                    path: path,
                    reason: duplicate
                        ? "duplicate TXN number \(bundle.txn) (bundle '\(bundle.name)')"
                        : "bundle '\(bundle.name)' has TXN-\(bundle.txn) at position \(offset + 1): TXN numbers must run 1…n in order")
            }
            guard names.insert(bundle.name).inserted else {
                throw .invalidLock(path: path, reason: "duplicate bundle name '\(bundle.name)'")
            }
            for pinned in [PinnedFile(path: bundle.path, sha256: bundle.sha256), bundle.rollback, bundle.verify].compactMap({ $0 }) {
                guard paths.insert(pinned.path).inserted else {
                    throw .invalidLock(path: path, reason: "file \(pinned.path) is pinned twice")
                }
                guard pinned.sha256.count == 64, pinned.sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                    throw .invalidLock(path: path, reason: "\(pinned.path): sha256 '\(pinned.sha256)' is not 64 lowercase hex digits")
                }
                if pinned.path.hasSuffix(".lock") || pinned.path.hasPrefix("locks/") {
                    throw .invalidLock(path: path, reason: "\(pinned.path): a lock cannot pin a lockfile (or itself)")
                }
            }
        }
    }

    private static func codingPath(_ path: [CodingKey]) -> String {
        path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func describeJSONError(_ error: Error) -> String {
        let nsError = error as NSError
        if let debug = nsError.userInfo[NSDebugDescriptionErrorKey] as? String { return debug }
        return nsError.localizedDescription
    }
}
