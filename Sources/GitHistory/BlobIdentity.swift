import CLibGit2
import Foundation

extension GitRepository {
    /// The id git gives `data` as a blob (without writing it): compare texts with a tree by id, not by content.
    public static func blobID(for data: Data) -> ObjectID {
        // libcrypto's SHA-1, as the pack writer uses (drift hashes every state file).
        ObjectID(data.withUnsafeBytes { PackWriter.objectID(type: GIT_OBJECT_BLOB, bytes: $0) })
    }

    /// The blob ids of the files under `prefix` at a commit, path → id, without reading any blob.
    public func fileIDs(at commit: ObjectID, prefix: String = "") throws(GitHistoryError) -> [String: ObjectID] {
        var result: [String: ObjectID] = [:]
        for (path, id) in try entryIDs(at: commit, prefix: prefix) { result[path] = id }
        return result
    }

    /// The contents of one blob.
    public func blob(_ id: ObjectID) throws(GitHistoryError) -> Data {
        guard let data = try readFile(atBlob: id) else { throw .notFound("blob \(id.hex)") }
        return data
    }
}
