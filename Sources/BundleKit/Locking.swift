import ContentHash
import Foundation
import SQLSyntax

/// A bundle whose bytes matched its pin, ready to plan or apply.
public struct LoadedBundle: Sendable {
    /// The lock entry.
    public let locked: LockedBundle
    /// The exact bytes.
    public let data: Data
    /// The parsed statements.
    public let script: SQLScript
    /// The pinned rollback script's text, if any.
    public let rollbackSQL: String?
    /// The pinned verification script's text, if any.
    public let verifySQL: String?
}

/// A lock whose every pin has been checked against the files on disk.
public struct VerifiedLock: Sendable {
    public let lock: LockFile
    /// Project-relative path of the lockfile.
    public let path: String
    /// sha256 of the lockfile's bytes.
    public let sha256: String
    public let bundles: [LoadedBundle]
}

/// The outcome of `bundle lock --check` for one pinned file.
public struct LockCheckEntry: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case ok
        /// Bytes changed, but only whitespace or comments.
        case cosmetic
        /// The statements themselves changed.
        case changed
        case missing
        case extra
        case escapesProject = "escapes-project"
        /// The file no longer parses.
        case unparsable
    }

    public let txn: Int?
    public let path: String
    public let state: State
    public let pinned: String?
    public let actual: String?
    public let detail: String?
}

/// Creates, re-pins, checks and loads lockfiles.
public struct Locksmith: Sendable {
    public let project: Project

    public init(project: Project) {
        self.project = project
    }

    /// The sibling paths bundle looks for next to a bundle file.
    public static func siblingPaths(of path: String) -> (rollback: String, verify: String) {
        let stem = path.hasSuffix(".sql") ? String(path.dropLast(4)) : path
        return (stem + ".rollback.sql", stem + ".verify.sql")
    }

    /// Builds a lock pinning `paths` (project-relative) in order as TXN-1…n, with any sibling rollback/verify files.
    /// Every bundle must parse.
    public func makeLock(name: String, paths: [String], keeping previous: LockFile? = nil) throws(BundleError) -> LockFile {
        guard Self.isValidLockName(name) else {
            throw .usage("lock name '\(name)' must be letters, digits, '.', '_' or '-' (it becomes locks/\(name).lock)")
        }
        guard !paths.isEmpty else { throw .usage("`bundle lock \(name)` needs at least one bundle file") }
        // A file that the lock already pinned keeps its bundle name: the registry knows applied bundles by name,
        // so adding a file must not rename the others.
        var names = Self.bundleNames(for: paths)
        if let previous {
            for (index, path) in paths.enumerated() {
                if let kept = previous.bundles.first(where: { $0.path == path })?.name { names[index] = kept }
            }
            var seen: [String: Int] = [:]
            for index in names.indices {
                let count = (seen[names[index]] ?? 0) + 1
                seen[names[index]] = count
                if count > 1 { names[index] += "-\(count)" }
            }
        }
        var bundles: [LockedBundle] = []
        var violations: [LockViolation] = []
        for (offset, path) in paths.enumerated() {
            if path.hasPrefix("locks/") || path.hasSuffix(".lock") {
                throw .usage("\(path): a lock cannot pin a lockfile")
            }
            guard let url = project.containedURL(for: path) else {
                violations.append(LockViolation(kind: .escapesProject, path: path))
                continue
            }
            guard let data = FileManager.default.contents(atPath: url.path) else {
                violations.append(LockViolation(kind: .missing, path: path))
                continue
            }
            let script = try parse(data, path: path)
            let siblings = Self.siblingPaths(of: path)
            bundles.append(
                LockedBundle(
                    txn: offset + 1, name: names[offset], path: path, sha256: SHA256.hex(data),
                    semanticSha256: script.semanticHash,
                    rollback: try pinIfPresent(siblings.rollback), verify: try pinIfPresent(siblings.verify)))
        }
        if !violations.isEmpty { throw .lockIntegrity(violations) }
        let lock = LockFile(name: name, bundles: bundles, immutable: previous?.immutable, watch: previous?.watch)
        try lock.validate(path: "locks/\(name).lock")
        return lock
    }

