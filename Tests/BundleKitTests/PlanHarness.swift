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
    /// When set, the bundle is planned and applied as a fresh, unique non-superuser LOGIN role (created before the
    /// pre-state runs); `{role}` in the pre-state and the bundle is replaced by its name.
    var role: Bool = false
    /// The severity `rule` is expected at. `.warning` cases assert the warning and that the bundle is not blocked
    /// (the server's outcome is not compared: the planner could not predict the exact message).
    var severity: Severity = .error

    var testDescription: String {
        rule.map { "\(name) → \($0)\(severity == .warning ? " (warning)" : "")" } ?? "\(name) (near miss)"
    }
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
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        // lc_messages is superuser-only; case roles get it from ALTER ROLE … SET (see `prepare`).
        if !conninfo.contains(" user=r_") { environment["PGOPTIONS"] = "-c lc_messages=C" }
        let result = runProcess(
            psqlPath, ["-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-d", conninfo, "-f", file.path],
            environment: environment)
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
    static func plan(
        conninfo: String, bundles: [(String, String)], rehearse: Bool = false, immutable: [String]? = nil, atomic: Bool = false
    ) throws -> (PlanReport, TestProject) {
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
        let report = try Planner(connection: connection, options: PlanOptions(rehearse: rehearse, oneTransaction: atomic)).plan(verified)
        return (report, project)
    }

    /// The whole check for one case: plan, then run with psql -1, and compare.
    /// Creates the case's database and pre-state; returns the conninfo the bundle runs with (as the case's role,
    /// when it has one) and the bundle with `{role}` replaced by that role's name.
    static func prepare(_ planCase: PlanCase) throws -> (conninfo: String, bundle: String) {
        let database = try TestCluster.makeDatabase(prefix: "rule_" + planCase.name)
        var prestate = planCase.prestate
        var bundle = planCase.bundle
        var conninfo = database.conninfo
        if planCase.role {
            // Roles are cluster-wide and cases run in parallel: one unique role per case.
            let role = "r_" + database.name
            try load(database.conninfo, sql: "CREATE ROLE \(role) LOGIN; ALTER ROLE \(role) SET lc_messages = 'C';")
            prestate = prestate.replacingOccurrences(of: "{role}", with: role)
            bundle = bundle.replacingOccurrences(of: "{role}", with: role)
            conninfo += " user=\(role)"
        }
        try load(database.conninfo, sql: prestate)
        return (conninfo, bundle)
    }

    static func check(_ planCase: PlanCase) throws {
        let (conninfo, sql) = try prepare(planCase)
        let (report, project) = try plan(conninfo: conninfo, bundles: [("bundle", sql)])
        defer { project.remove() }
        let bundle = try #require(report.bundles.first)
        let outcome = psql(conninfo, file: project.root.appendingPathComponent("bundles/t/bundle.sql"))
        let firstError = bundle.firstError
        if let rule = planCase.rule, planCase.severity == .warning {
            #expect(firstError == nil, "a warning case must not be blocked: \(String(describing: firstError))")
            #expect(bundle.findings.contains { $0.rule == rule && $0.severity == .warning }, "expected warning [\(rule)]: \(bundle.findings)")
            if let statement = planCase.statement {
                #expect(bundle.findings.contains { $0.rule == rule && $0.statement == statement })
            }
            #expect(!outcome.ok, "the warning case is meant to fail on the server too: \(outcome.stderr)")
        } else if let rule = planCase.rule {
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
