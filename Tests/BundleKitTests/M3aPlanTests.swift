import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

@testable import BundleKit

/// The seed incident: Bundle E omits `DEFAULT NULL::text` and must be caught by plan, never in production.
@Suite struct M3aPlanTests {
    static let project = Project(root: repositoryRoot)

    func m3aDatabase() throws -> String {
        let database = try TestCluster.makeDatabase(prefix: "m3a")
        let prestate = try String(contentsOf: repositoryRoot.appendingPathComponent("bundles/m3a/prestate.sql"), encoding: .utf8)
        try PlanHarness.load(database.conninfo, sql: prestate)
        return database.conninfo
    }

    func schemaDump(_ conninfo: String) throws -> String {
        try #require(dumpSchema(conninfo), "pg_dump failed")
    }

    @Test func planBlocksBundleEWithTheServersExactErrorAndChangesNothing() throws {
        let conninfo = try m3aDatabase()
        let before = try schemaDump(conninfo)
        let lock = try Locksmith(project: Self.project).load(repositoryRoot.appendingPathComponent("locks/m3a.lock"))
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        let report = try Planner(connection: connection).plan(lock)
        #expect(report.isBlocked)
        #expect(report.bundles.map(\.name) == ["A", "B", "C", "D", "E"])
        for bundle in report.bundles.prefix(4) {
            #expect(bundle.status != .blocked, "\(bundle.name): \(bundle.findings)")
        }
        let e = try #require(report.bundles.last)
        #expect(e.status == .blocked)
        let finding = try #require(e.firstError)
        #expect(finding.rule == "function-remove-param-default")
        #expect(finding.sqlstate == "42P13")
        #expect(finding.message == "cannot remove parameter defaults from existing function")
        #expect(finding.hint?.hasPrefix("Use DROP FUNCTION fn_iu_apply_edit_draft(uuid,text,text) first.") == true)
        #expect(finding.hint?.contains("p_review_note text") == true)
        #expect(finding.object == "public.fn_iu_apply_edit_draft(uuid,text,text)")
        #expect(try schemaDump(conninfo) == before, "plan must not change the catalog")
    }

    @Test func rehearsalConfirmsThePrediction() throws {
        let conninfo = try m3aDatabase()
        let before = try schemaDump(conninfo)
        let lock = try Locksmith(project: Self.project).load(repositoryRoot.appendingPathComponent("locks/m3a.lock"))
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        let report = try Planner(connection: connection, options: PlanOptions(rehearse: true)).plan(lock)
        let e = try #require(report.bundles.last)
        let rehearsal = try #require(e.rehearsal)
        #expect(!rehearsal.ok)
        #expect(rehearsal.sqlstate == "42P13")
        #expect(rehearsal.hint == "Use DROP FUNCTION fn_iu_apply_edit_draft(uuid,text,text) first.")
        #expect(rehearsal.matchesPrediction)
        for bundle in report.bundles.prefix(4) { #expect(bundle.rehearsal?.ok == true, "\(bundle.name): \(String(describing: bundle.rehearsal))") }
        #expect(try schemaDump(conninfo) == before, "a rehearsal must roll everything back")
    }

    @Test func fixedLockPlansClean() throws {
        let conninfo = try m3aDatabase()
        let lock = try Locksmith(project: Self.project).load(repositoryRoot.appendingPathComponent("locks/m3a-fixed.lock"))
        let connection = try PostgresConnection(conninfo: conninfo)
        defer { connection.close() }
        let report = try Planner(connection: connection, options: PlanOptions(rehearse: true)).plan(lock)
        #expect(!report.isBlocked, "\(report.bundles.flatMap(\.findings))")
        #expect(report.bundles.allSatisfy { $0.rehearsal?.ok == true && $0.rehearsal?.matchesPrediction == true })
        let e = try #require(report.bundles.last)
        #expect(e.statements.first { $0.kind == "CreateFunctionStmt" }?.action == "replace")
    }
}
