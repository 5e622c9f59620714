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
    }

    /// The 32-bit `xmin` of a catalog row `t` as a bigint, without text conversion: `age()` is this
    /// transaction's stable "latest xid" minus it, and `k.r` (`rowVersionBase`) is that xid, both modulo 2^32.
    /// `age()` gives no answer for the special ids 1 (bootstrap) and 2 (frozen), kept as they are.
    private static let rowVersion =
        "CASE WHEN t.xmin = '1'::pg_catalog.xid THEN 1 WHEN t.xmin = '2'::pg_catalog.xid THEN 2 ELSE (k.r - pg_catalog.age(t.xmin)) & 4294967295 END"

    /// The CTE `k` that `rowVersion` needs (`age('3')` is that latest xid minus 3, modulo 2^32).
    private static let rowVersionBase = "k AS (SELECT pg_catalog.age('3'::pg_catalog.xid)::bigint + 3 AS r)"

    /// One row per catalog: its name, position, row count and hash sum. Every catalog and function is qualified;
    /// operators and aggregates are not: the mark is read under the session's own search_path before any bundle
    /// runs, or after a bundle's statements only once the capture has pinned an empty one (the registry INSERT
    /// that records a mark follows the pinned search for what the bundle wrote).
    private static let perCatalogRows: String = catalogs.enumerated().map { index, catalog in
        let head = "SELECT \(index) AS ord, '\(catalog)' AS name, count(*) AS n, coalesce(sum(pg_catalog.hashint8extended(r.b, 0)), 0) AS h"
        if catalog == "pg_roles" {
            // Roles are compared by oid and name.
            return "\(head) FROM (SELECT pg_catalog.hashtext(oid::pg_catalog.text || ':' || rolname)::bigint AS b FROM pg_catalog.pg_roles) r"
        }
        // A backend's temporary schemas are made on its first temporary table and stay: not a change.
        let filter = catalog == "pg_namespace" ? " WHERE t.nspname !~ '^pg_(toast_)?temp_'" : ""
        return "\(head) FROM (SELECT \(rowVersion) AS b FROM pg_catalog.\(catalog) t, k\(filter)) r"
    }.joined(separator: "\nUNION ALL ")

    private static let markText =
        "'m1 ' || pg_catalog.current_setting('server_version_num') || ' ' || pg_catalog.string_agg(c.name || ':' || c.n || ':' || c.h, ' ' ORDER BY c.ord)"

    /// A scalar subquery (type text) that computes the mark in the current snapshot:
    /// `m1 <server_version_num> catalog:count:hashsum …`.
    public static let expression: String = "(WITH \(rowVersionBase) SELECT \(markText) FROM (\(perCatalogRows)) c)"

    /// The mark of the catalog as the connection sees it now (in its transaction's snapshot, if one is open).
    public static func read(_ connection: PostgresConnection) throws(PostgresError) -> Reading {
        try reading(connection.query(readSQL))
    }

    /// `read`, with the caller's `work` done while the server computes the mark (`PostgresConnection.query(_:_:overlapping:)`).
    public static func read<T, E: Error>(
        _ connection: PostgresConnection, overlapping work: () throws(E) -> T
    ) throws(E) -> (reading: Result<Reading, PostgresError>, work: T) {
        let (result, value) = try connection.query(readSQL, overlapping: work)
        return (result.flatMap { result in Result { () throws(PostgresError) in try reading(result) } }, value)
    }

    private static var readSQL: String { "SELECT \(expression), pg_catalog.pg_current_snapshot()::pg_catalog.text" }

    private static func reading(_ result: QueryResult) throws(PostgresError) -> Reading {
        guard let row = result.rows.first, let mark = row[0], let snapshot = row[1] else { throw .protocolError("the catalog mark query returned no row") }
        return Reading(mark: mark, snapshot: snapshot)
    }

    /// A scalar subquery (type text): the mark, taken in the current transaction, but only when no transaction
    /// other than the caller's run committed since the snapshot `$since` (text of a `pg_snapshot`); NULL otherwise.
    ///
    /// The run started from a state equal to the catalog at `$since` and recorded what its own transactions
    /// changed: `$own` (a `bigint[]` of their xids; the current one counts too). Any other transaction that got
    /// an id (wrote anything, anywhere in the cluster: transaction ids are cluster-wide) and committed after
    /// `$since` may have changed the catalog, even in a way that leaves no trace by the end of the run (an index
    /// added and dropped again while a bundle captured its table): then there is no mark, and the next apply
    /// captures the catalog. Transactions still running are not counted (what they commit later changes the
    /// mark), nor rolled-back ones (they changed nothing). A subtransaction of the run that wrote and was
    /// released has an id of its own, not in `$own`: no mark either (`--atomic` runs, exception blocks that
    /// succeed). Nor when more than 100,000 transactions started since, or the registry table has triggers
    /// (they would run after the mark is taken), or the session has made temporary objects (in its temporary
    /// schema they shadow `pg_catalog`'s names in what a capture renders, and ON COMMIT DROP can take permanent
    /// objects with them after the capture).
    ///
    /// So on a cluster where other sessions write while apply runs, runs record no mark. The caller makes sure
    /// that the state its run recorded is exactly what its transactions changed: the mark stands for that state.
    public static func guardedExpression(since: String, own: String) -> String {
        """
        (SELECT CASE WHEN w.lx OPERATOR(pg_catalog.-) w.since_xmin OPERATOR(pg_catalog.<) 100000
                     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                                     WHERE tgrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('bundle.registry'::pg_catalog.text))
                     AND pg_catalog.pg_my_temp_schema() OPERATOR(pg_catalog.=) 0
                     AND NOT EXISTS (
                         SELECT 1 FROM pg_catalog.generate_series(w.since_xmin, w.lx OPERATOR(pg_catalog.-) 1) AS x
                         WHERE x OPERATOR(pg_catalog.<>) ALL (w.own)
                           AND NOT pg_catalog.pg_visible_in_snapshot(x::pg_catalog.text::pg_catalog.xid8, \(since)::pg_catalog.pg_snapshot)
                           AND pg_catalog.pg_xact_status(x::pg_catalog.text::pg_catalog.xid8) OPERATOR(pg_catalog.=) 'committed')
                THEN \(expression) END
         FROM (SELECT pg_catalog.pg_snapshot_xmin(\(since)::pg_catalog.pg_snapshot)::pg_catalog.text::bigint AS since_xmin,
                      pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::pg_catalog.text::bigint AS lx,
                      \(own)::bigint[] OPERATOR(pg_catalog.||) coalesce(pg_catalog.pg_current_xact_id_if_assigned()::pg_catalog.text::bigint, 0) AS own) w)
        """
    }
}