    /// Writes `lock` to `locks/<name>.lock` and returns its URL.
    @discardableResult
    public func write(_ lock: LockFile) throws(BundleError) -> URL {
        let url = project.locksDirectory.appendingPathComponent("\(lock.name).lock")
        do {
            try FileManager.default.createDirectory(at: project.locksDirectory, withIntermediateDirectories: true)
            try lock.encoded().write(to: url, options: .atomic)
        } catch {
            throw .io(path: url.path, reason: "cannot write lockfile: \(error.localizedDescription)")
        }
        return url
    }

    /// Reads and structurally validates a lockfile.
    public func read(_ url: URL) throws(BundleError) -> (lock: LockFile, data: Data) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .invalidLock(path: displayPath(url), reason: "cannot read the file")
        }
        return (try LockFile.decode(data, path: displayPath(url)), data)
    }

    /// Re-pins an existing lock: same files (and order), fresh hashes.
    public func update(_ url: URL) throws(BundleError) -> LockFile {
        let (lock, _) = try read(url)
        return try makeLock(name: lock.name, paths: lock.bundles.map(\.path), keeping: lock)
    }

    /// Checks every pin and classifies each difference (cosmetic vs real) without failing on the first.
    public func check(_ url: URL) throws(BundleError) -> [LockCheckEntry] {
        let (lock, _) = try read(url)
        var entries: [LockCheckEntry] = []
        for bundle in lock.bundles {
            entries.append(checkFile(PinnedFile(path: bundle.path, sha256: bundle.sha256), txn: bundle.txn, semantic: bundle.semanticSha256))
            let siblings = Self.siblingPaths(of: bundle.path)
            for (pin, siblingPath) in [(bundle.rollback, siblings.rollback), (bundle.verify, siblings.verify)] {
                if let pin {
                    entries.append(checkFile(pin, txn: bundle.txn, semantic: nil))
                } else if let url = project.containedURL(for: siblingPath), let data = FileManager.default.contents(atPath: url.path) {
                    entries.append(LockCheckEntry(txn: bundle.txn, path: siblingPath, state: .extra, pinned: nil, actual: SHA256.hex(data), detail: nil))
                }
            }
        }
        return entries
    }

    /// Verifies every pin and loads the bundles; any disagreement is an error naming each file and both hashes.
    ///
    /// The lockfile and every pinned file are read exactly once: the bytes that are hashed are the bytes that are
    /// parsed and applied (an edit or checkout in between cannot slip unverified SQL in).
    public func load(_ url: URL) throws(BundleError) -> VerifiedLock {
        let (lock, lockData) = try read(url)
        var violations: [LockViolation] = []
        var bundleBytes: [String: Data] = [:]
        func verified(_ pin: PinnedFile, semantic: String?) -> Data? {
            guard let fileURL = project.containedURL(for: pin.path) else {
                violations.append(LockViolation(kind: .escapesProject, path: pin.path))
                return nil
            }
            guard let data = FileManager.default.contents(atPath: fileURL.path) else {
                violations.append(LockViolation(kind: .missing, path: pin.path, pinned: pin.sha256))
                return nil
            }
            let actual = SHA256.hex(data)
            guard actual == pin.sha256 else {
                let cosmetic = semantic.flatMap { hash in (try? SQLScript.parse(data, path: pin.path)).map { $0.semanticHash == hash } }
                violations.append(LockViolation(kind: .changed, path: pin.path, pinned: pin.sha256, actual: actual, cosmeticOnly: cosmetic))
                return nil
            }
            return data
        }
        for bundle in lock.bundles {
            bundleBytes[bundle.path] = verified(PinnedFile(path: bundle.path, sha256: bundle.sha256), semantic: bundle.semanticSha256)
            let siblings = Self.siblingPaths(of: bundle.path)
            for (pin, siblingPath) in [(bundle.rollback, siblings.rollback), (bundle.verify, siblings.verify)] {
                if let pin {
                    bundleBytes[pin.path] = verified(pin, semantic: nil)
                } else if let siblingURL = project.containedURL(for: siblingPath), let data = FileManager.default.contents(atPath: siblingURL.path) {
                    violations.append(LockViolation(kind: .extra, path: siblingPath, actual: SHA256.hex(data)))
                }
            }
        }
        if !violations.isEmpty { throw .lockIntegrity(violations) }
        var loaded: [LoadedBundle] = []
        for bundle in lock.bundles {
            let data = bundleBytes[bundle.path]!
            let script = try parse(data, path: bundle.path)
            let rollback = bundle.rollback.map { String(decoding: bundleBytes[$0.path]!, as: UTF8.self) }
            let verify = bundle.verify.map { String(decoding: bundleBytes[$0.path]!, as: UTF8.self) }
            loaded.append(LoadedBundle(locked: bundle, data: data, script: script, rollbackSQL: rollback, verifySQL: verify))
        }
        return VerifiedLock(lock: lock, path: displayPath(url), sha256: SHA256.hex(lockData), bundles: loaded)
    }

    // MARK: - Helpers

    /// Lock names become file names: keep them plain.
    public static func isValidLockName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 100 && !name.hasPrefix(".")
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "._-".unicodeScalars.contains($0) }
    }

    /// Bundle names: the file stem's prefix before the first '-' (`A-vocab.sql` → `A`) when those prefixes are
    /// unique within the lock, else the whole stem (made unique with `-2`, `-3` if needed).
    public static func bundleNames(for paths: [String]) -> [String] {
        let stems = paths.map { path -> String in
            let file = path.split(separator: "/").last.map(String.init) ?? path
            return file.hasSuffix(".sql") ? String(file.dropLast(4)) : file
        }
        let prefixes = stems.map { stem in stem.split(separator: "-", maxSplits: 1).first.map(String.init) ?? stem }
        let candidates = Set(prefixes).count == prefixes.count ? prefixes : stems
        var seen: [String: Int] = [:]
        return candidates.map { name in
            let count = (seen[name] ?? 0) + 1
            seen[name] = count
            return count == 1 ? name : "\(name)-\(count)"
        }
    }

    private func checkFile(_ pin: PinnedFile, txn: Int, semantic: String?) -> LockCheckEntry {
        guard let url = project.containedURL(for: pin.path) else {
            return LockCheckEntry(txn: txn, path: pin.path, state: .escapesProject, pinned: pin.sha256, actual: nil, detail: nil)
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            return LockCheckEntry(txn: txn, path: pin.path, state: .missing, pinned: pin.sha256, actual: nil, detail: nil)
        }
        let actual = SHA256.hex(data)
        if actual == pin.sha256 {
            return LockCheckEntry(txn: txn, path: pin.path, state: .ok, pinned: pin.sha256, actual: actual, detail: nil)
        }
        guard let semantic else {
            return LockCheckEntry(txn: txn, path: pin.path, state: .changed, pinned: pin.sha256, actual: actual, detail: nil)
        }
        do {
            let script = try SQLScript.parse(data, path: pin.path)
            let state: LockCheckEntry.State = script.semanticHash == semantic ? .cosmetic : .changed
            return LockCheckEntry(txn: txn, path: pin.path, state: state, pinned: pin.sha256, actual: actual, detail: nil)
        } catch {
            return LockCheckEntry(
                txn: txn, path: pin.path, state: .unparsable, pinned: pin.sha256, actual: actual, detail: error.localizedDescription)
        }
    }

    private func pinIfPresent(_ path: String) throws(BundleError) -> PinnedFile? {
        guard let url = project.containedURL(for: path) else {
            return nil
        }
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return PinnedFile(path: path, sha256: SHA256.hex(data))
    }

    private func parse(_ data: Data, path: String) throws(BundleError) -> SQLScript {
        do {
            return try SQLScript.parse(data, path: path)
        } catch {
            throw .syntax(error.localizedDescription)
        }
    }

    private func displayPath(_ url: URL) -> String {
        let rootPath = project.root.path + "/"
        let path = url.standardizedFileURL.path
        return path.hasPrefix(rootPath) ? String(path.dropFirst(rootPath.count)) : path
    }
}
