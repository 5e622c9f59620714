import BundleTestSupport
import Foundation
import Testing

/// The `bundle` executable as a user runs it: exit codes, help, output formats, no secrets in output.
@Suite struct CLITests {
    func bundle(_ args: [String], cwd: URL = repositoryRoot, environment: [String: String] = [:]) -> (status: Int32, stdout: String, stderr: String) {
        runBundle(args, cwd: cwd, environment: environment)
    }

    @Test func versionAndHelp() {
        let version = bundle(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let help = bundle(["--help"])
        #expect(help.status == 0)
        for verb in ["init", "lock", "sandbox", "plan"] {
            #expect(help.stdout.contains(verb))
            let verbHelp = bundle([verb, "--help"])
            #expect(verbHelp.status == 0, "\(verb): \(verbHelp.stderr)")
            #expect(verbHelp.stdout.contains("Example"), "\(verb) --help must show an example")
        }
    }

    @Test func usageErrorsExitTwo() {
        let unknown = bundle(["plan", "--no-such-flag"])
        #expect(unknown.status == 2)
        #expect(!unknown.stderr.isEmpty)
        let missing = bundle(["lock", "x"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("name at least one bundle file"))
        let noLock = bundle(["plan", "no-such-lock"])
        #expect(noLock.status == 2)
        #expect(noLock.stderr.contains("no lock named 'no-such-lock'"))
    }

    @Test func initCreatesLayoutAndRepository() throws {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("init-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let result = bundle(["init", root.path])
        #expect(result.status == 0, "\(result.stderr)")
        for name in ["bundles", "locks", ".git"] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(name).path), "\(name) missing")
        }
        let git = runProcess("git", ["-C", root.path, "rev-parse", "--git-dir"])
        #expect(git.status == 0)
        let again = bundle(["init", root.path])
        #expect(again.status == 0)
        #expect(again.stdout.contains("exists"))
    }

    @Test func lockCheckAndIntegrityErrors() throws {
        let project = try TestProject(prefix: "cli-lock")
        defer { project.remove() }
        try project.write("bundles/a.sql", "CREATE TABLE t (a int);\n")
        let lock = bundle(["lock", "demo", "bundles/a.sql"], cwd: project.root)
        #expect(lock.status == 0, "\(lock.stderr)")
        #expect(bundle(["lock", "demo", "--check"], cwd: project.root).status == 0)
        try project.write("bundles/a.sql", "CREATE TABLE t (a  int);  -- cosmetic\n")
        let cosmetic = bundle(["lock", "demo", "--check"], cwd: project.root)
        #expect(cosmetic.status == 1)
        #expect(cosmetic.stdout.hasPrefix("cosmetic"))
        let plan = bundle(["plan", "demo", "--db", "host=/nonexistent"], cwd: project.root)
        #expect(plan.status == 2, "a changed bundle is a lock-integrity error before any connection")
        #expect(plan.stderr.contains("bundles/a.sql: changed since it was locked"))
        let update = bundle(["lock", "demo", "--update"], cwd: project.root)
        #expect(update.status == 0)
        #expect(bundle(["lock", "demo", "--check"], cwd: project.root).status == 0)
    }

    @Test func passwordsNeverAppearInErrors() throws {
        let project = try TestProject(prefix: "cli-secret")
        defer { project.remove() }
        try project.write("bundles/a.sql", "SELECT 1;\n")
        #expect(bundle(["lock", "demo", "bundles/a.sql"], cwd: project.root).status == 0)
        let secret = "s3cr#t-P@ss"
        for db in [
            "postgresql://alice:\(secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)@127.0.0.1:1/prod",
            "host=127.0.0.1 port=1 user=alice password='\(secret)' dbname=prod",
        ] {
            let result = bundle(["plan", "demo", "--db", db], cwd: project.root)
            #expect(result.status == 2)
            #expect(!result.stderr.isEmpty)
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret), "\(result.stderr)")
            #expect(!result.stderr.contains("s3cr"), "\(result.stderr)")
        }
        let viaEnvironment = bundle(
            ["plan", "demo"], cwd: project.root, environment: ["DATABASE_URL": "postgres://bob:\(secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)@127.0.0.1:1/x"])
        #expect(viaEnvironment.status == 2)
        #expect(!viaEnvironment.stderr.contains("s3cr"))
    }

    @Test func planM3aExitCodesAndJSON() throws {
        let database = try TestCluster.makeDatabase(prefix: "cli_m3a")
        let prestate = repositoryRoot.appendingPathComponent("bundles/m3a/prestate.sql")
        let load = loadSQLFile(conninfo: database.conninfo, path: prestate.path)
        #expect(load.status == 0, "\(load.stderr)")

        let blocked = bundle(["plan", "locks/m3a.lock", "--db", database.conninfo])
        #expect(blocked.status == 1, "\(blocked.stderr)")
        #expect(blocked.stdout.contains("bundles/m3a/E-fn-iu-apply-edit-draft.sql:"))
        #expect(blocked.stdout.contains(": error: [function-remove-param-default] ERROR 42P13: cannot remove parameter defaults from existing function"))
        #expect(blocked.stdout.contains("hint: Use DROP FUNCTION fn_iu_apply_edit_draft(uuid,text,text) first."))

        let json = bundle(["plan", "m3a", "--db", database.conninfo, "--format", "json"])
        #expect(json.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["lock"] as? String == "m3a")
        #expect((object["lock_sha256"] as? String)?.count == 64)
        let databaseInfo = try #require(object["database"] as? [String: Any])
        #expect((databaseInfo["server_version"] as? String)?.hasPrefix("15") == true)
        let bundles = try #require(object["bundles"] as? [[String: Any]])
        #expect(bundles.map { $0["status"] as? String } == ["ok", "ok", "ok", "ok", "blocked"] || bundles.last?["status"] as? String == "blocked")
        let finding = try #require((bundles.last?["findings"] as? [[String: Any]])?.first { $0["severity"] as? String == "error" })
        #expect(finding["sqlstate"] as? String == "42P13")
        #expect(finding["statement"] as? Int == 1)
        #expect(finding["rule"] as? String == "function-remove-param-default")

        let clean = bundle(["plan", "m3a-fixed", "--db", database.conninfo, "--rehearse"])
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("no blocking findings"))
    }
}
