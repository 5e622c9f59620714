import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Connects to a fresh database in the shared test cluster.
private func connectToNewDatabase(_ prefix: String) throws -> PostgresConnection {
    try TestCluster.connectToNewDatabase(prefix: prefix)
}

/// Runs `body` with file descriptor 2 redirected to a temporary file and returns what was written there.
/// The captured bytes are copied back to the real stderr afterwards, so concurrent tests lose no output.
private func capturingStandardError(_ body: () throws -> Void) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)").path
    defer { unlink(path) }
    fflush(nil)
    let saved = dup(2)
    let capture = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
    try #require(saved >= 0 && capture >= 0)
    dup2(capture, 2)
    close(capture)
    defer {
        fflush(nil)
        dup2(saved, 2)
        close(saved)
    }
    try body()
    fflush(nil)
    let captured = try String(contentsOfFile: path, encoding: .utf8)
    FileHandle(fileDescriptor: saved).write(Data(captured.utf8))
    return captured
}

@Suite struct PostgresConnectionTests {
    @Test func connectsAndSelects() throws {
        let database = try TestCluster.makeDatabase(prefix: "select")
        let connection = try PostgresConnection(conninfo: database.conninfo)
        #expect(connection.database == database.name)
        #expect(connection.user == "postgres")
        #expect(connection.isAlive)
        #expect(connection.backendPID > 0)
        #expect(connection.transactionStatus == .idle)
        #expect(connection.serverVersionNumber >= 150000)
        let major = try #require(Int(connection.serverVersion.split(separator: ".").first ?? ""))
        #expect(major == connection.serverVersionNumber / 10000)
        #expect(connection.parameterStatus("client_encoding") == "UTF8")

        let result = try connection.execute("""
            SELECT 1 AS one, 'two' AS two, NULL::text AS three
            UNION ALL SELECT 2, 'zwei ✓', 'drei' ORDER BY 1
            """)
        #expect(result.columns == ["one", "two", "three"])
        #expect(result.rows == [["1", "two", nil], ["2", "zwei ✓", "drei"]])
        #expect(result.commandTag == "SELECT 2")
        #expect(result.affectedRows == 2)
        #expect(result[1, "two"] == "zwei ✓")
        #expect(result[0, "three"] == nil)
        #expect(result.values(of: "one") == ["1", "2"])
    }

