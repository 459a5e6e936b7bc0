import SystemPackage
import TallyTestKit
import Testing

@testable import TallyStorage

/// Reopening journals whose files were damaged after a clean close: a torn final record is cut and
/// appending goes on; damage anywhere else stops the open with the file, offset and sequence.
@Suite("Journal recovery", .timeLimit(.minutes(1)))
struct JournalRecoveryTests {
    /// Writes `payloads` each in its own group and closes; returns the records.
    static func makeJournal(_ directory: FilePath, _ payloads: [[UInt8]]) throws -> [Record] {
        let (journal, _, _) = try openJournal(directory)
        let sequences = try appendOneByOne(journal, payloads)
        try journal.close()
        return zip(sequences, payloads).map { Record(sequence: $0, payload: $1) }
    }

    /// Every record of every segment, in log order, with its segment's path.
    static func locations(_ directory: FilePath) throws -> [(path: FilePath, location: RecordLocation)] {
        try segmentNames(directory).flatMap { name in
            let path = directory.appending(name)
            return try recordLocations(path).map { (path, $0) }
        }
    }

    // MARK: - a) A torn final record

    @Test(arguments: ["second half zeroed", "header garbled", "one byte left"])
    func aTornFinalRecordIsCutAndAppendingContinues(damage: String) throws {
        try withTemporaryDirectory { directory in
            let records = try Self.makeJournal(directory, (0..<8).map { payload(700 + $0 * 10, seed: UInt64($0)) })
            let (path, last) = try #require(try Self.locations(directory).last)
            #expect(last.sequence == 8)
            // The bytes of the record left non-zero by the damage.
            let nonZero: Int64
            switch damage {
            case "second half zeroed":
                let half = Int64(last.recordBytes / 2)
                try overwrite(
                    path,
                    at: last.offset + half,
                    with: [UInt8](repeating: 0, count: last.recordBytes - Int(half))
                )
                nonZero = half
            case "header garbled":
                try overwrite(path, at: last.offset + 8, with: [0xFF, 0xFE])
                nonZero = Int64(last.recordBytes)
            default:
                try overwrite(path, at: last.offset + 1, with: [UInt8](repeating: 0, count: last.recordBytes - 1))
                nonZero = 1
            }

            let log = DurabilityLog()
            let (journal, scan, replayed) = try openJournal(directory, log: log)
            #expect(replayed == Array(records.dropLast()))
            #expect(
                scan.tornTail
                    == .init(segment: path.lastComponent!.string, offset: last.offset, sequence: 8, bytes: nonZero)
            )
            #expect(scan.nextSequence == 8)
            // The torn bytes are zeroed on disk before anything new is written.
            let bytes = try fileBytes(path)
            #expect(bytes[Int(last.offset)...].allSatisfy { $0 == 0 })

            let replacement = payload(50, seed: 99)
            #expect(try journal.append(replacement) == 8)
            #expect(try journal.append([1]) == 9)
            try journal.close()
            #expect(log.lastDurable == 9)

            let (reopened, rescan, again) = try openJournal(directory)
            try reopened.close()
            #expect(rescan.tornTail == nil)
            #expect(
                again == records.dropLast() + [
                    Record(sequence: 8, payload: replacement), Record(sequence: 9, payload: [1]),
                ]
            )
        }
    }

    @Test func aTornFirstRecordOfTheLastSegment() throws {
        try withTemporaryDirectory { directory in
            // 20 records of 10 000 bytes: 6 per small segment, so record 19 starts segment 4.
            let records = try Self.makeJournal(directory, (0..<19).map { payload(10_000, seed: UInt64($0)) })
            let all = try Self.locations(directory)
            let (path, last) = try #require(all.last)
            #expect(last.offset == 64)
            #expect(path.lastComponent?.string == JournalFormat.segmentName(firstSequence: 19))
            try flipBit(path, at: last.offset + 5_000)
            let (journal, scan, replayed) = try openJournal(directory)
            #expect(replayed == Array(records.dropLast()))
            #expect(
                scan.tornTail == .init(segment: path.lastComponent!.string, offset: 64, sequence: 19, bytes: 10_024)
            )
            #expect(try journal.append([5]) == 19)
            try journal.close()
            #expect(try scanJournal(directory).replayed.last == Record(sequence: 19, payload: [5]))
        }
    }

    // MARK: - b) Damage followed by later records

    @Test func aBitFlipBeforeLaterRecordsStopsTheOpen() throws {
        try withTemporaryDirectory { directory in
            _ = try Self.makeJournal(directory, (0..<10).map { payload(300, seed: UInt64($0)) })
            let all = try Self.locations(directory)
            // In the payload, the sequence field, the length field and the checksum of record 5.
            let (path, fifth) = all[4]
            for offsetInRecord: Int64 in [100, 9, 0, 5] {
                try flipBit(path, at: fifth.offset + offsetInRecord)
                let before = try fileBytes(path)
                let error = openingFails(directory)
                #expect(error?.code == .corrupted, "byte \(offsetInRecord)")
                #expect(error?.path == path)
                #expect(error?.offset == fifth.offset)
                #expect(error?.sequence == 5)
                // Nothing was cut or rewritten.
                #expect(try fileBytes(path) == before)
                try flipBit(path, at: fifth.offset + offsetInRecord)
            }
            #expect(try scanJournal(directory).scan.records == 10)
        }
    }

    @Test func aBitFlipInAnEarlierSegmentStopsTheOpen() throws {
        try withTemporaryDirectory { directory in
            // 6 records of 10 000 bytes per segment: three segments.
            _ = try Self.makeJournal(directory, (0..<15).map { payload(10_000, seed: UInt64($0)) })
            let all = try Self.locations(directory)
            #expect(try segmentNames(directory).count == 3)
            // The last record of segment 1, the first of segment 2, the last of segment 2.
            for index in [5, 6, 11] {
                let (path, location) = all[index]
                try flipBit(path, at: location.offset + 3_000)
                let error = openingFails(directory)
                #expect(error?.code == .corrupted)
                #expect(error?.path == path)
                #expect(error?.offset == location.offset)
                #expect(error?.sequence == location.sequence)
                #expect(error?.message.contains("later segment") == true)
                try flipBit(path, at: location.offset + 3_000)
            }
        }
    }

    /// The design's limit: a record damaged in the last group written looks exactly like that group
    /// torn by a crash, and is cut as a torn tail, with the records after it in the group. Records
    /// acknowledged before a clean close can be lost this way without an error; the scan reports the
    /// cut (``JournalScan/tornTail``) so that the caller can compare it with what it knows is durable.
    @Test func aBitFlipInTheLastGroupIsCutAsATornTail() throws {
        try withTemporaryDirectory { directory in
            let fileSystem = FaultInjectingFileSystem()
            // Records 2 ... 5 written as one group: syncs are held while they are appended.
            let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem)
            try appendOneByOne(journal, [[1]])
            fileSystem.hold(.write, where: FaultInjectingFileSystem.segmentFiles)
            try journal.append([2])
            #expect(fileSystem.waitUntil { _, held in held == 1 })
            for byte: UInt8 in 3...5 {
                try journal.append([byte])
            }
            fileSystem.release(.write)
            try journal.close()
            let all = try Self.locations(directory)
            #expect(all.map(\.location.group) == [1, 2, 3, 3, 3])
            try flipBit(all[2].path, at: all[2].location.offset + 24)
            let (reopened, scan, replayed) = try openJournal(directory)
            try reopened.close()
            #expect(replayed.map(\.sequence) == [1, 2])
            #expect(scan.tornTail?.sequence == 3)
        }
    }

    // MARK: - f) Other damage

    @Test func garbageAfterTheEndOfAClosedSegmentStopsTheOpen() throws {
        try withTemporaryDirectory { directory in
            _ = try Self.makeJournal(directory, (0..<8).map { payload(10_000, seed: UInt64($0)) })
            let all = try Self.locations(directory)
            let (path, sixth) = all[5]
            try overwrite(path, at: sixth.end + 10, with: [0xAB])
            let error = openingFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.path == path)
            #expect(error?.offset == sixth.end)
            #expect(error?.sequence == 7)
        }
    }

    @Test func aDamagedOrNewerSegmentHeaderStopsTheOpen() throws {
        try withTemporaryDirectory { directory in
            _ = try Self.makeJournal(directory, (0..<8).map { payload(10_000, seed: UInt64($0)) })
            let names = try segmentNames(directory)
            for name in names {
                let path = directory.appending(name)
                try flipBit(path, at: 30)
                let damaged = openingFails(directory)
                #expect(damaged?.code == .corrupted)
                #expect(damaged?.path == path)
                #expect(damaged?.offset == 0)
                try flipBit(path, at: 30)

                let original = Array(try fileBytes(path)[0..<64])
                try overwrite(path, at: 0, with: JournalFormatTests.withField(original, at: 8, 7, width: 2))
                let newer = openingFails(directory)
                #expect(newer?.code == .unsupportedFormat)
                #expect(newer?.path == path)
                try overwrite(path, at: 0, with: original)
            }
            #expect(try scanJournal(directory).scan.records == 8)
        }
    }

    @Test func aMissingSegmentStopsTheOpen() throws {
        try withTemporaryDirectory { directory in
            _ = try Self.makeJournal(directory, (0..<20).map { payload(10_000, seed: UInt64($0)) })
            let names = try segmentNames(directory)
            #expect(names.count == 4)
            try SystemFileSystem().removeFile(directory.appending(names[1]))
            let error = openingFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.path == directory.appending(names[2]))
            #expect(error?.offset == 16)
            #expect(error?.sequence == 7)
        }
    }
}
