import Foundation

/// A bundle project: a directory holding `bundles/`, `locks/` and (usually) the git repository.
public struct Project: Sendable, Equatable {
    /// The project root, with symlinks resolved.
    public let root: URL
    /// The root as realpath(3) spells it, with a trailing '/' (Foundation and realpath can differ: /private on
    /// Darwin).
    private let realRoot: String?

    /// Opens the project rooted at `root` (which must contain `locks/`).
    public init(root: URL) {
        self.root = root.resolvingSymlinksInPath().standardizedFileURL
        realRoot = Self.realPath(self.root.path).map { $0.hasSuffix("/") ? $0 : $0 + "/" }
    }

    /// Finds the project: `explicit` if given, else the nearest directory at or above `start` that contains `locks/`.
    public static func locate(explicit: String?, start: URL) throws(BundleError) -> Project {
        let fm = FileManager.default
        if let explicit {
            let url = URL(fileURLWithPath: explicit, relativeTo: start).standardizedFileURL
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
                throw .usage("--project \(explicit): no such directory")
            }
            return Project(root: url)
        }
        var dir = start.resolvingSymlinksInPath().standardizedFileURL
        while true {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: dir.appendingPathComponent("locks").path, isDirectory: &isDir), isDir.boolValue {
                return Project(root: dir)
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        throw .projectNotFound(start: start.path)
    }

    /// `bundles/`.
    public var bundlesDirectory: URL { root.appendingPathComponent("bundles") }
    /// `locks/`.
    public var locksDirectory: URL { root.appendingPathComponent("locks") }
    /// `.bundle/`: local state that is never committed (sandbox cluster, scratch files).
    public var stateDirectory: URL { root.appendingPathComponent(".bundle") }

    /// The absolute URL of a project-relative path.
    public func url(for relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// Checks that `relativePath` is a plain relative path that stays inside the project, following symlinks.
    /// Returns the resolved URL or nil when the path escapes.
    public func containedURL(for relativePath: String) -> URL? {
        if relativePath.isEmpty || relativePath.hasPrefix("/") || relativePath.contains("\0") { return nil }
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains(where: { $0 == ".." || $0.isEmpty }) { return nil }
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        // realpath(3) resolves an existing file in one call (Foundation's resolution costs ~0.1 ms a file, which a
        // lock of 1,000 bundles pays twice); a missing file keeps Foundation's answer, which still names it.
        if let real = Self.realPath(rootPath + relativePath) {
            return real.hasPrefix(rootPath) || real.hasPrefix(realRoot ?? rootPath) ? URL(fileURLWithPath: real) : nil
        }
        let resolved = url(for: relativePath).resolvingSymlinksInPath().standardizedFileURL
        guard resolved.path.hasPrefix(rootPath) else { return nil }
        return resolved
    }

    /// The canonical absolute path of an existing file (symlinks resolved), or nil.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The project-relative form of a path given on the command line (relative to `cwd`).
    /// Throws when the file lies outside the project.
    public func relativePath(of argument: String, cwd: URL) throws(BundleError) -> String {
        let absolute = URL(fileURLWithPath: argument, relativeTo: cwd).standardizedFileURL
        // Compare without resolving the last component, so a symlink inside the project is judged by its target later.
        let parent = absolute.deletingLastPathComponent().resolvingSymlinksInPath().standardizedFileURL
        let full = parent.appendingPathComponent(absolute.lastPathComponent).path
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        guard full.hasPrefix(rootPath) else {
            throw .lockIntegrity([LockViolation(kind: .escapesProject, path: argument)])
        }
        return String(full.dropFirst(rootPath.count))
    }

    /// Resolves a lock argument: a path to a `.lock` file, or a bare name looked up in `locks/`.
    /// With no argument, the only lock in `locks/` is used.
    public func lockURL(for argument: String?, cwd: URL) throws(BundleError) -> URL {
        let fm = FileManager.default
        guard let argument else {
            let locks = (try? fm.contentsOfDirectory(atPath: locksDirectory.path))?.filter { $0.hasSuffix(".lock") }.sorted() ?? []
            if locks.count == 1 { return locksDirectory.appendingPathComponent(locks[0]) }
            if locks.isEmpty { throw .usage("no lockfile in \(locksDirectory.path): create one with `bundle lock NAME FILE...`") }
            throw .usage("several lockfiles in locks/ (\(locks.joined(separator: ", "))): name the one to use")
        }
        let asPath = URL(fileURLWithPath: argument, relativeTo: cwd).standardizedFileURL
        if argument.hasSuffix(".lock") || argument.contains("/") {
            guard fm.fileExists(atPath: asPath.path) else { throw .usage("\(argument): no such lockfile") }
            return asPath
        }
        let named = locksDirectory.appendingPathComponent(argument + ".lock")
        guard fm.fileExists(atPath: named.path) else {
            throw .usage("no lock named '\(argument)' (looked for \(named.path)); `bundle lock \(argument) FILE...` creates it")
        }
        return named
    }
}
