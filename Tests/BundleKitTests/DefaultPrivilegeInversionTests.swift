@testable import BundleKit
import Testing

/// The generated rollback inverts `default-privileges.sql` statements token by token: quoted names may hold the
/// very words the statement is split on.
@Suite struct DefaultPrivilegeInversionTests {
    @Test(arguments: [
        (
            "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA app GRANT SELECT, UPDATE ON TABLES TO reader;",
            "ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA app REVOKE SELECT, UPDATE ON TABLES FROM reader;"
        ),
        (
            "ALTER DEFAULT PRIVILEGES FOR ROLE postgres REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;",
            "ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT EXECUTE ON FUNCTIONS TO PUBLIC;"
        ),
        (
            "ALTER DEFAULT PRIVILEGES FOR ROLE \"a ON TABLES TO b\" IN SCHEMA \"x\"\" IN SCHEMA y\" GRANT USAGE ON SEQUENCES TO \"g WITH GRANT OPTION\" WITH GRANT OPTION;",
            "ALTER DEFAULT PRIVILEGES FOR ROLE \"a ON TABLES TO b\" IN SCHEMA \"x\"\" IN SCHEMA y\" REVOKE USAGE ON SEQUENCES FROM \"g WITH GRANT OPTION\";"
        ),
        (
            "ALTER DEFAULT PRIVILEGES FOR ROLE \"é GRANT \" GRANT USAGE ON TYPES TO \" ON TYPES FROM \";",
            "ALTER DEFAULT PRIVILEGES FOR ROLE \"é GRANT \" REVOKE USAGE ON TYPES FROM \" ON TYPES FROM \";"
        ),
        ("ALTER DEFAULT PRIVILEGES FOR ROLE r GRANT USAGE ON SCHEMAS TO s;", "ALTER DEFAULT PRIVILEGES FOR ROLE r REVOKE USAGE ON SCHEMAS FROM s;"),
    ])
    func inverts(_ statement: String, _ inverse: String) {
        #expect(RollbackGenerator.invertDefaultPrivileges(statement) == inverse)
        // A REVOKE's inverse is the GRANT again (without a grant option, which a REVOKE does not say).
        let back = RollbackGenerator.invertDefaultPrivileges(inverse)
        #expect(back == statement.replacingOccurrences(of: "\" WITH GRANT OPTION;", with: "\";"))
    }

    @Test func otherTextIsLeftAlone() {
        #expect(RollbackGenerator.invertDefaultPrivileges("GRANT SELECT ON t TO r;") == nil)
        #expect(RollbackGenerator.invertDefaultPrivileges("ALTER DEFAULT PRIVILEGES FOR ROLE r GRANT SELECT ON TABLES TO r") == nil)
    }
}

/// States recorded before bundle captured default privileges have no `default-privileges.sql`: a rollback to one
/// of them does not count the file it finds now as a difference.
@Suite struct DefaultPrivilegesInOlderStatesTests {
    @Test func rollbackComparisonSkipsTheFileWhenTheRecordedStateLacksIt() {
        let live = ["default-privileges.sql": "", "public/tables/a.sql": "CREATE TABLE public.a ();\n"]
        #expect(RollbackRunner.compare(expected: ["public/tables/a.sql": "CREATE TABLE public.a ();\n"], actual: live, paths: Array(live.keys)).isEmpty)
        // Recorded, it is compared like any file.
        let differences = RollbackRunner.compare(expected: ["default-privileges.sql": "ALTER DEFAULT PRIVILEGES FOR ROLE r GRANT SELECT ON TABLES TO s;\n"], actual: live, paths: ["default-privileges.sql"])
        #expect(differences.map(\.kind) == ["different"])
    }
}
