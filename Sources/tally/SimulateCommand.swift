import ArgumentParser
import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyTestKit

/// Runs the seeded payment workload through an in-memory ledger and reports throughput, results
/// and the final state digest. No journal yet: this measures the pure core.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a seeded, realistic payment workload through an in-memory ledger.",
        discussion: """
            Card and crypto captures with fees, authorisation holds with partial captures, \
            increases, voids and expiries, PSP settlements with FX, payouts, refunds, chargebacks \
            with reserves, rolling reserves, wrong-asset deposits to suspense, reversals and \
            adjustments, over a chart of accounts with a few hot merchants. The same seed always \
            gives the same operations, results and digest. With --data-directory the workload runs \
            through the durable engine instead: every batch is journaled and synced (check it \
            afterwards with `tally journal verify`).
            """
    )

    @Option(name: .long, help: "Workload operations to apply (setup and engine expiries come on top).")
    var operations = 1_000_000

    @Option(name: .long, help: "Operations per batch (1-\(Limits.operationsPerBatchMax)).")
    var batchSize = 1_000

    @Option(name: .long, help: "Seed of the workload.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Accounts in the chart (about; scales the number of merchants). Default: 2,060.")
    var accounts: Int?

    @Option(name: .long, help: "Business days the run spans (the virtual clock). Default: one second per operation.")
    var businessDays: UInt64?

    @Option(name: .long, help: "Run through the durable engine, journaling into this data directory.")
    var dataDirectory: String?

    @Flag(name: .long, help: "Check every ledger invariant at the end (scans the whole state).")
    var checkInvariants = false

    @Flag(name: .long, help: "Print one JSON object instead of a report.")
    var json = false

    func validate() throws {
        guard self.operations >= 0 else {
            throw ValidationError("--operations must not be negative.")
        }
        guard (1...Limits.operationsPerBatchMax).contains(self.batchSize) else {
            throw ValidationError("--batch-size must be between 1 and \(Limits.operationsPerBatchMax).")
        }
        if let accounts = self.accounts, accounts < 20 || accounts > Limits.accountsMax {
            throw ValidationError("--accounts must be between 20 and \(Limits.accountsMax).")
        }
        if let days = self.businessDays, days == 0 || days > 3_650 {
            throw ValidationError("--business-days must be between 1 and 3650.")
        }
    }

    func run() async throws {
        var workload =
            self.accounts.map { PaymentWorkload.Configuration.scaled(toAccounts: $0, seed: self.seed) }
            ?? PaymentWorkload.Configuration(seed: self.seed)
        if let days = self.businessDays {
            workload.spreadBusinessTime(seconds: days * 86_400, overOperations: max(self.operations, 1))
        }
        if let dataDirectory = self.dataDirectory {
            try await self.runDurable(workload: workload, dataDirectory: dataDirectory)
            return
        }
        var options = PaymentSimulation.Options(seed: self.seed)
        options.operations = self.operations
        options.batchSize = self.batchSize
        options.workload = workload

        var simulation = PaymentSimulation(options)
        let progress = Progress(total: self.operations, enabled: !self.json && isatty(STDERR_FILENO) != 0)
        let clock = ContinuousClock()
        let start = clock.now
        while simulation.step() {
            progress.update(done: simulation.operations, elapsed: clock.now - start)
        }
        let elapsed = clock.now - start
        progress.finish()

        let summary = simulation.summary()
        let violations = self.checkInvariants ? simulation.ledger.checkInvariants() : []
        let report = Report(
            summary,
            ledger: simulation.ledger,
            elapsed: elapsed,
            violations: violations,
            invariantsChecked: self.checkInvariants
        )
        if self.json {
            JSONOutput.print(report)
        } else {
            report.printHuman()
        }
        if !violations.isEmpty {
            throw ExitCode(2)
        }
    }
}

extension SimulateCommand {
    struct DurableReport: Encodable {
        var seed: UInt64
        var dataDirectory: String
        var operations: Int
        var postings: Int
        var batches: Int
        var seconds: Double
        var operationsPerSecond: Double
        var replays: Int
        var results: [String: Int]
        var lastSequence: UInt64
        var recoveredRecords: UInt64
        var recoverySeconds: Double
        var tornTailCut: Bool
        /// The sequence of the snapshot recovery started from, if any.
        var snapshotSequence: UInt64?
        /// Newer snapshots recovery passed over, with the reason.
        var rejectedSnapshots: [String]
        var digest: String
        var invariantsChecked: Bool
        var invariantViolations: [String]
    }

