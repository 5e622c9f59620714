import BundleTestSupport
import Foundation
import Testing

@testable import BundleKit


/// Hostile bytes into `LockFile.decode`: every input either decodes into a lock that validates and round-trips,
/// or is refused with `BundleError.invalidLock` naming the path. No crash, no hang.
@Suite struct HostileLockFuzzTests {
    static let hash = String(repeating: "ab", count: 32)
    static let valid = LockFile(
        name: "fuzz",
        bundles: [
            LockedBundle(
                txn: 1, name: "A", path: "bundles/a.sql", sha256: hash, semanticSha256: hash,
                rollback: PinnedFile(path: "bundles/a.rollback.sql", sha256: hash)),
            LockedBundle(txn: 2, name: "B", path: "bundles/b.sql", sha256: hash, semanticSha256: hash),
        ],
        immutable: ["public.f(int)"],
        watch: WatchList(tables: ["public.t"], config: [ConfigWatch(table: "public.cfg", key: "k", value: "v", prefix: "p.")])
    ).encoded()

    /// JSON fragments spliced into the valid lock: type confusion, huge numbers, escapes, nesting.
    static let fragments: [String] = [
        "null", "true", "[]", "{}", "\"\"", "-1", "0", "1e400", "-0.0", "18446744073709551616", "9223372036854775807",
        "\"\\u0000\"", "\"\\ud800\"", "\"../../etc/passwd\"", "\"/etc/passwd\"", "\"locks/fuzz.lock\"", "\"\u{1F600}\"",
        "{\"version\":1}", "[1,2,3]", "\"txn\"", ",", ":", "\"", "\\", "{", "}", "[", "]",
        String(repeating: "[", count: 600), String(repeating: "{\"a\":", count: 600),
    ]

    /// Decodes and checks the contract; returns whether the bytes decoded.
    func check(_ bytes: [UInt8]) -> Bool {
        do {
            let lock = try LockFile.decode(Data(bytes), path: "locks/fuzz.lock")
            // Anything accepted is structurally valid and survives a round trip.
            #expect(lock.version == LockFile.currentVersion)
            #expect(!lock.bundles.isEmpty)
            #expect(lock.bundles.enumerated().allSatisfy { $0.element.txn == $0.offset + 1 })
            #expect(Set(lock.bundles.map(\.name)).count == lock.bundles.count)
            let again = try LockFile.decode(lock.encoded(), path: "locks/fuzz.lock")
            #expect(again == lock)
            return true
        } catch {
            guard case .invalidLock(let path, let reason) = error else {
                Issue.record("unexpected error kind \(error)")
                return false
            }
            #expect(path == "locks/fuzz.lock")
            #expect(!reason.isEmpty)
            #expect(error.exitCode == 2)
            return false
        }
    }

    @Test func mutatedAndRandomLockBytesNeverCrash() {
        var random = SeededGenerator(state: 0x10C_F11E)
        let base = [UInt8](Self.valid)
        let clock = ContinuousClock()
        let started = clock.now
        var accepted = 0
        var refused = 0
        #expect(check(base), "the unmutated lock decodes")
        for iteration in 0..<4_000 {
            var bytes = base
            switch iteration % 5 {
            case 0:
                // Random bytes.
                bytes = (0..<Int.random(in: 0..<200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            case 1:
                // Flip, delete or insert a few bytes.
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    let position = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: bytes[position] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
                    case 1: bytes.remove(at: position)
                    default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
                    }
                }
            case 2:
                // Replace a JSON value (the text after a ':') with a hostile fragment.
                let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
                let colon = colons[Int.random(in: 0..<colons.count, using: &random)]
                var end = colon + 1
                while end < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "\n")].contains(bytes[end]) { end += 1 }
                let fragment = Self.fragments[Int.random(in: 0..<Self.fragments.count, using: &random)]
                bytes.replaceSubrange((colon + 1)..<end, with: Array((" " + fragment).utf8))
            case 3:
                // Truncate.
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            default:
                // Duplicate or swap whole lines (duplicate keys, duplicate bundles, reordered TXNs).
                var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
                let a = Int.random(in: 0..<lines.count, using: &random)
                let b = Int.random(in: 0..<lines.count, using: &random)
                if Bool.random(using: &random) { lines.insert(lines[a], at: b) } else { lines.swapAt(a, b) }
                bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            }
            if check(bytes) { accepted += 1 } else { refused += 1 }
        }
        #expect(refused > 2_000, "most mutations must be refused (\(refused) refused, \(accepted) accepted)")
        #expect(clock.now - started < .seconds(60))
    }

    @Test func pathologicalLocksAreRefusedWithAReason() {
        let huge = Data(("{\"version\":1,\"name\":\"x\",\"bundles\":" + String(repeating: "[", count: 100_000)).utf8)
        let cases: [(Data, String)] = [
            (huge, "not valid JSON"),
            (Data(String(repeating: "{\"a\":", count: 100_000).utf8), "not valid JSON"),
            (Data(#"{"version": 1e400, "name": "x", "bundles": []}"#.utf8), "invalid lockfile"),
            (Data(#"{"version": 18446744073709551616, "name": "x", "bundles": []}"#.utf8), "invalid lockfile"),
            (Data(#"{"version": 2, "name": "x", "bundles": []}"#.utf8), "unknown version 2"),
            (Data(#"{"version": "1", "name": "x", "bundles": []}"#.utf8), "wrong type"),
            (Data([0xEF, 0xBB, 0xBF] + Array("{\"version\":1}".utf8)), "invalid lockfile"),
            (Data([0xFF, 0xFE, 0x7B, 0x00]), "not valid JSON"),
            (Data(), "not valid JSON"),
        ]
        for (data, expected) in cases {
            do {
                _ = try LockFile.decode(data, path: "locks/x.lock")
                Issue.record("\(String(decoding: data.prefix(60), as: UTF8.self)) must be refused")
            } catch {
                let text = error.errorDescription ?? ""
                #expect(text.hasPrefix("locks/x.lock: invalid lockfile"), "\(text)")
                #expect(text.contains(expected), "\(text)")
            }
        }
    }
}
