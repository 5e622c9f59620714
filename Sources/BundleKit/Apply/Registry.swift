import Foundation
import PostgresCatalog

/// One row of the registry the target database keeps about itself (`bundle.registry`).
public struct RegistryEntry: Sendable, Equatable {
    public var id: Int
    /// `apply` or `rollback`.
    public var kind: String
    public var lockName: String
    public var lockSHA256: String
    public var bundleName: String
    public var txn: Int
    public var sha256: String
    public var semanticSHA256: String
    /// The git commit that records this change (built before COMMIT, so it exists before the row does).
    public var commitID: String
    /// The branch tip the commit was built on.
    public var parentCommitID: String?
    public var target: String
    public var role: String
    public var serverVersion: String
    public var startedAt: String
    public var finishedAt: String
}

/// The registry in the target: schema `bundle`, written inside each bundle's own transaction, so the database
/// never says a bundle is applied when it is not.
public struct Registry {
    public static let schema = "bundle"
    let connection: PostgresConnection

    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    /// Whether the registry table exists (read-only check).
    public func exists() throws(PostgresError) -> Bool {
        try connection.query("SELECT to_regclass('bundle.registry') IS NOT NULL").rows.first?.first == "t"
    }

    /// What a registry can keep besides its rows: both need columns that a registry made by an earlier version
    /// gets on first use, unless the role applying is not its owner.
    public struct Capabilities: Sendable, Equatable {
        /// Commit recipes (`commit_journal`): commits are written after COMMIT, in batches.
        public var journal: Bool
        /// Catalog marks (`catalog_mark`): the next apply can tell that nothing changed without a full capture.
        public var marks: Bool
    }

    /// Columns added after the first version of the registry, with what each one gives.
    private static let laterColumns: [(name: String, comment: String)] = [
        ("commit_journal", "bundle: what the commit is made of, until it is written to the repository"),
        ("catalog_mark", "bundle: the catalog mark (row counts and xmin hashes) when the catalog was exactly this commit's state"),
    ]

