import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// `CatalogMark`: a cheap proof that no catalog row changed since a state was captured.
@Suite struct CatalogMarkTests {
    /// A new database in `cluster`; its connection string.
    static func database(in cluster: LocalCluster) throws -> String {
        let admin = try PostgresConnection(conninfo: cluster.conninfo)
        defer { admin.close() }
        try admin.execute("CREATE DATABASE mark")
        return cluster.conninfo(database: "mark")
    }

    /// The catalog mark changes with every committed catalog write, including ones outside the database's own
    /// objects that a capture renders (a role renamed), and only then: not for a rolled-back DDL, statistics
    /// updated in place, data changes or temporary objects already gone.
    @Test func catalogMarkChangesWithEveryCommittedCatalogWriteAndOnlyThen() throws {
        // Transaction ids and roles are cluster-wide: a cluster of its own, where no other test runs.
        let cluster = try TestCluster.isolated()
        defer { try? cluster.remove() }
        let database = try Self.database(in: cluster)
        let role = "mark_owner_\(UInt32.random(in: 0...UInt32.max))"
        let connection = try PostgresConnection(conninfo: database)
        defer {
            _ = try? connection.execute("DROP TABLE IF EXISTS public.t")
            _ = try? connection.execute("DROP ROLE IF EXISTS \(role)")
            _ = try? connection.execute("DROP ROLE IF EXISTS \(role)_renamed")
            connection.close()
        }
        for statement in ["CREATE TABLE public.t (id int PRIMARY KEY, v text)", "CREATE ROLE \(role)", "ALTER TABLE public.t OWNER TO \(role)"] {
            try connection.execute(statement)
        }
        let start = try CatalogMark.read(connection).mark
        #expect(start.hasPrefix("m1 \(connection.serverVersionNumber) "))
        #expect(try CatalogMark.read(connection).mark == start)

        // Nothing a capture could see changed.
        try connection.execute("BEGIN")
        try connection.execute("CREATE TABLE public.gone (a int)")
        #expect(try CatalogMark.read(connection).mark != start, "inside the transaction its own rows count")
        try connection.execute("ROLLBACK")
        try connection.execute("INSERT INTO public.t SELECT g, 'x' FROM generate_series(1, 100) g")
        try connection.execute("ANALYZE public.t")
        try connection.execute("CREATE TEMP TABLE scratch (a int)")
        try connection.execute("DROP TABLE scratch")
        #expect(try CatalogMark.read(connection).mark == start)

        // A capture taken with its mark in one snapshot.
        let marked = try ObjectStateReader(connection: connection).captureMarked()
        #expect(marked.mark.mark == start)
        #expect(marked.files == (try ObjectStateReader(connection: connection).capture()))

        // Each of these changes what a capture renders.
        var seen: Set<String> = [start]
        for change in [
            "COMMENT ON TABLE public.t IS 'x'",
            "ALTER ROLE \(role) RENAME TO \(role)_renamed",  // a shared catalog: the owner's name in t's file
            "GRANT SELECT ON public.t TO PUBLIC",
            "ALTER TABLE public.t ALTER COLUMN v SET DEFAULT 'y'",
        ] {
            try connection.execute(change)
            let mark = try CatalogMark.read(connection).mark
            #expect(!seen.contains(mark), "\(change) must change the mark")
            seen.insert(mark)
        }
        // A change and its exact undo leave the same catalog rows, and so the same mark and the same capture.
        let beforeIndex = try ObjectStateReader(connection: connection).captureMarked()
        try connection.execute("CREATE INDEX t_v ON public.t (v)")
        #expect(!seen.contains(try CatalogMark.read(connection).mark))
        try connection.execute("DROP INDEX public.t_v")
        let afterIndex = try ObjectStateReader(connection: connection).captureMarked()
        #expect(afterIndex.mark.mark == beforeIndex.mark.mark)
        #expect(afterIndex.files == beforeIndex.files)
    }

