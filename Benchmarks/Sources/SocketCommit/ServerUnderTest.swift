import CommitBenchmarkSupport
import Foundation
import LedgerWorkloads
import TallyCore
import TallyTestKit
import TallyWire

#if canImport(Glibc)
import Glibc
#endif

/// The real server as a child process: `tally serve` on a fresh data directory and socket, waited
/// for until it answers a ping, given the chart of accounts (and optionally a prefill of
/// transfers) over the protocol, and stopped with SIGTERM, which must end it with status 0.
final class ServerUnderTest {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let directory: String
    let socketPath: String
    let logPath: String
    private let process: Process

    var pid: Int32 { self.process.processIdentifier }

    /// Starts `tally serve` in a new folder under `parent` with `extraArguments` after the fixed ones.
    init(binary: String, parent: String, name: String, extraArguments: [String]) throws {
        self.directory = parent + "/" + name
        try? FileManager.default.removeItem(atPath: self.directory)
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        self.socketPath = self.directory + "/tally.sock"
        self.logPath = self.directory + "/server.log"
        FileManager.default.createFile(atPath: self.logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: self.logPath))
        self.process = Process()
        self.process.executableURL = URL(fileURLWithPath: binary)
        self.process.arguments =
            [
                "serve",
                "--data-directory", self.directory + "/data",
                "--socket", self.socketPath,
                "--log-level", "warning",
                "--no-snapshot-on-close",
            ] + extraArguments
        self.process.standardOutput = log
        self.process.standardError = log
        try self.process.run()
    }

    /// Waits until the socket accepts a connection and answers a ping.
    func waitUntilServing(timeoutSeconds: Double = 60) throws {
        let deadline = monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        var lastProblem = "nothing tried"
        while monotonicNanoseconds() < deadline {
            guard self.process.isRunning else {
                throw Failure(
                    description: "the server exited (status \(self.process.terminationStatus)): \(self.logTail)"
                )
            }
            do {
                let socket = try WireSocket(path: self.socketPath)
                let reply = try socket.roundTrip(.ping, timeoutMilliseconds: 5_000)
                if case .ping = reply.reply { return }
                lastProblem = "ping answered \(reply.reply)"
            } catch {
                lastProblem = "\(error)"
            }
            sleep(seconds: 0.02)
        }
        throw Failure(description: "the server did not answer a ping within \(timeoutSeconds) s: \(lastProblem)")
    }

    /// Creates the chart (one asset, 10,000 merchant payables, 16 PSP receivables, fee revenue) in
    /// one durable submit, then applies `prefill` 2-leg transfers in requests of 8,000 acknowledged
    /// when applied (keys of the transfer stream, sequences 0 up), then waits until all is durable.
    func setUp(prefill: Int) throws {
        let socket = try WireSocket(path: self.socketPath)
        let chart = try socket.roundTrip(
            .submitBatch(SubmitBatchRequest(Chart.setupBatch(), acknowledgement: .durable))
        )
        try Self.requireAllOK(chart, what: "creating the chart")
        var batch = OperationBatch()
        var legs: [Leg] = []
        var next: UInt64 = 0
        var sequence: UInt64 = 0
        while next < UInt64(prefill) {
            batch.removeAll(keepingCapacity: true)
            let count = min(8_000, UInt64(prefill) - next)
            for offset in 0..<count {
                Workload.appendTransfer(next + offset, to: &batch, legs: &legs)
            }
            next += count
            let reply = try socket.roundTrip(.submitBatch(SubmitBatchRequest(batch, acknowledgement: .applied)))
            try Self.requireAllOK(reply, what: "the prefill")
            if case .submitBatch(let submitted) = reply.reply { sequence = submitted.sequence }
        }
        if sequence > 0 {
            let reply = try socket.roundTrip(
                .waitUntilDurable(WaitUntilDurableRequest(sequence: sequence, timeoutMilliseconds: 30_000)),
                timeoutMilliseconds: 40_000
            )
            guard case .waitUntilDurable = reply.reply else {
                throw Failure(description: "waiting for the prefill to be durable: \(reply.reply)")
            }
        }
    }

    /// The server's statistics, by name.
    func statistics() throws -> [String: UInt64] {
        let socket = try WireSocket(path: self.socketPath)
        let reply = try socket.roundTrip(.statistics)
        guard case .statistics(let statistics) = reply.reply else {
            throw Failure(description: "statistics answered \(reply.reply)")
        }
        var values: [String: UInt64] = [:]
        for statistic in statistics.statistics {
            values[statistic.name] = statistic.value
        }
        return values
    }

    /// SIGTERM, then waits for the exit; returns the exit status (a signal death is reported as
    /// 128 + the signal, as shells do). The data directory is removed afterwards unless `keep`.
    func stop(timeoutSeconds: Double = 120, keep: Bool = false) -> Int32 {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGTERM)
        }
        let deadline = monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        while self.process.isRunning && monotonicNanoseconds() < deadline {
            sleep(seconds: 0.01)
        }
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
            return 128 + SIGKILL
        }
        let status =
            self.process.terminationReason == .exit
            ? self.process.terminationStatus : 128 + self.process.terminationStatus
        if !keep && status == 0 {
            try? FileManager.default.removeItem(atPath: self.directory)
        }
        return status
    }

    /// The last lines of the server's log.
    var logTail: String {
        let text = readSmallFile(self.logPath) ?? ""
        return text.split(separator: "\n").suffix(10).joined(separator: "\n")
    }

    static func requireAllOK(_ frame: ReplyFrame, what: String) throws {
        guard case .submitBatch(let submitted) = frame.reply else {
            throw Failure(description: "\(what): the server answered \(frame.reply)")
        }
        if let bad = submitted.results.firstIndex(where: { !$0.code.isOK || $0.isReplay }) {
            throw Failure(description: "\(what): operation \(bad) gave \(submitted.results[bad])")
        }
    }
}
