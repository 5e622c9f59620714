import Foundation

/// Wall-clock time per named stage, written to the file named by `BUNDLE_PROFILE` when the process exits
/// (a diagnostic for benchmarks; off, and free, otherwise).
enum Profiler {
    nonisolated(unsafe) static var totals: [String: (Double, Int)] = [:]
    static let path = ProcessInfo.processInfo.environment["BUNDLE_PROFILE"]
    nonisolated(unsafe) static var registered = false

    static func measure<T, E: Error>(_ name: String, _ body: () throws(E) -> T) throws(E) -> T {
        guard path != nil else { return try body() }
        if !registered {
            registered = true
            atexit { Profiler.dump() }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let old = totals[name] ?? (0, 0)
            totals[name] = (old.0 + ms, old.1 + 1)
        }
        return try body()
    }

    static func dump() {
        guard let path else { return }
        let lines = totals.sorted { $0.value.0 > $1.value.0 }.map { String(format: "%-28@ %9.1f ms %6d calls", $0.key as NSString, $0.value.0, $0.value.1) }
        try? lines.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
    }
}
