import Foundation
import GitHistory

/// One entry of `bundle log`: a commit on `bundle/<target>`, read from git alone.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var commit: String
    public var summary: String
    public var author: String
    public var email: String
    public var time: Date
    public var trailers: [String: String]
    /// State paths this commit changed (objects).
    public var objects: [String]
}

/// Reads the audit trail of a target from the project repository (no database needed).
public struct AuditLog {
    public let project: Project

    public init(project: Project) {
        self.project = project
    }

    /// Targets that have a `bundle/<target>` branch.
    public func targets() throws(BundleError) -> [String] {
        let repository = try open()
        var names = Set<String>()
        let refs = repository.gitDirectory.appendingPathComponent("refs/heads/bundle")
        if let enumerator = FileManager.default.enumerator(atPath: refs.path) {
            for case let path as String in enumerator {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: refs.appendingPathComponent(path).path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    names.insert(path)
                }
            }
        }
        if let packed = try? String(contentsOf: repository.gitDirectory.appendingPathComponent("packed-refs"), encoding: .utf8) {
            for line in packed.split(separator: "\n") {
                if let range = line.range(of: " refs/heads/bundle/") { names.insert(String(line[range.upperBound...])) }
            }
        }
        return names.sorted()
    }

    /// The target to use: the given one, else the only one there is.
    public func resolveTarget(_ target: String?) throws(BundleError) -> String {
        if let target { return target }
        let all = try targets()
        if all.count == 1 { return all[0] }
        if all.isEmpty { throw .usage("no bundle/<target> branch in this repository yet: nothing has been applied") }
        throw .usage("several targets (\(all.joined(separator: ", "))): name one with --target")
    }

    /// Commits on `bundle/<target>`, newest first; with `object`, only those that changed it.
    public func entries(target: String, object: String? = nil) throws(BundleError) -> [AuditEntry] {
        let repository = try open()
        guard let tip = repository.referenceTarget("refs/heads/bundle/\(target)") else {
            throw .usage("no branch bundle/\(target): nothing has been applied to target '\(target)'")
        }
        let commits = try git { try repository.log(from: tip) }
        var result: [AuditEntry] = []
        for commit in commits {
            let changed = try git { try repository.changedPaths(from: commit.parents.first, to: commit.id) }
            let objects = changed.map(\.path).filter { $0.hasPrefix("state/") }.map { String($0.dropFirst("state/".count)) }.sorted()
            if let object, !objects.contains(where: { Self.path($0, matches: object) }) { continue }
            var trailers: [String: String] = [:]
            for trailer in commit.trailers { trailers[trailer.key] = trailer.value }
            result.append(
                AuditEntry(
                    commit: commit.id.hex, summary: commit.summary, author: commit.author.name, email: commit.author.email, time: commit.author.time,
                    trailers: trailers, objects: objects))
        }
        return result
    }

    /// Whether a state path describes `object` (`schema.name`, `schema.name(args)`, or a bare name).
    static func path(_ path: String, matches object: String) -> Bool {
        // Split first: a '/' inside a name is escaped in its path component.
        let parts = path.unicodeScalars.split(separator: "/", maxSplits: 2).map { scalars in
            let part = String(String.UnicodeScalarView(scalars))
            return part.removingPercentEncoding ?? part
        }
        guard parts.count == 3 else { return (path.removingPercentEncoding ?? path).contains(object) }
        let file = parts[2].hasSuffix(".sql") ? String(parts[2].dropLast(4)) : parts[2]
        let fileName = file.prefix { $0 != "(" }
        var wanted = object
        var wantedSchema: String? = nil
        if let paren = wanted.firstIndex(of: "(") { wanted = String(wanted[..<paren]) }
        if let dot = wanted.lastIndex(of: ".") {
            wantedSchema = String(wanted[..<dot])
            wanted = String(wanted[wanted.index(after: dot)...])
        }
        guard fileName == wanted, wantedSchema == nil || wantedSchema == parts[0] else { return false }
        guard let paren = object.firstIndex(of: "("), file.contains("(") else { return true }
        // Compare argument types loosely: every type named in the object must appear in the file's argument list.
        let types = object[object.index(after: paren)...].dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return types.allSatisfy { file.contains($0) }
    }

    private func open() throws(BundleError) -> GitRepository {
        do { return try GitRepository.open(at: project.root) } catch {
            throw .history("\(project.root.path) is not inside a git repository: \(error.errorDescription ?? "")")
        }
    }
}
