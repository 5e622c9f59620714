import Foundation
import GitHistory
import Testing

@Suite struct BlobIdentityTests {
    @Test func blobIDMatchesGitHashObjectAndTreeEntries() throws {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("blobid-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let repository = try GitRepository.create(at: directory, bare: true)
        let text = Data("CREATE TABLE t (a int);\n".utf8)
        let hashObject = Process()
        hashObject.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        hashObject.arguments = ["hash-object", "--stdin"]
        let input = Pipe()
        let output = Pipe()
        hashObject.standardInput = input
        hashObject.standardOutput = output
        try hashObject.run()
        input.fileHandleForWriting.write(text)
        try input.fileHandleForWriting.close()
        hashObject.waitUntilExit()
        let expected = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(GitRepository.blobID(for: text).hex == expected)
        let signature = Signature(name: "t", email: "t@example.com")
        let commit = try repository.writeCommit(
            files: ["state/public/tables/t.sql": text, "state/signatures.tsv": Data("x\n".utf8), "other.txt": Data()], parents: [], message: "m",
            author: signature, committer: signature)
        let ids = try repository.fileIDs(at: commit, prefix: "state")
        #expect(Set(ids.keys) == ["state/public/tables/t.sql", "state/signatures.tsv"])
        #expect(ids["state/public/tables/t.sql"]?.hex == expected)
        #expect(try repository.blob(ids["state/public/tables/t.sql"]!) == text)
    }
}
