import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

@Suite struct LocalClusterTests {
    @Test func findsServerBinaries() throws {
        let directory = try LocalCluster.findServerBinaries()
        for tool in ["initdb", "pg_ctl", "postgres"] {
            #expect(FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent(tool).path))
        }
        #expect(FileManager.default.isExecutableFile(atPath: psqlPath))
    }

    @Test func secondClusterStartsStopsRestartsAndIsRemoved() throws {
        let directory = URL(fileURLWithPath: "/tmp/bundle-lc-\(UInt32.random(in: 0...UInt32.max))")
        let cluster = LocalCluster(stateDirectory: directory, durable: false)
        defer { try? cluster.remove() }
        #expect(!cluster.status().running)
        #expect(cluster.conninfo == "host=\(cluster.socketDirectory) port=\(cluster.port) user=postgres dbname=postgres")

        try cluster.start()
        let running = cluster.status()
        #expect(running.running)
        #expect((running.pid ?? 0) > 0)
        #expect(running.port == cluster.port)
        #expect(running.dataDirectory == directory.appendingPathComponent("data").path)
        #expect(FileManager.default.fileExists(atPath: "\(cluster.socketDirectory)/.s.PGSQL.\(cluster.port)"))
        try cluster.start()  // already running: no-op
        #expect(cluster.status().pid == running.pid)

        do {
            let connection = try PostgresConnection(conninfo: cluster.conninfo)
            #expect(try connection.execute("SHOW fsync").rows == [["off"]])
            #expect(try connection.execute("SHOW listen_addresses").rows == [[""]])
            try connection.execute("CREATE TABLE kept (id int)")
            try connection.execute("INSERT INTO kept VALUES (7)")
        }

        // Another instance for the same directory remembers the port and socket directory.
        let again = LocalCluster(stateDirectory: directory)
        #expect(again.port == cluster.port)
        #expect(again.socketDirectory == cluster.socketDirectory)
        #expect(again.status().running)

        try cluster.stop()
        #expect(!cluster.status().running)
        #expect(throws: PostgresError.self) { try PostgresConnection(conninfo: cluster.conninfo) }
        try cluster.stop()  // not running: no-op

        try cluster.start()
        let connection = try PostgresConnection(conninfo: cluster.conninfo)
        #expect(try connection.execute("SELECT id FROM kept").rows == [["7"]])
        connection.close()

        try cluster.remove()
        #expect(!FileManager.default.fileExists(atPath: directory.path))
        #expect(!cluster.status().running)
    }

    @Test func longStateDirectoryGetsShortSocketDirectory() throws {
        let base = URL(fileURLWithPath: "/tmp/bundle-long-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: base) }
        let deep = base.appendingPathComponent(String(repeating: "nested-directory/", count: 6) + "state")
        let cluster = LocalCluster(stateDirectory: deep, port: 5999)
        #expect(cluster.port == 5999)
        #expect(cluster.socketDirectory.hasPrefix("/tmp/bundle-"))
        #expect((cluster.socketDirectory + "/.s.PGSQL.5999").utf8.count < 100)
        #expect(LocalCluster(stateDirectory: deep).socketDirectory == cluster.socketDirectory)

        let short = LocalCluster(stateDirectory: base.appendingPathComponent("s"))
        #expect(short.socketDirectory == base.appendingPathComponent("s/socket").path)
    }

    @Test func stopRejectsUnknownMode() throws {
        let cluster = try TestCluster.shared()
        let error = try #require(throws: PostgresError.self) { try cluster.stop(mode: "gentle") }
        #expect(error.errorDescription?.contains("smart, fast or immediate") == true)
        #expect(cluster.status().running)
    }

    @Test func testDatabasesAreDistinct() throws {
        let first = try TestCluster.makeDatabase(prefix: "Same Prefix!")
        let second = try TestCluster.makeDatabase(prefix: "Same Prefix!")
        #expect(first.name != second.name)
        #expect(first.name.hasPrefix("same_prefix__"))
        let connection = try PostgresConnection(conninfo: first.conninfo)
        #expect(connection.database == first.name)
        let psql = runProcess(psqlPath, ["-X", "-A", "-t", "-d", second.conninfo, "-c", "SELECT current_database()"])
        #expect(psql.status == 0)
        #expect(psql.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == second.name)
        let echoed = runProcess("cat", [], stdin: Data("piped".utf8))
        #expect(echoed.status == 0 && echoed.stdout == "piped")
    }
}
