import Foundation
import Synchronization
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage
import TallyTestKit
import Testing

/// What the engine does when the disk misbehaves: a failed sync or a full disk stops every write for
/// good, the failed write's outcome is reported as unknown, and reads keep answering from what is
/// durable. Durable reads really wait for the journal.
struct EngineFaultTests {
    private static func open(
        _ directory: TemporaryDirectory,
        _ fileSystem: FaultInjectingFileSystem
    ) throws -> Engine {
        try Engine.open(
            EngineFixture.configuration(directory),
            clock: VirtualClock(EngineFixture.start),
            fileSystem: fileSystem
        )
        .engine
    }

    private static func batch(_ operations: TallyCore.Operation...) -> OperationBatch {
        OperationBatch(operations)
    }

    @Test func aFailedSyncStopsWritesAndReadsShowWhatIsDurable() async throws {
        let directory = TemporaryDirectory()
        let fileSystem = FaultInjectingFileSystem()
        let engine = try Self.open(directory, fileSystem)
        _ = try await engine.submit(EngineFixture.setup)
        _ = try await engine.submit(Self.batch(EngineFixture.capture(key: 1, amount: 4_000)))
        let durableCredits = try await engine.read { $0.balance(of: 2)?.creditsPosted }
        #expect(durableCredits == 3_900)

        fileSystem.failCalls(.synchronizeData, with: .ioError, where: FaultInjectingFileSystem.segmentFiles)
        await #expect {
            _ = try await engine.submit(Self.batch(EngineFixture.capture(key: 2, amount: 8_000)))
        } throws: { error in
            (error as? EngineError)?.code == .journalFailed && (error as? EngineError)?.storage?.errno == .ioError
        }
        // Every later write is refused at once, whatever its acknowledgement.
        await #expect {
            _ = try await engine.submit(
                Self.batch(EngineFixture.capture(key: 3, amount: 10)),
                acknowledgement: .applied
            )
        } throws: { error in
            (error as? EngineError)?.code == .journalFailed
        }
        // Reads keep working and see only what was durable: not the capture whose sync failed.
        let credits = try await engine.read { $0.balance(of: 2)?.creditsPosted }
        #expect(credits == durableCredits)
        let appliedView = try await engine.read(.applied) { $0.lastTransaction }
        #expect(appliedView == 1)
        let syncsBefore = fileSystem.calls(of: .synchronizeData).count
        #expect(throws: EngineError.self) { try engine.close() }
        // No sync was tried again after the failure.
        #expect(fileSystem.calls(of: .synchronizeData).count == syncsBefore)

        // After a restart the failed capture's outcome is settled by resending it with its key:
        // it was written before its sync failed, so it may or may not have reached the disk.
        fileSystem.clearFaults()
        let reopened = try Self.open(directory, fileSystem)
        let resent = try await reopened.submit(Self.batch(EngineFixture.capture(key: 2, amount: 8_000)))
        #expect(resent.results[0].code == .ok)
        #expect(resent.results[0].transactionID == 2)
        #expect(try await reopened.read { $0.balance(of: 2)?.creditsPosted } == 3_900 + 7_800)
        #expect(try await reopened.read { $0.checkInvariants() }.isEmpty)
        try reopened.close()
    }

    @Test func aFullDiskStopsWritesAndTheRecordNeverWrittenIsNotReplayed() async throws {
        let directory = TemporaryDirectory()
        let fileSystem = FaultInjectingFileSystem()
        let engine = try Self.open(directory, fileSystem)
        _ = try await engine.submit(EngineFixture.setup)
        _ = try await engine.submit(Self.batch(EngineFixture.capture(key: 1, amount: 4_000)))

        fileSystem.failWrites(afterBytes: 0, where: FaultInjectingFileSystem.segmentFiles)
        await #expect {
            _ = try await engine.submit(Self.batch(EngineFixture.capture(key: 2, amount: 8_000)))
        } throws: { error in
            (error as? EngineError)?.code == .journalFailed && (error as? EngineError)?.storage?.errno == .noSpace
        }
        #expect(try await engine.read { $0.lastTransaction } == 1)
        #expect(throws: EngineError.self) { try engine.close() }

        fileSystem.clearFaults()
        let (reopened, recovery) = try Engine.open(
            EngineFixture.configuration(directory),
            clock: VirtualClock(EngineFixture.start),
            fileSystem: fileSystem
        )
        #expect(recovery.recordsReplayed == 2)
        #expect(try await reopened.read { $0.lastTransaction } == 1)
        try reopened.close()
    }

    @Test func durableReadsWaitForTheSyncAndAppliedReadsDoNot() async throws {
        let directory = TemporaryDirectory()
        let fileSystem = FaultInjectingFileSystem()
        let engine = try Self.open(directory, fileSystem)
        _ = try await engine.submit(EngineFixture.setup)

        fileSystem.hold(.synchronizeData, where: FaultInjectingFileSystem.segmentFiles)
        let applied = try await engine.submit(
            Self.batch(EngineFixture.capture(key: 1, amount: 4_000)),
            acknowledgement: .applied
        )
        #expect(applied.results[0].code == .ok)
        #expect(engine.durableSequence < applied.sequence)

        let appliedRead = try await engine.read(.applied) { $0.balance(of: 2)?.creditsPosted }
        #expect(appliedRead == 3_900)

        let answered = Atomic<Bool>(false)
        let durableRead = Task {
            let credits = try await engine.read { $0.balance(of: 2)?.creditsPosted }
            answered.store(true, ordering: .releasing)
            return credits
        }
        try await Task.sleep(for: .milliseconds(100))
        let answeredEarly = answered.load(ordering: .acquiring)
        #expect(!answeredEarly, "a durable read answered before its state was durable")
        fileSystem.release(.synchronizeData)
        #expect(try await durableRead.value == 3_900)
        try await engine.waitUntilDurable(applied.sequence)
        try engine.close()
    }
}