    func runDurable(workload: PaymentWorkload.Configuration, dataDirectory: String) async throws {
        var simulation = DurableSimulation(
            workload: PaymentWorkload(configuration: workload),
            operations: self.operations,
            batchSize: self.batchSize,
            dataDirectory: FilePath(dataDirectory),
            checkInvariants: self.checkInvariants
        )
        let progress = Progress(total: self.operations, enabled: !self.json && isatty(STDERR_FILENO) != 0)
        let clock = ContinuousClock()
        let start = clock.now
        let outcome: DurableSimulation.Outcome
        do {
            outcome = try await simulation.run { progress.update(done: $0, elapsed: clock.now - start) }
        } catch let error as EngineError {
            progress.finish()
            throw ValidationError("\(error)")
        }
        progress.finish()
        let elapsed = clock.now - start
        let seconds = elapsed.inSeconds
        let report = DurableReport(
            seed: self.seed,
            dataDirectory: dataDirectory,
            operations: outcome.operations,
            postings: outcome.postings,
            batches: outcome.batches,
            seconds: seconds,
            operationsPerSecond: seconds > 0 ? Double(outcome.operations) / seconds : 0,
            replays: outcome.replays,
            results: Dictionary(uniqueKeysWithValues: outcome.results.map { ($0.key.name, $0.value) }),
            lastSequence: outcome.lastSequence,
            recoveredRecords: outcome.recovery.recordsReplayed,
            recoverySeconds: Double(outcome.recovery.nanoseconds) / 1e9,
            tornTailCut: outcome.recovery.scan.tornTail != nil,
            snapshotSequence: outcome.recovery.snapshot?.sequence,
            rejectedSnapshots: outcome.recovery.rejectedSnapshots.map(\.description),
            digest: outcome.digest?.description ?? "",
            invariantsChecked: self.checkInvariants,
            invariantViolations: outcome.violations
        )
        if self.json {
            JSONOutput.print(report)
        } else {
            for rejected in report.rejectedSnapshots {
                print("warning: snapshot passed over: \(rejected)")
            }
            print(
                "recovered \(report.recoveredRecords) journal records in \(String(format: "%.3f", report.recoverySeconds)) s"
                    + (report.snapshotSequence.map { ", after the snapshot through sequence \($0)" } ?? "")
                    + (report.tornTailCut ? " (cut a torn final write)" : "")
            )
            if report.recoveredRecords > 0 || report.snapshotSequence != nil {
                print(
                    "note: \(dataDirectory) already held a ledger; the workload starts over from seed \(report.seed), so "
                        + "its idempotency keys meet the stored ones (replays and idempotency_conflict below). "
                        + "Use a new directory for a clean run."
                )
            }
            print(
                "seed \(report.seed): \(report.operations) operations in \(report.batches) batches, journaled in \(dataDirectory) up to sequence \(report.lastSequence)"
            )
            print(
                String(
                    format: "%.3f s, %.0f operations/s, %d postings, %d replays",
                    report.seconds,
                    report.operationsPerSecond,
                    report.postings,
                    report.replays
                )
            )
            for (name, count) in report.results.sorted(by: { $0.value > $1.value }) {
                print("  \(name.padded(to: 34)) \(count)")
            }
            print("digest \(report.digest)")
            if self.checkInvariants {
                print(
                    report.invariantViolations.isEmpty
                        ? "invariants: all hold" : "invariants BROKEN: \(report.invariantViolations)"
                )
            }
        }
        if !outcome.violations.isEmpty {
            throw ExitCode(2)
        }
    }

    struct Report: Encodable {
        var seed: UInt64
        var operations: Int
        var setupOperations: Int
        var expiryOperations: Int
        var postings: Int
        var batches: Int
        var seconds: Double
        var operationsPerSecond: Double
        var postingsPerSecond: Double
        var accounts: Int
        var openHolds: Int
        var retainedKeys: Int
        var replays: Int
        var rejectionRate: Double
        var results: [String: Int]
        var flows: [String: Int]
        var businessSeconds: UInt64
        var digest: String
        var invariantsChecked: Bool
        var invariantViolations: [String]

