import Foundation
import TallyClient
import TallyCore
import TallyStorage
import TallyTestKit

/// A crash drill against the real server: `tally serve` as a child process on a data directory,
/// driven by concurrent durable submitters, killed with SIGKILL at random moments (a share of them
/// while a snapshot is being written), restarted, and checked after every restart: every
/// operation acknowledged as durable before a kill must be found, by its idempotency key, with the
/// same result. After the last crash the server is stopped cleanly and the data directory is
/// checked offline (``DrillVerification``): the state recovered from the newest snapshot and the
/// journal after it must equal a replay of the whole journal from empty, and every invariant must
/// hold.
///
/// Everything random (kill moments, which kills wait for a snapshot, the amounts and accounts of
/// the workload) comes from one seed, so a drill that finds a problem can be run again.
struct CrashDrill {
    struct Options {
        var binary: String
        /// Short enough for a socket path (a Unix socket path has at most 107 bytes).
        var directory: String
        var crashes: Int
        var seed: UInt64
        var submitters: Int
        var operationsPerBatch: Int
        var killAfterMillisecondsMin: Int
        var killAfterMillisecondsMax: Int
        /// The share of kills (0 ... 1) that wait for a snapshot's temporary file to appear.
        var snapshotKillShare: Double
        var snapshotEveryRecords: Int
        var progress: ((String) -> Void)?
    }

    struct Report {
        var crashes = 0
        var killsDuringSnapshot = 0
        var acknowledgedOperations = 0
        var acknowledgedBatches = 0
        var lost: [String] = []
        var recoveryMilliseconds: [Double] = []
        var verification: DrillVerification.Report?
        var serverExitStatus: Int32 = -1
    }

    /// What the server answered for an operation with a key, as a lookup must find it again.
    struct Acknowledged {
        var code: ResultCode
        var transactionID: TransactionID
    }

    /// The chart: one PSP receivable, merchants' payables (which must not go below zero), a bank
    /// account, fee revenue.
    static let asset: AssetCode = "USD"
    static let psp: AccountID = 1
    static let bank: AccountID = 2
    static let fees: AccountID = 3
    static let merchants: UInt64 = 40
    static func merchant(_ index: UInt64) -> AccountID { AccountID(rawValue: 100 + index) }

    static var setup: OperationBatch {
        var operations: [TallyCore.Operation] = [
            .createAsset(CreateAsset(code: Self.asset, scale: 2)),
            .createAccount(CreateAccount(id: Self.psp, asset: Self.asset, kind: .pspReceivable, partner: 1)),
            .createAccount(CreateAccount(id: Self.bank, asset: Self.asset, kind: .bankCash, partner: 2)),
            .createAccount(CreateAccount(id: Self.fees, asset: Self.asset, kind: .feeRevenue)),
        ]
        for index in 0..<Self.merchants {
            operations.append(
                .createAccount(
                    CreateAccount(
                        id: Self.merchant(index),
                        asset: Self.asset,
                        kind: .merchantPayable,
                        merchant: index + 1,
                        flags: .debitsMustNotExceedCredits
                    )
                )
            )
        }
        return OperationBatch(operations)
    }

    let options: Options
    private var random: SeededRandom
    private var acknowledged: [IdempotencyKey: Acknowledged] = [:]

    init(_ options: Options) {
        self.options = options
        self.random = SeededRandom(seed: options.seed)
    }

