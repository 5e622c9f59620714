import CLibGit2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An open git repository (a libgit2 `git_repository` handle).
///
/// Writes commits straight into the object database and moves references, never touching the working tree
/// or the index, and reads history back.
///
/// Use one instance from one thread at a time: libgit2 repository handles are not safe for concurrent use.
/// The class is deliberately not `Sendable`; open a separate instance per task if you need parallelism.
public final class GitRepository {
    private let handle: OpaquePointer
    /// The in-memory object store new objects go to while writes are buffered (see `bufferWrites()`).
    private var buffer: UnsafeMutablePointer<git_odb_backend>?
    /// The in-memory store of a scratch handle that `writePacked` writes one commit into.
    private var scratchMemory: UnsafeMutablePointer<git_odb_backend>?
    /// The objects written into `buffer` since the last flush, in order (the mempack of this libgit2 cannot list
    /// them), and their ids.
    private var bufferedObjects: [PackObject] = []
    private var bufferedSet: Set<ObjectID> = []
    /// The newest tree written per directory (prefix → id and bytes), so the next commit splices it without
    /// reading it back (from a pack, through its delta chain).
    private var recentTrees: [[UInt8]: (id: ObjectID, bytes: [UInt8])] = [:]

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        git_repository_free(handle)
    }

    // MARK: - Opening and creating

    /// Opens the repository containing `path` (its work tree, a directory inside it, or a git directory;
    /// bare or not). With `searchParents` false, `path` itself must be the work tree root or the git directory.
    /// Throws ``GitHistoryError/notARepository(_:)`` when there is none.
    public static func open(at path: URL, searchParents: Bool = true) throws(GitHistoryError) -> GitRepository {
        GitLibrary.initialize()
        var repo: OpaquePointer?
        let flags: UInt32 = searchParents ? 0 : GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue
        let code = git_repository_open_ext(&repo, path.path, flags, nil)
        if code == GIT_ENOTFOUND.rawValue { throw .notARepository(path.path) }
        try check(code, "open the repository at \(path.path)")
        return GitRepository(handle: repo!)
    }

    /// Creates a new repository at `path` (creating missing directories). A normal repository has a work tree
    /// at `path` and its git directory in `path/.git`; a bare one has the git directory at `path`.
    /// `HEAD` points at the unborn branch `main`. Fails if a repository already exists there.
    public static func create(at path: URL, bare: Bool = false) throws(GitHistoryError) -> GitRepository {
        GitLibrary.initialize()
        var options = git_repository_init_options()
        try check(git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)),
                  "prepare repository creation options")
        options.flags = GIT_REPOSITORY_INIT_MKPATH.rawValue | GIT_REPOSITORY_INIT_NO_REINIT.rawValue
            | (bare ? GIT_REPOSITORY_INIT_BARE.rawValue : 0)
        var repo: OpaquePointer?
        let code = "main".withCString { head in
            options.initial_head = head
            return git_repository_init_ext(&repo, path.path, &options)
        }
        try check(code, "create a repository at \(path.path)")
        return GitRepository(handle: repo!)
    }

    /// True when `path` itself is a repository: a work tree root with a `.git`, or a git directory.
    /// Does not look at parent directories.
    public static func exists(at path: URL) -> Bool {
        GitLibrary.initialize()
        var repo: OpaquePointer?
        let code = git_repository_open_ext(&repo, path.path, GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue, nil)
        if let repo { git_repository_free(repo) }
        return code == 0
    }

    /// The git directory (`.../.git` for a normal repository, the repository itself when bare).
    public var gitDirectory: URL {
        URL(fileURLWithPath: String(cString: git_repository_path(handle)), isDirectory: true)
    }

    /// The work tree, or nil for a bare repository.
    public var workTree: URL? {
        guard let workdir = git_repository_workdir(handle) else { return nil }
        return URL(fileURLWithPath: String(cString: workdir), isDirectory: true)
    }

    /// True for a repository without a work tree.
    public var isBare: Bool { git_repository_is_bare(handle) == 1 }

    // MARK: - Revisions and references

    /// Resolves any revision git understands (full or short commit id, branch or tag name, `bundle/prod~2`,
    /// `refs/heads/bundle/prod^`) to a commit id, peeling tags.
    public func resolveCommit(_ revision: String) throws(GitHistoryError) -> ObjectID {
        guard !revision.isEmpty, !revision.utf8.contains(0) else { throw .notFound("Revision \"\(revision)\"") }
        var object: OpaquePointer?
        let code = git_revparse_single(&object, handle, revision)
        if code == GIT_ENOTFOUND.rawValue { throw .notFound("Revision \"\(revision)\"") }
        try check(code, "resolve the revision \"\(revision)\"")
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        let peelCode = git_object_peel(&commit, object, GIT_OBJECT_COMMIT)
        if peelCode < 0 { throw .wrongObjectType("Revision \"\(revision)\"", expected: "commit") }
        defer { git_object_free(commit) }
        return ObjectID(git_object_id(commit)!)
    }

    /// The commit a reference points at, following symbolic references (`"refs/heads/bundle/prod"`, `"HEAD"`);
    /// nil when the reference does not exist (or `HEAD` is unborn). Takes full reference names only.
    public func referenceTarget(_ name: String) -> ObjectID? {
        guard !name.isEmpty, !name.utf8.contains(0) else { return nil }
        var oid = git_oid()
        guard git_reference_name_to_id(&oid, handle, name) == 0 else { return nil }
        return ObjectID(oid)
    }

    /// Moves (or creates) the reference `name` to `target` only if it still points at `expected`
    /// (nil: the reference must not exist yet), atomically under the reference's lock, and records
    /// `logMessage` in its reflog (when the repository keeps reflogs for it).
    /// Throws ``GitHistoryError/referenceMoved(ref:expected:actual:)`` when someone else moved it first.
    public func updateReference(_ name: String, to target: ObjectID, expected: ObjectID?,
                                logMessage: String) throws(GitHistoryError) {
        var valid: Int32 = 0
        guard name.hasPrefix("refs/"), !name.utf8.contains(0),
              git_reference_name_is_valid(&valid, name) == 0, valid == 1
        else { throw .invalidReferenceName(name) }
        guard commitExists(target) else { throw .notFound("Commit \(target.hex)") }
        var oid = target.oid
        var reference: OpaquePointer?
        let code: Int32
        if let expected {
            var current = expected.oid
            code = git_reference_create_matching(&reference, handle, name, &oid, 1, &current, logMessage)
        } else {
            code = git_reference_create(&reference, handle, name, &oid, 0, logMessage)
        }
        if let reference { git_reference_free(reference) }
        if code == GIT_EMODIFIED.rawValue || code == GIT_EEXISTS.rawValue
            || (expected != nil && code == GIT_ENOTFOUND.rawValue) {
            throw .referenceMoved(ref: name, expected: expected, actual: referenceTarget(name))
        }
        try check(code, "move the reference \(name) to \(target.hex)")
    }

    // MARK: - Writing

    /// Writes a commit whose tree is the tree `baseTree` (or the empty tree when nil) with `changes` applied,
    /// and whose parents are `parents`, without moving any reference, the index or the working tree.
    ///
    /// Uses `git_tree_create_updated`, so unchanged subtrees and blobs keep their ids; intermediate directories
    /// are created; directories left empty by removals disappear. When several changes name the same path the
    /// last one wins. A file cannot replace a directory (or the reverse) in one step: remove it in an earlier
    /// commit. The message is stored as given, with a final newline added when missing. Returns the commit id.
    public func writeCommit(baseTree: ObjectID?, changes: [TreeChange], parents: [ObjectID], message: String,
                            author: Signature, committer: Signature) throws(GitHistoryError) -> ObjectID {
        if changes.count >= Self.packThreshold && buffer == nil {
            return try writePacked { repository throws(GitHistoryError) in
                let treeID = try repository.writeTree(base: baseTree, changes: changes)
                return try repository.writeCommit(tree: treeID, parents: parents, message: message, author: author, committer: committer)
            }
        }
        let treeID = try writeTree(base: baseTree, changes: changes)
        return try writeCommit(tree: treeID, parents: parents, message: message, author: author, committer: committer)
    }

    /// From this many changed files on, a commit's new objects are written as one pack file instead of one loose
    /// object file each (a baseline of thousands of state files costs one file write, not thousands).
    static let packThreshold = 64

    /// Runs `body` on a second handle whose object database writes into memory (libgit2's mempack), then stores
    /// everything it wrote as a single pack and index, and makes this handle see it.
    private func writePacked(_ body: (GitRepository) throws(GitHistoryError) -> ObjectID) throws(GitHistoryError) -> ObjectID {
        let scratch = try GitRepository.open(at: gitDirectory, searchParents: false)
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, scratch.handle), "open the object database")
        defer { git_odb_free(odb) }
        var mempack: UnsafeMutablePointer<git_odb_backend>?
        try check(git_mempack_new(&mempack), "create an in-memory object store")
        try check(git_odb_add_backend(odb, mempack, 1000), "attach the in-memory object store")
        scratch.scratchMemory = mempack
        let id = try body(scratch)
        try PackWriter.write(scratch.bufferedObjects, to: packDirectory)
        _ = git_mempack_reset(mempack)
        var mainODB: OpaquePointer?
        if git_repository_odb(&mainODB, handle) == 0 {
            _ = git_odb_refresh(mainODB)
            git_odb_free(mainODB)
        }
        return id
    }

    // MARK: - Buffered writes

    /// From now on, new objects (blobs, trees, commits) are kept in memory instead of being written to the object
    /// database, until `flushBufferedWrites()` stores them all as one pack. Reads see them meanwhile. A process
    /// that dies before the flush loses them: the caller must be able to write them again (bundle keeps what
    /// each commit is made of in its registry until the flush).
    public func bufferWrites() throws(GitHistoryError) {
        guard buffer == nil else { return }
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, handle), "open the object database")
        defer { git_odb_free(odb) }
        var mempack: UnsafeMutablePointer<git_odb_backend>?
        try check(git_mempack_new(&mempack), "create an in-memory object store")
        try check(git_odb_add_backend(odb, mempack, 1000), "attach the in-memory object store")
        buffer = mempack
    }

    /// True between `bufferWrites()` and the end of this handle.
    public var isBufferingWrites: Bool { buffer != nil }

    /// Stores every buffered object as one pack file (and its index) in the object database; buffering
    /// continues. Does nothing when nothing is buffered.
    public func flushBufferedWrites() throws(GitHistoryError) {
        guard let buffer, !bufferedObjects.isEmpty else { return }
        // Exactly the buffered objects, as one pack and its index written with fsync (a few files, whatever the
        // number of objects; see PackWriter).
        try PackWriter.write(bufferedObjects, to: packDirectory)
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, handle), "open the object database")
        defer { git_odb_free(odb) }
        _ = git_odb_refresh(odb)
        _ = git_mempack_reset(buffer)
        bufferedObjects = []
        bufferedSet = []
    }

    /// The directory holding the object store and the branches (a linked worktree's own git directory holds
    /// neither).
    private var commonDirectory: URL { URL(fileURLWithPath: String(cString: git_repository_commondir(handle)), isDirectory: true) }

    /// Where packs go.
    private var packDirectory: URL { commonDirectory.appendingPathComponent("objects/pack", isDirectory: true) }

    /// Fails with the operating system's reason when new objects or references could not be written (a
    /// read-only file system, missing permissions, a full disk), by creating and removing a small file in
    /// `objects/pack` and `refs/heads`.
    public func checkWritable() throws(GitHistoryError) {
        for directory in ["objects/pack", "refs/heads"] {
            let folder = commonDirectory.appendingPathComponent(directory)
            try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent(".bundle-write-check-\(getpid())").path
            let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            var failure = descriptor < 0 ? errno : 0
            if descriptor >= 0 {
                if write(descriptor, "x", 1) != 1 { failure = errno }
                if fsync(descriptor) != 0 && failure == 0 { failure = errno }
                close(descriptor)
                unlink(path)
            }
            if failure != 0 {
                throw .libgit2(code: -1, klass: 0, message: "\(folder.path): \(String(cString: strerror(failure)))", operation: "write to the repository")
            }
        }
    }

    /// Writes a commit whose tree holds exactly `files` (path → contents), with the given parents,
    /// without moving any reference. Returns the commit id.
    public func writeCommit(files: [String: Data], parents: [ObjectID], message: String,
                            author: Signature, committer: Signature) throws(GitHistoryError) -> ObjectID {
        let changes = files.keys.sorted().map { TreeChange.upsert(path: $0, contents: files[$0]!) }
        return try writeCommit(baseTree: nil, changes: changes, parents: parents, message: message,
                               author: author, committer: committer)
    }

    /// Writes `changes` on top of the tree `base` (empty when nil) and returns the new tree's id.
    public func writeTree(base: ObjectID?, changes: [TreeChange]) throws(GitHistoryError) -> ObjectID {
        // Validate, and keep only the last change per path (in first-seen order). Paths are compared as bytes, as
        // git does: two spellings of a name that Swift's String calls equal (a composed é and e + U+0301) are two
        // paths, and a '/' followed by a combining mark is still a separator.
        var lastChange: [[UInt8]: TreeChange] = [:]
        var order: [[UInt8]] = []
        for change in changes {
            try Self.validate(path: change.path)
            let key = Array(change.path.utf8)
            if lastChange.updateValue(change, forKey: key) == nil { order.append(key) }
        }
        let upsertPaths = Set(lastChange.compactMap { if case .upsert = $0.value { $0.key } else { nil } })
        for path in upsertPaths {
            // Each directory on the path (the bytes before a '/').
            for index in path.indices where path[index] == 0x2F && upsertPaths.contains(Array(path[..<index])) {
                throw .invalidPath(
                    String(decoding: path, as: UTF8.self),
                    reason: "\"\(String(decoding: path[..<index], as: UTF8.self))\" is written as a file in the same commit")
            }
        }

        // Buffered writes splice trees as bytes (`rebuildTree`), which also checks files against directories.
        if let memory = buffer ?? scratchMemory {
            var changed: [[UInt8]: git_oid?] = [:]
            for path in order {
                switch lastChange[path]! {
                case .remove: changed.updateValue(nil, forKey: path)
                case .upsert(let name, let contents): changed.updateValue(try writeBlob(contents, name: name), forKey: path)
                }
            }
            if changed.isEmpty, let base { return base }
            if let root = try rebuildTree(base?.oid, prefix: [], changes: changed, memory: memory) { return ObjectID(root) }
            return ObjectID(try emptyTree(memory))
        }

        var baseTree: OpaquePointer?
        if let base {
            var oid = base.oid
            let code = git_tree_lookup(&baseTree, handle, &oid)
            if code == GIT_ENOTFOUND.rawValue { throw .notFound("Tree \(base.hex)") }
            try check(code, "read the tree \(base.hex)")
        }
        defer { if let baseTree { git_tree_free(baseTree) } }

        var updates: [git_tree_update] = []
        var cPaths: [UnsafeMutablePointer<CChar>] = []
        defer { cPaths.forEach { free($0) } }
        for key in order {
            let path = String(decoding: key, as: UTF8.self)
            var update = git_tree_update()
            switch lastChange[key]! {
            case .remove:
                // Removing what is not there is a no-op (libgit2 would fail or create empty directories).
                guard let baseTree, try entryType(path, in: baseTree) != nil else { continue }
                update.action = GIT_TREE_UPDATE_REMOVE
            case .upsert(_, let contents):
                if let baseTree {
                    if try entryType(path, in: baseTree) == GIT_OBJECT_TREE {
                        throw .invalidPath(path, reason: "it is a directory in the base tree")
                    }
                    for directory in Self.ancestors(of: path) {
                        if let type = try entryType(directory, in: baseTree), type != GIT_OBJECT_TREE {
                            throw .invalidPath(path, reason: "\"\(directory)\" is a file in the base tree")
                        }
                    }
                }
                update.action = GIT_TREE_UPDATE_UPSERT
                update.filemode = GIT_FILEMODE_BLOB
                update.id = try writeBlob(contents, name: path)
            }
            let cPath = strdup(path)!
            cPaths.append(cPath)
            update.path = UnsafePointer(cPath)
            updates.append(update)
        }

        var treeOID = git_oid()
        if updates.isEmpty, let base {
            return base
        }
        let code = updates.withUnsafeBufferPointer { buffer in
            git_tree_create_updated(&treeOID, handle, baseTree, buffer.count, buffer.baseAddress)
        }
        try check(code, "write the updated tree")
        // libgit2 drops directories that the removals leave empty, at every level.
        return ObjectID(treeOID)
    }

    /// `git_tree_create_updated` for buffered writes: rebuilds the directories on the changed paths and stores
    /// each new tree straight in the in-memory store (git_odb_write would rescan the pack directory for every new
    /// object). `changes`: path relative to `prefix` → new blob, or nil to remove. A directory left empty
    /// disappears (nil is returned for it).
    ///
    /// A tree is spliced as bytes: its entries are already in git's order, so the unchanged runs between the
    /// changed names are copied whole and only the changed entries are written. The cost of a commit follows its
    /// changes and the raw size of the trees on their paths, with no per-entry work for the rest (directories such
    /// as `applied/` gain an entry with every bundle).
    private func rebuildTree(
        _ tree: git_oid?, prefix: [UInt8], changes: [[UInt8]: git_oid?], memory: UnsafeMutablePointer<git_odb_backend>
    ) throws(GitHistoryError) -> git_oid? {
        let prefixText = String(decoding: prefix, as: UTF8.self)
        let raw: [UInt8]
        if let tree {
            if let recent = recentTrees[prefix], recent.id == ObjectID(tree) { raw = recent.bytes } else { raw = try readRawTree(tree, path: prefixText) }
        } else {
            raw = []
        }
        let entries = RawTree(raw)
        // This level's edits, keyed by git's sort key (a directory's name compared as if it ended in '/').
        var edits: [(key: [UInt8], entry: [UInt8]?)] = []
        var below: [[UInt8]: [[UInt8]: git_oid?]] = [:]
        var removed: [[UInt8]] = []
        for (path, change) in changes {
            if let slash = path.firstIndex(of: 0x2F) {
                below[Array(path[..<slash]), default: [:]].updateValue(change, forKey: Array(path[(slash + 1)...]))
            } else if let change {
                if entries.find(key: path + [0x2F]) != nil {
                    throw .invalidPath(prefixText + String(decoding: path, as: UTF8.self), reason: "it is a directory in the base tree")
                }
                edits.append((path, RawTree.entry(mode: "100644", name: path, id: change)))
            } else {
                removed.append(path)
            }
        }
        // A removal names a file or a whole directory. (Like libgit2's updater, a directory that is also written
        // below in the same step keeps its other entries.)
        for name in removed {
            if entries.find(key: name) != nil {
                edits.append((name, nil))
            } else if below[name] == nil, entries.find(key: name + [0x2F]) != nil {
                edits.append((name + [0x2F], nil))
            }
        }
        for (name, subchanges) in below {
            let key = name + [0x2F]
            if let upsert = subchanges.filter({ $0.value != nil }).keys.min(by: { $0.lexicographicallyPrecedes($1) }), entries.find(key: name) != nil {
                let directory = prefixText + String(decoding: name, as: UTF8.self)
                throw .invalidPath(directory + "/" + String(decoding: upsert, as: UTF8.self), reason: "\"\(directory)\" is a file in the base tree")
            }
            let existing = entries.find(key: key).map { entries.id(at: $0) }
            let rebuilt = try rebuildTree(existing, prefix: prefix + key, changes: subchanges, memory: memory)
            edits.append((key, rebuilt.map { RawTree.entry(mode: "40000", name: name, id: $0) }))
        }
        edits.sort { $0.key.lexicographicallyPrecedes($1.key) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count + edits.count * 64)
        var next = 0  // the first entry not yet copied or skipped
        for edit in edits {
            let position = entries.lowerBound(key: edit.key, from: next)
            if position > next { bytes += raw[entries.start(of: next)..<entries.start(of: position)] }
            next = position
            if next < entries.count && entries.compare(next, edit.key) == 0 { next += 1 }  // replaced or removed
            if let entry = edit.entry { bytes += entry }
        }
        if next < entries.count { bytes += raw[entries.start(of: next)..<raw.count] }
        if bytes.isEmpty { return nil }
        let name = prefix.isEmpty ? nil : String(decoding: prefix.dropLast(), as: UTF8.self)
        let id = try storeBuffered(bytes, type: GIT_OBJECT_TREE, name: name, memory: memory)
        recentTrees[prefix] = (ObjectID(id), bytes)
        return id
    }

    /// The raw bytes of the tree object `id`.
    private func readRawTree(_ id: git_oid, path: String) throws(GitHistoryError) -> [UInt8] {
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, handle), "open the object database")
        defer { git_odb_free(odb) }
        var object: OpaquePointer?
        var oid = id
        let code = git_odb_read(&object, odb, &oid)
        if code == GIT_ENOTFOUND.rawValue { throw .notFound("Tree \(ObjectID(id).hex)") }
        try check(code, "read the tree \(path.isEmpty ? "/" : path)")
        defer { git_odb_object_free(object) }
        guard git_odb_object_type(object) == GIT_OBJECT_TREE else {
            throw .libgit2(code: -1, klass: 0, message: "\(ObjectID(id).hex) is not a tree", operation: "read the tree \(path)")
        }
        let size = git_odb_object_size(object)
        guard size > 0, let data = git_odb_object_data(object) else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: size))
    }

    private func emptyTree(_ memory: UnsafeMutablePointer<git_odb_backend>) throws(GitHistoryError) -> git_oid {
        try storeBuffered([], type: GIT_OBJECT_TREE, name: nil, memory: memory)
    }

    /// Hashes `bytes` as an object of `type` and puts it straight in the in-memory store unless the repository has
    /// it. (git_odb_write would look for the object first and, missing it as it must for a new object, rescan the
    /// pack directory: thousands of directory reads for a baseline.) `what` names the object in errors.
    private func storeBuffered<Bytes: ContiguousBytes>(
        _ bytes: Bytes, type: git_object_t, name: String?, memory: UnsafeMutablePointer<git_odb_backend>, what: String = "an object"
    ) throws(GitHistoryError) -> git_oid {
        let oid = bytes.withUnsafeBytes { PackWriter.objectID(type: type, bytes: $0) }
        let objectID = ObjectID(oid)
        if bufferedSet.contains(objectID) { return oid }
        var odb: OpaquePointer?
        try check(git_repository_odb(&odb, handle), "open the object database")
        defer { git_odb_free(odb) }
        var id = oid
        if git_odb_exists_ext(odb, &id, UInt32(GIT_ODB_LOOKUP_NO_REFRESH.rawValue)) == 0 {
            try check(bytes.withUnsafeBytes { memory.pointee.write(memory, &id, $0.baseAddress, $0.count, type) }, "write \(what)")
            bufferedObjects.append(PackObject(id: oid, type: type, bytes: bytes.withUnsafeBytes { Array($0) }, name: name))
            bufferedSet.insert(objectID)
        }
        return oid
    }

    /// Writes a commit with the given tree and parents, moving no reference.
    private func writeCommit(tree: ObjectID, parents: [ObjectID], message: String, author: Signature,
                             committer: Signature) throws(GitHistoryError) -> ObjectID {
        var treeOID = tree.oid
        var treePointer: OpaquePointer?
        try check(git_tree_lookup(&treePointer, handle, &treeOID), "read the tree \(tree.hex)")
        defer { git_tree_free(treePointer) }

        var parentPointers: [OpaquePointer?] = []
        defer { parentPointers.forEach { git_commit_free($0) } }
        for parent in parents {
            var oid = parent.oid
            var commit: OpaquePointer?
            let code = git_commit_lookup(&commit, handle, &oid)
            if code == GIT_ENOTFOUND.rawValue { throw .notFound("Parent commit \(parent.hex)") }
            try check(code, "read the parent commit \(parent.hex)")
            parentPointers.append(commit)
        }

        let authorSignature = try makeSignature(author, role: "author")
        defer { git_signature_free(authorSignature) }
        let committerSignature = try makeSignature(committer, role: "committer")
        defer { git_signature_free(committerSignature) }

        let text = message.hasSuffix("\n") ? message : message + "\n"
        if let memory = buffer ?? scratchMemory {
            var content = git_buf()
            defer { git_buf_dispose(&content) }
            let code = parentPointers.withUnsafeMutableBufferPointer { pointers in
                pointers.withMemoryRebound(to: OpaquePointer?.self) { buffer in
                    git_commit_create_buffer(&content, handle, authorSignature, committerSignature, nil, text, treePointer, buffer.count, buffer.baseAddress)
                }
            }
            try check(code, "write a commit")
            let bytes = Array(UnsafeRawBufferPointer(start: content.ptr, count: content.size))
            return ObjectID(try storeBuffered(bytes, type: GIT_OBJECT_COMMIT, name: nil, memory: memory))
        }
        var commitOID = git_oid()
        let code = parentPointers.withUnsafeMutableBufferPointer { buffer in
            git_commit_create(&commitOID, handle, nil, authorSignature, committerSignature, nil, text, treePointer,
                              buffer.count, buffer.baseAddress)
        }
        try check(code, "write a commit")
        return ObjectID(commitOID)
    }

    private func makeSignature(_ signature: Signature, role: String) throws(GitHistoryError) -> UnsafeMutablePointer<git_signature> {
        var result: UnsafeMutablePointer<git_signature>?
        let seconds = git_time_t(signature.time.timeIntervalSince1970.rounded(.down))
        let code = git_signature_new(&result, signature.name, signature.email, seconds,
                                     Int32(signature.timeZoneOffsetMinutes))
        try check(code, "use \"\(signature.name) <\(signature.email)>\" as the commit \(role)")
        return result!
    }

    private func writeBlob(_ contents: Data, name: String? = nil) throws(GitHistoryError) -> git_oid {
        if let memory = buffer ?? scratchMemory {
            return try storeBuffered(contents, type: GIT_OBJECT_BLOB, name: name, memory: memory, what: "a file's contents")
        }
        var oid = git_oid()
        let code = contents.withUnsafeBytes { bytes in
            git_blob_create_from_buffer(&oid, handle, bytes.baseAddress, bytes.count)
        }
        try check(code, "write a file's contents")
        return oid
    }

    // MARK: - Reading commits

    /// Reads the commit `id`.
    public func commit(_ id: ObjectID) throws(GitHistoryError) -> CommitInfo {
        let pointer = try lookupCommit(id)
        defer { git_commit_free(pointer) }
        let parents = (0..<git_commit_parentcount(pointer)).map { ObjectID(git_commit_parent_id(pointer, $0)!) }
        let message = git_commit_message(pointer).map { String(cString: $0) } ?? ""
        return CommitInfo(
            id: id,
            parents: parents,
            tree: ObjectID(git_commit_tree_id(pointer)!),
            author: Signature(git_commit_author(pointer)!),
            committer: Signature(git_commit_committer(pointer)!),
            message: message,
            trailers: try Self.trailers(of: message)
        )
    }

    /// True when `id` names a commit in this repository.
    public func commitExists(_ id: ObjectID) -> Bool {
        var oid = id.oid
        var pointer: OpaquePointer?
        guard git_commit_lookup(&pointer, handle, &oid) == 0 else { return false }
        git_commit_free(pointer)
        return true
    }

    /// The first-parent history from `start` back to the root commit, newest first, at most `limit` commits.
    public func log(from start: ObjectID, limit: Int? = nil) throws(GitHistoryError) -> [CommitInfo] {
        if let limit, limit <= 0 { return [] }
        guard commitExists(start) else { throw .notFound("Commit \(start.hex)") }
        var walk: OpaquePointer?
        try check(git_revwalk_new(&walk, handle), "start walking the history")
        defer { git_revwalk_free(walk) }
        try check(git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL.rawValue), "sort the history")
        try check(git_revwalk_simplify_first_parent(walk), "follow first parents")
        var startOID = start.oid
        try check(git_revwalk_push(walk, &startOID), "walk the history from \(start.hex)")
        var result: [CommitInfo] = []
        while limit.map({ result.count < $0 }) ?? true {
            var next = git_oid()
            let code = git_revwalk_next(&next, walk)
            if code == GIT_ITEROVER.rawValue { break }
            try check(code, "walk the history from \(start.hex)")
            result.append(try commit(ObjectID(next)))
        }
        return result
    }

    /// True when `ancestor` is reachable from `descendant` through parent links, or is the same commit
    /// (as `git merge-base --is-ancestor`).
    public func isAncestor(_ ancestor: ObjectID, of descendant: ObjectID) throws(GitHistoryError) -> Bool {
        for id in [ancestor, descendant] where !commitExists(id) { throw .notFound("Commit \(id.hex)") }
        if ancestor == descendant { return true }
        var descendantOID = descendant.oid, ancestorOID = ancestor.oid
        let code = git_graph_descendant_of(handle, &descendantOID, &ancestorOID)
        try check(code, "compare the ancestry of \(ancestor.hex) and \(descendant.hex)")
        return code == 1
    }

    // MARK: - Reading trees

    /// The contents of the file at `path` in `commit`'s tree; nil when there is no file there
    /// (nothing at all, or a directory).
    public func readFile(_ path: String, at commit: ObjectID) throws(GitHistoryError) -> Data? {
        try Self.validate(path: path)
        let tree = try rootTree(of: commit)
        defer { git_tree_free(tree) }
        var entry: OpaquePointer?
        let code = git_tree_entry_bypath(&entry, tree, path)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "find \(path) at \(commit.hex)")
        defer { git_tree_entry_free(entry) }
        guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return nil }
        return try readBlob(git_tree_entry_id(entry)!)
    }

    /// The id of the object (blob or tree) at `path` in `commit`'s tree (`""` for the root tree);
    /// nil when nothing is there. Equal ids mean identical contents.
    public func objectID(at path: String, in commit: ObjectID) throws(GitHistoryError) -> ObjectID? {
        if path.isEmpty { return try self.commit(commit).tree }
        try Self.validate(path: path)
        let tree = try rootTree(of: commit)
        defer { git_tree_free(tree) }
        var entry: OpaquePointer?
        let code = git_tree_entry_bypath(&entry, tree, path)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "find \(path) at \(commit.hex)")
        defer { git_tree_entry_free(entry) }
        return ObjectID(git_tree_entry_id(entry)!)
    }

    /// All files under the directory `prefix` (`""` for the whole tree) at `commit`, keyed by their full
    /// repository-relative paths (prefix included). Empty when `prefix` does not exist; just that file when
    /// `prefix` names a file. A trailing `/` on `prefix` is allowed.
    public func readTree(at commit: ObjectID, prefix: String = "") throws(GitHistoryError) -> [String: Data] {
        var directory = prefix
        while directory.hasSuffix("/") { directory.removeLast() }
        if directory.isEmpty {
            let root = try rootTree(of: commit)
            defer { git_tree_free(root) }
            return try walkFiles(root, base: "")
        }
        switch try lookUp(directory, at: commit) {
        case .missing:
            return [:]
        case .file(var id):
            return [directory: try readBlob(&id)]
        case .tree(let subtree):
            defer { git_tree_free(subtree) }
            return try walkFiles(subtree, base: directory + "/")
        }
    }

    /// The files under the directory `directory` at `commit`, keyed by their path below it and decoded as UTF-8
    /// (invalid bytes repaired): what `readTree` gives, without a `Data` copy of every file for callers that
    /// want text. Empty when the directory does not exist.
    public func readTextTree(at commit: ObjectID, directory: String) throws(GitHistoryError) -> [String: String] {
        guard case .tree(let subtree) = try lookUp(directory, at: commit) else { return [:] }
        defer { git_tree_free(subtree) }
        var files: [String: String] = [:]
        try walkBlobs(subtree, base: "") { path, bytes in files[path] = String(decoding: bytes, as: UTF8.self) }
        return files
    }

    /// What stands at `path` in `commit`'s tree.
    private enum TreeEntry {
        case missing
        case file(git_oid)
        /// A tree the caller frees (`git_tree_free`).
        case tree(OpaquePointer)
    }

    /// What stands at `path` (not empty, validated here) in `commit`'s tree.
    private func lookUp(_ path: String, at commit: ObjectID) throws(GitHistoryError) -> TreeEntry {
        try Self.validate(path: path)
        let root = try rootTree(of: commit)
        defer { git_tree_free(root) }
        var entry: OpaquePointer?
        let code = git_tree_entry_bypath(&entry, root, path)
        if code == GIT_ENOTFOUND.rawValue { return .missing }
        try check(code, "find \(path) at \(commit.hex)")
        defer { git_tree_entry_free(entry) }
        switch git_tree_entry_type(entry) {
        case GIT_OBJECT_BLOB:
            return .file(git_tree_entry_id(entry)!.pointee)
        case GIT_OBJECT_TREE:
            var subtree: OpaquePointer?
            try check(git_tree_lookup(&subtree, handle, git_tree_entry_id(entry)), "read \(path) at \(commit.hex)")
            return .tree(subtree!)
        default:
            return .missing
        }
    }

    /// The files that differ between `old`'s tree (the empty tree when nil) and `new`'s tree, sorted by path.
    /// Renames show as a removal plus an addition.
    public func changedPaths(from old: ObjectID?, to new: ObjectID) throws(GitHistoryError) -> [PathChange] {
        let newTree = try rootTree(of: new)
        defer { git_tree_free(newTree) }
        let oldTree = try old.map { id throws(GitHistoryError) in try rootTree(of: id) }
        defer { if let oldTree { git_tree_free(oldTree) } }
        var diff: OpaquePointer?
        try check(git_diff_tree_to_tree(&diff, handle, oldTree, newTree, nil),
                  "compare \(old?.hex ?? "the empty tree") with \(new.hex)")
        defer { git_diff_free(diff) }
        var result: [PathChange] = []
        for index in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, index)?.pointee else { continue }
            let kind: PathChangeKind
            let file: git_diff_file
            switch delta.status {
            case GIT_DELTA_ADDED: kind = .added; file = delta.new_file
            case GIT_DELTA_DELETED: kind = .removed; file = delta.old_file
            case GIT_DELTA_MODIFIED, GIT_DELTA_TYPECHANGE: kind = .modified; file = delta.new_file
            default: continue
            }
            result.append(PathChange(path: String(cString: file.path), kind: kind))
        }
        return result.sorted { $0.path < $1.path }
    }

    // MARK: - Configuration

    /// `user.name` and `user.email` from the repository's configuration (including global and system
    /// configuration); nil when either is unset or empty.
    public func configuredIdentity() -> (name: String, email: String)? {
        var config: OpaquePointer?
        guard git_repository_config_snapshot(&config, handle) == 0 else { return nil }
        defer { git_config_free(config) }
        func value(_ key: String) -> String? {
            var out: UnsafePointer<CChar>?
            guard git_config_get_string(&out, config, key) == 0, let out else { return nil }
            let string = String(cString: out)
            return string.isEmpty ? nil : string
        }
        guard let name = value("user.name"), let email = value("user.email") else { return nil }
        return (name, email)
    }

    // MARK: - Helpers

    /// Checks that `path` is a relative, slash-separated path git can store.
    static func validate(path: String) throws(GitHistoryError) {
        if path.isEmpty { throw .invalidPath(path, reason: "the path is empty") }
        let bytes = path.utf8
        if bytes.first == UInt8(ascii: "/") { throw .invalidPath(path, reason: "it is absolute (starts with \"/\")") }
        // One pass over the bytes, component by component.
        var start = bytes.startIndex
        var index = bytes.startIndex
        while true {
            let atEnd = index == bytes.endIndex
            if !atEnd && bytes[index] == 0 { throw .invalidPath(path, reason: "it contains a NUL character") }
            if atEnd || bytes[index] == UInt8(ascii: "/") {
                let component = bytes[start..<index]
                if component.isEmpty {
                    throw .invalidPath(path, reason: "it has an empty component (\"//\" or a trailing \"/\")")
                }
                if component.elementsEqual(".".utf8) || component.elementsEqual("..".utf8) {
                    throw .invalidPath(path, reason: "it has a \"\(String(decoding: component, as: UTF8.self))\" component")
                }
                if component.count == 4 && component.elementsEqual(".git".utf8, by: { ((0x41...0x5A).contains($0) ? $0 | 0x20 : $0) == $1 }) {
                    throw .invalidPath(path, reason: "\".git\" is reserved by git")
                }
                if atEnd { return }
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
    }

    /// The directories containing `path`, outermost first: "a/b/c" → ["a", "a/b"].
    static func ancestors(of path: String) -> [String] {
        let components = path.split(separator: "/")
        return (1..<max(components.count, 1)).map { components[0..<$0].joined(separator: "/") }
    }

    private func lookupCommit(_ id: ObjectID) throws(GitHistoryError) -> OpaquePointer {
        var oid = id.oid
        var pointer: OpaquePointer?
        let code = git_commit_lookup(&pointer, handle, &oid)
        if code == GIT_ENOTFOUND.rawValue { throw .notFound("Commit \(id.hex)") }
        try check(code, "read the commit \(id.hex)")
        return pointer!
    }

    /// The root tree of a commit; the caller frees it.
    private func rootTree(of commit: ObjectID) throws(GitHistoryError) -> OpaquePointer {
        let pointer = try lookupCommit(commit)
        defer { git_commit_free(pointer) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, pointer), "read the tree of \(commit.hex)")
        return tree!
    }

    /// The type of the entry at `path` in `tree`, or nil when there is none.
    private func entryType(_ path: String, in tree: OpaquePointer) throws(GitHistoryError) -> git_object_t? {
        var entry: OpaquePointer?
        let code = git_tree_entry_bypath(&entry, tree, path)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "find \(path) in the base tree")
        defer { git_tree_entry_free(entry) }
        return git_tree_entry_type(entry)
    }

    private func readBlob(_ id: UnsafePointer<git_oid>) throws(GitHistoryError) -> Data {
        var blob: OpaquePointer?
        try check(git_blob_lookup(&blob, handle, id), "read the file \(ObjectID(id).hex)")
        defer { git_blob_free(blob) }
        let size = Int(git_blob_rawsize(blob))
        guard size > 0, let bytes = git_blob_rawcontent(blob) else { return Data() }
        return Data(bytes: bytes, count: size)
    }

    /// Path → blob id of the files under `prefix` at `commit` (no blob is read).
    func entryIDs(at commit: ObjectID, prefix: String) throws(GitHistoryError) -> [(String, ObjectID)] {
        var directory = prefix
        while directory.hasSuffix("/") { directory.removeLast() }
        let root = try rootTree(of: commit)
        defer { git_tree_free(root) }
        var tree: OpaquePointer? = root
        var subtree: OpaquePointer? = nil
        defer { if let subtree { git_tree_free(subtree) } }
        if !directory.isEmpty {
            try Self.validate(path: directory)
            var entry: OpaquePointer?
            let code = git_tree_entry_bypath(&entry, root, directory)
            if code == GIT_ENOTFOUND.rawValue { return [] }
            try check(code, "find \(directory) at \(commit.hex)")
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else { return [] }
            try check(git_tree_lookup(&subtree, handle, git_tree_entry_id(entry)), "read \(directory) at \(commit.hex)")
            tree = subtree
        }
        final class Collector {
            let base: String
            var entries: [(String, ObjectID)] = []
            init(base: String) { self.base = base }
        }
        let collector = Collector(base: directory.isEmpty ? "" : directory + "/")
        let code = withExtendedLifetime(collector) {
            git_tree_walk(tree, GIT_TREEWALK_PRE, { root, entry, payload in
                let collector = Unmanaged<Collector>.fromOpaque(payload!).takeUnretainedValue()
                guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return 0 }
                collector.entries.append((collector.base + String(cString: root!) + String(cString: git_tree_entry_name(entry)), ObjectID(git_tree_entry_id(entry)!)))
                return 0
            }, Unmanaged.passUnretained(collector).toOpaque())
        }
        try check(code, "walk the tree")
        return collector.entries
    }

    /// Reads a blob by id; nil when there is none.
    func readFile(atBlob id: ObjectID) throws(GitHistoryError) -> Data? {
        var oid = git_oid()
        guard git_oid_fromstrn(&oid, id.hex, id.hex.utf8.count) == 0 else { return nil }
        return try readBlob(&oid)
    }

    /// State shared with the C tree-walk callback through its payload pointer.
    private final class TreeWalk {
        let repository: OpaquePointer
        let base: String
        let visit: (String, UnsafeRawBufferPointer) -> Void
        var error: GitHistoryError?

        init(repository: OpaquePointer, base: String, visit: @escaping (String, UnsafeRawBufferPointer) -> Void) {
            self.repository = repository
            self.base = base
            self.visit = visit
        }
    }

    /// Every blob under `tree`, keyed by `base` + its path (recursive `git_tree_walk`).
    private func walkFiles(_ tree: OpaquePointer, base: String) throws(GitHistoryError) -> [String: Data] {
        var files: [String: Data] = [:]
        try walkBlobs(tree, base: base) { path, bytes in files[path] = Data(bytes) }
        return files
    }

    /// Calls `visit` with `base` + the path and the bytes of every blob under `tree` (recursive `git_tree_walk`).
    private func walkBlobs(_ tree: OpaquePointer, base: String, _ visit: @escaping (String, UnsafeRawBufferPointer) -> Void) throws(GitHistoryError) {
        let walk = TreeWalk(repository: handle, base: base, visit: visit)
        let code = withExtendedLifetime(walk) {
            git_tree_walk(tree, GIT_TREEWALK_PRE, { root, entry, payload in
                let walk = Unmanaged<TreeWalk>.fromOpaque(payload!).takeUnretainedValue()
                guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else { return 0 }
                let path = walk.base + String(cString: root!) + String(cString: git_tree_entry_name(entry))
                var blob: OpaquePointer?
                let code = git_blob_lookup(&blob, walk.repository, git_tree_entry_id(entry))
                if code < 0 {
                    walk.error = libgit2Error(code, "read the file \(path)")
                    return -1
                }
                defer { git_blob_free(blob) }
                let size = Int(git_blob_rawsize(blob))
                let bytes = size > 0 ? git_blob_rawcontent(blob) : nil
                walk.visit(path, UnsafeRawBufferPointer(start: bytes, count: bytes == nil ? 0 : size))
                return 0
            }, Unmanaged.passUnretained(walk).toOpaque())
        }
        if let error = walk.error { throw error }
        try check(code, "walk the tree")
    }

    /// The trailers of `message`, parsed by libgit2.
    static func trailers(of message: String) throws(GitHistoryError) -> [Trailer] {
        var array = git_message_trailer_array()
        try check(git_message_trailers(&array, message), "parse the commit message trailers")
        defer { git_message_trailer_array_free(&array) }
        guard let trailers = array.trailers else { return [] }
        return (0..<array.count).map {
            Trailer(key: String(cString: trailers[$0].key), value: String(cString: trailers[$0].value))
        }
    }
}

