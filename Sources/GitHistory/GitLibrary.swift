import CLibGit2

/// Process-wide setup of libgit2.
public enum GitLibrary {
    /// Runs once per process, thread-safely (Swift initializes static stored properties with `swift_once`).
    private static let initialized: Bool = {
        _ = git_libgit2_init()
        // Repositories here are often created by root for other users (and the reverse); plain git's
        // `safe.directory` ownership check would make libgit2 refuse to open them.
        _ = bundle_git_set_owner_validation(0)
        // Objects, packs and references reach the disk before a write returns: apply forgets a commit's recipe
        // in the registry once the commit is written, so the commit must survive a power loss from then on.
        _ = bundle_git_disable_fsync(0)
        return true
    }()

    /// Initializes libgit2, disables its repository-owner validation and enables fsync of what it writes. Idempotent and thread-safe;
    /// ``GitRepository/open(at:searchParents:)`` and ``GitRepository/create(at:bare:)`` call it for you.
    /// libgit2 is never shut down: it lives as long as the process.
    public static func initialize() {
        _ = initialized
    }

    /// The linked libgit2 version, e.g. `1.5.1`.
    public static var version: String {
        initialize()
        var major: Int32 = 0, minor: Int32 = 0, revision: Int32 = 0
        _ = git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}

/// The libgit2 error for a failed call that returned `code`.
func libgit2Error(_ code: Int32, _ operation: String) -> GitHistoryError {
    if let error = git_error_last(), let message = error.pointee.message {
        return .libgit2(code: code, klass: error.pointee.klass, message: String(cString: message), operation: operation)
    }
    return .libgit2(code: code, klass: 0, message: "no error message from libgit2", operation: operation)
}

/// Throws the libgit2 error when `code` is negative.
func check(_ code: Int32, _ operation: @autoclosure () -> String) throws(GitHistoryError) {
    if code < 0 { throw libgit2Error(code, operation()) }
}
