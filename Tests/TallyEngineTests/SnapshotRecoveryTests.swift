import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage
import TallyTestKit
import Testing

/// Recovery from a snapshot plus the journal after it: the same state as a full replay; a damaged
/// newest snapshot is reported and recovery falls back to an older one.
@Suite("Snapshot recovery")
struct SnapshotRecoveryTests {
    /// Runs the payment workload through the engine, taking a snapshot after each of `snapshotsAt`
    /// (counted in batches); returns the digest at the end.
    static func run(
        _ directory: TemporaryDirectory,
        seed: UInt64,
        batches: Int,
        snapshotsAt: Set<Int>
    ) async throws -> (digest: StateDigest, snapshots: [SnapshotFile.Info]) {
        let clock = VirtualClock(EngineFixture.start)
        let (engine, _) = try Engine.open(EngineFixture.configuration(directory), clock: clock)
        var workload = PaymentWorkload(configuration: .scaled(toAccounts: 300, seed: seed))
        var batch = OperationBatch()
        var snapshots: [SnapshotFile.Info] = []
        var done = 0
        while done < batches {
            let time = workload.nextBatch(into: &batch, count: 200)
            clock.set(time)
            let response = try await engine.submit(batch)
            workload.observe(response.results, of: batch)
            done += 1
            if snapshotsAt.contains(done) {
                snapshots.append(try await engine.snapshot())
            }
        }
        let digest = try await engine.read { $0.digest() }
        try engine.close()
        return (digest, snapshots)
    }

    static func reopen(
        _ directory: TemporaryDirectory,
        useSnapshots: Bool = true
    ) throws -> Engine.Recovery {
        var configuration = EngineFixture.configuration(directory)
        configuration.useSnapshots = useSnapshots
        configuration.verifySnapshotDigest = true
        let (engine, recovery) = try Engine.open(configuration, clock: VirtualClock(EngineFixture.start))
        try engine.close()
        return recovery
    }

    @Test(arguments: [UInt64(11), 12, 13])
    func snapshotPlusTailEqualsFullReplay(seed: UInt64) async throws {
        let directory = TemporaryDirectory()
        let (digest, snapshots) = try await Self.run(directory, seed: seed, batches: 60, snapshotsAt: [20, 45])
        #expect(snapshots.map(\.sequence).count == 2)

        let fromSnapshot = try Self.reopen(directory)
        #expect(fromSnapshot.snapshot?.sequence == snapshots.last?.sequence)
        #expect(fromSnapshot.rejectedSnapshots.isEmpty)
        #expect(fromSnapshot.digest == digest)
        // Only the records after the snapshot were replayed, and whole segments before it not read.
        let last = try #require(fromSnapshot.scan.lastSequence)
        #expect(fromSnapshot.recordsReplayed == last - snapshots[1].sequence)
        #expect(fromSnapshot.scan.skippedSegments > 0)

        let full = try Self.reopen(directory, useSnapshots: false)
        #expect(full.snapshot == nil)
        #expect(full.digest == digest)
        #expect(full.recordsReplayed == last)
    }

    /// How the newest snapshot is damaged, and what recovery must say about it.
    enum Damage: String, CaseIterable, Sendable {
        case truncated, bitFlip, futureVersion

        func apply(to bytes: inout Data) {
            switch self {
            case .truncated:
                bytes = bytes.prefix(bytes.count * 2 / 3)
            case .bitFlip:
                bytes[bytes.count / 2] ^= 0x10
            case .futureVersion:
                // Format version 2, with the header's checksum made right again: a newer release's
                // file, not a damaged one.
                bytes[8] = 2
                let checksum = CRC32C.checksum(Array(bytes[0..<SnapshotFile.headerBytes - 4]))
                withUnsafeBytes(of: checksum.littleEndian) { raw in
                    bytes.replaceSubrange(SnapshotFile.headerBytes - 4..<SnapshotFile.headerBytes, with: raw)
                }
            }
        }

        var code: StorageError.Code {
            self == .futureVersion ? .unsupportedFormat : .corrupted
        }
    }

    @Test(arguments: Damage.allCases)
    func aDamagedNewestSnapshotFallsBackToAnOlderOneAndSaysSo(damage: Damage) async throws {
        let directory = TemporaryDirectory()
        let (digest, snapshots) = try await Self.run(directory, seed: 21, batches: 40, snapshotsAt: [10, 30])
        let newest = directory.path.appending(DataDirectory.snapshotsName).appending(
            SnapshotFile.name(sequence: snapshots[1].sequence)
        )
        var bytes = try Data(contentsOf: URL(fileURLWithPath: newest.string))
        damage.apply(to: &bytes)
        try bytes.write(to: URL(fileURLWithPath: newest.string))

        let recovery = try Self.reopen(directory)
        #expect(recovery.snapshot?.sequence == snapshots[0].sequence)
        #expect(recovery.rejectedSnapshots.map(\.name) == [SnapshotFile.name(sequence: snapshots[1].sequence)])
        #expect(recovery.rejectedSnapshots.first?.error.code == damage.code)
        #expect(recovery.recordsReplayed == (recovery.scan.lastSequence ?? 0) - snapshots[0].sequence)
        #expect(recovery.digest == digest)
    }

    @Test func anUnfinishedSnapshotIsRemovedAndIgnored() async throws {
        let directory = TemporaryDirectory()
        let (digest, snapshots) = try await Self.run(directory, seed: 31, batches: 20, snapshotsAt: [10])
        let folder = directory.path.appending(DataDirectory.snapshotsName)
        let leftover = folder.appending(SnapshotFile.name(sequence: snapshots[0].sequence + 5) + ".tmp")
        FileManager.default.createFile(atPath: leftover.string, contents: Data(repeating: 7, count: 1000))
        let recovery = try Self.reopen(directory)
        #expect(recovery.digest == digest)
        #expect(!FileManager.default.fileExists(atPath: leftover.string))
    }

    @Test func aSnapshotAheadOfTheJournalStopsStartup() async throws {
        let directory = TemporaryDirectory()
        let (_, snapshots) = try await Self.run(directory, seed: 41, batches: 10, snapshotsAt: [10])
        // Pretend the journal lost its end: remove every segment.
        let journal = directory.path.appending(DataDirectory.journalName)
        for name in try FileManager.default.contentsOfDirectory(atPath: journal.string) {
            try FileManager.default.removeItem(atPath: journal.appending(name).string)
        }
        #expect(snapshots.count == 1)
        #expect {
            _ = try Self.reopen(directory)
        } throws: { error in
            (error as? EngineError)?.code == .recoveryFailed
        }
    }
}
