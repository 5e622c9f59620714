import Foundation
import GitHistory
import PostgresCatalog

/// One object whose live definition differs from the state at the tip of `bundle/<target>`.
public struct DriftItem: Sendable, Equatable, Codable {
    /// State path, e.g. `public/functions/f(a integer).sql`.
    public var path: String
    /// `added` (live only), `removed` (recorded only), `changed`.
    public var change: String
    /// True when a pending bundle of the given lock touches this object.
    public var blocking: Bool
    /// Unified diff recorded → live, for `changed`.
    public var diff: String?
}

/// `bundle drift`: the live catalog against the state committed at the tip of `bundle/<target>` (no shadow database).
public struct DriftReport: Sendable, Codable {
    public var target: String
    public var commit: String
    public var items: [DriftItem]
    public var hasDrift: Bool { !items.isEmpty }
    public var hasBlockingDrift: Bool { items.contains(where: \.blocking) }
}

public enum DriftDetector {
    /// Compares live and recorded state. `pending` are the statements of bundles not yet applied (to classify).
    public static func detect(project: Project, conninfo: String, target: String?, pendingObjects: [String] = []) throws(BundleError) -> DriftReport {
        let connection = try DatabaseTarget.connect(conninfo)
        defer { connection.close() }
        return try detect(project: project, connection: connection, target: target ?? connection.database, pendingObjects: pendingObjects)
    }

    static func detect(project: Project, connection: PostgresConnection, target: String, pendingObjects: [String]) throws(BundleError) -> DriftReport {
        try detectWithLiveState(project: project, connection: connection, target: target, pendingObjects: pendingObjects).report
    }

    /// Drift, plus the live state it captured (reused by apply when nothing drifted) and, with `marking`, the
    /// catalog mark taken in the capture's snapshot. Compares by blob id: only the recorded files that differ are
    /// read back from git.
    static func detectWithLiveState(
        project: Project, connection: PostgresConnection, target: String, pendingObjects: [String], watch: WatchList? = nil,
        marking: Bool = false
    ) throws(BundleError) -> (report: DriftReport, live: [String: String], mark: CatalogMark.Reading?) {
        let repository: GitRepository
        do { repository = try GitRepository.open(at: project.root) } catch { throw .history("not inside a git repository: \(error.errorDescription ?? "")") }
        guard let tip = repository.referenceTarget("refs/heads/bundle/\(target)") else {
            throw .usage("no branch bundle/\(target): nothing was applied to target '\(target)', so there is no recorded state to compare with")
        }
        var recordedIDs: [String: ObjectID] = [:]
        for (path, id) in try git({ try repository.fileIDs(at: tip, prefix: "state") }) where path.hasPrefix("state/") {
            recordedIDs[String(path.dropFirst("state/".count))] = id
        }
        var (live, mark) = try captureState(connection, watch: watch, marking: marking)
        var items: [DriftItem] = []
        // A tip recorded before bundle captured default privileges has no such file: not drift.
        if recordedIDs[ObjectStateReader.defaultPrivilegesPath] == nil { live[ObjectStateReader.defaultPrivilegesPath] = nil }
        for path in Set(recordedIDs.keys).union(live.keys).sorted() where !path.hasPrefix("watch/") {
            let liveText = live[path]
            let recordedID = recordedIDs[path]
            if let liveText, let recordedID, GitRepository.blobID(for: Data(liveText.utf8)) == recordedID { continue }
            let change = recordedID == nil ? "added" : liveText == nil ? "removed" : "changed"
            var diff: String? = nil
            if change == "changed", let recordedID {
                let old = String(decoding: try git { try repository.blob(recordedID) }, as: UTF8.self)
                diff = TextDiff.unified(old, liveText!, labels: ("recorded \(tip.short)", "live"))
            }
            let blocking = pendingObjects.contains { AuditLog.path(path, matches: $0) }
            items.append(DriftItem(path: path, change: change, blocking: blocking, diff: diff))
        }
        return (DriftReport(target: target, commit: tip.hex, items: items), live, mark)
    }
}

