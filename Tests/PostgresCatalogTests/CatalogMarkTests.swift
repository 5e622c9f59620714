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

    /// The guarded mark (taken at the end of an apply run) exists only when, since the run's starting snapshot,
    /// no other transaction committed a catalog change: an added or changed row shows by its xmin, a DROP by the
    /// counts alone. Another transaction still in progress does not count; the run's own deletions do not either;
    /// any rolled-back transaction since does (its attempts may be in the run's row counters).
    @Test func guardedMarkOnlyWhenNoOtherTransactionChangedTheCatalogSince() throws {
        // Transaction ids and roles are cluster-wide: a cluster of its own, where no other test runs.
        let cluster = try TestCluster.isolated()
        defer { try? cluster.remove() }
        let database = try Self.database(in: cluster)
        let ours = try PostgresConnection(conninfo: database)
        defer { ours.close() }
        let other = try PostgresConnection(conninfo: database)
        defer { other.close() }
        let oids = pgArray(try CatalogMark.catalogOIDs(ours).map(String.init))
        func parse(_ array: String) -> [Int] { array.trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",").map { Int($0)! } }
        /// BEGIN, returning the row counters as the transaction starts.
        func begin() throws -> String {
            try ours.execute("BEGIN")
            return try #require(try ours.query("SELECT " + CatalogMark.rowCounters(oidsParameter: "$1"), [oids]).rows.first?.first ?? nil)
        }
        func guarded(since: CatalogMark.Reading, counters: String, own: [String] = [], delta: [Int]? = nil) throws -> String? {
            var base = CatalogMark.catalogs.map { since.counts[$0]! }
            if let delta { base = zip(base, delta).map { $0 + $1 } }
            let sql = "SELECT " + CatalogMark.guardedExpression(since: "$1", window: "$2", own: "$3", base: "$4", counters: "$5", roles: "$6")
            return try ours.query(
                sql, [since.snapshot, pgArray(since.windowXids), pgArray(own), pgArray(base.map(String.init)), counters, since.part(of: "pg_roles")]
            ).rows[0][0] ?? nil
        }
        try ours.execute("CREATE TABLE public.a (x int); CREATE TABLE public.a2 (x int)")
        let start = try CatalogMark.read(ours)

        var counters = try begin()
        try ours.execute("CREATE TABLE public.b (x int)")
        #expect(try guarded(since: start, counters: counters) == CatalogMark.read(ours).mark)
        // Another session's transaction in progress: not counted (whatever it commits later changes the mark).
        try other.execute("BEGIN")
        try other.execute("CREATE TABLE public.c (x int)")
        #expect(try guarded(since: start, counters: counters) != nil)
        // Rolled back: it cannot be told from a rolled-back subtransaction of ours (whose attempts the row
        // counters count), so no mark.
        try other.execute("ROLLBACK")
        #expect(try guarded(since: start, counters: counters) == nil)
        try ours.execute("ROLLBACK")

        // A subtransaction of ours rolled back after deleting rows: no mark.
        let beforeSavepoint = try CatalogMark.read(ours)
        counters = try begin()
        try ours.execute("SAVEPOINT s; DROP TABLE public.a2; ROLLBACK TO SAVEPOINT s")
        #expect(try guarded(since: beforeSavepoint, counters: counters) == nil)
        try ours.execute("ROLLBACK")

        let beforeComment = try CatalogMark.read(ours)
        counters = try begin()
        try ours.execute("CREATE TABLE public.b (x int)")
        #expect(try guarded(since: beforeComment, counters: counters) != nil)
        // Another session's committed change: no mark.
        try other.execute("COMMENT ON TABLE public.a IS 'outside'")
        #expect(try guarded(since: beforeComment, counters: counters) == nil)
        try ours.execute("ROLLBACK")

        // Another session's DROP (rows removed, none added): no mark.
        let beforeDrop = try CatalogMark.read(ours)
        try other.execute("DROP TABLE public.a")
        counters = try begin()
        try ours.execute("CREATE TABLE public.d (x int)")
        #expect(try guarded(since: beforeDrop, counters: counters) == nil)
        try ours.execute("ROLLBACK")

        // The run's own transactions: a DROP and a CREATE in one, then another one after it.
        let runStart = try CatalogMark.read(ours)
        counters = try begin()
        try ours.execute("DROP TABLE public.a2")
        try ours.execute("CREATE TABLE public.e (x int PRIMARY KEY)")
        #expect(try guarded(since: runStart, counters: counters) == CatalogMark.read(ours).mark)
        let firstXid = try #require(try ours.query("SELECT pg_current_xact_id()::text").rows[0][0] ?? nil)
        let countersAtEnd = try #require(try ours.query("SELECT " + CatalogMark.rowCounters(oidsParameter: "$1"), [oids]).rows[0][0] ?? nil)
        try ours.execute("COMMIT")
        let delta = zip(parse(countersAtEnd), parse(counters)).map { $0 - $1 }
        counters = try begin()
        try ours.execute("COMMENT ON TABLE public.e IS 'ours'")
        #expect(try guarded(since: runStart, counters: counters, own: [firstXid], delta: delta) == CatalogMark.read(ours).mark)
        #expect(try guarded(since: runStart, counters: counters, own: [], delta: delta) == nil, "an earlier transaction not named as ours is another one")
        #expect(try guarded(since: runStart, counters: counters, own: [firstXid]) == nil, "its rows must be counted in the base")
        try ours.execute("COMMIT")

        // Review finding: a change made in a subtransaction of a transaction already running at the starting
        // snapshot (its id is in no snapshot's list of running transactions, and falls below later xmaxes).
        try ours.execute("CREATE TABLE public.g (x int)")
        let third = try PostgresConnection(conninfo: database)
        defer { third.close() }
        try other.execute("BEGIN; SELECT pg_current_xact_id(); SAVEPOINT s; GRANT SELECT ON public.g TO PUBLIC")
        let beforeSubtransaction = try CatalogMark.read(ours)
        try third.execute("CREATE TABLE public.h (x int)")  // a later transaction finishes: xmax moves past the subtransaction
        try other.execute("RELEASE SAVEPOINT s; COMMIT")
        counters = try begin()
        try ours.execute("CREATE TABLE public.i (x int)")
        #expect(try guarded(since: beforeSubtransaction, counters: counters) == nil)
        try ours.execute("ROLLBACK")
        // Rows of transactions that committed before the snapshot while an older one still ran are not new.
        try other.execute("BEGIN; SELECT pg_current_xact_id()")
        try third.execute("CREATE TABLE public.j (x int)")
        let withOlderRunning = try CatalogMark.read(ours)
        #expect(!withOlderRunning.windowXids.isEmpty, "public.j's rows lie between the snapshot's xmin and xmax")
        try other.execute("COMMIT")
        counters = try begin()
        try ours.execute("CREATE TABLE public.k (x int)")
        #expect(try guarded(since: withOlderRunning, counters: counters) == CatalogMark.read(ours).mark)
        try ours.execute("ROLLBACK")

        // Roles (shared, read through pg_roles): any role made meanwhile, by anyone, means no mark.
        let beforeRole = try CatalogMark.read(ours)
        try other.execute("CREATE ROLE mark_guard_role")
        defer { _ = try? other.execute("DROP ROLE IF EXISTS mark_guard_role") }
        counters = try begin()
        try ours.execute("CREATE TABLE public.f (x int)")
        #expect(try guarded(since: beforeRole, counters: counters) == nil)
        try ours.execute("ROLLBACK")
    }
}
