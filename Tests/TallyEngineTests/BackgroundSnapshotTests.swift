import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage
import TallyTestKit
import Testing

/// Snapshots made in the background: by record count, by time, on demand and at close; posting
/// goes on while one is written; retention keeps the newest ones and archives the journal they
/// cover; and whatever the snapshots, a restart reproduces the state a full replay from empty does.
@Suite("Background snapshots")
struct BackgroundSnapshotTests {
    static func configuration(
        _ directory: TemporaryDirectory,
        everyRecords: UInt64? = nil,
        interval: UInt64? = nil,
        retained: Int = 2,
        onClose: Bool = false
    ) -> Engine.Configuration {
        var configuration = EngineFixture.configuration(directory)
        configuration.snapshotEveryRecords = everyRecords
        configuration.snapshotIntervalNanoseconds = interval
        configuration.snapshotsRetained = retained
        configuration.snapshotOnClose = onClose
        return configuration
    }

    /// Submits `batches` workload batches of `size` operations; returns the digest at the end.
    static func drive(
        _ engine: Engine,
        clock: VirtualClock,
        workload: inout PaymentWorkload,
        batches: Int,
        size: Int = 200
    ) async throws -> StateDigest {
        var batch = OperationBatch()
        for _ in 0..<batches {
            clock.set(workload.nextBatch(into: &batch, count: size))
            let response = try await engine.submit(batch)
            workload.observe(response.results, of: batch)
        }
        return try await engine.read { $0.digest() }
    }

