import Foundation

/// A large state built once per shape, in a data directory named after it: building one takes
/// minutes, so that a harness's later runs reuse it, found by the build's report kept beside it.
public enum BuiltState {
    /// The report of the state in `directory` when `reuse` and `reportPath` holds one; otherwise
    /// empties `directory`, runs `build` in it, and writes what it reports to `reportPath` (sorted
    /// JSON) for the next run.
    public static func reuseOrBuild<Report: Codable>(
        directory: String,
        reportPath: String,
        reuse: Bool,
        log: (String) -> Void,
        build: () throws -> Report
    ) throws -> Report {
        if reuse, let data = FileManager.default.contents(atPath: reportPath) {
            let report = try JSONDecoder().decode(Report.self, from: data)
            log("reusing the state in \(directory) (--rebuild builds it again)")
            return report
        }
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        log("building the state in \(directory); \(MachineState.sample(directory: directory).loadText)")
        let report = try build()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: reportPath))
        return report
    }
}
