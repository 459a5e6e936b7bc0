import Foundation
import SystemPackage
import TallyCore
import TallyEngine
import TallyStorage
import TallyTestKit
import Testing

/// Snapshot files (docs/FORMATS.md): a written snapshot reads back to the same state; any damage —
/// truncation, a flipped bit anywhere, another version — is refused with an error naming the file.
@Suite("Snapshot files")
struct SnapshotFileTests {
    static let configuration = LedgerConfiguration(idempotencyWindowSeconds: 600, transactionRetentionSeconds: 300)

    static func sampleLedger(seed: UInt64 = 5, operations: Int = 6_000) -> Ledger {
        var simulation = PaymentSimulation(
            PaymentSimulation.Options(
                operations: operations,
                batchSize: 500,
                workload: .scaled(toAccounts: 500, seed: seed),
                ledger: Self.configuration
            )
        )
        while simulation.step() {}
        return simulation.ledger
    }

    @Test func aSnapshotReadsBackToTheSameState() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path.string, withIntermediateDirectories: true)
        let ledger = Self.sampleLedger()
        let written = try SnapshotFile.write(ledger, sequence: 42, to: directory.path)
        let path = directory.path.appending(SnapshotFile.name(sequence: 42))
        #expect(SnapshotFile.sequence(ofName: SnapshotFile.name(sequence: 42)) == 42)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory.path.string) == [
                SnapshotFile.name(sequence: 42)
            ]
        )

        let inspected = try SnapshotFile.inspect(path)
        #expect(inspected == written)
        #expect(inspected.sequence == 42)
        #expect(inspected.digest == ledger.digest())
        #expect(inspected.accounts == UInt64(ledger.statistics.accounts))
        #expect(inspected.sections.map(\.section) == LedgerState.Section.allCases)
        #expect(inspected.compressedBytes < inspected.uncompressedBytes)

        let (restored, info) = try SnapshotFile.read(path, configuration: Self.configuration, verifyDigest: true)
        #expect(info == written)
        #expect(restored.digest() == ledger.digest())
        #expect(restored.checkInvariants().isEmpty)
    }

    @Test func damageAnywhereIsRefused() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path.string, withIntermediateDirectories: true)
        let ledger = Self.sampleLedger(operations: 2_000)
        let info = try SnapshotFile.write(ledger, sequence: 7, to: directory.path)
        let path = directory.path.appending(SnapshotFile.name(sequence: 7))
        let original = try Data(contentsOf: URL(fileURLWithPath: path.string))
        let damaged = directory.path.appending("damaged.tsnap")

        func refused(_ bytes: Data, _ what: String) {
            FileManager.default.createFile(atPath: damaged.string, contents: bytes)
            do {
                _ = try SnapshotFile.read(damaged, configuration: Self.configuration)
                Issue.record("\(what) was accepted")
            } catch let error as StorageError {
                #expect(error.code == .corrupted || error.code == .unsupportedFormat, "\(what): \(error)")
                #expect(error.message.contains("damaged.tsnap"), "\(what): \(error)")
            } catch {
                Issue.record("\(what): not a StorageError: \(error)")
            }
        }

        // Truncated: at the header, in the table, in each section, just before the end.
        var cuts = [0, 10, SnapshotFile.headerBytes, SnapshotFile.headerBytes + 20, original.count - 1]
        cuts += info.sections.map { Int($0.offset + $0.compressedBytes / 2) }
        for cut in cuts {
            refused(original.prefix(cut), "a file cut at \(cut)")
        }
        // One flipped bit in the header, the table, every section (start, middle, end), the trailer.
        var flips = [3, 9, 20, 70, SnapshotFile.headerBytes - 2, SnapshotFile.headerBytes + 5, original.count - 3]
        for section in info.sections {
            flips += [
                section.offset, section.offset + section.compressedBytes / 2,
                section.offset + section.compressedBytes - 1,
            ]
            .map { Int($0) }
        }
        var random = SeededRandom(seed: 77)
        for index in flips {
            var bytes = original
            bytes[index] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            refused(bytes, "a bit flipped at byte \(index)")
        }
        // Another format version (with its checksum made right): unsupported, said as such.
        var future = original
        future[8] = 2
        FileManager.default.createFile(atPath: damaged.string, contents: future)
        #expect {
            _ = try SnapshotFile.read(damaged, configuration: Self.configuration)
        } throws: { error in
            (error as? StorageError)?.code == .unsupportedFormat
        }
        // Other windows than the snapshot's: refused, not silently reinterpreted.
        #expect(throws: StorageError.self) {
            _ = try SnapshotFile.read(path, configuration: LedgerConfiguration())
        }
    }

    @Test func aFailedWriteLeavesNoSnapshotAndNoTemporaryFile() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path.string, withIntermediateDirectories: true)
        let fileSystem = FaultInjectingFileSystem()
        fileSystem.failCalls(.synchronize, with: .ioError, on: .nth(1))
        #expect(throws: StorageError.self) {
            try SnapshotFile.write(
                Self.sampleLedger(operations: 500),
                sequence: 3,
                to: directory.path,
                fileSystem: fileSystem
            )
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path.string).isEmpty)
    }
}
