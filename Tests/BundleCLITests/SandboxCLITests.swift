import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// `bundle sandbox`: the embedded server a newcomer uses, started and removed cleanly.
@Suite struct SandboxCLITests {
    @Test func startStatusUrlStop() throws {
        let state = URL(fileURLWithPath: "/tmp/bundle-sbx-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: state) }
        let project = try TestProject(prefix: "sandbox")
        defer { project.remove() }
        #expect(runBundle(["sandbox", "status", "--state-dir", state.path], cwd: project.root).status == 1)
        let start = runBundle(["sandbox", "start", "--state-dir", state.path], cwd: project.root)
        #expect(start.status == 0, "\(start.stderr)")
        let conninfo = start.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(conninfo.contains("host=") && conninfo.contains("port="))
        #expect(runBundle(["sandbox", "url", "--state-dir", state.path], cwd: project.root).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == conninfo)
        let status = runBundle(["sandbox", "status", "--state-dir", state.path], cwd: project.root)
        #expect(status.status == 0 && status.stdout.hasPrefix("running"))
        let connection = try PostgresConnection(conninfo: conninfo)
        #expect(connection.serverVersion.hasPrefix("15"))
        connection.close()
        let stop = runBundle(["sandbox", "stop", "--state-dir", state.path], cwd: project.root)
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(!FileManager.default.fileExists(atPath: state.path), "stop removes the data")
        #expect(throws: PostgresError.self) { try PostgresConnection(conninfo: conninfo) }
    }
}
