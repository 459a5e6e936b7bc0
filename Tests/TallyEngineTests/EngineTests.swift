import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage
import TallyTestKit
import Testing

/// A fresh data directory per test, removed afterwards.
final class TemporaryDirectory {
    let path: FilePath

    init() {
        let name = "tally-engine-test-\(UUID().uuidString)"
        self.path = FilePath(FileManager.default.temporaryDirectory.appendingPathComponent(name).path)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path.string)
    }
}

enum EngineFixture {
    static let start = Timestamp(secondsSinceEpoch: 1_800_000_000)

    static func configuration(_ directory: TemporaryDirectory) -> Engine.Configuration {
        Engine.Configuration(
            dataDirectory: directory.path,
            journal: Journal.Configuration(segmentBytes: Journal.segmentBytesMin),
            digestAfterRecovery: true,
            // Tests count the records a reopen replays; a snapshot at close would leave none.
            snapshotOnClose: false
        )
    }

    /// Opens an engine on `directory` with the fixture's configuration and a virtual clock at ``start``.
    static func open(_ directory: TemporaryDirectory) throws -> Engine {
        try Engine.open(Self.configuration(directory), clock: VirtualClock(Self.start)).engine
    }

    static var setup: OperationBatch {
        OperationBatch([
            .createAsset(CreateAsset(code: "USD", scale: 2)),
            .createAccount(CreateAccount(id: 1, asset: "USD", kind: .pspReceivable)),
            .createAccount(
                CreateAccount(id: 2, asset: "USD", kind: .merchantPayable, flags: .debitsMustNotExceedCredits)
            ),
            .createAccount(CreateAccount(id: 3, asset: "USD", kind: .feeRevenue)),
        ])
    }

    static func capture(key: UInt64, amount: UInt128) -> TallyCore.Operation {
        let fee = amount / 40
        let legs: [Leg] = [.debit(1, amount), .credit(2, amount - fee), .credit(3, fee)]
        return .post(TransactionHeader(key: IdempotencyKey(UInt128(key)), type: .capture), legs: legs)
    }
}

struct EngineTests {
    @Test func durableWritesSurviveARestartWithTheSameDigest() async throws {
        let directory = TemporaryDirectory()
        let clock = VirtualClock(EngineFixture.start)
        var (engine, recovery) = try Engine.open(EngineFixture.configuration(directory), clock: clock)
        #expect(recovery.recordsReplayed == 0)
        let setup = try await engine.submit(EngineFixture.setup)
        #expect(setup.results.allSatisfy { $0.code == .ok })
        #expect(setup.sequence == 1)
        var sequences: [UInt64] = []
        for round in 0..<50 {
            clock.advance(bySeconds: 1)
            var batch = OperationBatch()
            for index in 0..<20 {
                batch.append(EngineFixture.capture(key: UInt64(round * 20 + index + 1), amount: UInt128(1_000 + index)))
            }
            let response = try await engine.submit(batch)
            #expect(response.results.allSatisfy { $0.code == .ok })
            sequences.append(response.sequence)
            #expect(engine.durableSequence >= response.sequence)
        }
        #expect(sequences == Array(2...51))
        let digest = try await engine.read { $0.digest() }
        let balance = try await engine.read { $0.balance(of: 2) }
        try engine.close()

        (engine, recovery) = try Engine.open(EngineFixture.configuration(directory), clock: clock)
        #expect(recovery.recordsReplayed == 51)
        #expect(recovery.operationsReplayed == 4 + 1_000)
        #expect(recovery.digest == digest)
        #expect(recovery.scan.tornTail == nil)
        let recoveredBalance = try await engine.read { $0.balance(of: 2) }
        #expect(recoveredBalance == balance)
        // A retry after the restart replays the original result.
        var retry = OperationBatch()
        retry.append(EngineFixture.capture(key: 1, amount: 1_000))
        let replayed = try await engine.submit(retry)
        #expect(replayed.results == [OperationResult(code: .ok, transactionID: 1, isReplay: true)])
        try engine.close()
    }

