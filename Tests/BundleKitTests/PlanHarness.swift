import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

@testable import BundleKit

/// One planner rule case: a pre-state, a one-bundle lock, and the rule expected to fire (nil: the near miss,
/// which must produce no error finding and apply cleanly).
struct PlanCase: Sendable, CustomTestStringConvertible {
    let name: String
    let prestate: String
    let bundle: String
    let rule: String?
    /// The 1-based statement the error is expected on (default: the last one).
    var statement: Int? = nil

    var testDescription: String { rule.map { "\(name) → \($0)" } ?? "\(name) (near miss)" }
}

/// What the server did when the bundle ran under `psql -1`.
struct ServerOutcome {
    let ok: Bool
    let sqlstate: String?
    let message: String?
    let stderr: String
}

enum PlanHarness {
    /// Runs `sql` with `psql -1 -v ON_ERROR_STOP=1 VERBOSITY=verbose` and parses the first ERROR line.
    static func psql(_ conninfo: String, file: URL) -> ServerOutcome {
        let result = runProcess(
            psqlPath, ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-d", conninfo, "-f", file.path],
            environment: ["PGOPTIONS": "-c lc_messages=C", "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
        let pattern = try! NSRegularExpression(pattern: #"ERROR:  ([0-9A-Z]{5}): (.*)"#)
        let text = result.stderr
        if let match = pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let state = Range(match.range(at: 1), in: text), let message = Range(match.range(at: 2), in: text)
        {
            return ServerOutcome(ok: false, sqlstate: String(text[state]), message: String(text[message]), stderr: text)
        }
        return ServerOutcome(ok: result.status == 0, sqlstate: nil, message: nil, stderr: text)
    }

    /// Loads SQL into a database with psql (must succeed).
    static func load(_ conninfo: String, sql: String) throws {
        let file = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("pre-\(UUID().uuidString).sql")
        try Data(sql.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = loadSQLFile(conninfo: conninfo, path: file.path)
        guard result.status == 0 else { throw HarnessError(message: "pre-state failed: \(result.stderr)") }
    }

    /// Plans `bundles` (in order, one lock) against `conninfo`.
    static func plan(conninfo: String, bundles: [(String, String)], rehearse: Bool = false, immutable: [String]? = nil) throws -> (PlanReport, TestProject) {
        let project = try TestProject(prefix: "plan")
        var paths: [String] = []
        for (name, sql) in bundles { paths.append(try project.write("bundles/t/\(name).sql", sql)) }
        let smith = Locksmith(project: Project(root: project.root))
        var lock = try smith.makeLock(name: "t", paths: paths)
        lock.immutable = immutable
        let url = try smith.write(lock)
        let verified = try smith.load(url)
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        let report = try Planner(connection: connection, options: PlanOptions(rehearse: rehearse)).plan(verified)
        return (report, project)
    }

    /// The whole check for one case: plan, then run with psql -1, and compare.
    static func check(_ planCase: PlanCase) throws {
        let database = try TestCluster.makeDatabase(prefix: "rule_" + planCase.name)
        try load(database.conninfo, sql: planCase.prestate)
        let (report, project) = try plan(conninfo: database.conninfo, bundles: [("bundle", planCase.bundle)])
        defer { project.remove() }
        let bundle = try #require(report.bundles.first)
        let outcome = psql(database.conninfo, file: project.root.appendingPathComponent("bundles/t/bundle.sql"))
        let firstError = bundle.firstError
        if let rule = planCase.rule {
            let finding = try #require(firstError, "expected [\(rule)], plan found nothing; server said: \(outcome.stderr)")
            #expect(finding.rule == rule, "server said: \(outcome.stderr)")
            #expect(bundle.status == .blocked)
            if let statement = planCase.statement { #expect(finding.statement == statement) }
            if finding.sqlstate != nil {
                #expect(!outcome.ok, "the server applied the bundle, but the plan predicted \(finding.message)")
                #expect(finding.sqlstate == outcome.sqlstate, "predicted \(finding.sqlstate ?? "-") \(finding.message); server: \(outcome.stderr)")
                #expect(finding.message == outcome.message, "server: \(outcome.stderr)")
            }
        } else {
            #expect(firstError == nil, "near miss must not be blocked: \(String(describing: firstError))")
            #expect(outcome.ok, "near miss must apply: \(outcome.stderr)")
        }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
