import Foundation
import TallyWire

/// `tally serve` as a child process on a data directory, for tests and harnesses that must talk
/// to a real server: started, waited for until it answers a ping, stopped with SIGTERM (graceful)
/// or SIGKILL. Its standard error goes to `<directory>/serve.log`.
public final class ServerProcess {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public let directory: String
    public let socketPath: String
    public let readOnlySocketPath: String?
    public let logPath: String
    private let process: Process

    /// Starts `binary serve` with its data directory and socket in `directory` (which must be short
    /// enough for a socket path: under about 90 bytes), plus `arguments`.
    public init(
        binary: String,
        directory: String,
        readOnlySocket: Bool = false,
        arguments: [String] = [],
        readyTimeoutSeconds: Double = 60
    ) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        self.socketPath = directory + "/tally.sock"
        self.readOnlySocketPath = readOnlySocket ? directory + "/read.sock" : nil
        self.logPath = directory + "/serve.log"
        FileManager.default.createFile(atPath: self.logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        var all = ["serve", "--data-directory", directory + "/data", "--socket", self.socketPath]
        if let readOnlySocketPath { all += ["--read-only-socket", readOnlySocketPath] }
        process.arguments = all + arguments
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: self.logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date(timeIntervalSinceNow: readyTimeoutSeconds)
        while true {
            if !process.isRunning {
                throw Failure("tally serve exited with \(process.terminationStatus) before serving: \(self.log)")
            }
            if let socket = try? WireSocket(path: self.socketPath), (try? socket.roundTrip(.ping)) != nil {
                break
            }
            if Date() > deadline {
                process.terminate()
                throw Failure("tally serve did not answer within \(readyTimeoutSeconds) s: \(self.log)")
            }
            usleep(20_000)
        }
    }

    deinit {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    public var processID: Int32 { self.process.processIdentifier }
    public var isRunning: Bool { self.process.isRunning }

    /// What the server logged so far.
    public var log: String {
        (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? ""
    }

    /// Sends SIGTERM and waits for the exit; returns the exit status (0 after a clean shutdown).
    @discardableResult
    public func terminate(timeoutSeconds: Double = 60) throws -> Int32 {
        kill(self.process.processIdentifier, SIGTERM)
        return try self.waitForExit(timeoutSeconds: timeoutSeconds)
    }

    /// Kills the server with SIGKILL and waits for it to be gone.
    public func kill9() {
        kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }

    /// Waits for the process to exit; returns its status (a signal's number for a killed process).
    public func waitForExit(timeoutSeconds: Double) throws -> Int32 {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        while self.process.isRunning {
            if Date() > deadline {
                throw Failure("tally serve still running \(timeoutSeconds) s after being asked to stop: \(self.log)")
            }
            usleep(10_000)
        }
        return self.process.terminationStatus
    }
}