    @Test func appliedAcknowledgementThenWaitingForDurability() async throws {
        let directory = TemporaryDirectory()
        let (engine, _) = try Engine.open(
            EngineFixture.configuration(directory),
            clock: VirtualClock(EngineFixture.start)
        )
        _ = try await engine.submit(EngineFixture.setup)
        var batch = OperationBatch()
        batch.append(EngineFixture.capture(key: 7, amount: 4_000))
        let response = try await engine.submit(batch, acknowledgement: .applied)
        #expect(response.results[0].code == .ok)
        try await engine.waitUntilDurable(response.sequence)
        #expect(engine.durableSequence >= response.sequence)
        let applied = try await engine.read(.applied) { $0.balance(of: 2)?.creditsPosted }
        #expect(applied == 3_900)
        try engine.close()
    }

    @Test func expiriesAreDrivenByEngineTimeAndReplayExactly() async throws {
        let directory = TemporaryDirectory()
        let clock = VirtualClock(EngineFixture.start)
        var (engine, _) = try Engine.open(EngineFixture.configuration(directory), clock: clock)
        _ = try await engine.submit(EngineFixture.setup)
        var fund = OperationBatch()
        fund.append(EngineFixture.capture(key: 1, amount: 100_000))
        _ = try await engine.submit(fund)
        var holds = OperationBatch()
        for index in 0..<10 {
            holds.append(
                .hold(
                    TransactionHeader(key: IdempotencyKey(UInt128(100 + index)), type: .reserveHold),
                    HoldTerms(debit: 2, credit: 3, amount: 1_000, timeoutSeconds: UInt32(60 * (index + 1)))
                )
            )
        }
        let placed = try await engine.submit(holds)
        #expect(placed.results.allSatisfy { $0.code == .ok })
        clock.advance(bySeconds: 5 * 60 + 30)
        engine.sweepExpiries()
        let open = try await engine.read { $0.openHolds.count }
        #expect(open == 5)
        let pending = try await engine.read { $0.balance(of: 2)?.debitsPending }
        #expect(pending == 5_000)
        let digest = try await engine.read { $0.digest() }
        try engine.close()

        (engine, _) = try Engine.open(EngineFixture.configuration(directory), clock: clock)
        #expect(try await engine.read { $0.digest() } == digest)
        #expect(try await engine.read { $0.openHolds.count } == 5)
        // The next batch sweeps what came due meanwhile, journaled before it.
        clock.advance(bySeconds: 10 * 60)
        var probe = OperationBatch()
        probe.append(EngineFixture.capture(key: 2, amount: 100))
        _ = try await engine.submit(probe)
        #expect(try await engine.read { $0.openHolds.count } == 0)
        try engine.close()
    }

    @Test func concurrentSubmittersAreAppliedInOneOrderThatReplayReproduces() async throws {
        let directory = TemporaryDirectory()
        let clock = VirtualClock(EngineFixture.start)
        var (engine, _) = try Engine.open(EngineFixture.configuration(directory), clock: clock)
        _ = try await engine.submit(EngineFixture.setup)
        let submitters = 16
        let batchesEach = 25
        let shared = engine
        try await withThrowingTaskGroup(of: Void.self) { group in
            for submitter in 0..<submitters {
                group.addTask {
                    for round in 0..<batchesEach {
                        var batch = OperationBatch()
                        for index in 0..<10 {
                            let key = UInt64(submitter * 100_000 + round * 100 + index + 1)
                            batch.append(EngineFixture.capture(key: key, amount: UInt128(500 + index)))
                        }
                        let response = try await shared.submit(batch)
                        #expect(response.results.allSatisfy { $0.code == .ok })
                    }
                }
            }
            try await group.waitForAll()
        }
        let transactions = try await engine.read { $0.lastTransaction }
        #expect(transactions == TransactionID(UInt64(submitters * batchesEach * 10)))
        let digest = try await engine.read { $0.digest() }
        try engine.close()
        let recovery: Engine.Recovery
        (engine, recovery) = try Engine.open(EngineFixture.configuration(directory), clock: clock)
        #expect(recovery.digest == digest)
        #expect(recovery.recordsReplayed == UInt64(1 + submitters * batchesEach))
        try engine.close()
    }

