import Foundation
import GitHistory

/// Everything a bundle commit is made of: its parent, the files it changes on the parent's tree, its message and
/// signatures (with their times). Writing a recipe twice gives the same commit id.
///
/// Apply keeps each bundle's commit in memory until the end of the run (or every `CommitRecipe.flushEvery`
/// bundles, or `flushInterval` seconds) and writes them together; until then the recipe is stored in the bundle's registry row, inside its
/// transaction, so a process that dies after COMMIT loses nothing: the next command writes the commit from the
/// registry and moves the branch (`Applier.reconcile`).
struct CommitRecipe: Codable, Equatable {
    struct Change: Codable, Equatable {
        var path: String
        /// Base64 of the new contents (with `prefix`/`suffix`: of the part between them); nil removes the path.
        var contents: String?
        /// The new contents keep this many bytes from the start of the parent's file at `path` ...
        var prefix: Int? = nil
        /// ... and this many from its end, around `contents` (a large file that changed a little, such as
        /// `signatures.tsv`, costs the registry row its change, not the whole file).
        var suffix: Int? = nil
    }

    struct Person: Codable, Equatable {
        var name: String
        var email: String
        var time: Int64
        var offsetMinutes: Int

        init(_ signature: Signature) {
            name = signature.name
            email = signature.email
            time = Int64(signature.time.timeIntervalSince1970.rounded(.down))
            offsetMinutes = signature.timeZoneOffsetMinutes
        }

        var signature: Signature {
            Signature(name: name, email: email, time: Date(timeIntervalSince1970: TimeInterval(time)), timeZoneOffsetMinutes: offsetMinutes)
        }
    }

    var parent: String
    var changes: [Change]
    var message: String
    var author: Person
    var committer: Person

    /// How many bundles' commits at most are kept in memory before they are written to the repository.
    static let flushEvery = 100
    /// How long (seconds) at most commits wait in memory: slow bundles reach the branch one by one.
    static let flushInterval: TimeInterval = 2

    /// `previous(path)`: the parent's contents of a path, when the caller has them at hand; a changed file whose
    /// common start and end with them are large is recorded as the part in between.
    init(
        parent: ObjectID, changes: [TreeChange], message: String, author: Signature, committer: Signature, previous: (String) -> Data? = { _ in nil }
    ) {
        self.parent = parent.hex
        self.changes = changes.map { change in
            switch change {
            case .upsert(let path, let contents):
                if let old = previous(path),
                   case let (prefix, suffix) = old.withUnsafeBytes({ a in contents.withUnsafeBytes { b in commonPrefixAndSuffix(a, b) } }),
                   prefix + suffix >= 512 {
                    return Change(
                        path: path, contents: contents.subdata(in: prefix..<(contents.count - suffix)).base64EncodedString(), prefix: prefix,
                        suffix: suffix)
                }
                return Change(path: path, contents: contents.base64EncodedString())
            case .remove(let path): return Change(path: path, contents: nil)
            }
        }
        self.message = message
        self.author = Person(author)
        self.committer = Person(committer)
    }

    /// The recipe as one line of JSON (stored in `bundle.registry.commit_journal`).
    ///
    /// Written by hand, byte for byte as `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` writes it
    /// (`CommitRecipeTests` compares the two): every bundle of a run writes one, and the encoder cost more than the
    /// commit it describes.
    func json() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256 + changes.reduce(0) { $0 + $1.path.utf8.count + ($1.contents?.utf8.count ?? 0) + 48 })
        func string(_ text: String) {
            out.append(UInt8(ascii: "\""))
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
                case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
                case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                default: out.append(byte)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
        func key(_ name: String) {
            string(name)
            out.append(UInt8(ascii: ":"))
        }
        func number<T: BinaryInteger>(_ value: T) { out += Array(String(value).utf8) }
        func person(_ person: Person) {
            out.append(UInt8(ascii: "{"))
            key("email"); string(person.email); out.append(UInt8(ascii: ","))
            key("name"); string(person.name); out.append(UInt8(ascii: ","))
            key("offsetMinutes"); number(person.offsetMinutes); out.append(UInt8(ascii: ","))
            key("time"); number(person.time)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "{"))
        key("author"); person(author); out.append(UInt8(ascii: ","))
        key("changes"); out.append(UInt8(ascii: "["))
        for (index, change) in changes.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            if let contents = change.contents { key("contents"); string(contents); out.append(UInt8(ascii: ",")) }
            key("path"); string(change.path)
            if let prefix = change.prefix { out.append(UInt8(ascii: ",")); key("prefix"); number(prefix) }
            if let suffix = change.suffix { out.append(UInt8(ascii: ",")); key("suffix"); number(suffix) }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]")); out.append(UInt8(ascii: ","))
        key("committer"); person(committer); out.append(UInt8(ascii: ","))
        key("message"); string(message); out.append(UInt8(ascii: ","))
        key("parent"); string(parent)
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// `json()` as `JSONEncoder` writes it (for tests).
    func encodedJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    static func decode(_ json: String) -> CommitRecipe? {
        try? JSONDecoder().decode(CommitRecipe.self, from: Data(json.utf8))
    }

    /// Writes the commit (on the parent's tree) and returns its id; the parent must exist.
    func write(to repository: GitRepository) throws(GitHistoryError) -> ObjectID {
        guard let parentID = ObjectID(hex: parent) else { throw .notFound("Parent commit \(parent)") }
        let parentInfo = try repository.commit(parentID)
        var treeChanges: [TreeChange] = []
        for change in changes {
            if let contents = change.contents {
                guard var data = Data(base64Encoded: contents) else { throw .invalidPath(change.path, reason: "its recorded contents are not base64") }
                if change.prefix != nil || change.suffix != nil {
                    let prefix = change.prefix ?? 0
                    let suffix = change.suffix ?? 0
                    guard let old = try repository.readFile(change.path, at: parentID), prefix >= 0, suffix >= 0, prefix + suffix <= old.count else {
                        throw .invalidPath(change.path, reason: "the recorded change does not fit the parent commit's file")
                    }
                    data = old.prefix(prefix) + data + old.suffix(suffix)
                }
                treeChanges.append(.upsert(path: change.path, contents: data))
            } else {
                treeChanges.append(.remove(path: change.path))
            }
        }
        return try repository.writeCommit(
            baseTree: parentInfo.tree, changes: treeChanges, parents: [parentID], message: message, author: author.signature,
            committer: committer.signature)
    }
}
