import Foundation
import TallyTestKit

/// The client commands run as the built executable against a real `tally serve`: the server in a
/// short temporary directory of its own (a socket path must stay under about 100 bytes), the
/// commands run with that directory as their working directory, so that the default socket,
/// `./tally.sock`, is the server's.
final class ClientCommandServer {
    let server: ServerProcess
    var directory: String { self.server.directory }

    /// Starts a fresh server (no snapshots: nothing of that matters here).
    init(readOnlySocket: Bool = false) throws {
        guard let binary = TallyBinary.locate() else { throw TallyBinary.NotFound() }
        let directory = "/tmp/tally-cli-\(getpid())-\(UUID().uuidString.prefix(8))"
        self.server = try ServerProcess(
            binary: binary,
            directory: directory,
            readOnlySocket: readOnlySocket,
            arguments: [
                "--log-level", "warning", "--snapshot-every-records", "0", "--snapshot-interval-seconds", "0",
                "--no-snapshot-on-close",
            ]
        )
    }

    deinit {
        _ = try? self.server.terminate(timeoutSeconds: 30)
        try? FileManager.default.removeItem(atPath: self.server.directory)
    }

    /// Runs `tally arguments...` in the server's directory, with `input` on its standard input.
    func tally(_ arguments: [String], input: String? = nil) throws -> TallyBinary.Run {
        try ClientCommand.run(arguments, input: input, directory: self.directory)
    }

    func tally(_ arguments: String..., input: String? = nil) throws -> TallyBinary.Run {
        try self.tally(arguments, input: input)
    }
}

enum ClientCommand {
    /// Runs `tally arguments...` to completion in `directory`, `input` on its standard input (an
    /// empty input when nil). Output goes through files, as `TallyBinary.run` does.
    static func run(_ arguments: [String], input: String? = nil, directory: String? = nil) throws -> TallyBinary.Run {
        guard let binary = TallyBinary.locate() else { throw TallyBinary.NotFound() }
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("tally-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: capture, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: capture) }
        let inputURL = capture.appendingPathComponent("stdin")
        let outputURL = capture.appendingPathComponent("stdout")
        let errorsURL = capture.appendingPathComponent("stderr")
        try Data((input ?? "").utf8).write(to: inputURL)
        for url in [outputURL, errorsURL] where !FileManager.default.createFile(atPath: url.path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        let inputHandle = try FileHandle(forReadingFrom: inputURL)
        let output = try FileHandle(forWritingTo: outputURL)
        let errors = try FileHandle(forWritingTo: errorsURL)
        defer {
            try? inputHandle.close()
            try? output.close()
            try? errors.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let directory {
            process.currentDirectoryURL = URL(fileURLWithPath: directory)
        }
        process.standardInput = inputHandle
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        return TallyBinary.Run(
            arguments: arguments,
            status: process.terminationStatus,
            output: try String(contentsOf: outputURL, encoding: .utf8),
            errors: try String(contentsOf: errorsURL, encoding: .utf8)
        )
    }
}

extension TallyBinary.Run {
    /// Standard output's lines (without the final newline's empty line).
    var lines: [String] {
        var lines = self.output.components(separatedBy: "\n")
        if lines.last == "" {
            lines.removeLast()
        }
        return lines
    }

    /// Each line of standard output as one JSON object of type `Value` (JSON Lines).
    func jsonLines<Value: Decodable>(_: Value.Type = Value.self) throws -> [Value] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try self.lines.map { try decoder.decode(Value.self, from: Data($0.utf8)) }
    }
}