/// The entries of a raw git tree object ("<octal mode> <name>\0<20-byte id>" each, in git's order), indexed
/// without copying: names are compared in place.
struct RawTree {
    private let bytes: [UInt8]
    /// Per entry: where it starts, where its name starts and ends (the NUL), and whether it is a directory.
    private var starts: [Int] = []
    private var nameStarts: [Int] = []
    private var nameEnds: [Int] = []
    private var directories: [Bool] = []

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        // Every commit of a run parses the trees on its paths (large ones such as `rollback/` grow by one entry a
        // bundle): scan with memchr, into arrays sized for ~40-byte entries.
        let estimate = bytes.count / 40 + 1
        starts.reserveCapacity(estimate)
        nameStarts.reserveCapacity(estimate)
        nameEnds.reserveCapacity(estimate)
        directories.reserveCapacity(estimate)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = buffer.count
            func find(_ byte: UInt8, from index: Int) -> Int {
                guard index < count, let found = memchr(base + index, Int32(byte), count - index) else { return count }
                return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            var index = 0
            while index < count {
                starts.append(index)
                let space = find(0x20, from: index)
                nameStarts.append(space + 1)
                let end = find(0, from: space + 1)
                nameEnds.append(end)
                // A tree's mode is 40000 (the only mode of five digits starting with '4').
                directories.append(space - index == 5 && base[index] == 0x34)
                index = end + 21
            }
        }
    }

    var count: Int { starts.count }

    /// Where entry `entry` starts (the end of the tree for `count`).
    func start(of entry: Int) -> Int { entry < starts.count ? starts[entry] : bytes.count }

    func id(at entry: Int) -> git_oid {
        var oid = git_oid()
        withUnsafeMutableBytes(of: &oid.id) { target in
            for offset in 0..<20 { target[offset] = bytes[nameEnds[entry] + 1 + offset] }
        }
        return oid
    }

    /// Compares entry `entry`'s sort key (its name, plus '/' for a directory) with `key`.
    func compare(_ entry: Int, _ key: [UInt8]) -> Int {
        var a = nameStarts[entry]
        let end = nameEnds[entry]
        var b = 0
        while true {
            let left: Int = a < end ? Int(bytes[a]) : (a == end && directories[entry] ? 0x2F : -1)
            let right: Int = b < key.count ? Int(key[b]) : -1
            if left != right { return left < right ? -1 : 1 }
            if left == -1 { return 0 }
            a += 1
            b += 1
        }
    }

    /// The first entry at or after `from` whose key is not below `key`.
    func lowerBound(key: [UInt8], from: Int) -> Int {
        var low = from
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if compare(middle, key) < 0 { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The entry whose key is `key`, if any.
    func find(key: [UInt8]) -> Int? {
        let position = lowerBound(key: key, from: 0)
        return position < count && compare(position, key) == 0 ? position : nil
    }

    /// One entry's bytes.
    static func entry(mode: String, name: [UInt8], id: git_oid) -> [UInt8] {
        var bytes = Array(mode.utf8) + [0x20] + name + [0]
        withUnsafeBytes(of: id.id) { bytes += $0 }
        return bytes
    }
}