    /// Creates the registry on first use (its own transaction); not writable by PUBLIC. A registry made by an
    /// earlier version gets the columns added since, when the role applying owns it.
    @discardableResult
    public func create() throws(PostgresError) -> Capabilities {
        if try exists() {
            let missing = Set(try connection.query(
                "SELECT c FROM unnest($1::text[]) c WHERE NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'bundle.registry'::regclass AND attname = c AND NOT attisdropped)",
                [pgArray(Self.laterColumns.map(\.name))]
            ).rows.compactMap { $0[0] })
            var available = Set(Self.laterColumns.map(\.name)).subtracting(missing)
            for column in Self.laterColumns where missing.contains(column.name) {
                do {
                    try connection.execute("ALTER TABLE bundle.registry ADD COLUMN IF NOT EXISTS \(column.name) text")
                    available.insert(column.name)
                } catch where error.serverMessage?.sqlstate == "42501" {
                    continue
                }
            }
            return Capabilities(journal: available.contains("commit_journal"), marks: available.contains("catalog_mark"))
        }
        try connection.execute("BEGIN")
        do {
            try connection.execute("CREATE SCHEMA IF NOT EXISTS bundle")
            try connection.execute("REVOKE ALL ON SCHEMA bundle FROM PUBLIC")
            try connection.execute(
                """
                CREATE TABLE IF NOT EXISTS bundle.registry (
                    id bigserial PRIMARY KEY,
                    kind text NOT NULL CHECK (kind IN ('apply', 'rollback')),
                    lock_name text NOT NULL,
                    lock_sha256 text NOT NULL,
                    bundle_name text NOT NULL,
                    txn integer NOT NULL,
                    sha256 text NOT NULL,
                    semantic_sha256 text NOT NULL,
                    commit_id text NOT NULL,
                    parent_commit_id text,
                    target text NOT NULL,
                    role text NOT NULL DEFAULT current_user,
                    server_version text NOT NULL DEFAULT current_setting('server_version'),
                    started_at timestamptz NOT NULL,
                    finished_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    commit_journal text,
                    catalog_mark text
                )
                """)
            try connection.execute("REVOKE ALL ON bundle.registry FROM PUBLIC")
            try connection.execute("COMMENT ON TABLE bundle.registry IS 'bundle: what was applied here, and the git commit that records it'")
            for column in Self.laterColumns {
                try connection.execute("COMMENT ON COLUMN bundle.registry.\(column.name) IS \(sqlLiteral(column.comment))")
            }
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
        _ = connection.takeNotices()
        return Capabilities(journal: true, marks: true)
    }

    /// All rows for `target`, oldest first (empty when the registry does not exist yet).
    public func entries(target: String) throws(PostgresError) -> [RegistryEntry] {
        guard try exists() else { return [] }
        return try connection.query(
            """
            SELECT id, kind, lock_name, lock_sha256, bundle_name, txn, sha256, semantic_sha256, commit_id, parent_commit_id,
                   target, role, server_version, started_at::text, finished_at::text
            FROM bundle.registry WHERE target = $1 ORDER BY id
            """, [target]
        ).rows.map { row in
            RegistryEntry(
                id: Int(row[0]!)!, kind: row[1]!, lockName: row[2]!, lockSHA256: row[3]!, bundleName: row[4]!, txn: Int(row[5]!)!,
                sha256: row[6]!, semanticSHA256: row[7]!, commitID: row[8]!, parentCommitID: row[9], target: row[10]!, role: row[11]!,
                serverVersion: row[12]!, startedAt: row[13]!, finishedAt: row[14]!)
        }
    }

    /// Inserts a row inside the caller's open transaction; returns its id. `startedAt` nil means the start of the
    /// transaction.
    public func record(
        kind: String, lockName: String, lockSHA256: String, bundle: LockedBundle, commitID: String, parentCommitID: String?, target: String,
        startedAt: String?, journal: String? = nil
    ) throws(PostgresError) -> Int {
        let insert = Self.insertStatement(
            kind: kind, lockName: lockName, lockSHA256: lockSHA256, bundle: bundle, commitID: commitID, parentCommitID: parentCommitID,
            target: target, startedAt: startedAt, journal: journal)
        let row = try connection.query(insert.sql, insert.parameters)
        return Int(row.rows[0][0]!)!
    }

    /// The INSERT of `record` (returning the new row's id), for callers that send it together with other
    /// statements (`PostgresConnection.pipeline`).
    static func insertStatement(
        kind: String, lockName: String, lockSHA256: String, bundle: LockedBundle, commitID: String, parentCommitID: String?, target: String,
        startedAt: String?, journal: String? = nil, mark: MarkGuard? = nil
    ) -> (sql: String, parameters: [String?]) {
        // Without a recipe (or a mark) the column is not named: a registry made by an earlier version may not have it.
        var journalColumn = journal == nil ? "" : ", commit_journal"
        var journalValue = journal == nil ? "" : ", $12"
        var extra: [String?] = journal.map { [$0] } ?? []
        if let mark {
            // Taken by the INSERT itself: in the bundle's transaction, after its last statement.
            let first = 12 + extra.count
            journalColumn += ", catalog_mark"
            journalValue += ", " + CatalogMark.guardedExpression(since: "$\(first)", own: "$\(first + 1)")
            extra += mark.parameters
        }
        return (
            """
            INSERT INTO bundle.registry (kind, lock_name, lock_sha256, bundle_name, txn, sha256, semantic_sha256, commit_id,
                                         parent_commit_id, target, started_at\(journalColumn))
            VALUES ($1, $2, $3, $4, $5::integer, $6, $7, $8, $9, $10, coalesce($11::pg_catalog.timestamptz, pg_catalog.now())\(journalValue))
            RETURNING id, pg_catalog.pg_current_xact_id()::pg_catalog.text
            """,
            [kind, lockName, lockSHA256, bundle.name, String(bundle.txn), bundle.sha256, bundle.semanticSha256, commitID, parentCommitID, target, startedAt]
                + extra)
    }

    /// What a run's last registry row needs to record a catalog mark (`CatalogMark.guardedExpression`): the
    /// snapshot its starting state was captured (or checked) in, and the ids of the run's own transactions since.
    struct MarkGuard {
        var since: String
        var ownTransactions: [String]

        /// The guard's two parameters, in `guardedExpression`'s order (`since`, then `own`).
        var parameters: [String?] { [since, pgArray(ownTransactions)] }
    }

    /// The commit recipe stored with row `id` while its commit was not yet written to the repository (nil when
    /// there is none, or the registry predates the journal).
    func journal(id: Int) throws(PostgresError) -> String? {
        let hasColumn = try connection.query(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'bundle.registry'::regclass AND attname = 'commit_journal')"
        ).rows.first?.first == "t"
        guard hasColumn else { return nil }
        return try connection.query("SELECT commit_journal FROM bundle.registry WHERE id = $1::bigint", [String(id)]).rows.first?.first ?? nil
    }