    /// Runs the drill. Throws only when it cannot run (the server does not start, the directory
    /// cannot be made); what it finds is in the report.
    mutating func run() async throws -> Report {
        var report = Report()
        for crash in 0..<self.options.crashes {
            let started = ContinuousClock.now
            let server = try self.startServer()
            report.recoveryMilliseconds.append((ContinuousClock.now - started).inSeconds * 1_000)
            let client = try await Self.connect(server)
            try await self.verifyAcknowledged(client, into: &report)
            if crash == 0 {
                _ = try await client.submit(Self.setup)
            }
            await client.close()

            let waitsForSnapshot = self.random.chance(self.options.snapshotKillShare)
            let delay =
                self.options.killAfterMillisecondsMin
                + Int(
                    self.random.next()
                        % UInt64(self.options.killAfterMillisecondsMax - self.options.killAfterMillisecondsMin + 1)
                )
            let submitters = try await self.startSubmitters(server, run: crash)
            let killedDuringSnapshot = await self.killMoment(
                server,
                afterMilliseconds: delay,
                waitForSnapshot: waitsForSnapshot
            )
            server.kill9()
            report.crashes += 1
            if killedDuringSnapshot { report.killsDuringSnapshot += 1 }
            for outcome in await submitters.value {
                for (key, value) in outcome.acknowledged {
                    self.acknowledged[key] = value
                }
                report.acknowledgedBatches += outcome.batches
            }
            report.acknowledgedOperations = self.acknowledged.count
            self.options.progress?(
                "crash \(crash + 1)/\(self.options.crashes): killed after \(delay) ms"
                    + (killedDuringSnapshot ? " while a snapshot was being written" : "")
                    + "; \(self.acknowledged.count) operations acknowledged so far, recovery took "
                    + String(format: "%.0f ms", report.recoveryMilliseconds.last ?? 0)
            )
        }
        // A last start: everything acknowledged must be there. Then postings until the server has
        // written a snapshot, and a few more after it, so that the offline check recovers from a
        // snapshot plus a journal tail; those are verified too; then a clean stop.
        let started = ContinuousClock.now
        let server = try self.startServer()
        report.recoveryMilliseconds.append((ContinuousClock.now - started).inSeconds * 1_000)
        let client = try await Self.connect(server)
        try await self.verifyAcknowledged(client, into: &report)
        try await self.postUntilSnapshotted(client, run: self.options.crashes, into: &report)
        try await self.verifyAcknowledged(client, into: &report)
        await client.close()
        report.serverExitStatus = try server.terminate()
        self.options.progress?("verifying the data directory offline")
        report.verification = DrillVerification.verify(dataDirectory: self.options.directory + "/data")
        return report
    }

    /// Submits batches one at a time until the server reports a snapshot written (or 30 s pass),
    /// then ten more.
    private mutating func postUntilSnapshotted(_ client: TallyClient, run: Int, into report: inout Report) async throws
    {
        var random = SeededRandom(seed: self.random.next())
        var counter: UInt64 = 0
        var after = 0
        let deadline = ContinuousClock.now + .seconds(30)
        while after < 10 {
            let (batch, keys) = Self.batch(&random, run: run, submitter: 0, counter: &counter, operations: 8)
            let reply = try await client.submit(batch)
            for (key, result) in zip(keys, reply.results) {
                self.acknowledged[key] = Acknowledged(code: result.code, transactionID: result.transactionID)
            }
            report.acknowledgedBatches += 1
            if after > 0 || ContinuousClock.now > deadline {
                after += 1
            } else if counter % 80 == 0 {
                let statistics = try await client.statistics()
                if let written = statistics.first(where: { $0.name == "snapshot.written" }), written.value > 0 {
                    after = 1
                }
            }
        }
        report.acknowledgedOperations = self.acknowledged.count
    }

    private func startServer() throws -> ServerProcess {
        try ServerProcess(
            binary: self.options.binary,
            directory: self.options.directory,
            arguments: [
                "--log-level", "warning",
                "--snapshot-every-records", String(self.options.snapshotEveryRecords),
                "--snapshot-interval-seconds", "0",
                "--snapshots-retained", "2",
                // Recovery must then start from a background snapshot and replay the journal after
                // it, which is what the final digest comparison is about.
                "--no-snapshot-on-close",
            ]
        )
    }

    private static func connect(_ server: ServerProcess) async throws -> TallyClient {
        try await TallyClient.connect(
            socketPath: server.socketPath,
            configuration: TallyClient.Configuration(clientName: "tally-drill", requestTimeout: .seconds(60))
        )
    }

    /// Looks up every acknowledged key: each must come back with the result it was acknowledged
    /// with. Up to 64 lookups in flight.
    private func verifyAcknowledged(_ client: TallyClient, into report: inout Report) async throws {
        let entries = Array(self.acknowledged)
        let lost = try await withThrowingTaskGroup(of: String?.self, returning: [String].self) { group in
            var next = 0
            var lost: [String] = []
            func add() {
                guard next < entries.count else { return }
                let (key, expected) = entries[next]
                next += 1
                group.addTask {
                    let record = try await client.idempotencyRecord(key)
                    guard let record else { return "\(key): acknowledged as \(expected.code), not found" }
                    if record.result.code != expected.code || record.result.transactionID != expected.transactionID {
                        return
                            "\(key): acknowledged as \(expected.code) transaction \(expected.transactionID.rawValue), found \(record.result.code) transaction \(record.result.transactionID.rawValue)"
                    }
                    return nil
                }
            }
            for _ in 0..<64 { add() }
            while let outcome = try await group.next() {
                if let outcome { lost.append(outcome) }
                add()
            }
            return lost
        }
        report.lost += lost
    }

    struct SubmitterOutcome: Sendable {
        var acknowledged: [(IdempotencyKey, Acknowledged)] = []
        var batches = 0
    }

