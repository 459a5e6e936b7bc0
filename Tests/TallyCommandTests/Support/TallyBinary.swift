import Foundation
import TallyTestKit

/// The built `tally` executable, run as a separate process the way an operator runs it.
enum TallyBinary {
    static let name = "tally"

    struct NotFound: Error, CustomStringConvertible {
        var description: String { "the tally executable was not built next to the tests (or set TALLY_BINARY)" }
    }

    /// What one run printed and how it ended.
    struct Run: CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var output: String
        var errors: String

        var description: String {
            "tally \(self.arguments.joined(separator: " ")) → exit \(self.status)\n\(self.output)\(self.errors)"
        }

        /// The standard output as one JSON object of type `Value` (keys in snake case).
        func json<Value: Decodable>(_: Value.Type = Value.self) throws -> Value {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(Value.self, from: Data(self.output.utf8))
        }
    }

    /// The executable: `TALLY_BINARY`, or the one built next to the tests.
    static func locate() -> String? {
        BuiltProduct.locate(Self.name, override: "TALLY_BINARY")
    }

    /// Runs `tally arguments...` to completion. Output goes through files, not pipes, so that a
    /// chatty process can never block on a full pipe.
    static func run(_ arguments: [String]) throws -> Run {
        guard let binary = Self.locate() else { throw NotFound() }
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("tally-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: capture, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: capture) }
        let outputURL = capture.appendingPathComponent("stdout")
        let errorsURL = capture.appendingPathComponent("stderr")
        for url in [outputURL, errorsURL] where !FileManager.default.createFile(atPath: url.path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        let output = try FileHandle(forWritingTo: outputURL)
        let errors = try FileHandle(forWritingTo: errorsURL)
        defer {
            try? output.close()
            try? errors.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        return Run(
            arguments: arguments,
            status: process.terminationStatus,
            output: try String(contentsOf: outputURL, encoding: .utf8),
            errors: try String(contentsOf: errorsURL, encoding: .utf8)
        )
    }
}