    @Test func executesDDLAndDML() throws {
        let connection = try connectToNewDatabase("ddl")
        let create = try connection.execute("CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL)")
        #expect(create.commandTag == "CREATE TABLE")
        #expect(create.affectedRows == nil)
        #expect(create.columns.isEmpty && create.rows.isEmpty)

        let insert = try connection.execute("INSERT INTO item VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        #expect(insert.commandTag == "INSERT 0 3")
        #expect(insert.affectedRows == 3)
        #expect(try connection.execute("UPDATE item SET name = upper(name) WHERE id < 3").affectedRows == 2)
        #expect(try connection.execute("DELETE FROM item WHERE id = 3").commandTag == "DELETE 1")

        try connection.execute("CREATE INDEX item_name ON item (name)")
        let catalog = try connection.query(
            "SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY indexname", ["item"])
        #expect(catalog.values(of: "indexname") == ["item_name", "item_pkey"])
        #expect(try connection.execute("SELECT name FROM item ORDER BY id").values(of: "name") == ["A", "B"])

        let empty = try connection.execute("  ")
        #expect(empty.commandTag == "" && empty.columns.isEmpty)
    }

    @Test func undefinedTableErrorKeepsSQLStateAndPosition() throws {
        let connection = try connectToNewDatabase("nosuch")
        let error = try #require(throws: PostgresError.self) { try connection.execute("SELECT * FROM nosuch") }
        let message = try #require(error.serverMessage)
        #expect(message.sqlstate == "42P01")
        #expect(message.severity == "ERROR")
        #expect(message.message == "relation \"nosuch\" does not exist")
        #expect(message.position == 15)
        #expect(message.detail == nil && message.hint == nil)
        #expect(error.errorDescription == "ERROR: relation \"nosuch\" does not exist (SQLSTATE 42P01)")
        // The connection stays usable after a statement error.
        #expect(try connection.execute("SELECT 1").rows == [["1"]])
    }

    @Test func removingParameterDefaultKeepsHint() throws {
        let connection = try connectToNewDatabase("fdefault")
        try connection.execute("""
            CREATE FUNCTION f(a uuid, b text, c text DEFAULT 'x') RETURNS text
            LANGUAGE sql AS $$ SELECT b || c $$
            """)
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("""
                CREATE OR REPLACE FUNCTION f(a uuid, b text, c text) RETURNS text
                LANGUAGE sql AS $$ SELECT b || c $$
                """)
        }
        let message = try #require(error.serverMessage)
        #expect(message.sqlstate == "42P13")
        #expect(message.message == "cannot remove parameter defaults from existing function")
        #expect(message.hint == "Use DROP FUNCTION f(uuid,text,text) first.")
        #expect(error.errorDescription == """
            ERROR: cannot remove parameter defaults from existing function (SQLSTATE 42P13)
            HINT: Use DROP FUNCTION f(uuid,text,text) first.
            """)
    }

    @Test func uniqueViolationKeepsDetailAndObjectNames() throws {
        let connection = try connectToNewDatabase("unique")
        try connection.execute("CREATE TABLE account (id int CONSTRAINT account_pkey PRIMARY KEY)")
        try connection.execute("INSERT INTO account VALUES (1)")
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("INSERT INTO account VALUES (1)")
        }
        let message = try #require(error.serverMessage)
        #expect(message.sqlstate == "23505")
        #expect(message.detail == "Key (id)=(1) already exists.")
        #expect(message.schema == "public")
        #expect(message.table == "account")
        #expect(message.constraint == "account_pkey")
        #expect(error.errorDescription?.hasSuffix("\nDETAIL: Key (id)=(1) already exists.") == true)

        let nullError = try #require(throws: PostgresError.self) {
            try connection.query("INSERT INTO account VALUES ($1)", [nil])
        }
        #expect(nullError.sqlstate == "23502")
        #expect(nullError.serverMessage?.column == "id")
    }

    @Test func plpgsqlErrorKeepsContext() throws {
        let connection = try connectToNewDatabase("context")
        let error = try #require(throws: PostgresError.self) {
            try connection.execute("""
                DO $$ BEGIN RAISE EXCEPTION 'boom %', 42 USING ERRCODE = 'P0001', DETAIL = 'd', HINT = 'h'; END $$
                """)
        }
        let message = try #require(error.serverMessage)
        #expect(message.sqlstate == "P0001")
        #expect(message.message == "boom 42")
        #expect(message.detail == "d")
        #expect(message.hint == "h")
        #expect(message.context?.contains("PL/pgSQL function inline_code_block") == true)
    }

    @Test func noticesAreCapturedAndNotPrinted() throws {
        let connection = try connectToNewDatabase("notice")
        let table = "notice_probe_\(UInt32.random(in: 0...UInt32.max))"
        let marker = "marker-\(UUID().uuidString)"
        let printed = try capturingStandardError {
            try connection.execute("CREATE TABLE IF NOT EXISTS \(table) (id int)")
            try connection.execute("CREATE TABLE IF NOT EXISTS \(table) (id int)")
            try connection.execute("DO $$ BEGIN RAISE NOTICE '\(marker)'; RAISE WARNING 'careful'; END $$")
        }
        #expect(!printed.contains(table))
        #expect(!printed.contains(marker))

        let notices = connection.takeNotices()
        try #require(notices.count == 3)
        #expect(notices[0].sqlstate == "42P07")
        #expect(notices[0].severity == "NOTICE")
        #expect(notices[0].message == "relation \"\(table)\" already exists, skipping")
        #expect(notices[1].message == marker && notices[1].sqlstate == "00000")
        #expect(notices[2].severity == "WARNING" && notices[2].sqlstate == "01000")
        #expect(connection.takeNotices().isEmpty)
    }

    @Test func queryWithParametersAndNulls() throws {
        let connection = try connectToNewDatabase("params")
        let result = try connection.query(
            "SELECT $1::int + 1 AS n, $2::text IS NULL AS missing, $3::text AS quoted, $2::text AS null_value",
            ["41", nil, "it's \"quoted\"; DROP TABLE x; --"])
        #expect(result.rows == [["42", "t", "it's \"quoted\"; DROP TABLE x; --", nil]])

        try connection.execute("CREATE TABLE note (id int, body text)")
        let insert = try connection.query("INSERT INTO note VALUES ($1, $2), ($3, $4)", ["1", "one", "2", nil])
        #expect(insert.commandTag == "INSERT 0 2")
        #expect(insert.affectedRows == 2)
        let rows = try connection.query("SELECT id, body FROM note WHERE body IS NOT DISTINCT FROM $1", [nil])
        #expect(rows.rows == [["2", nil]])
        #expect(try connection.query("SELECT count(*) AS n FROM note").rows == [["2"]])
    }

    /// A query overlapping the caller's work: the server runs it while the work runs (the work sees the
    /// connection busy), both results come back, and a failing statement or failing work leaves it usable.
    @Test func queryOverlappingWork() throws {
        struct WorkFailed: Error {}
        let connection = try connectToNewDatabase("overlap")
        let (result, busy) = connection.query("SELECT pg_sleep(0.2), $1::int * 2", ["21"]) { connection.transactionStatus }
        #expect(busy == .active, "the statement is still running while the work runs")
        #expect(try result.get().rows.first?[1] == "42")
        #expect(connection.transactionStatus == .idle)

        let (failed, _) = connection.query("SELECT 1 / $1::int", ["0"]) { 0 }
        #expect(throws: PostgresError.self) { try failed.get() }
        #expect((try? failed.get()) == nil)
        if case .failure(let error) = failed { #expect(error.sqlstate == "22012") }

        #expect(throws: WorkFailed.self) { _ = try connection.query("SELECT pg_sleep(0.1)") { () throws(WorkFailed) in throw WorkFailed() } }
        #expect(try connection.query("SELECT 7").rows == [["7"]], "the overlapped result was read before the next query")
    }

    @Test func transactionStatusFollowsTransactionBlocks() throws {
        let connection = try connectToNewDatabase("txn")
        #expect(connection.transactionStatus == .idle)
        try connection.execute("BEGIN")
        #expect(connection.transactionStatus == .inTransaction)
        try connection.execute("CREATE TABLE t (id int)")
        #expect(connection.transactionStatus == .inTransaction)
        let error = try #require(throws: PostgresError.self) { try connection.execute("SELECT 1/0") }
        #expect(error.sqlstate == "22012")
        #expect(connection.transactionStatus == .inError)
        let aborted = try #require(throws: PostgresError.self) { try connection.execute("SELECT 1") }
        #expect(aborted.sqlstate == "25P02")
        try connection.execute("ROLLBACK")
        #expect(connection.transactionStatus == .idle)
        #expect(throws: PostgresError.self) { try connection.execute("SELECT * FROM t") }
    }

    @Test func terminatedBackendIsConnectionLost() throws {
        let database = try TestCluster.makeDatabase(prefix: "terminate")
        let victim = try PostgresConnection(conninfo: database.conninfo)
        let admin = try PostgresConnection(conninfo: database.conninfo)
        let terminated = try admin.query("SELECT pg_terminate_backend($1, 10000) AS ok", [String(victim.backendPID)])
        #expect(terminated.rows == [["t"]])
        let error = try #require(throws: PostgresError.self) { try victim.execute("SELECT 1") }
        guard case .connectionLost(let message) = error else {
            Issue.record("expected .connectionLost, got \(error)")
            return
        }
        #expect(!message.isEmpty)
        #expect(!victim.isAlive)
        #expect(victim.transactionStatus == .unknown)
    }

    @Test func closedConnectionThrowsConnectionLost() throws {
        let connection = try connectToNewDatabase("closed")
        connection.close()
        #expect(!connection.isAlive)
        #expect(connection.backendPID == 0)
        let error = try #require(throws: PostgresError.self) { try connection.execute("SELECT 1") }
        #expect(error == .connectionLost(message: "the connection is closed"))
        connection.close()  // harmless twice
    }

    @Test func copyIsRejectedAndConnectionStaysUsable() throws {
        let connection = try connectToNewDatabase("copy")
        try connection.execute("CREATE TABLE c (id int)")
        let copyIn = try #require(throws: PostgresError.self) { try connection.execute("COPY c FROM STDIN") }
        guard case .protocolError = copyIn else {
            Issue.record("expected .protocolError, got \(copyIn)")
            return
        }
        #expect(throws: PostgresError.self) { try connection.execute("COPY (SELECT 1) TO STDOUT") }
        #expect(connection.transactionStatus == .idle)
        #expect(try connection.execute("SELECT count(*) FROM c").rows == [["0"]])
    }
}

@Suite struct ConnectionFailureTests {
    /// A password with URI-special and quoting characters.
    static let password = "p@ss:w/rd'\" #1%秘"

    static func assertHidden(_ error: PostgresError, secrets: [String]) {
        let texts = [String(describing: error), error.errorDescription ?? "", error.localizedDescription]
        for text in texts {
            for secret in secrets {
                #expect(!text.contains(secret), "\(text) reveals \(secret)")
            }
        }
    }

    @Test func uriPasswordIsNotRevealed() throws {
        let encoded = try #require(Self.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let uri = "postgresql://alice:\(encoded)@127.0.0.1:1/postgres?connect_timeout=5"
        let error = try #require(throws: PostgresError.self) { try PostgresConnection(conninfo: uri) }
        guard case .connection(let target, let message) = error else {
            Issue.record("expected .connection, got \(error)")
            return
        }
        #expect(target == "postgresql://alice:***@127.0.0.1:1/postgres?connect_timeout=5")
        #expect(message.contains("127.0.0.1"))
        Self.assertHidden(error, secrets: [Self.password, encoded])
    }

    @Test func uriQueryPasswordIsNotRevealed() throws {
        let cluster = try TestCluster.shared()
        let uri = "postgres:///postgres?host=\(cluster.socketDirectory)&port=1&user=bob&password=hunter2hunter2"
        let error = try #require(throws: PostgresError.self) { try PostgresConnection(conninfo: uri) }
        guard case .connection(let target, _) = error else {
            Issue.record("expected .connection, got \(error)")
            return
        }
        #expect(target.hasSuffix("&password=***"))
        Self.assertHidden(error, secrets: ["hunter2hunter2"])
    }

    @Test func keyValuePasswordIsNotRevealed() throws {
        let cluster = try TestCluster.shared()
        let quoted = ConnectionString.quoteValue(Self.password)
        let conninfo = "host=\(cluster.socketDirectory) port=1 user=alice password=\(quoted) dbname=postgres"
        let error = try #require(throws: PostgresError.self) { try PostgresConnection(conninfo: conninfo) }
        guard case .connection(let target, let message) = error else {
            Issue.record("expected .connection, got \(error)")
            return
        }
        #expect(target == "host=\(cluster.socketDirectory) port=1 user=alice password=*** dbname=postgres")
        #expect(message.contains(".s.PGSQL.1"))
        Self.assertHidden(error, secrets: [Self.password, quoted])
    }

    @Test func malformedURIPasswordFragmentIsScrubbed() throws {
        // An unencoded '@' makes libpq read "cret99@127.0.0.1" as the host and quote it in its message.
        let uri = "postgres://alice:se@cret99@127.0.0.1:1/db"
        let error = try #require(throws: PostgresError.self) { try PostgresConnection(conninfo: uri) }
        guard case .connection(let target, let message) = error else {
            Issue.record("expected .connection, got \(error)")
            return
        }
        #expect(target == "postgres://alice:***@127.0.0.1:1/db")
        #expect(message.contains("***@127.0.0.1"))
        Self.assertHidden(error, secrets: ["cret99"])
    }

    @Test func connectionErrorDescriptionSaysWhatToDo() throws {
        let error = try #require(throws: PostgresError.self) {
            try PostgresConnection(conninfo: "host=/nonexistent-bundle-dir port=1 dbname=x")
        }
        let description = try #require(error.errorDescription)
        #expect(description.hasPrefix("Could not connect to PostgreSQL at \"host=/nonexistent-bundle-dir port=1 dbname=x\""))
        #expect(description.contains("DATABASE_URL"))
    }
}
