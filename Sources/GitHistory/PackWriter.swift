import CCrypto
import CLibGit2
import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lengths of the longest common start of `old` and `new`, and of their longest common end that does not
/// overlap it: a new version is then `new[prefix..<new.count - suffix]` between `old`'s first `prefix` and last
/// `suffix` bytes. Pack deltas (`PackWriter`) and bundle's commit recipes record changes this way.
public func commonPrefixAndSuffix(_ old: UnsafeRawBufferPointer, _ new: UnsafeRawBufferPointer) -> (prefix: Int, suffix: Int) {
    let limit = min(old.count, new.count)
    // Eight bytes at a time, then byte by byte: every buffered commit compares its large trees (`rollback/`,
    // `applied/`) with their previous versions.
    func word(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 { buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
    var prefix = 0
    while prefix + 8 <= limit && word(old, prefix) == word(new, prefix) { prefix += 8 }
    while prefix < limit && old[prefix] == new[prefix] { prefix += 1 }
    var suffix = 0
    while suffix + 8 <= limit - prefix && word(old, old.count - suffix - 8) == word(new, new.count - suffix - 8) { suffix += 8 }
    while suffix < limit - prefix && old[old.count - 1 - suffix] == new[new.count - 1 - suffix] { suffix += 1 }
    return (prefix, suffix)
}

/// One object for a pack: its id, git type, exact bytes and the path it was written at (blobs and trees), which
/// lets a later version of the same path be stored as a delta against it.
struct PackObject {
    let id: git_oid
    let type: git_object_t
    let bytes: [UInt8]
    let name: String?
}

/// Writes packs (git's pack format v2 and index v2) straight from objects held in memory.
///
/// Buffered commits change a few entries of the same trees over and over (`applied/`, `rollback/`, a schema's
/// `tables/`, `signatures.tsv`): each version is stored as a delta (common prefix and suffix copied, the middle
/// inserted) against the previous version of the same path in the same pack, at most `maxDepth` deep. No delta
/// search, and every object is hashed once (libcrypto SHA-1); libgit2's pack builder searched a window of
/// candidates per object and its indexer hashed every object again. The pack is self-contained (no base outside
/// it), so git, libgit2 and `git fsck` read it as any other.
enum PackWriter {
    static let maxDepth = 50

    /// The git object id of `bytes` stored as `type`: SHA-1 of "<type> <size>\0" followed by the bytes.
    static func objectID(type: git_object_t, bytes: UnsafeRawBufferPointer) -> git_oid {
        let name: String
        switch type {
        case GIT_OBJECT_COMMIT: name = "commit"
        case GIT_OBJECT_TREE: name = "tree"
        case GIT_OBJECT_TAG: name = "tag"
        default: name = "blob"
        }
        let header = Array("\(name) \(bytes.count)".utf8) + [0]
        var oid = git_oid()
        let context = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(context) }
        EVP_DigestInit_ex(context, EVP_sha1(), nil)
        EVP_DigestUpdate(context, header, header.count)
        if let base = bytes.baseAddress, bytes.count > 0 { EVP_DigestUpdate(context, base, bytes.count) }
        withUnsafeMutableBytes(of: &oid.id) { digest in
            _ = EVP_DigestFinal_ex(context, digest.baseAddress!.assumingMemoryBound(to: UInt8.self), nil)
        }
        return oid
    }

    static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 20)
        _ = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, nil, EVP_sha1(), nil) }
        return digest
    }

    /// Writes `objects` (distinct ids, each delta base before the objects that use it) as
    /// `pack-<checksum>.pack` and `.idx` in `directory` (the repository's `objects/pack`), with fsync, the index
    /// last: a reader sees the pack whole or not at all.
    static func write(_ objects: [PackObject], to directory: URL) throws(GitHistoryError) {
        guard !objects.isEmpty else { return }
        var pack: [UInt8] = Array("PACK".utf8)
        appendBigEndian32(&pack, 2)
        appendBigEndian32(&pack, UInt32(objects.count))
        var offsets: [Int] = []
        var crcs: [UInt32] = []
        offsets.reserveCapacity(objects.count)
        // The latest object written per path (for deltas): its index and delta depth.
        var latest: [String: (index: Int, depth: Int)] = [:]
        for (index, object) in objects.enumerated() {
            let start = pack.count
            offsets.append(start)
            var depth = 0
            var stored = false
            if let name = object.name, let previous = latest[name], objects[previous.index].type == object.type,
               previous.depth < maxDepth {
                let delta = makeDelta(base: objects[previous.index].bytes, target: object.bytes)
                if delta.count < object.bytes.count / 2 {
                    appendEntryHeader(&pack, type: 6, size: delta.count)  // OFS_DELTA
                    appendDeltaOffset(&pack, start - offsets[previous.index])
                    try deflate(delta, into: &pack)
                    depth = previous.depth + 1
                    stored = true
                }
            }
            if !stored {
                appendEntryHeader(&pack, type: UInt8(object.type.rawValue), size: object.bytes.count)
                try deflate(object.bytes, into: &pack)
            }
            if let name = object.name { latest[name] = (index, depth) }
            crcs.append(pack[start...].withUnsafeBytes { UInt32(crc32(0, $0.baseAddress?.assumingMemoryBound(to: UInt8.self), uInt($0.count))) })
        }
        let checksum = sha1(pack)
        pack += checksum

        // Index v2: fan-out, sorted ids, CRC32s, offsets (large ones in a second table), pack checksum, checksum.
        let ids = objects.map { object in withUnsafeBytes(of: object.id.id) { Array($0) } }
        let order = objects.indices.sorted { ids[$0].lexicographicallyPrecedes(ids[$1]) }
        var index: [UInt8] = [0xFF, 0x74, 0x4F, 0x63]
        appendBigEndian32(&index, 2)
        var fanout = [UInt32](repeating: 0, count: 256)
        for position in order { fanout[Int(ids[position][0])] += 1 }
        var running: UInt32 = 0
        for byte in 0..<256 {
            running += fanout[byte]
            appendBigEndian32(&index, running)
        }
        for position in order { index += ids[position] }
        for position in order { appendBigEndian32(&index, crcs[position]) }
        var large: [UInt64] = []
        for position in order {
            let offset = offsets[position]
            if offset < 0x8000_0000 {
                appendBigEndian32(&index, UInt32(offset))
            } else {
                appendBigEndian32(&index, 0x8000_0000 | UInt32(large.count))
                large.append(UInt64(offset))
            }
        }
        for offset in large {
            appendBigEndian32(&index, UInt32(offset >> 32))
            appendBigEndian32(&index, UInt32(offset & 0xFFFF_FFFF))
        }
        index += checksum
        index += sha1(index)

        let name = "pack-" + checksum.map { String(format: "%02x", $0) }.joined()
        let packPath = directory.appendingPathComponent(name + ".pack").path
        let indexPath = directory.appendingPathComponent(name + ".idx").path
        if FileManager.default.fileExists(atPath: indexPath) { return }  // the very same objects, already stored
        try writeDurably(pack, to: packPath, in: directory.path)
        try writeDurably(index, to: indexPath, in: directory.path)
        try syncDirectory(directory.path)
    }

    /// A delta that rebuilds `target` from `base`: copy their common prefix, insert the differing middle, copy
    /// their common suffix.
    static func makeDelta(base: [UInt8], target: [UInt8]) -> [UInt8] {
        let (prefix, suffix) = base.withUnsafeBytes { a in target.withUnsafeBytes { b in commonPrefixAndSuffix(a, b) } }
        var delta: [UInt8] = []
        delta.reserveCapacity(target.count - prefix - suffix + 64)
        appendSizeVarint(&delta, base.count)
        appendSizeVarint(&delta, target.count)
        appendCopy(&delta, offset: 0, size: prefix)
        var from = prefix
        let end = target.count - suffix
        while from < end {
            let chunk = min(127, end - from)
            delta.append(UInt8(chunk))
            delta += target[from..<from + chunk]
            from += chunk
        }
        appendCopy(&delta, offset: base.count - suffix, size: suffix)
        return delta
    }

    // MARK: Encoding

    private static func appendBigEndian32(_ bytes: inout [UInt8], _ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// Type and (uncompressed) size: 4 bits of size in the first byte, then 7 per byte, low bits first.
    private static func appendEntryHeader(_ bytes: inout [UInt8], type: UInt8, size: Int) {
        var remaining = size >> 4
        var byte = (type << 4) | UInt8(size & 0x0F)
        while remaining > 0 {
            bytes.append(byte | 0x80)
            byte = UInt8(remaining & 0x7F)
            remaining >>= 7
        }
        bytes.append(byte)
    }

    /// OFS_DELTA's distance back to the base entry (git's offset encoding, most significant group first).
    private static func appendDeltaOffset(_ bytes: inout [UInt8], _ distance: Int) {
        var value = distance
        var encoded = [UInt8(value & 0x7F)]
        value >>= 7
        while value > 0 {
            value -= 1
            encoded.append(0x80 | UInt8(value & 0x7F))
            value >>= 7
        }
        bytes += encoded.reversed()
    }

    private static func appendSizeVarint(_ bytes: inout [UInt8], _ size: Int) {
        var value = size
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Copy instructions for `size` bytes of the base from `offset` (at most 0xFFFFFF each; 0 bytes: none).
    private static func appendCopy(_ bytes: inout [UInt8], offset: Int, size: Int) {
        var offset = offset
        var remaining = size
        while remaining > 0 {
            let chunk = min(remaining, 0xFF_FFFF)
            var command: UInt8 = 0x80
            var operands: [UInt8] = []
            for shift in 0..<4 where (offset >> (8 * shift)) & 0xFF != 0 {
                command |= 1 << UInt8(shift)
                operands.append(UInt8((offset >> (8 * shift)) & 0xFF))
            }
            for shift in 0..<3 where (chunk >> (8 * shift)) & 0xFF != 0 {
                command |= 0x10 << UInt8(shift)
                operands.append(UInt8((chunk >> (8 * shift)) & 0xFF))
            }
            bytes.append(command)
            bytes += operands
            offset += chunk
            remaining -= chunk
        }
    }

    private static func deflate(_ data: [UInt8], into output: inout [UInt8]) throws(GitHistoryError) {
        var length = compressBound(uLong(data.count))
        var compressed = [UInt8](repeating: 0, count: Int(length))
        let code = data.withUnsafeBufferPointer { source in
            compress2(&compressed, &length, source.baseAddress, uLong(source.count), Z_DEFAULT_COMPRESSION)
        }
        guard code == Z_OK else {
            throw .libgit2(code: code, klass: 0, message: "zlib could not compress an object (\(code))", operation: "pack the new objects")
        }
        output += compressed[0..<Int(length)]
    }

    // MARK: Files

    private static func writeDurably(_ bytes: [UInt8], to path: String, in directory: String) throws(GitHistoryError) {
        let temporary = directory + "/tmp_bundle_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o444)
        guard descriptor >= 0 else { throw failure("create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let error = failure("write \(temporary)")
                close(descriptor)
                unlink(temporary)
                throw error
            }
            written += count
        }
        if fsync(descriptor) != 0 {
            let error = failure("fsync \(temporary)")
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        if rename(temporary, path) != 0 {
            let error = failure("rename \(temporary) to \(path)")
            unlink(temporary)
            throw error
        }
    }

    private static func syncDirectory(_ path: String) throws(GitHistoryError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw failure("open \(path)") }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw failure("fsync \(path)") }
    }

    private static func failure(_ what: String) -> GitHistoryError {
        .libgit2(code: -1, klass: 0, message: "\(what): \(String(cString: strerror(errno)))", operation: "write the pack")
    }
}