    /// The catalog mark recorded with `target`'s newest row for `commitID` (nil when there is none, or the
    /// registry predates marks).
    func catalogMark(target: String, commitID: String) throws(PostgresError) -> String? {
        do {
            return try connection.query(
                "SELECT catalog_mark FROM bundle.registry WHERE target = $1 AND commit_id = $2 ORDER BY id DESC LIMIT 1", [target, commitID]
            ).rows.first?.first ?? nil
        } catch where ["42P01", "42703", "3F000"].contains(error.serverMessage?.sqlstate ?? "") {
            return nil  // no registry, or one made before marks
        }
    }

    /// Records, with `target`'s newest row for `commitID` (there is none for a baseline commit), the catalog's
    /// mark as it is now, provided nothing but `mark.ownTransactions` committed since the snapshot `mark.since` of
    /// a capture that found the catalog exactly as `commitID` records it (`CatalogMark.guardedExpression`; else
    /// no mark).
    func setCatalogMark(_ mark: MarkGuard, target: String, commitID: String) throws(PostgresError) {
        _ = try connection.query(
            """
            UPDATE bundle.registry SET catalog_mark = \(CatalogMark.guardedExpression(since: "$3", own: "$4"))
            WHERE id OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(id) FROM bundle.registry
                                            WHERE target OPERATOR(pg_catalog.=) $1 AND commit_id OPERATOR(pg_catalog.=) $2)
            """,
            [target, commitID] + mark.parameters)
    }

    /// Forgets the recipes of `target`'s rows up to `id`, whose commits are all in the repository.
    func clearJournals(target: String, through id: Int) throws(PostgresError) {
        _ = try connection.query(
            """
            UPDATE bundle.registry SET commit_journal = NULL
            WHERE target OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.<=) $2::bigint AND commit_journal IS NOT NULL
            """, [target, String(id)])
    }

    /// Forgets the recipes of rows whose commits are now in the repository (its own short transaction); returns
    /// that transaction's id, if it wrote anything.
    @discardableResult
    func clearJournals(ids: [Int]) throws(PostgresError) -> String? {
        guard !ids.isEmpty else { return nil }
        return try connection.query(
            """
            UPDATE bundle.registry SET commit_journal = NULL WHERE id OPERATOR(pg_catalog.=) ANY ($1::bigint[]) AND commit_journal IS NOT NULL
            RETURNING pg_catalog.pg_current_xact_id()::pg_catalog.text
            """,
            [pgArray(ids.map(String.init))]
        ).rows.first?.first ?? nil
    }

    /// The bundles of `lock` that are currently applied on `target` (an apply not undone by a later rollback),
    /// by bundle name.
    public static func appliedBundles(_ entries: [RegistryEntry], lockName: String) -> [String: RegistryEntry] {
        var applied: [String: RegistryEntry] = [:]
        for entry in entries where entry.lockName == lockName {
            if entry.kind == "apply" { applied[entry.bundleName] = entry } else { applied[entry.bundleName] = nil }
        }
        return applied
    }
}
