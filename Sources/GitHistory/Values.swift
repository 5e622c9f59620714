import CLibGit2
import Foundation

/// The identity of a git object (commit, tree or blob): its full SHA-1 in lowercase hexadecimal.
public struct ObjectID: Sendable, Hashable, CustomStringConvertible, Codable {
    /// The 40 lowercase hexadecimal digits of the object id.
    public let hex: String

    /// Creates an object id from 40 hexadecimal digits (either case); nil when `hex` is not a full SHA-1.
    /// Use ``GitRepository/resolveCommit(_:)`` for short ids and other revisions.
    public init?(hex: String) {
        guard hex.utf8.count == 40,
              hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0 | 0x20) })
        else { return nil }
        self.hex = hex.lowercased()
    }

    /// The first seven hexadecimal digits, as `git log --oneline` shows them.
    public var short: String { String(hex.prefix(7)) }

    /// The full hexadecimal id.
    public var description: String { hex }

    init(_ oid: git_oid) {
        var oid = oid
        var buffer = [CChar](repeating: 0, count: 41)
        _ = git_oid_tostr(&buffer, buffer.count, &oid)
        self.hex = String(decoding: buffer.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    init(_ oid: UnsafePointer<git_oid>) {
        self.init(oid.pointee)
    }

    /// Decodes an object id from a single hexadecimal string.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let hex = try container.decode(String.self)
        guard let id = ObjectID(hex: hex) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(hex)\" is not a 40-digit git object id")
        }
        self = id
    }

    /// Encodes the object id as a single hexadecimal string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }

    var oid: git_oid {
        var oid = git_oid()
        _ = git_oid_fromstrn(&oid, hex, hex.utf8.count)
        return oid
    }
}

/// The author or committer of a commit: who, and when in which time zone.
public struct Signature: Sendable, Equatable {
    /// The person's name (must not contain `<` or `>`).
    public var name: String
    /// The person's e-mail address (must not contain `<` or `>`).
    public var email: String
    /// The moment of the action. Git stores whole seconds; fractions are dropped when a commit is written.
    public var time: Date
    /// The offset of the local time zone from UTC in minutes (east positive), e.g. 120 for +0200.
    public var timeZoneOffsetMinutes: Int

    /// Creates a signature; `time` defaults to now and the offset to the current time zone's.
    public init(name: String, email: String, time: Date = Date(), timeZoneOffsetMinutes: Int? = nil) {
        self.name = name
        self.email = email
        self.time = time
        self.timeZoneOffsetMinutes = timeZoneOffsetMinutes ?? TimeZone.current.secondsFromGMT(for: time) / 60
    }

    init(_ sig: UnsafePointer<git_signature>) {
        name = String(cString: sig.pointee.name)
        email = String(cString: sig.pointee.email)
        time = Date(timeIntervalSince1970: TimeInterval(sig.pointee.when.time))
        timeZoneOffsetMinutes = Int(sig.pointee.when.offset)
    }
}

/// One git trailer: a `Key: value` line of a commit message's last paragraph.
public struct Trailer: Sendable, Hashable {
    /// The trailer key, e.g. `Bundle-Sha256`.
    public let key: String
    /// The trailer value, e.g. the hexadecimal digest.
    public let value: String

    /// Creates a trailer.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// A commit read back from the repository, copied into Swift values.
public struct CommitInfo: Sendable {
    /// The commit's id.
    public let id: ObjectID
    /// The parent commits, first parent first (empty for a root commit).
    public let parents: [ObjectID]
    /// The id of the commit's root tree.
    public let tree: ObjectID
    /// Who wrote the change, and when.
    public let author: Signature
    /// Who made the commit, and when.
    public let committer: Signature
    /// The full commit message as stored.
    public let message: String
    /// Git trailers (`Key: value` lines of the message's last paragraph), in order, as parsed by
    /// libgit2's `git_message_trailers`.
    public let trailers: [Trailer]

    /// The subject: the message's first paragraph with its lines joined by spaces (as `git log --format=%s`).
    public var summary: String {
        var lines: [String] = []
        for line in message.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                if lines.isEmpty { continue } else { break }
            }
            lines.append(trimmed)
        }
        return lines.joined(separator: " ")
    }

    /// The values of all trailers with `key` (compared case-insensitively, as git does), in order.
    public func trailerValues(_ key: String) -> [String] {
        trailers.filter { $0.key.caseInsensitiveCompare(key) == .orderedSame }.map(\.value)
    }

    /// The value of the first trailer with `key` (compared case-insensitively), or nil.
    public func trailerValue(_ key: String) -> String? { trailerValues(key).first }
}

/// One change to apply to a tree when writing a commit.
public enum TreeChange: Sendable, Equatable {
    /// Creates or replaces the regular file at `path` (slash-separated, relative to the tree root; intermediate
    /// directories are created as needed).
    case upsert(path: String, contents: Data)
    /// Removes the file or directory at `path`; removing a path that does not exist does nothing.
    /// Directories left empty disappear, as git cannot store empty directories.
    case remove(path: String)

    /// The path the change applies to.
    public var path: String {
        switch self {
        case .upsert(let path, _), .remove(let path): path
        }
    }
}

/// How a path differs between two trees.
public enum PathChangeKind: String, Sendable, Hashable {
    /// The path exists only in the newer tree.
    case added
    /// The path exists only in the older tree.
    case removed
    /// The path exists in both trees with different contents or mode.
    case modified
}

/// A file path that differs between two commits' trees.
public struct PathChange: Sendable, Hashable {
    /// The file's path relative to the tree root.
    public let path: String
    /// Whether the file was added, removed or modified.
    public let kind: PathChangeKind

    /// Creates a path change.
    public init(path: String, kind: PathChangeKind) {
        self.path = path
        self.kind = kind
    }
}
