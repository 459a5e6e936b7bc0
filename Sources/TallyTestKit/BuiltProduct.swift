import Foundation

/// Finds an executable product of the same build as the running tests, for tests that run it as a
/// separate process.
///
/// SwiftPM puts every product of a build in one directory (`.build/<triple>/<configuration>/`,
/// whatever `--scratch-path` says), and the test executable is among them on Linux (on macOS, the
/// bundle's executable sits three levels below it, in `TallyPackageTests.xctest/Contents/MacOS/`),
/// so the search walks up from `/proc/self/exe` and the loaded bundles.
public enum BuiltProduct {
    /// The executable `name`: the path in the environment variable `override` when set, otherwise
    /// the first executable file of that name found next to the tests or up to three levels above.
    public static func locate(_ name: String, override: String) -> String? {
        if let path = ProcessInfo.processInfo.environment[override] {
            return path
        }
        var starts: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            starts.append(URL(fileURLWithPath: executable))
        }
        starts += Bundle.allBundles.map(\.bundleURL)
        if let executable = Bundle.main.executableURL {
            starts.append(executable)
        }
        for start in starts {
            var directory = start.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = directory.appendingPathComponent(name).path
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                    FileManager.default.isExecutableFile(atPath: candidate)
                {
                    return candidate
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }
}
