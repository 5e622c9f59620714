import Foundation

/// The one error type of `BundleKit`.
///
/// Every case says what is wrong and what to do, and maps onto a stable exit code:
/// `2` for usage, configuration, lock-integrity and connection problems, `1` for operations that ran and failed.
public enum BundleError: LocalizedError, Sendable, Equatable {
    /// The command line or the project layout is not usable.
    case usage(String)
    /// No project (a directory with `locks/`) was found.
    case projectNotFound(start: String)
    /// A lockfile could not be read or is not valid.
    case invalidLock(path: String, reason: String)
    /// A pinned file changed, vanished, appeared, or escapes the project.
    case lockIntegrity([LockViolation])
    /// A bundle file could not be parsed.
    case syntax(String)
    /// The database could not be reached or refused the connection.
    case connection(String)
    /// A database operation failed (after connecting).
    case database(String)
    /// Git history could not be read or written.
    case history(String)
    /// Any other I/O failure, with the path involved.
    case io(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .usage(let message):
            return message
        case .projectNotFound(let start):
            return "no bundle project found at or above \(start): there is no locks/ directory.\n  Run `bundle init` to create one, or pass --project DIR."
        case .invalidLock(let path, let reason):
            return "\(path): invalid lockfile: \(reason)"
        case .lockIntegrity(let violations):
            return violations.map(\.description).joined(separator: "\n")
        case .syntax(let message), .connection(let message), .database(let message), .history(let message):
            return message
        case .io(let path, let reason):
            return "\(path): \(reason)"
        }
    }

    /// The exit code a command should end with for this error.
    public var exitCode: Int32 {
        switch self {
        case .database: return 1
        default: return 2
        }
    }
}

/// One way in which the files on disk disagree with a lockfile.
public struct LockViolation: Sendable, Equatable, CustomStringConvertible {
    /// What kind of disagreement.
    public enum Kind: String, Sendable, Equatable {
        /// The file's bytes hash differently from the pin.
        case changed
        /// A pinned file does not exist.
        case missing
        /// A rollback/verify sibling exists on disk but is not pinned.
        case extra
        /// The path is absolute, contains `..`, or resolves outside the project.
        case escapesProject = "escapes-project"
        /// The target's registry records the bundle as applied with other bytes than the lock pins now.
        case changedSinceApply = "changed-since-apply"
    }

    public let kind: Kind
    /// The path as written in the lock (project-relative).
    public let path: String
    /// The pinned sha256, when there is one.
    public let pinned: String?
    /// The sha256 of the file as it is now, when it exists.
    public let actual: String?
    /// For a changed file: whether only whitespace/comments differ (the semantic hash still matches).
    public let cosmeticOnly: Bool?

    public init(kind: Kind, path: String, pinned: String? = nil, actual: String? = nil, cosmeticOnly: Bool? = nil) {
        self.kind = kind
        self.path = path
        self.pinned = pinned
        self.actual = actual
        self.cosmeticOnly = cosmeticOnly
    }

    public var description: String {
        switch kind {
        case .changed:
            let what = cosmeticOnly == true ? " (cosmetic: whitespace or comments only)" : ""
            return "\(path): changed since it was locked\(what)\n  pinned sha256 \(pinned ?? "-")\n  actual sha256 \(actual ?? "-")\n  Review the change, then re-pin with `bundle lock NAME --update`."
        case .missing:
            return "\(path): pinned file is missing (pinned sha256 \(pinned ?? "-"))\n  Restore the file, or re-pin with `bundle lock NAME --update`."
        case .extra:
            return "\(path): exists but is not pinned by the lock (sha256 \(actual ?? "-"))\n  Pin it with `bundle lock NAME --update`, or remove it."
        case .changedSinceApply:
            return "\(path): the lock was edited after this bundle was applied\n  applied sha256 \(pinned ?? "-")\n  pinned  sha256 \(actual ?? "-")\n  Applied bundles are immutable: restore the applied version, or ship the change as a new bundle."
        case .escapesProject:
            return "\(path): path escapes the project (absolute, '..', or a symlink leading outside)\n  Lock paths must be relative paths inside the project."
        }
    }
}
