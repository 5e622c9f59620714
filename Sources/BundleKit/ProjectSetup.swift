import Foundation
import GitHistory

/// Creates a project's layout.
public enum ProjectSetup {
    /// Creates `bundles/`, `locks/`, a `.gitignore` entry for `.bundle/`, and a git repository at `root` unless
    /// `root` already lies inside one. Returns human-readable lines describing what was done.
    public static func initialise(at root: URL) throws(BundleError) -> [String] {
        let fm = FileManager.default
        var report: [String] = []
        do {
            try fm.createDirectory(at: root, withIntermediateDirectories: true)
            for name in ["bundles", "locks"] {
                let dir = root.appendingPathComponent(name)
                if fm.fileExists(atPath: dir.path) {
                    report.append("exists   \(name)/")
                } else {
                    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
                    report.append("created  \(name)/")
                }
            }
            let ignore = root.appendingPathComponent(".gitignore")
            let existing = (try? String(contentsOf: ignore, encoding: .utf8)) ?? ""
            if !existing.split(separator: "\n").contains(where: { $0 == ".bundle/" || $0 == "/.bundle/" }) {
                let prefix = existing.isEmpty || existing.hasSuffix("\n") ? existing : existing + "\n"
                try (prefix + ".bundle/\n").write(to: ignore, atomically: true, encoding: .utf8)
                report.append("updated  .gitignore (.bundle/ holds local state)")
            }
        } catch {
            throw .io(path: root.path, reason: "cannot create the project layout: \(error.localizedDescription)")
        }
        do {
            if let existing = try? GitRepository.open(at: root) {
                report.append("exists   git repository \(existing.gitDirectory.path)")
            } else {
                let repo = try GitRepository.create(at: root, bare: false)
                report.append("created  git repository \(repo.gitDirectory.path)")
            }
        } catch {
            throw .history("cannot create a git repository at \(root.path): \(error.localizedDescription)")
        }
        return report
    }
}