    /// Waits until the snapshotter is idle with every requested snapshot written.
    static func settle(_ engine: Engine, written: UInt64) async throws {
        for _ in 0..<3_000 {
            let status = engine.snapshotStatus
            if status.inProgress == nil && status.written >= written {
                return
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        Issue.record("the snapshotter did not settle: \(engine.snapshotStatus)")
    }

    static func snapshotNames(_ directory: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(
            atPath: directory.path.appending(DataDirectory.snapshotsName).string
        ).sorted()
    }

    static func archived(_ directory: TemporaryDirectory) -> [String] {
        let archive = JournalArchive.archivePath(of: directory.path.appending(DataDirectory.journalName))
        return (try? FileManager.default.contentsOfDirectory(atPath: archive.string).sorted()) ?? []
    }

    static func reopen(_ configuration: Engine.Configuration, useSnapshots: Bool = true) throws -> Engine.Recovery {
        var configuration = configuration
        configuration.useSnapshots = useSnapshots
        configuration.verifySnapshotDigest = true
        configuration.snapshotOnClose = false
        let (engine, recovery) = try Engine.open(configuration, clock: VirtualClock(.zero))
        try engine.close()
        return recovery
    }

    @Test(arguments: [UInt64(101), 102, 103, 104, 105, 106])
    func automaticSnapshotsKeepTheNewestArchiveTheRestAndRecoverExactly(seed: UInt64) async throws {
        let directory = TemporaryDirectory()
        let configuration = Self.configuration(directory, everyRecords: 10, retained: 2)
        let clock = VirtualClock(EngineFixture.start)
        let (engine, _) = try Engine.open(configuration, clock: clock)
        var workload = PaymentWorkload(configuration: .scaled(toAccounts: 300, seed: seed))
        let digest = try await Self.drive(engine, clock: clock, workload: &workload, batches: 50)
        try await Self.settle(engine, written: 1)
        let status = engine.snapshotStatus
        try engine.close()

        #expect(status.failed == 0, "\(String(describing: status.lastFailure))")
        #expect(status.written >= 2)
        let names = try Self.snapshotNames(directory)
        #expect(names.count == 2)
        #expect(names.last == status.newest.map { SnapshotFile.name(sequence: $0.sequence) })
        #expect(!Self.archived(directory).isEmpty)
        #expect(status.archivedSegments == UInt64(Self.archived(directory).count))

        let fromSnapshot = try Self.reopen(configuration)
        #expect(fromSnapshot.digest == digest)
        #expect(fromSnapshot.snapshot?.sequence == status.newest?.sequence)
        let last = try #require(fromSnapshot.scan.lastSequence)
        #expect(fromSnapshot.recordsReplayed == last - (status.newest?.sequence ?? 0))

        // A replay from empty reads the archived segments and reaches the same state.
        let full = try Self.reopen(configuration, useSnapshots: false)
        #expect(full.digest == digest)
        #expect(full.recordsReplayed == last)
        #expect(full.scan.segments.contains { $0.isArchived })

        let report = try JournalInspection.verify(dataDirectory: directory.path)
        #expect(report.digest == digest)
        #expect(report.invariantViolations.isEmpty)
        #expect(report.scan.segments.filter(\.isArchived).count == Self.archived(directory).count)
    }

    @Test func aSnapshotIsWrittenWhenItsIntervalHasPassed() async throws {
        let directory = TemporaryDirectory()
        let configuration = Self.configuration(directory, interval: 50_000_000)
        let clock = VirtualClock(EngineFixture.start)
        let (engine, _) = try Engine.open(configuration, clock: clock)
        var workload = PaymentWorkload(configuration: .scaled(toAccounts: 100, seed: 5))
        _ = try await Self.drive(engine, clock: clock, workload: &workload, batches: 5, size: 50)
        // Every interval that saw new records brings a snapshot, until one covers them all.
        var waited = 0
        while engine.snapshotStatus.newest?.sequence != engine.durableSequence && waited < 3_000 {
            try await Task.sleep(nanoseconds: 10_000_000)
            waited += 1
        }
        #expect(engine.snapshotStatus.newest?.sequence == engine.durableSequence)
        #expect(engine.snapshotStatus.failed == 0)
        try engine.close()
    }

    @Test func onDemandWithNothingNewReturnsTheNewestAndCloseWritesTheRest() async throws {
        let directory = TemporaryDirectory()
        let configuration = Self.configuration(directory, onClose: true)
        let clock = VirtualClock(EngineFixture.start)
        let (engine, _) = try Engine.open(configuration, clock: clock)
        var workload = PaymentWorkload(configuration: .scaled(toAccounts: 100, seed: 6))
        _ = try await Self.drive(engine, clock: clock, workload: &workload, batches: 8, size: 50)
        let first = try await engine.snapshot()
        let again = try await engine.snapshot()
        #expect(again == first)
        #expect(try Self.snapshotNames(directory) == [SnapshotFile.name(sequence: first.sequence)])
        let digest = try await Self.drive(engine, clock: clock, workload: &workload, batches: 4, size: 50)
        try engine.close()

        let recovery = try Self.reopen(configuration)
        #expect(recovery.snapshot?.sequence == first.sequence + 4)
        #expect(recovery.recordsReplayed == 0)
        #expect(recovery.digest == digest)
        #expect(try Self.snapshotNames(directory).count == 2)
    }

    /// The snapshot's file writes are held: durable writes still complete, so posting does not
    /// wait for a snapshot; once released, the snapshot covers exactly what was asked.
    @Test func postingGoesOnWhileASnapshotIsWritten() async throws {
        let directory = TemporaryDirectory()
        let fileSystem = FaultInjectingFileSystem()
        let clock = VirtualClock(EngineFixture.start)
        let (engine, _) = try Engine.open(Self.configuration(directory), clock: clock, fileSystem: fileSystem)
        var workload = PaymentWorkload(configuration: .scaled(toAccounts: 100, seed: 7))
        _ = try await Self.drive(engine, clock: clock, workload: &workload, batches: 10, size: 50)
        let isSnapshot: @Sendable (FilePath) -> Bool = { $0.string.hasSuffix(".tsnap.tmp") }
        fileSystem.hold(.write, where: isSnapshot)
        let snapshot = Task { try await engine.snapshot() }
        // Polled, not waited on: a blocked thread could be one the snapshot's task needs.
        var waited = 0
        while fileSystem.heldCallCount == 0 && waited < 3_000 {
            try await Task.sleep(nanoseconds: 10_000_000)
            waited += 1
        }
        #expect(fileSystem.heldCallCount > 0)
        let asked = try #require(engine.snapshotStatus.inProgress)
        #expect(asked >= 10)

        let digest = try await Self.drive(engine, clock: clock, workload: &workload, batches: 20, size: 50)
        #expect(engine.durableSequence >= asked + 20)
        #expect(engine.snapshotStatus.written == 0)

        fileSystem.release(.write)
        let info = try await snapshot.value
        #expect(info.sequence == asked)
        try engine.close()
        let recovery = try Self.reopen(Self.configuration(directory))
        #expect(recovery.snapshot?.sequence == asked)
        #expect(recovery.digest == digest)
    }

    /// A snapshot that cannot be written fails alone: writes go on, the failure is reported, and
    /// the next snapshot succeeds.
    @Test func aFailedSnapshotDoesNotStopTheEngine() async throws {
        let directory = TemporaryDirectory()
        let fileSystem = FaultInjectingFileSystem()
        let clock = VirtualClock(EngineFixture.start)
        let (engine, _) = try Engine.open(Self.configuration(directory), clock: clock, fileSystem: fileSystem)
        var workload = PaymentWorkload(configuration: .scaled(toAccounts: 100, seed: 8))
        _ = try await Self.drive(engine, clock: clock, workload: &workload, batches: 5, size: 50)
        fileSystem.failCalls(.synchronize, with: .ioError, where: { $0.string.hasSuffix(".tsnap.tmp") })
        await #expect {
            _ = try await engine.snapshot()
        } throws: { error in
            (error as? EngineError)?.code == .snapshotFailed
        }
        #expect(engine.snapshotStatus.failed == 1)
        #expect(try Self.snapshotNames(directory).isEmpty)

        fileSystem.clearFaults()
        let digest = try await Self.drive(engine, clock: clock, workload: &workload, batches: 5, size: 50)
        let info = try await engine.snapshot()
        #expect(info.sequence == engine.durableSequence)
        try engine.close()
        let recovery = try Self.reopen(Self.configuration(directory))
        #expect(recovery.snapshot?.sequence == info.sequence)
        #expect(recovery.digest == digest)
    }
}
