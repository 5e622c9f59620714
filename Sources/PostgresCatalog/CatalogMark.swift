import Foundation

/// A mark of the system catalogs' row versions in one snapshot, cheap enough to take on every run: for each
/// catalog a captured state can depend on, its row count and the sum of a hash of every row's `xmin`.
///
/// Every change to a catalog row (DDL, GRANT, COMMENT, a rename anywhere) writes a new row version whose `xmin`
/// is the changing transaction's id, which no row visible earlier carries; removing a row lowers the count. So
/// when two marks are equal, no catalog row was added, changed or removed in between (up to a collision of sums
/// of 64-bit hashes, `hashint8extended`), and a capture of the catalog would render the same text: it depends on
/// nothing else but the settings `ObjectStateReader` pins and the server version, which the mark includes.
///
/// What the mark does not see, on purpose: updates made in place by the server (VACUUM and ANALYZE statistics
/// in `pg_class`), which no capture renders, and the catalogs of data rather than schema (statistics, large
/// objects, subscriptions' sync state, other databases' entries in shared catalogs). What makes it differ without
/// any difference in a capture (TRUNCATE or VACUUM FULL of a table gives it a new `relfilenode`; a temporary
/// table of another session while it exists; ALTER ROLE … PASSWORD) only costs the caller a full capture. Equal
/// marks after a change and its exact undo (CREATE INDEX, then DROP INDEX) are right: the rows are the same again.
public enum CatalogMark {
    /// The catalogs the mark covers: every catalog of the database a captured object's text can depend on
    /// (names, types, routines, operators, access methods, collations, text search, rules, policies,
    /// comments, dependencies), plus the shared catalogs whose names appear in it (roles, tablespaces).
    /// Only catalogs that every server from PostgreSQL 13 on has (apply needs 13 for `pg_current_xact_id` and
    /// `pg_current_snapshot` anyway). Roles are read through `pg_roles` (`pg_authid` is not readable by every
    /// role): for them the mark hashes each role's oid and name (what a capture shows of a role) instead of its
    /// row version.
    public static let catalogs: [String] = [
        "pg_aggregate", "pg_am", "pg_amop", "pg_amproc", "pg_attrdef", "pg_attribute", "pg_cast", "pg_class", "pg_collation",
        "pg_constraint", "pg_conversion", "pg_default_acl", "pg_depend", "pg_description", "pg_enum", "pg_event_trigger",
        "pg_extension", "pg_foreign_data_wrapper", "pg_foreign_server", "pg_foreign_table", "pg_index", "pg_inherits",
        "pg_init_privs", "pg_language", "pg_namespace", "pg_opclass", "pg_operator", "pg_opfamily", "pg_partitioned_table",
        "pg_policy", "pg_proc", "pg_publication", "pg_publication_rel", "pg_range", "pg_rewrite",
        "pg_seclabel", "pg_sequence", "pg_statistic_ext", "pg_transform", "pg_trigger", "pg_ts_config", "pg_ts_config_map",
        "pg_ts_dict", "pg_ts_parser", "pg_ts_template", "pg_type", "pg_roles", "pg_tablespace",
    ]

    /// A mark and the snapshot it was taken in (`pg_current_snapshot()` text).
    public struct Reading: Sendable, Equatable {
        public var mark: String
        public var snapshot: String
        /// The distinct 32-bit `xmin`s of the catalog rows visible in the snapshot that lie between its xmin and
        /// xmax (transactions that committed while older ones still ran): `guardedExpression` needs them to tell
        /// those rows from rows written by a transaction, or a subtransaction, that was still running then.
        public var windowXids: [String] = []

        /// The `count:hashsum` the mark records for `catalog` (nil when it has none).
        public func part(of catalog: String) -> String? {
            mark.split(separator: " ").dropFirst(2).first { $0.hasPrefix(catalog + ":") }.map { String($0.dropFirst(catalog.count + 1)) }
        }

        /// The row count per catalog that the mark records.
        public var counts: [String: Int] {
            var counts: [String: Int] = [:]
            for part in mark.split(separator: " ").dropFirst(2) {
                let fields = part.split(separator: ":")
                if fields.count == 3, let count = Int(fields[1]) { counts[String(fields[0])] = count }
            }
            return counts
        }
    }

    /// The 32-bit `xmin` of a catalog row `t` as a bigint, without text conversion: `age()` is this
    /// transaction's stable "latest xid" minus it, and `k.r` (`rowVersionBase`) is that xid, both modulo 2^32.
    /// `age()` gives no answer for the special ids 1 (bootstrap) and 2 (frozen), kept as they are.
    private static let rowVersion =
        "CASE WHEN t.xmin = '1'::pg_catalog.xid THEN 1 WHEN t.xmin = '2'::pg_catalog.xid THEN 2 ELSE (k.r - pg_catalog.age(t.xmin)) & 4294967295 END"

    /// The CTE `k` that `rowVersion` needs (`age('3')` is that latest xid minus 3, modulo 2^32).
    private static let rowVersionBase = "k AS (SELECT pg_catalog.age('3'::pg_catalog.xid)::bigint + 3 AS r)"