/// `bundle diff` / `bundle show`: catalog differences between revisions, from git alone.
public struct HistoryView {
    public let project: Project

    public init(project: Project) {
        self.project = project
    }

    public struct ObjectChange: Sendable, Codable {
        public var path: String
        public var change: String
        public var diff: String?
    }

    public struct CommitView: Sendable {
        public var commit: CommitInfo
        public var changes: [ObjectChange]
        public var rollbackScript: String?
        public var appliedPath: String?
    }

    /// Per-object differences of `state/` between two revisions (REV2 default: the target's tip).
    public func diff(_ from: String, _ to: String?, target: String?) throws(BundleError) -> [ObjectChange] {
        let repository = try open()
        let old = try resolve(from, repository: repository, target: target)
        let newRevision: String
        if let to { newRevision = to } else { newRevision = "bundle/" + (try AuditLog(project: project).resolveTarget(target)) }
        let new = try resolve(newRevision, repository: repository, target: target)
        return try changes(repository, from: old, to: new)
    }

    /// What one revision did: its message, trailers, changed objects and rollback script.
    public func show(_ revision: String, target: String?) throws(BundleError) -> CommitView {
        let repository = try open()
        let id = try resolve(revision, repository: repository, target: target)
        let info = try git { try repository.commit(id) }
        let changed = try git { try repository.changedPaths(from: info.parents.first, to: id) }
        // A re-applied bundle writes identical bytes, so its script may not be among the changed paths: find it
        // by the commit's Txn trailer.
        var rollbackPath = changed.map(\.path).first { $0.hasPrefix("rollback/") }
        let words = info.summary.split(separator: " ")
        if rollbackPath == nil, words.count >= 4, words[0] == "apply", let txn = info.trailers.first(where: { $0.key == "Txn" })?.value {
            // "apply LOCK TXN-n NAME: …"
            rollbackPath = "rollback/TXN-\(txn)-\(words[3].hasSuffix(":") ? words[3].dropLast() : words[3]).sql"
        }
        var script: String? = nil
        if let rollbackPath, let data = try git({ try repository.readFile(rollbackPath, at: id) }) {
            script = String(decoding: data, as: UTF8.self)
        }
        return CommitView(
            commit: info, changes: try changes(repository, from: info.parents.first, to: id), rollbackScript: script,
            appliedPath: changed.map(\.path).first { $0.hasPrefix("applied/") })
    }

    private func changes(_ repository: GitRepository, from old: ObjectID?, to new: ObjectID) throws(BundleError) -> [ObjectChange] {
        var before: [String: String] = [:]
        if let old { before = try readState(repository, at: old) }
        let after = try readState(repository, at: new)
        return Set(before.keys).union(after.keys).sorted().compactMap { path in
            switch (before[path], after[path]) {
            case (nil, .some): return ObjectChange(path: path, change: "added", diff: nil)
            case (.some, nil): return ObjectChange(path: path, change: "removed", diff: nil)
            case (let a?, let b?) where !sameBytes(a, b): return ObjectChange(path: path, change: "changed", diff: TextDiff.unified(a, b, labels: ("before", "after")))
            default: return nil
            }
        }
    }

    private func resolve(_ revision: String, repository: GitRepository, target: String?) throws(BundleError) -> ObjectID {
        var candidates = [revision]
        if let target { candidates.append("bundle/\(target)/\(revision)") }
        for candidate in candidates {
            if let id = try? repository.resolveCommit(candidate) { return id }
        }
        throw .usage("unknown revision '\(revision)'")
    }

    private func open() throws(BundleError) -> GitRepository {
        do { return try GitRepository.open(at: project.root) } catch { throw .history("not inside a git repository: \(error.errorDescription ?? "")") }
    }
}
