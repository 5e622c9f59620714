import SQLSyntax
import Testing

@Suite struct ClassificationTests {
    /// The reason of the single statement in `text`.
    func reason(_ text: String) throws -> String? {
        try parse(text).statements[0].nonTransactionalReason
    }

    @Test func concurrentIndexesAndVacuumCannotRunInATransaction() throws {
        #expect(try reason("CREATE INDEX CONCURRENTLY i ON t (a);") == "CREATE INDEX CONCURRENTLY cannot run inside a transaction block")
        #expect(try reason("CREATE INDEX i ON t (a);") == nil)
        #expect(try reason("DROP INDEX CONCURRENTLY i;") == "DROP INDEX CONCURRENTLY cannot run inside a transaction block")
        #expect(try reason("DROP INDEX i;") == nil)
        #expect(try reason("VACUUM;") == "VACUUM cannot run inside a transaction block")
        #expect(try reason("VACUUM (ANALYZE) t;") == "VACUUM cannot run inside a transaction block")
        #expect(try reason("ANALYZE t;") == nil)
        #expect(try reason("REINDEX TABLE CONCURRENTLY t;")?.hasPrefix("REINDEX CONCURRENTLY") == true)
        #expect(try reason("REINDEX (CONCURRENTLY false) TABLE t;") == nil)
        #expect(try reason("REINDEX TABLE t;") == nil)
        #expect(try reason("REINDEX SCHEMA s;")?.hasPrefix("REINDEX SCHEMA") == true)
    }

    @Test func databaseTablespaceAndSystemCommands() throws {
        #expect(try reason("CREATE DATABASE d;")?.hasPrefix("CREATE DATABASE") == true)
        #expect(try reason("DROP DATABASE d;")?.hasPrefix("DROP DATABASE") == true)
        #expect(try reason("ALTER DATABASE d SET TABLESPACE x;")?.hasPrefix("ALTER DATABASE SET TABLESPACE") == true)
        #expect(try reason("ALTER DATABASE d SET search_path = a;") == nil)
        #expect(try reason("ALTER SYSTEM SET work_mem = '1MB';")?.hasPrefix("ALTER SYSTEM") == true)
        #expect(try reason("CREATE TABLESPACE x LOCATION '/x';")?.hasPrefix("CREATE TABLESPACE") == true)
        #expect(try reason("DROP TABLESPACE x;")?.hasPrefix("DROP TABLESPACE") == true)
        #expect(try reason("CLUSTER;")?.hasPrefix("CLUSTER") == true)
        #expect(try reason("CLUSTER t USING i;") == nil)
        #expect(try reason("DISCARD ALL;")?.hasPrefix("DISCARD ALL") == true)
        #expect(try reason("DISCARD PLANS;") == nil)
        #expect(try reason("ALTER TABLE p DETACH PARTITION c CONCURRENTLY;")?.contains("DETACH CONCURRENTLY") == true)
        #expect(try reason("ALTER TABLE p DETACH PARTITION c;") == nil)
        #expect(try reason("ALTER TYPE mood ADD VALUE 'meh';") == nil)
        #expect(try reason("COMMIT PREPARED 'g';")?.hasPrefix("COMMIT PREPARED") == true)
    }

    @Test func subscriptions() throws {
        #expect(try reason("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p;") != nil)
        #expect(try reason("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (connect = false);") == nil)
        #expect(try reason("CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = off);") == nil)
        #expect(try reason("ALTER SUBSCRIPTION s REFRESH PUBLICATION;") != nil)
        #expect(try reason("ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false);") == nil)
        #expect(try reason("ALTER SUBSCRIPTION s ADD PUBLICATION p;") != nil)
        #expect(try reason("ALTER SUBSCRIPTION s DISABLE;") == nil)
        #expect(try reason("DROP SUBSCRIPTION s;") != nil)
    }

    @Test func transactionControlStatements() throws {
        let script = try parse("""
            BEGIN; START TRANSACTION; SAVEPOINT a; RELEASE SAVEPOINT a; ROLLBACK TO a;
            PREPARE TRANSACTION 'g'; COMMIT PREPARED 'g'; ROLLBACK PREPARED 'g';
            COMMIT; END; ROLLBACK; ABORT; CREATE TABLE t (id int);
            """)
        #expect(script.statements.map(\.transactionControl) == [
            .begin, .start, .savepoint, .release, .rollbackTo, .prepare, .commitPrepared, .rollbackPrepared,
            .commit, .commit, .rollback, .rollback, nil,
        ])
        #expect(script.statements[0].nonTransactionalReason == nil)
        #expect(script.statements[2].tree["savepoint_name"]?.string == "a")
    }

    /// Statements that can only add objects or change them in place, against ones that can drop, rename or move.
    @Test func inPlaceStatements() throws {
        func inPlace(_ text: String) throws -> Bool { try parse(text).statements[0].onlyAddsOrChangesInPlace }
        for text in [
            "CREATE TABLE t (a int PRIMARY KEY REFERENCES u);", "COMMENT ON TABLE t IS 'x';",
            "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a';", "GRANT SELECT ON t TO r;", "REVOKE ALL ON t FROM r;",
            "CREATE OR REPLACE VIEW v AS SELECT 1;", "CREATE TRIGGER g BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();",
            "INSERT INTO config VALUES ('k', 'v');", "UPDATE config SET v = 'w';", "CREATE INDEX i ON t (a);",
            "ALTER TABLE t ADD COLUMN b int DEFAULT 1, ALTER COLUMN a SET NOT NULL;", "ALTER TABLE t ALTER COLUMN b DROP DEFAULT;",
            "ALTER TABLE t ENABLE ROW LEVEL SECURITY;", "ALTER FUNCTION f(int) SECURITY DEFINER;", "ALTER TYPE e ADD VALUE 'z';",
            "CREATE SCHEMA s CREATE TABLE x (a int);", "CREATE TYPE e AS ENUM ('a');", "ALTER FUNCTION f(int) OWNER TO r;",
        ] {
            #expect(try inPlace(text), "\(text)")
        }
        for text in [
            "DROP TABLE t;", "DROP FUNCTION f(int);", "ALTER TABLE t RENAME TO u;", "ALTER TABLE t RENAME COLUMN a TO b;",
            "ALTER TABLE t SET SCHEMA s;", "ALTER TABLE t DROP COLUMN a;", "ALTER TABLE t DROP CONSTRAINT c;",
            "ALTER TABLE t ALTER COLUMN a TYPE bigint;", "ALTER TABLE t ADD COLUMN b int, DROP COLUMN a;", "ALTER TYPE e RENAME VALUE 'a' TO 'b';",
            "ALTER TABLE p DETACH PARTITION c;", "DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$;", "SELECT f();", "CREATE INDEX CONCURRENTLY i ON t (a);",
            "DROP OWNED BY r;", "TRUNCATE t;", "CREATE RULE r AS ON INSERT TO t DO NOTHING;",
            "COMMENT ON TABLE t IS NULL;", "COMMENT ON TABLE t IS '';", "INSERT INTO t SELECT f();", "UPDATE t SET a = lower(b);",
            "INSERT INTO t VALUES (1) RETURNING g(a);",
        ] {
            #expect(try !inPlace(text), "\(text)")
        }
    }
}
