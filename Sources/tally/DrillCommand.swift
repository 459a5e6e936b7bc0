import ArgumentParser
import Foundation
import TallyCore

/// `tally drill`: a crash-recovery drill, against a server it runs itself or, with `--offline`, on
/// a copy of a data directory.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Crash drill: kill a server with SIGKILL at random moments and prove nothing acknowledged is lost.",
        discussion: """
            Starts `tally serve` as a child on a fresh data directory, drives it with concurrent \
            durable submitters (captures with fees, payouts, refunds), kills it with SIGKILL at a \
            random moment (some while a snapshot is being written), restarts it, and looks up every \
            operation acknowledged so far by its idempotency key: each must have the result it was \
            acknowledged with. After the last crash the server is stopped and the directory checked \
            offline: every snapshot verified, the journal replayed from empty with every invariant \
            checked, and the state recovered from the newest snapshot compared with that replay by \
            digest. With --offline, only that check, on a copy of --data-directory (the original is \
            not touched; it may belong to a running server).

            Exit status: 0 when nothing acknowledged was lost, the digests match and every invariant \
            holds; 1 when any of that failed; 3 when the drill could not run.
            """
    )

    @Option(name: .long, help: "Crashes (SIGKILLs) to run.")
    var crashes: Int = 10

    @Option(name: .long, help: "Seed of the kill moments and the workload.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Concurrent submitters, one connection each.")
    var submitters: Int = 4

    @Option(name: .long, help: "Operations per submitted batch.")
    var batchOperations: Int = 8

    @Option(name: .long, help: "Earliest kill, in milliseconds after the load starts.")
    var killAfterMsMin: Int = 20

    @Option(name: .long, help: "Latest kill, in milliseconds after the load starts.")
    var killAfterMsMax: Int = 400

    @Option(name: .long, help: "Share of kills (0-1) that wait for a snapshot to be in progress.")
    var snapshotKillShare: Double = 0.3

    @Option(
        name: .long,
        help: "The server's --snapshot-every-records during the drill (small: many snapshots to kill)."
    )
    var snapshotEveryRecords: Int = 200

    @Option(name: .long, help: "Where the drill's server keeps its data (default: a new directory under /tmp).")
    var directory: String?

    @Flag(name: .long, help: "Keep the drill's directory afterwards (always kept when a problem was found).")
    var keep = false

    @Flag(name: .long, help: "Only check a copy of --data-directory: verify, replay, compare digests.")
    var offline = false

    @Option(name: .long, help: "With --offline: the data directory to check (copied first).")
    var dataDirectory: String?

    @Flag(name: .long, help: "Print one JSON object instead of a report.")
    var json = false

    func validate() throws {
        if self.offline {
            guard self.dataDirectory != nil else { throw ValidationError("--offline needs --data-directory") }
            return
        }
        guard self.dataDirectory == nil else {
            throw ValidationError("--data-directory goes with --offline; a drill makes its own (see --directory)")
        }
        guard self.crashes >= 1 else { throw ValidationError("--crashes must be at least 1") }
        guard (1...64).contains(self.submitters) else { throw ValidationError("--submitters must be 1 to 64") }
        guard (1...Limits.operationsPerBatchMax).contains(self.batchOperations) else {
            throw ValidationError("--batch-operations must be 1 to \(Limits.operationsPerBatchMax)")
        }
        guard self.killAfterMsMin >= 0, self.killAfterMsMax >= self.killAfterMsMin else {
            throw ValidationError("--kill-after-ms-min must be at least 0 and at most --kill-after-ms-max")
        }
        guard (0...1).contains(self.snapshotKillShare) else {
            throw ValidationError("--snapshot-kill-share must be between 0 and 1")
        }
        guard self.snapshotEveryRecords >= 0 else {
            throw ValidationError("--snapshot-every-records must be at least 0")
        }
    }

    struct Output: Encodable {
        var mode: String
        var ok: Bool
        var dataDirectory: String
        var seed: UInt64?
        var crashes: Int?
        var killsDuringSnapshot: Int?
        var acknowledged: Int?
        var acknowledgedBatches: Int?
        var acknowledgedLost: Int?
        var lostExamples: [String]?
        var recoveryMs: Percentiles?
        var serverExitStatus: Int32?
        var digestMatch: Bool
        var digest: String?
        var invariantsOk: Bool
        var invariantViolations: [String]
        var records: UInt64
        var transactions: UInt64
        var snapshotSequence: UInt64?
        var snapshotsVerified: Int
        var problems: [String]
        var error: String?
    }

    struct Percentiles: Encodable {
        var count: Int
        var p50: Double
        var p99: Double
        var max: Double
    }

    func run() async throws {
        if self.offline {
            try self.runOffline()
        } else {
            try await self.runDrill()
        }
    }

    private func runDrill() async throws {
        let directory = self.directory ?? "/tmp/tally-drill-\(UInt32.random(in: 0...UInt32.max))"
        let binary: String
        do {
            binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        } catch {
            throw self.cannotRun("cannot find this program's executable: \(error)", directory: directory)
        }
        if FileManager.default.fileExists(atPath: directory + "/data") {
            throw self.cannotRun(
                "\(directory)/data exists: a drill starts from an empty data directory",
                directory: directory
            )
        }
        let json = self.json
        var drill = CrashDrill(
            CrashDrill.Options(
                binary: binary,
                directory: directory,
                crashes: self.crashes,
                seed: self.seed,
                submitters: self.submitters,
                operationsPerBatch: self.batchOperations,
                killAfterMillisecondsMin: self.killAfterMsMin,
                killAfterMillisecondsMax: self.killAfterMsMax,
                snapshotKillShare: self.snapshotKillShare,
                snapshotEveryRecords: self.snapshotEveryRecords,
                progress: { line in
                    // Progress goes to standard error, so that --json output stays one object.
                    if !json || isatty(STDERR_FILENO) != 0 {
                        FileHandle.standardError.write(Data("drill: \(line)\n".utf8))
                    }
                }
            )
        )
        let report: CrashDrill.Report
        do {
            report = try await drill.run()
        } catch {
            throw self.cannotRun("the drill could not run: \(error)", directory: directory)
        }
        let verification = report.verification ?? DrillVerification.Report()
        var problems = verification.problems
        if report.serverExitStatus != 0 {
            problems.append("the server exited with status \(report.serverExitStatus) after SIGTERM")
        }
        var output = Self.output(verification, mode: "drill", dataDirectory: directory, problems: problems)
        output.seed = self.seed
        output.crashes = report.crashes
        output.killsDuringSnapshot = report.killsDuringSnapshot
        output.acknowledged = report.acknowledgedOperations
        output.acknowledgedBatches = report.acknowledgedBatches
        output.acknowledgedLost = report.lost.count
        output.lostExamples = Array(report.lost.prefix(10))
        output.recoveryMs = Self.percentiles(report.recoveryMilliseconds)
        output.serverExitStatus = report.serverExitStatus
        output.ok = output.ok && report.lost.isEmpty && report.crashes == self.crashes
        if output.ok && !self.keep && self.directory == nil {
            try? FileManager.default.removeItem(atPath: directory)
        }
        self.print(output)
        if !output.ok { throw ExitCode(1) }
    }

    private func runOffline() throws {
        let original = self.dataDirectory!
        guard FileManager.default.fileExists(atPath: original) else {
            throw self.cannotRun("there is no data directory at \(original)", directory: original)
        }
        let copy = "/tmp/tally-drill-offline-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: original, toPath: copy + "/data")
        } catch {
            throw self.cannotRun("cannot copy \(original): \(error)", directory: original)
        }
        defer { try? FileManager.default.removeItem(atPath: copy) }
        // A copy taken while a server ran may hold a lock file and unfinished snapshots or spare
        // segments: recovery deals with those as it would after a crash.
        let verification = DrillVerification.verify(dataDirectory: copy + "/data")
        let output = Self.output(
            verification,
            mode: "offline",
            dataDirectory: original,
            problems: verification.problems
        )
        self.print(output)
        if !output.ok { throw ExitCode(1) }
    }

    private static func output(
        _ verification: DrillVerification.Report,
        mode: String,
        dataDirectory: String,
        problems: [String]
    ) -> Output {
        Output(
            mode: mode,
            ok: problems.isEmpty && verification.invariantViolations.isEmpty && verification.digestMatch,
            dataDirectory: dataDirectory,
            digestMatch: verification.digestMatch,
            digest: verification.fullReplayDigest?.description,
            invariantsOk: verification.fullReplayDigest != nil && verification.invariantViolations.isEmpty,
            invariantViolations: verification.invariantViolations,
            records: verification.records,
            transactions: verification.transactions,
            snapshotSequence: verification.snapshotSequence,
            snapshotsVerified: verification.snapshotsVerified,
            problems: problems
        )
    }

    private static func percentiles(_ values: [Double]) -> Percentiles {
        let sorted = values.sorted()
        func at(_ fraction: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = min(sorted.count - 1, Int((fraction * Double(sorted.count)).rounded(.up)) - 1)
            return (sorted[max(0, index)] * 10).rounded() / 10
        }
        return Percentiles(
            count: sorted.count,
            p50: at(0.5),
            p99: at(0.99),
            max: ((sorted.last ?? 0) * 10).rounded() / 10
        )
    }

    private func print(_ output: Output) {
        if self.json {
            JSONOutput.print(output)
            return
        }
        if let crashes = output.crashes {
            Swift.print("crashes: \(crashes) (\(output.killsDuringSnapshot ?? 0) while a snapshot was being written)")
            Swift.print(
                "acknowledged: \(output.acknowledged ?? 0) operations in \(output.acknowledgedBatches ?? 0) batches; lost: \(output.acknowledgedLost ?? 0)"
            )
            for example in output.lostExamples ?? [] {
                Swift.print("  lost: \(example)")
            }
            if let recovery = output.recoveryMs {
                Swift.print(
                    "restart to serving: p50 \(recovery.p50) ms, p99 \(recovery.p99) ms, max \(recovery.max) ms over \(recovery.count) starts"
                )
            }
        }
        Swift.print("journal: \(output.records) records, \(output.transactions) transactions, replayed from empty")
        Swift.print(
            "snapshots verified: \(output.snapshotsVerified); recovery started from "
                + (output.snapshotSequence.map { "the snapshot at sequence \($0)" } ?? "no snapshot")
        )
        Swift.print(
            "digest: \(output.digest ?? "none") (\(output.digestMatch ? "recovered state matches" : "MISMATCH"))"
        )
        Swift.print("invariants: \(output.invariantsOk ? "all hold" : "BROKEN")")
        for violation in output.invariantViolations {
            Swift.print("  invariant broken: \(violation)")
        }
        for problem in output.problems {
            Swift.print("  problem: \(problem)")
        }
        Swift.print(output.ok ? "drill passed" : "drill FAILED (data kept in \(output.dataDirectory))")
    }

    /// Reports that the drill could not run, and exits 3.
    private func cannotRun(_ message: String, directory: String) -> ExitCode {
        if self.json {
            var output = Self.output(
                DrillVerification.Report(),
                mode: self.offline ? "offline" : "drill",
                dataDirectory: directory,
                problems: []
            )
            output.ok = false
            output.error = message
            JSONOutput.print(output)
        }
        FileHandle.standardError.write(Data("tally: \(message)\n".utf8))
        return ExitCode(3)
    }
}
