import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// The catalog state files: deterministic, one file per object, stable when unrelated objects change.
@Suite struct ObjectStateReaderTests {
    func database(_ sql: [String]) throws -> PostgresConnection {
        let connection = try TestCluster.connectToNewDatabase(prefix: "state")
        for statement in sql { try connection.execute(statement) }
        return connection
    }

    @Test func captureIsDeterministicAndScopedPerObject() throws {
        let connection = try database([
            "CREATE SCHEMA app",
            "CREATE TABLE app.t (id int PRIMARY KEY, name text DEFAULT 'x' NOT NULL)",
            "CREATE INDEX t_name_idx ON app.t (name)",
            "CREATE VIEW app.v AS SELECT id FROM app.t",
            "CREATE FUNCTION app.f(a int, b text DEFAULT NULL::text) RETURNS int LANGUAGE sql AS 'select 1'",
        ])
        defer { connection.close() }
        let reader = ObjectStateReader(connection: connection)
        let first = try reader.capture()
        #expect(try reader.capture() == first)
        #expect(first["app/tables/t.sql"]?.contains("CREATE INDEX t_name_idx ON app.t USING btree (name);") == true)
        #expect(first["app/views/v.sql"]?.hasPrefix("CREATE OR REPLACE VIEW app.v AS") == true)
        #expect(first["app/functions/f(a integer, b text).sql"]?.hasPrefix("CREATE OR REPLACE FUNCTION app.f(a integer, b text DEFAULT NULL::text)") == true)
        #expect(first["signatures.tsv"]?.contains("app\tf\ta integer, b text\ta integer, b text DEFAULT NULL::text\t") == true)

        try connection.execute("CREATE TABLE app.unrelated (a int)")
        let second = try reader.capture()
        #expect(Set(second.keys).subtracting(first.keys) == ["app/tables/unrelated.sql"])
        #expect(second.filter { first[$0.key] != nil }.allSatisfy { first[$0.key] == $0.value })

        try connection.execute("GRANT SELECT ON app.t TO PUBLIC")
        try connection.execute("REVOKE EXECUTE ON FUNCTION app.f(int, text) FROM PUBLIC")
        try connection.execute("ALTER TABLE app.t ALTER COLUMN name SET DEFAULT 'y'")
        let third = try reader.capture()
        let changed = Set(third.keys.filter { third[$0] != second[$0] })
        #expect(changed == ["app/tables/t.sql", "app/functions/f(a integer, b text).sql"])
        #expect(third["app/tables/t.sql"]?.contains("GRANT SELECT ON TABLE app.t TO PUBLIC;") == true)
        #expect(third["app/functions/f(a integer, b text).sql"]?.contains("REVOKE ALL ON FUNCTION app.f(a integer, b text) FROM PUBLIC;") == true)
    }

    /// Session settings that change deparsed text (the search_path; quote_all_identifiers,
    /// standard_conforming_strings and lc_monetary, a review finding) are pinned while capturing, and the
    /// session's own values are put back.
    @Test(arguments: [
        (["CREATE SCHEMA app", "CREATE TABLE app.t (id int)", "CREATE VIEW app.v AS SELECT id FROM app.t"],
         "SET search_path = app, public", "SHOW search_path", "app, public"),
        (["CREATE TABLE public.t (id int PRIMARY KEY, note text DEFAULT E'x\\\\y', price money DEFAULT 1.5)",
          "CREATE VIEW public.v AS SELECT id, note FROM public.t WHERE note <> 'a''b'"],
         "SET quote_all_identifiers = on; SET standard_conforming_strings = off; SET lc_monetary = 'C.UTF-8'", "SHOW quote_all_identifiers", "on"),
    ])
    func captureDoesNotDependOnSessionSettings(setup: [String], settings: String, show: String, shown: String) throws {
        let connection = try database(setup)
        defer { connection.close() }
        let reader = ObjectStateReader(connection: connection)
        let plain = try reader.capture()
        try connection.execute(settings)
        #expect(try reader.capture() == plain)
        #expect(try connection.query(show).rows[0][0] == shown, "the session's own setting is left as it was")
    }

    @Test func pathComponentsAreEncodedForGit() {
        #expect(ObjectStateReader.component("a/b") == "a%2Fb")
        #expect(ObjectStateReader.component(".hidden") == "%2Ehidden")
        #expect(ObjectStateReader.component("100%") == "100%25")
        #expect(ObjectStateReader.component("Ünïcode \"q\" sp") == "Ünïcode \"q\" sp")
    }
}

@Suite struct PreparedQueryTests {
    @Test func queriesArePreparedOnceAndSurviveDeallocateAll() throws {
        let connection = try TestCluster.connectToNewDatabase(prefix: "prepared")
        defer { connection.close() }
        #expect(try connection.query("SELECT $1::int + 1", ["1"]).rows == [["2"]])
        #expect(try connection.query("SELECT count(*) FROM pg_prepared_statements").rows[0][0] == "2")
        #expect(try connection.query("SELECT $1::int + 1", ["41"]).rows == [["42"]])
        #expect(try connection.query("SELECT count(*) FROM pg_prepared_statements").rows[0][0] == "2", "the same text is not prepared twice")
        try connection.execute("DEALLOCATE ALL")
        #expect(try connection.query("SELECT $1::int + 1", ["2"]).rows == [["3"]])
    }
}
