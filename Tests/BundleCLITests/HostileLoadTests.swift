import BundleTestSupport
import Foundation
import PostgresCatalog
import Testing

/// Load: many appliers at once, and a very long lock applied and rolled back repeatedly.
@Suite struct HostileLoadTests {
    /// An applier that read the registry just before another one committed its bundles sees those bundles'
    /// tables but not their registry rows, so its plan says "already exists": it decides again under the
    /// applier lock (where the registry says they are applied) instead of refusing.
    @Test func planBlockedByAnotherAppliersBundlesIsDecidedAgainUnderTheLock() throws {
        let project = try TestProject(prefix: "hostile-race")
        defer { project.remove() }
        var paths: [String] = []
        for index in 1...3 {
            paths.append(try project.write(String(format: "bundles/c/%02d-b.sql", index), "CREATE TABLE c\(index) (a int);\n"))
        }
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        #expect(Hostile.bundle(["lock", "c"] + paths, cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "hostile_race").conninfo
        // The late applier reads the registry (empty), then sleeps while the other applies everything.
        let late = Hostile.bundleInBackground(
            ["apply", "c", "--txn", "--db", db, "--target", "t"], cwd: project.root, environment: ["BUNDLE_TEST_SLEEP_AT": "after-registry-read:3"])
        Thread.sleep(forTimeInterval: 0.8)
        let first = Hostile.bundle(["apply", "c", "--txn", "--db", db, "--target", "t"], cwd: project.root)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let result = late()
        Hostile.expectNoCrash(result)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("applied  TXN"), "nothing left to apply: \(result.stdout)")
        #expect(Hostile.subjects("bundle/t", cwd: project.root).count == 4)
    }

    @Test func eightConcurrentAppliersApplyEachBundleExactlyOnce() throws {
        let project = try TestProject(prefix: "hostile-eight")
        defer { project.remove() }
        var paths: [String] = []
        for index in 1...10 {
            paths.append(try project.write(String(format: "bundles/c/%02d-b.sql", index), "CREATE TABLE c\(index) (a int);\nINSERT INTO c\(index) VALUES (\(index));\n"))
        }
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        #expect(Hostile.bundle(["lock", "c"] + paths, cwd: project.root).status == 0)
        let db = try TestCluster.makeDatabase(prefix: "hostile_eight").conninfo
        let lock = NSLock()
        nonisolated(unsafe) var results: [Hostile.Output] = []
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let result = Hostile.bundle(["apply", "c", "--txn", "--db", db, "--target", "t"], cwd: project.root)
            lock.lock()
            results.append(result)
            lock.unlock()
        }
        #expect(results.count == 8)
        for result in results {
            Hostile.expectNoCrash(result)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }
        // Exactly ten "applied" lines across all eight processes.
        let appliedLines = results.flatMap { $0.stdout.split(separator: "\n") }.filter { $0.hasPrefix("applied ") }
        #expect(appliedLines.count == 10, "\(appliedLines)")
        let connection = try PostgresConnection(conninfo: db)
        defer { connection.close() }
        #expect(try connection.query("SELECT count(*), count(DISTINCT bundle_name), count(DISTINCT commit_id) FROM bundle.registry").rows[0] == ["10", "10", "10"])
        // Each bundle ran once: each table has its one row.
        let rows = try connection.query("SELECT " + (1...10).map { "(SELECT count(*) FROM c\($0))" }.joined(separator: " + ")).rows[0][0]
        #expect(rows == "10")
        let subjects = Hostile.subjects("bundle/t", cwd: project.root)
        #expect(subjects.count == 11, "baseline + one commit per bundle: \(subjects)")
        for index in 1...10 {
            #expect(subjects.filter { $0.hasPrefix("apply c TXN-\(index) ") }.count == 1, "TXN-\(index): \(subjects)")
        }
        let ids = Set(try connection.query("SELECT commit_id FROM bundle.registry").rows.map { $0[0]! })
        #expect(ids == Set(Hostile.git(["log", "--format=%H", "bundle/t~10..bundle/t"], cwd: project.root).split(separator: "\n").map(String.init)))
    }

    /// The peak RSS that `/usr/bin/time -v` reports, in kB.
    static func peakKilobytes(_ stderr: String) -> Int? {
        stderr.split(separator: "\n").first { $0.contains("Maximum resident set size") }
            .flatMap { $0.split(separator: ":").last }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    static let longLockSize = 300

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/time"), "needs /usr/bin/time for the peak RSS"))
    func longLockAppliedAndRolledBackTwice() throws {
        let project = try TestProject(prefix: "hostile-thousand")
        defer { project.remove() }
        var paths: [String] = []
        for index in 1...Self.longLockSize {
            paths.append(try project.write(String(format: "bundles/%04d-t.sql", index), "CREATE TABLE t\(index) (a int);\n"))
        }
        #expect(Hostile.bundle(["init", "."], cwd: project.root).status == 0)
        #expect(Hostile.bundle(["lock", "long"] + paths, cwd: project.root).status == 0)
        let database = try TestCluster.makeDatabase(prefix: "hostile_long")
        let before = try Hostile.schemaDump(database.conninfo)
        var peaks: [Int] = []
        let clock = ContinuousClock()
        let started = clock.now
        for round in 1...2 {
            let apply = Hostile.bundle(["apply", "long", "--txn", "--db", database.conninfo, "--target", "t"], cwd: project.root, timed: true)
            #expect(apply.status == 0, "round \(round) apply: \(apply.stdout.suffix(500))\(apply.stderr.suffix(2000))")
            #expect(apply.stdout.contains("\(Self.longLockSize) bundles applied"))
            peaks.append(Self.peakKilobytes(apply.stderr) ?? -1)
            // The run's commits were written as packs (every 100 bundles): every object is there.
            let fsck = runProcess("git", ["-C", project.root.path, "fsck", "--no-dangling", "--connectivity-only", "bundle/t"])
            #expect(fsck.status == 0, "round \(round) git fsck: \(fsck.stdout)\(fsck.stderr)")
            let baseline = Hostile.git(["rev-list", "--max-parents=0", "bundle/t"], cwd: project.root).trimmingCharacters(in: .whitespacesAndNewlines)
            let rollback = Hostile.bundle(["rollback", baseline, "--db", database.conninfo, "--target", "t"], cwd: project.root, timed: true)
            #expect(rollback.status == 0, "round \(round) rollback: \(rollback.stdout.suffix(500))\(rollback.stderr.suffix(2000))")
            peaks.append(Self.peakKilobytes(rollback.stderr) ?? -1)
            #expect(try Hostile.schemaDump(database.conninfo) == before, "round \(round) returns to the baseline schema")
        }
        let elapsed = clock.now - started
        print("hostile: \(Self.longLockSize)-bundle lock, apply+rollback twice in \(elapsed); peak RSS kB (apply, rollback, apply, rollback): \(peaks)")
        #expect(peaks.allSatisfy { $0 > 0 && $0 < 500 * 1024 }, "peak RSS under 500 MB: \(peaks) kB")
        // No leak across rounds: the second round's peaks stay within 50% (+16 MB) of the first's.
        #expect(peaks[2] <= peaks[0] * 3 / 2 + 16 * 1024 && peaks[3] <= peaks[1] * 3 / 2 + 16 * 1024, "\(peaks)")
        // History is append-only: baseline + 2 × (applies + undos); every step has its registry row.
        #expect(Int(Hostile.git(["rev-list", "--count", "bundle/t"], cwd: project.root).trimmingCharacters(in: .whitespacesAndNewlines)) == 1 + 4 * Self.longLockSize)
        #expect(try Hostile.scalar(database.conninfo, "SELECT count(*) FROM bundle.registry") == String(4 * Self.longLockSize))
        // No connection left behind.
        #expect(try Hostile.scalar(try TestCluster.shared().conninfo, "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(database.name)'") == "0")
    }
}