    @Test func aSecondEngineOnTheSameDirectoryIsRefused() throws {
        let directory = TemporaryDirectory()
        let (engine, _) = try Engine.open(
            EngineFixture.configuration(directory),
            clock: VirtualClock(EngineFixture.start)
        )
        #expect {
            _ = try Engine.open(EngineFixture.configuration(directory), clock: VirtualClock(EngineFixture.start))
        } throws: { error in
            guard let error = error as? EngineError else { return false }
            return error.code == .recoveryFailed && error.storage?.code == .directoryLocked
        }
        try engine.close()
    }

    @Test func aFullQueueAnswersBusyAndAClosedEngineAnswersClosed() async throws {
        let directory = TemporaryDirectory()
        var configuration = EngineFixture.configuration(directory)
        configuration.queuedRequestsMax = 1
        let (engine, _) = try Engine.open(configuration, clock: VirtualClock(EngineFixture.start))
        _ = try await engine.submit(EngineFixture.setup)
        // A caller holds the writer's role (its completion blocks), so everything submitted now
        // queues: one request fits, every other one is refused as busy.
        let holder = WriterRoleHolder(engine)
        let refused = NSLock()
        nonisolated(unsafe) var busy = 0
        let finished = DispatchGroup()
        for key in 1...2_000 {
            finished.enter()
            var batch = OperationBatch()
            batch.append(EngineFixture.capture(key: UInt64(key), amount: 100))
            engine.submit(batch, acknowledgement: .applied) { result in
                if case .failure(let error) = result, error.code == .busy {
                    refused.withLock { busy += 1 }
                }
                finished.leave()
            }
        }
        holder.release()
        finished.wait()
        #expect(refused.withLock { busy } == 1_999)
        try engine.close()
        await #expect(throws: EngineError.self) {
            _ = try await engine.submit(EngineFixture.setup)
        }
    }
}

struct StoredSettingsTests {
    @Test func theDirectorysLedgerSettingsOutliveTheConfiguration() async throws {
        let directory = TemporaryDirectory()
        var configuration = EngineFixture.configuration(directory)
        configuration.ledger = LedgerConfiguration(idempotencyWindowSeconds: 3_600, transactionRetentionSeconds: 600)
        var (engine, _) = try Engine.open(configuration, clock: VirtualClock(EngineFixture.start))
        try engine.close()

        configuration.ledger = LedgerConfiguration(idempotencyWindowSeconds: 99, transactionRetentionSeconds: 99)
        (engine, _) = try Engine.open(configuration, clock: VirtualClock(EngineFixture.start))
        let window = try await engine.read { $0.configuration.idempotencyWindowSeconds }
        let retention = try await engine.read { $0.configuration.transactionRetentionSeconds }
        #expect(window == 3_600 && retention == 600)
        try engine.close()

        configuration.storedSettings = .requireMatch
        #expect {
            _ = try Engine.open(configuration, clock: VirtualClock(EngineFixture.start))
        } throws: { error in
            (error as? EngineError)?.code == .recoveryFailed
                && (error as? EngineError)?.message.contains("idempotency window 3600 s") == true
        }
    }
}

struct JournalInspectionTests {
    @Test func verifyReplaysToTheEnginesDigestAndInspectListsEveryRecord() async throws {
        let directory = TemporaryDirectory()
        let clock = VirtualClock(EngineFixture.start)
        let (engine, _) = try Engine.open(EngineFixture.configuration(directory), clock: clock)
        _ = try await engine.submit(EngineFixture.setup)
        for round in 0..<30 {
            clock.advance(bySeconds: 1)
            var batch = OperationBatch()
            for index in 0..<5 {
                batch.append(EngineFixture.capture(key: UInt64(round * 5 + index + 1), amount: 900))
            }
            _ = try await engine.submit(batch)
        }
        let digest = try await engine.read { $0.digest() }
        try engine.close()

        let report = try JournalInspection.verify(dataDirectory: directory.path)
        #expect(report.digest == digest)
        #expect(report.records == 31)
        #expect(report.operations == 4 + 150)
        #expect(report.transactions == 150)
        #expect(report.invariantViolations.isEmpty)
        #expect(report.scan.tornTail == nil)

        var listed: [JournalInspection.RecordSummary] = []
        let scan = try JournalInspection.inspect(dataDirectory: directory.path, from: 30, limit: 5) {
            listed.append($0)
        }
        #expect(scan.records == 31)
        #expect(listed.map(\.sequence) == [30, 31])
        #expect(listed.allSatisfy { $0.kind == "client" && $0.operations == 5 && $0.transactionsCreated == 5 })
        #expect(listed[1].firstTransaction == 146)
    }