    /// One row per catalog: its name, position, row count and hash sum, and (when `guarded`) the rows whose
    /// `xmin` is a transaction that committed after the snapshot `$since` and is not one of `$own` (CTE `p`),
    /// and the catalog's `rowCounters` entry. Every name is qualified: the same text under any search_path.
    private static func perCatalogRows(guarded: Bool) -> String {
        catalogs.enumerated().map { index, catalog in
            let head = "SELECT \(index) AS ord, '\(catalog)' AS name, count(*) AS n, coalesce(sum(pg_catalog.hashint8extended(r.b, 0)), 0) AS h"
            if catalog == "pg_roles" {
                // Roles are compared by oid and name; for the guard, as at the snapshot (no row versions to read).
                let from = "FROM (SELECT pg_catalog.hashtext(oid::text || ':' || rolname)::bigint AS b FROM pg_catalog.pg_roles) r"
                return guarded
                    ? "\(head), 0::bigint AS foreign_new, 0::bigint AS counter \(from)"
                    : "\(head), NULL::bigint[] AS window \(from)"
            }
            // A backend's temporary schemas are made on its first temporary table and stay: not a change.
            let filter = catalog == "pg_namespace" ? " WHERE t.nspname !~ '^pg_(toast_)?temp_'" : ""
            let versions = "(SELECT \(rowVersion) AS b FROM pg_catalog.\(catalog) t, k\(filter))"
            guard guarded else {
                // w: the snapshot's window (its xmin up to its xmax), as in `guardedExpression`.
                return """
                    \(head), pg_catalog.array_agg(DISTINCT r.b) FILTER (WHERE (r.b - w.xmin32 + 4294967296) % 4294967296 < w.width) AS window
                    FROM \(versions) r, w
                    """
            }
            // d: how far the row's xmin is past the starting snapshot's xmin, modulo 2^32. The row is new since that
            // snapshot when d is below the number of ids started since, unless its xmin was visible then (the
            // snapshot's window xids); not new when it is one of the run's transactions.
            let counter = { (kind: String) in "pg_catalog.pg_stat_get_xact_tuples_\(kind)('pg_catalog.\(catalog)'::pg_catalog.regclass)" }
            return """
                \(head),
                  count(*) FILTER (WHERE r.d < r.span AND r.b <> ALL (r.window) AND r.since_xmin + r.d <> ALL (r.own)) AS foreign_new,
                  \(counter("inserted")) - \(counter("deleted")) AS counter
                FROM (SELECT q.b, (q.b - p.since_xmin32 + 4294967296) % 4294967296 AS d, p.span, p.since_xmin, p.window, p.own
                      FROM \(versions) q, p) r
                """
        }.joined(separator: "\nUNION ALL ")
    }

    private static let markText =
        "'m1 ' || pg_catalog.current_setting('server_version_num') || ' ' || pg_catalog.string_agg(c.name || ':' || c.n || ':' || c.h, ' ' ORDER BY c.ord)"

    /// A scalar subquery (type text) that computes the mark in the current snapshot:
    /// `m1 <server_version_num> catalog:count:hashsum …`.
    public static let expression: String = "(WITH \(rowVersionBase), \(snapshotWindow) SELECT \(markText) FROM (\(perCatalogRows(guarded: false))) c)"

    /// The CTE `w`: the current snapshot's xmin (modulo 2^32) and the number of ids from it to its xmax.
    private static let snapshotWindow = """
        w AS (SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint % 4294967296 AS xmin32,
                     pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint
                       - pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint AS width)
        """