    /// The guarded mark (taken at the end of an apply run) exists only when no transaction but the run's own
    /// committed since the run's starting snapshot: another one still running does not count, nor a rolled-back
    /// one; a committed one does, whatever it did (a DROP, a change made in a subtransaction, a role), as do the
    /// run's own earlier transactions unless they are named.
    @Test func guardedMarkOnlyWhenNoOtherTransactionCommittedSince() throws {
        // Transaction ids and roles are cluster-wide: a cluster of its own, where no other test runs.
        let cluster = try TestCluster.isolated()
        defer { try? cluster.remove() }
        let database = try Self.database(in: cluster)
        let ours = try PostgresConnection(conninfo: database)
        defer { ours.close() }
        let other = try PostgresConnection(conninfo: database)
        defer { other.close() }
        let third = try PostgresConnection(conninfo: database)
        defer { third.close() }
        func guarded(since: CatalogMark.Reading, own: [String] = []) throws -> String? {
            try ours.query("SELECT " + CatalogMark.guardedExpression(since: "$1", own: "$2"), [since.snapshot, pgArray(own)]).rows[0][0] ?? nil
        }
        /// The guarded mark inside a transaction of ours that creates `table` (rolled back afterwards).
        func guardedWhileCreating(_ table: String, since: CatalogMark.Reading, own: [String] = []) throws -> String? {
            try ours.execute("BEGIN; CREATE TABLE public.\(table) (x int)")
            defer { _ = try? ours.execute("ROLLBACK") }
            return try guarded(since: since, own: own)
        }
        try ours.execute("CREATE TABLE public.a (x int); CREATE TABLE public.a2 (x int)")

        // Only our own transaction since: the mark is the plain mark.
        var start = try CatalogMark.read(ours)
        try ours.execute("BEGIN")
        try ours.execute("CREATE TABLE public.b (x int)")
        #expect(try guarded(since: start) == CatalogMark.read(ours).mark)
        // Another session's transaction in progress, or rolled back: not counted.
        try other.execute("BEGIN")
        try other.execute("CREATE TABLE public.c (x int)")
        #expect(try guarded(since: start) != nil)
        try other.execute("ROLLBACK")
        #expect(try guarded(since: start) != nil)
        // Another session's committed change: no mark (here a DROP, which leaves no row behind).
        try other.execute("DROP TABLE public.a")
        #expect(try guarded(since: start) == nil)
        try ours.execute("ROLLBACK")

        // A change in a subtransaction of a transaction already running at the starting snapshot.
        try other.execute("BEGIN; SELECT pg_current_xact_id(); SAVEPOINT s; GRANT SELECT ON public.a2 TO PUBLIC")
        start = try CatalogMark.read(ours)
        try third.execute("CREATE TABLE public.h (x int)")
        try other.execute("RELEASE SAVEPOINT s; COMMIT")
        let thirdXid = try #require(try third.query("SELECT xmin::text FROM pg_class WHERE relname = 'h'").rows[0][0] ?? nil)
        #expect(try guardedWhileCreating("i", since: start, own: [thirdXid]) == nil)

        // Transactions that committed before the snapshot while an older one still ran are not counted.
        try other.execute("BEGIN; SELECT pg_current_xact_id()")
        try third.execute("CREATE TABLE public.j (x int)")
        start = try CatalogMark.read(ours)
        try other.execute("ROLLBACK")
        #expect(try guardedWhileCreating("k", since: start) != nil)

        // The run's own earlier transactions count only when named.
        start = try CatalogMark.read(ours)
        try ours.execute("CREATE TABLE public.l (x int)")
        let firstXid = try #require(try ours.query("SELECT xmin::text FROM pg_class WHERE relname = 'l'").rows[0][0] ?? nil)
        try ours.execute("BEGIN")
        try ours.execute("COMMENT ON TABLE public.l IS 'ours'")
        #expect(try guarded(since: start, own: [firstXid]) == CatalogMark.read(ours).mark)
        #expect(try guarded(since: start) == nil, "an earlier transaction not named as ours is another one")
        try ours.execute("COMMIT")

        // Roles: a role made meanwhile by another session means no mark.
        start = try CatalogMark.read(ours)
        try other.execute("CREATE ROLE mark_guard_role")
        #expect(try guardedWhileCreating("m", since: start) == nil)
    }
}
