import Foundation

/// Everything that can go wrong reading or writing git history.
public enum GitHistoryError: LocalizedError, Sendable, Equatable {
    /// libgit2 reported an error: its return `code` (a `git_error_code`), error class `klass`
    /// (a `git_error_t`) and message, while performing `operation`.
    case libgit2(code: Int32, klass: Int32, message: String, operation: String)
    /// A revision, object or path does not exist.
    case notFound(String)
    /// A reference did not point where the caller expected (another process moved it): nothing was changed.
    case referenceMoved(ref: String, expected: ObjectID?, actual: ObjectID?)
    /// No git repository exists at (or above) the path.
    case notARepository(String)
    /// A path in a tree change is not a valid repository-relative file path.
    case invalidPath(String, reason: String)
    /// A reference name is not valid (see `git check-ref-format`).
    case invalidReferenceName(String)
    /// An object exists but is not of the expected kind (e.g. a tree where a commit was asked for).
    case wrongObjectType(String, expected: String)

    /// What went wrong and what to do about it.
    public var errorDescription: String? {
        switch self {
        case let .libgit2(code, klass, message, operation):
            let hint = code == -14  // GIT_ELOCKED
                ? " Another git process is writing to the repository: wait for it to finish, or, if none is running, remove the stale .lock file named above and retry."
                : ""
            return "git error while trying to \(operation): \(message) (libgit2 code \(code), class \(klass)).\(hint)"
        case let .notFound(what):
            return "\(what) was not found in the git repository. Check the revision or path."
        case let .referenceMoved(ref, expected, actual):
            let e = expected?.hex ?? "nothing (a new reference)"
            let a = actual?.hex ?? "nothing (the reference does not exist)"
            return "The git reference \(ref) was moved by someone else: expected \(e) but found \(a). "
                + "Nothing was changed; re-read the history and try again."
        case let .notARepository(path):
            return "\(path) is not inside a git repository. Run `git init` there or pass the project directory."
        case let .invalidPath(path, reason):
            let shown = path.replacingOccurrences(of: "\0", with: "\\0")
            return "\"\(shown)\" is not a valid path inside a git tree: \(reason). "
                + "Use a relative slash-separated path without empty, \".\", \"..\" or \".git\" components."
        case let .invalidReferenceName(name):
            return "\"\(name)\" is not a valid git reference name. Use a name like refs/heads/bundle/<target>."
        case let .wrongObjectType(what, expected):
            return "\(what) is not a \(expected). Pass a revision that names a \(expected)."
        }
    }
}