    /// The mark of the catalog as the connection sees it now (in its transaction's snapshot, if one is open).
    public static func read(_ connection: PostgresConnection) throws(PostgresError) -> Reading {
        let row = try connection.query(
            """
            WITH \(rowVersionBase), \(snapshotWindow), c AS (\(perCatalogRows(guarded: false)))
            SELECT \(markText), pg_catalog.pg_current_snapshot()::text,
                   (SELECT pg_catalog.array_agg(DISTINCT x ORDER BY x) FROM c, pg_catalog.unnest(c.window) AS x)::text
            FROM c
            """
        ).rows.first
        guard let row, let mark = row[0], let snapshot = row[1] else { throw .protocolError("the catalog mark query returned no row") }
        let window = (row[2] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "{}")).split(separator: ",").map(String.init)
        return Reading(mark: mark, snapshot: snapshot, windowXids: window)
    }

    /// A scalar subquery (type text): the mark, taken in the current transaction, but only when it can stand for
    /// a state recorded by the caller's run (NULL otherwise).
    ///
    /// The run started from a state equal to the catalog at the snapshot `$since` (text of a `pg_snapshot`;
    /// `$window`, a `bigint[]`: its `Reading.windowXids`) and recorded the changes of its own transactions only:
    /// `$own` (a `bigint[]` of their xids; the current one counts too). `$base` (a `bigint[]` in the order of
    /// `catalogs`) is each catalog's row count as the current transaction started: the count at `$since` plus the
    /// rows the run's earlier transactions inserted minus deleted; `$counters` is `rowCounters` read as the
    /// current transaction started. The mark exists only when no catalog row visible now was written by a
    /// transaction (or subtransaction) not the run's own that was not committed at `$since`, and every count
    /// equals its base plus what this transaction inserted minus deleted: anything else means someone else
    /// changed the catalog during the run (a DROP shows in the counts alone), and the next run captures instead.
    ///
    /// The row counts per transaction come from PostgreSQL's statistics of attempted inserts and deletes, which
    /// also count the attempts of a rolled-back subtransaction (a savepoint, a PL/pgSQL exception block). Such a
    /// subtransaction had a transaction id if it wrote anything: so there is no mark either when any transaction
    /// since `$since` was rolled back (anyone's: they cannot be told apart), nor when more than 100,000
    /// transactions started since, nor when statistics are not counted (`track_counts` off; the caller's
    /// statements must not be able to turn it off and on again). Rows a subtransaction of the run wrote and released carry
    /// its own id, which is not in `$own`: no mark then either (`--atomic` runs, exception blocks that succeed).
    /// Roles (no row versions readable) must be exactly those of `$roles`, the `pg_roles` part of the snapshot's
    /// mark (`Reading.part`): no mark after a run that created, renamed or dropped one. Nor when the registry
    /// table has triggers (they would run after the mark is taken).
    ///
    /// The caller makes sure that the state its run recorded is exactly what its transactions changed: the mark
    /// stands for that state from then on.
    public static func guardedExpression(since: String, window: String, own: String, base: String, counters: String, roles: String) -> String {
        """
        (WITH s AS (
            SELECT pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint AS lx,
                   pg_catalog.pg_snapshot_xmin(\(since)::pg_catalog.pg_snapshot)::text::bigint AS since_xmin,
                   \(window)::bigint[] AS window,
                   \(own)::bigint[] || coalesce(pg_catalog.pg_current_xact_id_if_assigned()::text::bigint, 0) AS own
        ), p AS (
            SELECT s.*, s.since_xmin % 4294967296 AS since_xmin32, s.lx - s.since_xmin AS span FROM s
        ), \(rowVersionBase), c AS (\(perCatalogRows(guarded: true)))
        SELECT CASE WHEN pg_catalog.bool_and(CASE WHEN c.name = 'pg_roles' THEN c.n || ':' || c.h = \(roles)::text
                    ELSE c.foreign_new = 0 AND c.n = (\(base)::bigint[])[c.ord + 1] + c.counter - (\(counters)::bigint[])[c.ord + 1] END)
            AND (SELECT p.span < 100000 FROM p)
            AND pg_catalog.current_setting('track_counts')::boolean
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = pg_catalog.to_regclass('bundle.registry'))
            AND NOT EXISTS (
                SELECT 1 FROM pg_catalog.generate_series((SELECT p.since_xmin FROM p), (SELECT p.lx FROM p) - 1) AS x
                WHERE pg_catalog.pg_xact_status(x::text::pg_catalog.xid8) = 'aborted')
            THEN \(markText) END
        FROM c)
        """
    }

    /// The OIDs of `catalogs`, in order, for `rowCounters` (0 for `pg_roles`: roles are compared by name).
    public static func catalogOIDs(_ connection: PostgresConnection) throws(PostgresError) -> [UInt32] {
        let rows = try connection.query(
            "SELECT CASE WHEN c = 'pg_roles' THEN '0' ELSE ('pg_catalog.' || c)::regclass::oid::text END FROM unnest($1::text[]) WITH ORDINALITY AS t(c, i) ORDER BY i",
            [pgArray(catalogs)]
        ).rows
        let oids = rows.compactMap { $0[0].flatMap { UInt32($0) } }
        guard oids.count == catalogs.count else { throw .protocolError("the catalog OIDs query returned \(oids.count) rows") }
        return oids
    }

    /// A scalar expression (`bigint[]` as text): the session's rows inserted minus deleted per catalog, in the
    /// order of `catalogs`, for the `oid[]` in `oidsParameter` (`catalogOIDs`; roles count 0: they are compared
    /// by name), from PostgreSQL's pending table statistics. They add up from transaction to transaction until
    /// the session flushes them (only while idle outside a transaction block), so the difference between two
    /// readings inside one transaction block is exactly what it inserted minus deleted, provided no
    /// subtransaction of it was rolled back (a rolled-back subtransaction's attempts count too: see
    /// `guardedExpression`).
    public static func rowCounters(oidsParameter: String) -> String {
        """
        (SELECT pg_catalog.array_agg(pg_catalog.pg_stat_get_xact_tuples_inserted(t.o) - pg_catalog.pg_stat_get_xact_tuples_deleted(t.o) ORDER BY t.i)
         FROM pg_catalog.unnest(\(oidsParameter)::oid[]) WITH ORDINALITY AS t(o, i))::text
        """
    }
}