        init(
            _ summary: PaymentSimulation.Summary,
            ledger: Ledger,
            elapsed: Duration,
            violations: [String],
            invariantsChecked: Bool
        ) {
            let seconds = elapsed.inSeconds
            let applied = summary.operations + summary.setupOperations + summary.expiryOperations
            self.seed = summary.seed
            self.operations = summary.operations
            self.setupOperations = summary.setupOperations
            self.expiryOperations = summary.expiryOperations
            self.postings = summary.postings
            self.batches = summary.batches
            self.seconds = seconds
            self.operationsPerSecond = seconds > 0 ? Double(applied) / seconds : 0
            self.postingsPerSecond = seconds > 0 ? Double(summary.postings) / seconds : 0
            self.accounts = summary.accounts
            self.openHolds = summary.openHolds
            self.retainedKeys = ledger.statistics.retainedKeys
            self.replays = summary.replays
            self.rejectionRate = summary.rejectionRate
            self.results = Dictionary(uniqueKeysWithValues: summary.sortedResultCounts.map { ($0.code.name, $0.count) })
            self.flows = Dictionary(
                uniqueKeysWithValues: summary.flowCounts.nonZero.map { ($0.flow.description, $0.count) }
            )
            self.businessSeconds =
                (summary.endTime.nanosecondsSinceEpoch - summary.startTime.nanosecondsSinceEpoch)
                / Timestamp.nanosecondsPerSecond
            self.digest = summary.digest.description
            self.invariantsChecked = invariantsChecked
            self.invariantViolations = violations
        }

        func printHuman() {
            print(
                "seed \(self.seed): \(self.operations) operations (+\(self.setupOperations) setup, +\(self.expiryOperations) expiries) in \(self.batches) batches"
            )
            print(
                String(
                    format: "%.3f s, %.0f operations/s, %d postings, %.0f postings/s",
                    self.seconds,
                    self.operationsPerSecond,
                    self.postings,
                    self.postingsPerSecond
                )
            )
            print(
                "\(self.accounts) accounts, \(self.openHolds) open holds, \(self.retainedKeys) retained keys, \(self.businessSeconds / 86_400) business days"
            )
            print(String(format: "replays %d, unexpected rejections %.3f%%", self.replays, self.rejectionRate * 100))
            print("results:")
            for (name, count) in self.results.sorted(by: { $0.value > $1.value }) {
                print("  \(name.padded(to: 34)) \(count)")
            }
            print("flows:")
            for (name, count) in self.flows.sorted(by: { $0.value > $1.value }) {
                print("  \(name.padded(to: 34)) \(count)")
            }
            print("digest \(self.digest)")
            if self.invariantsChecked {
                print(self.invariantViolations.isEmpty ? "invariants: all hold" : "invariants BROKEN:")
                for violation in self.invariantViolations {
                    print("  \(violation)")
                }
            }
        }
    }

    /// A progress line on standard error, redrawn at most a few times a second.
    final class Progress {
        private let total: Int
        private let enabled: Bool
        private var lastDraw = ContinuousClock.now

        init(total: Int, enabled: Bool) {
            self.total = total
            self.enabled = enabled
        }

        func update(done: Int, elapsed: Duration) {
            guard self.enabled, ContinuousClock.now - self.lastDraw > .milliseconds(250) else { return }
            self.lastDraw = ContinuousClock.now
            let seconds = elapsed.inSeconds
            let rate = seconds > 0 ? Double(done) / seconds : 0
            let remaining = rate > 0 ? Double(self.total - done) / rate : 0
            let percent = self.total > 0 ? 100 * Double(done) / Double(self.total) : 100
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "\r%5.1f%%  %d/%d operations  %.0f/s  %.0fs elapsed, %.0fs left ",
                        percent,
                        done,
                        self.total,
                        rate,
                        seconds,
                        remaining
                    ).utf8
                )
            )
        }

        func finish() {
            if self.enabled {
                FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            }
        }
    }
}