    /// Starts the submitters, each on a connection of its own, sending durable batches until the
    /// server is killed; returns a task whose value is what each had acknowledged.
    private mutating func startSubmitters(
        _ server: ServerProcess,
        run: Int
    ) async throws -> Task<[SubmitterOutcome], Never> {
        var clients: [TallyClient] = []
        for _ in 0..<self.options.submitters {
            clients.append(try await Self.connect(server))
        }
        let seeds = (0..<self.options.submitters).map { _ in self.random.next() }
        let operationsPerBatch = self.options.operationsPerBatch
        return Task {
            await withTaskGroup(of: SubmitterOutcome.self, returning: [SubmitterOutcome].self) { group in
                for (index, client) in clients.enumerated() {
                    let seed = seeds[index]
                    group.addTask {
                        await Self.submit(
                            client,
                            seed: seed,
                            run: run,
                            submitter: index,
                            operationsPerBatch: operationsPerBatch
                        )
                    }
                }
                var outcomes: [SubmitterOutcome] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
        }
    }

    /// One submitter: batches of captures with a fee, payouts and refunds until a request fails
    /// (the server was killed). Only replies received count as acknowledged.
    private static func submit(
        _ client: TallyClient,
        seed: UInt64,
        run: Int,
        submitter: Int,
        operationsPerBatch: Int
    ) async -> SubmitterOutcome {
        var random = SeededRandom(seed: seed)
        var outcome = SubmitterOutcome()
        var counter: UInt64 = 0
        defer { Task { await client.close() } }
        while true {
            let (batch, keys) = Self.batch(
                &random,
                run: run,
                submitter: submitter,
                counter: &counter,
                operations: operationsPerBatch
            )
            do {
                let reply = try await client.submit(batch)
                for (key, result) in zip(keys, reply.results) {
                    outcome.acknowledged.append(
                        (key, Acknowledged(code: result.code, transactionID: result.transactionID))
                    )
                }
                outcome.batches += 1
            } catch {
                return outcome
            }
        }
    }

    /// A batch of captures with a fee (70 %), payouts (20 %; they may find the merchant's payable
    /// short and be rejected, which the key remembers too) and refunds, each with a key unique
    /// across runs and submitters.
    static func batch(
        _ random: inout SeededRandom,
        run: Int,
        submitter: Int,
        counter: inout UInt64,
        operations count: Int
    ) -> (OperationBatch, [IdempotencyKey]) {
        var operations: [TallyCore.Operation] = []
        var keys: [IdempotencyKey] = []
        for _ in 0..<count {
            counter += 1
            let key = IdempotencyKey(
                UInt128(0x7a11_d811) << 96 | UInt128(run) << 64 | UInt128(submitter) << 48 | UInt128(counter)
            )
            keys.append(key)
            let merchant = Self.merchant(random.next() % Self.merchants)
            let amount = UInt128(100 + random.next() % 100_000)
            let fee = amount / 40
            let header: TransactionHeader
            let legs: [Leg]
            switch random.next() % 10 {
            case 0..<7:
                header = TransactionHeader(key: key, type: .capture)
                legs = [.debit(Self.psp, amount), .credit(merchant, amount - fee), .credit(Self.fees, fee)]
            case 7, 8:
                header = TransactionHeader(key: key, type: .payout)
                legs = [.debit(merchant, amount), .credit(Self.bank, amount)]
            default:
                header = TransactionHeader(key: key, type: .refund)
                legs = [.debit(merchant, amount / 2), .credit(Self.psp, amount / 2)]
            }
            operations.append(.post(header, legs: legs))
        }
        return (OperationBatch(operations), keys)
    }

    /// Waits until the kill moment: `milliseconds` after the load started or, when asked and it
    /// comes within a second, the moment a snapshot's temporary file appears. Returns whether the
    /// kill will land while a snapshot is being written.
    private func killMoment(
        _ server: ServerProcess,
        afterMilliseconds milliseconds: Int,
        waitForSnapshot: Bool
    ) async -> Bool {
        let snapshots = self.options.directory + "/data/" + DataDirectory.snapshotsName
        if waitForSnapshot {
            let deadline = ContinuousClock.now + .seconds(1)
            while ContinuousClock.now < deadline {
                if Self.snapshotBeingWritten(in: snapshots) { return true }
                try? await Task.sleep(for: .microseconds(500))
            }
        }
        try? await Task.sleep(for: .milliseconds(milliseconds))
        return Self.snapshotBeingWritten(in: snapshots)
    }

    static func snapshotBeingWritten(in directory: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.contains { $0.hasSuffix(".tmp") }
    }

}