    @Test func verifyReportsATornTailWithoutCuttingIt() async throws {
        let directory = TemporaryDirectory()
        let (engine, _) = try Engine.open(
            EngineFixture.configuration(directory),
            clock: VirtualClock(EngineFixture.start)
        )
        _ = try await engine.submit(EngineFixture.setup)
        var batch = OperationBatch()
        batch.append(EngineFixture.capture(key: 1, amount: 900))
        let last = try await engine.submit(batch)
        try engine.close()

        // Garble the last record's payload, as a write cut short by a crash would.
        let segment = directory.path.appending("journal").appending(JournalFormat.segmentName(firstSequence: 1))
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: segment.string))
        let scan = try JournalScanner(directory: directory.path.appending("journal")).scan { _, _ in }
        let end = scan.segments[0].end
        try handle.seek(toOffset: UInt64(end - 5))
        try handle.write(contentsOf: Data([0xFF, 0xEE, 0xDD, 0xCC, 0xBB]))
        try handle.close()

        let report = try JournalInspection.verify(dataDirectory: directory.path)
        #expect(report.records == 1)
        #expect(report.scan.tornTail?.sequence == last.sequence)
        // Still there: verify is read-only.
        let again = try JournalInspection.verify(dataDirectory: directory.path)
        #expect(again.scan.tornTail == report.scan.tornTail)
        // The engine cuts it on open, and the transaction it held was never acknowledged as durable
        // here only because this test forged the damage after the fact.
        let (reopened, recovery) = try Engine.open(
            EngineFixture.configuration(directory),
            clock: VirtualClock(EngineFixture.start)
        )
        #expect(recovery.scan.tornTail?.sequence == last.sequence)
        #expect(try await reopened.read { $0.lastTransaction } == 0)
        try reopened.close()
        #expect(try JournalInspection.verify(dataDirectory: directory.path).scan.tornTail == nil)
    }
}

struct BatchSizeTests {
    /// A batch too large for one journal record is refused before it is applied, and the engine
    /// goes on (refusing it after applying would leave the ledger ahead of its journal).
    @Test func aBatchTooLargeForOneRecordIsRefusedAndTheEngineGoesOn() async throws {
        let directory = TemporaryDirectory()
        let (engine, _) = try Engine.open(
            EngineFixture.configuration(directory),
            clock: VirtualClock(EngineFixture.start)
        )
        _ = try await engine.submit(EngineFixture.setup)
        var large = OperationBatch()
        for key in 1...1_000 {
            large.append(EngineFixture.capture(key: UInt64(key), amount: 500))
        }
        await #expect {
            _ = try await engine.submit(large)
        } throws: { error in
            (error as? EngineError)?.code == .batchTooLarge
        }
        #expect(try await engine.read { $0.lastTransaction } == 0)
        var small = OperationBatch()
        small.append(EngineFixture.capture(key: 1, amount: 500))
        #expect(try await engine.submit(small).results[0] == .ok(1))
        try engine.close()
    }
}

struct EngineMatchesCoreTests {
    /// The engine wraps the core without changing its results: the payment workload run through the
    /// durable engine (journal, expiry sweeps on engine time, recovery) ends in exactly the state the
    /// pure in-memory simulation reaches, and so does a recovery of the journal it wrote.
    @Test func theDurableEngineReachesTheCoresStateForTheSameWorkload() async throws {
        let operations = 6_000
        let expected = PaymentSimulation.run(
            PaymentSimulation.Options(operations: operations, batchSize: 500, seed: 42)
        ).digest

        let directory = TemporaryDirectory()
        var workload = PaymentWorkload(configuration: PaymentWorkload.Configuration(seed: 42))
        let clock = VirtualClock(workload.time)
        var configuration = EngineFixture.configuration(directory)
        configuration.journal = Journal.Configuration(segmentBytes: 4 << 20)
        configuration.ledger.expectedAccounts = workload.accountCount
        var (engine, _) = try Engine.open(configuration, clock: clock)
        var batch = OperationBatch()
        var applied = 0
        while !workload.isSetUp || applied < operations {
            let wasSetUp = workload.isSetUp
            let time = workload.nextBatch(into: &batch, count: wasSetUp ? min(500, operations - applied) : 500)
            clock.set(time)
            let response = try await engine.submit(batch, acknowledgement: .applied)
            workload.observe(response.results, of: batch)
            if wasSetUp {
                applied += batch.count
            }
        }
        #expect(try await engine.read { $0.digest() } == expected)
        try engine.close()

        let recovery: Engine.Recovery
        (engine, recovery) = try Engine.open(configuration, clock: clock)
        #expect(recovery.digest == expected)
        try engine.close()
    }
}
