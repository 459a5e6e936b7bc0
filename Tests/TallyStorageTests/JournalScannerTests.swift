import SystemPackage
import Testing

@testable import TallyStorage

/// The scanner on hand-built segments, where the groups of the records are chosen: the torn-tail
/// versus damage rule, every header and sequence check, and the exact report of each.
@Suite("Journal scanner")
struct JournalScannerTests {
    /// A record to build: its sequence, its group and its payload size.
    struct Planned {
        var sequence: UInt64
        var group: UInt64
        var payloadBytes: Int = 100
    }

    /// Writes a segment file holding `records` and returns where each one starts.
    @discardableResult
    static func writeSegment(
        in directory: FilePath,
        firstSequence: UInt64,
        records: [Planned],
        segmentBytes: Int = Journal.segmentBytesMin,
        name: String? = nil
    ) throws -> (path: FilePath, offsets: [Int64]) {
        var bytes = [UInt8](repeating: 0, count: segmentBytes)
        bytes.withUnsafeMutableBytes {
            JournalFormat.writeSegmentHeader(into: $0, firstSequence: firstSequence, segmentBytes: segmentBytes)
        }
        var offsets: [Int64] = []
        var offset = JournalFormat.segmentHeaderBytes
        for record in records {
            offsets.append(Int64(offset))
            let body = payload(record.payloadBytes, seed: record.sequence)
            bytes.replaceSubrange(
                offset + JournalFormat.recordHeaderBytes..<offset + JournalFormat.recordHeaderBytes + body.count,
                with: body
            )
            bytes.withUnsafeMutableBytes { raw in
                JournalFormat.sealRecord(
                    UnsafeMutableRawBufferPointer(rebasing: raw[offset...]),
                    payloadBytes: record.payloadBytes,
                    sequence: record.sequence,
                    group: record.group
                )
            }
            offset += JournalFormat.recordHeaderBytes + record.payloadBytes
        }
        let path = directory.appending(name ?? JournalFormat.segmentName(firstSequence: firstSequence))
        let fileSystem = SystemFileSystem()
        let file = try fileSystem.openFile(path, create: true)
        defer { try? fileSystem.close(file) }
        try bytes.withUnsafeBytes { try fileSystem.write(file, $0, at: 0) }
        return (path, offsets)
    }

    /// Scanning fails: returns the error.
    static func scanFails(_ directory: FilePath, sourceLocation: SourceLocation = #_sourceLocation) -> StorageError? {
        storageError(sourceLocation: sourceLocation) { _ = try scanJournal(directory) }
    }

    static let recordBytes = Int64(JournalFormat.recordHeaderBytes + 100)

    @Test func theLastNonZeroByteIsFoundAcrossPageBoundaries() {
        var bytes = [UInt8](repeating: 0, count: 3 * 4_096 + 100)
        bytes.withUnsafeBytes { raw in
            #expect(JournalScanner.lastNonZeroIndex(raw, from: 0) == nil)
            #expect(JournalScanner.lastNonZeroIndex(raw, from: raw.count) == nil)
        }
        for position in [0, 1, 4_095, 4_096, 4_097, 8_191, 8_292, 3 * 4_096 + 99] {
            bytes[position] = 0x80
            bytes.withUnsafeBytes { raw in
                #expect(JournalScanner.lastNonZeroIndex(raw, from: 0) == position, "at \(position)")
                #expect(JournalScanner.lastNonZeroIndex(raw, from: position) == position, "from \(position)")
                #expect(JournalScanner.lastNonZeroIndex(raw, from: position + 1) == nil, "after \(position)")
            }
            bytes[position] = 0
        }
        bytes[10] = 1
        bytes[5_000] = 1
        bytes.withUnsafeBytes { raw in
            #expect(JournalScanner.lastNonZeroIndex(raw, from: 0) == 5_000)
            #expect(JournalScanner.lastNonZeroIndex(raw, from: 4_999) == 5_000)
            #expect(JournalScanner.lastNonZeroIndex(raw, from: 5_001) == nil)
        }
    }

    // MARK: - Clean journals

    @Test func anEmptyDirectoryIsAnEmptyJournal() throws {
        try withTemporaryDirectory { directory in
            let (scan, replayed) = try scanJournal(directory)
            #expect(scan == JournalScan())
            #expect(scan.nextSequence == 1)
            #expect(replayed.isEmpty)
        }
    }

    @Test func aSegmentWithoutRecordsStartsTheNextSequence() throws {
        try withTemporaryDirectory { directory in
            try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: (1...3).map { Planned(sequence: $0, group: $0) }
            )
            try Self.writeSegment(in: directory, firstSequence: 4, records: [])
            let (scan, replayed) = try scanJournal(directory)
            #expect(replayed.map(\.sequence) == [1, 2, 3])
            #expect(scan.nextSequence == 4)
            #expect(scan.firstSequence == 1 && scan.lastSequence == 3 && scan.records == 3)
            #expect(scan.segments.last?.end == 64)
        }
    }

    /// Segments are archived, never deleted: a log whose first segment starts after sequence 1 has
    /// lost records.
    @Test func aLogThatDoesNotStartAtOneIsMissingRecords() throws {
        try withTemporaryDirectory { directory in
            let (path, _) = try Self.writeSegment(in: directory, firstSequence: 1_000, records: [])
            let error = Self.scanFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.path == path)
            #expect(error?.sequence == 1)
        }
    }

    @Test func aCleanJournalScansEverything() throws {
        try withTemporaryDirectory { directory in
            try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [
                    .init(sequence: 1, group: 1), .init(sequence: 2, group: 2, payloadBytes: 1),
                    .init(sequence: 3, group: 2),
                ]
            )
            try Self.writeSegment(
                in: directory,
                firstSequence: 4,
                records: [.init(sequence: 4, group: 4, payloadBytes: 5_000), .init(sequence: 5, group: 4)]
            )
            // Other files are not segments and are ignored.
            try Self.writeSegment(in: directory, firstSequence: 99, records: [], name: "notes.txt")
            try Self.writeSegment(in: directory, firstSequence: 99, records: [], name: JournalFormat.spareName(3))
            let (scan, replayed) = try scanJournal(directory)
            #expect(replayed.map(\.sequence) == [1, 2, 3, 4, 5])
            #expect(replayed[1].payload == payload(1, seed: 2))
            #expect(replayed[3].payload == payload(5_000, seed: 4))
            #expect(scan.firstSequence == 1)
            #expect(scan.lastSequence == 5)
            #expect(scan.records == 5)
            #expect(scan.payloadBytes == 100 + 1 + 100 + 5_000 + 100)
            #expect(scan.nextSequence == 6)
            #expect(scan.tornTail == nil)
            let segments: [JournalScan.Segment] = [
                .init(name: "00000000000000000001.journal", firstSequence: 1, bytes: 65_536, records: 3, end: 337),
                .init(name: "00000000000000000004.journal", firstSequence: 4, bytes: 65_536, records: 2, end: 5_212),
            ]
            #expect(scan.segments == segments)
        }
    }

    // MARK: - Torn tail or damage

    @Test func aBadRecordOfTheLastGroupIsATornTail() throws {
        try withTemporaryDirectory { directory in
            let (path, offsets) = try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [.init(sequence: 1, group: 1), .init(sequence: 2, group: 2), .init(sequence: 3, group: 2)]
            )
            try flipBit(path, at: offsets[1] + 40)
            let (scan, replayed) = try scanJournal(directory)
            #expect(replayed.map(\.sequence) == [1])
            // Record 3 checks out but belongs to the torn write: it is part of the tail.
            #expect(
                scan.tornTail
                    == .init(
                        segment: path.lastComponent!.string,
                        offset: offsets[1],
                        sequence: 2,
                        bytes: 2 * Self.recordBytes
                    )
            )
            #expect(scan.nextSequence == 2)
            #expect(scan.lastSequence == 1)
            #expect(scan.segments.map(\.end) == [offsets[1]])
        }
    }

    @Test func aBadRecordFollowedByALaterGroupIsDamage() throws {
        try withTemporaryDirectory { directory in
            let (path, offsets) = try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [
                    .init(sequence: 1, group: 1), .init(sequence: 2, group: 2), .init(sequence: 3, group: 2),
                    .init(sequence: 4, group: 4),
                ]
            )
            // Damage to record 2 or 3: record 4, written by a later write, proves they were synced.
            for damaged in [1, 2] {
                try flipBit(path, at: offsets[damaged] + 30)
                let error = Self.scanFails(directory)
                #expect(error?.code == .corrupted)
                #expect(error?.path == path)
                #expect(error?.offset == offsets[damaged])
                #expect(error?.sequence == UInt64(damaged + 1))
                #expect(error?.message.contains("record 4") == true, "\(error?.message ?? "")")
                try flipBit(path, at: offsets[damaged] + 30)
            }
            // Damage to record 4 alone: the last group, a torn tail.
            try flipBit(path, at: offsets[3] + 30)
            #expect(try scanJournal(directory).scan.tornTail?.sequence == 4)
        }
    }

    @Test func aLaterGroupIsFoundWhereverItStarts() throws {
        try withTemporaryDirectory { directory in
            // The damaged record's length is wrong, so the next record is not where it says: the
            // search goes byte by byte.
            let (path, offsets) = try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [
                    .init(sequence: 1, group: 1, payloadBytes: 333), .init(sequence: 2, group: 2, payloadBytes: 7),
                ]
            )
            try overwrite(path, at: offsets[0], with: [0x10, 0x00, 0x00, 0x00])
            let error = Self.scanFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.offset == 64)
            #expect(error?.sequence == 1)
        }
    }

    @Test func zerosWhereARecordStartsAndBytesAfterThemAreATornTail() throws {
        try withTemporaryDirectory { directory in
            // A lost first page of a write whose later pages reached the disk.
            let (path, offsets) = try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [.init(sequence: 1, group: 1), .init(sequence: 2, group: 2, payloadBytes: 9_000)]
            )
            try overwrite(path, at: offsets[1], with: [UInt8](repeating: 0, count: 4_096 - Int(offsets[1])))
            let scan = try scanJournal(directory).scan
            #expect(
                scan.tornTail
                    == .init(segment: path.lastComponent!.string, offset: offsets[1], sequence: 2, bytes: 9_024)
            )
        }
    }

    @Test func garbageInTheLastSegmentIsATornTail() throws {
        try withTemporaryDirectory { directory in
            let (path, offsets) = try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [.init(sequence: 1, group: 1)]
            )
            let end = offsets[0] + Self.recordBytes
            try overwrite(path, at: end + 1_000, with: [1, 2, 3])
            let scan = try scanJournal(directory).scan
            #expect(scan.tornTail == .init(segment: path.lastComponent!.string, offset: end, sequence: 2, bytes: 1_003))
            #expect(scan.lastSequence == 1)
        }
    }

    @Test func aTornTailInASegmentWithoutRecords() throws {
        try withTemporaryDirectory { directory in
            try Self.writeSegment(in: directory, firstSequence: 1, records: [.init(sequence: 1, group: 1)])
            let (path, _) = try Self.writeSegment(in: directory, firstSequence: 2, records: [])
            try overwrite(path, at: 64, with: [9])
            let scan = try scanJournal(directory).scan
            #expect(scan.tornTail == .init(segment: path.lastComponent!.string, offset: 64, sequence: 2, bytes: 1))
            #expect(scan.nextSequence == 2)
        }
    }

    @Test func aBadRecordBeforeALaterSegmentIsDamage() throws {
        try withTemporaryDirectory { directory in
            // Same group, even the last record of the segment: the next segment was only created
            // after this one was synced.
            let (path, offsets) = try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [.init(sequence: 1, group: 1), .init(sequence: 2, group: 1)]
            )
            try Self.writeSegment(in: directory, firstSequence: 3, records: [.init(sequence: 3, group: 3)])
            try flipBit(path, at: offsets[1] + 100)
            let error = Self.scanFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.path == path)
            #expect(error?.offset == offsets[1])
            #expect(error?.sequence == 2)
        }
    }

    @Test func bytesAfterTheEndOfAClosedSegmentAreDamage() throws {
        try withTemporaryDirectory { directory in
            let (path, offsets) = try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [.init(sequence: 1, group: 1)]
            )
            try Self.writeSegment(in: directory, firstSequence: 2, records: [.init(sequence: 2, group: 2)])
            try overwrite(path, at: 60_000, with: [0x42])
            let error = Self.scanFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.path == path)
            #expect(error?.offset == offsets[0] + Self.recordBytes)
            #expect(error?.sequence == 2)
            #expect(error?.message.contains("60000") == true)
        }
    }

    @Test func aRecordWithTheWrongSequenceIsDamage() throws {
        try withTemporaryDirectory { directory in
            // Records that check out but do not continue the log: a repeated, a skipped sequence,
            // and a group after the record's own sequence.
            let cases: [[Planned]] = [
                [.init(sequence: 1, group: 1), .init(sequence: 1, group: 1)],
                [.init(sequence: 1, group: 1), .init(sequence: 3, group: 3)],
                [.init(sequence: 1, group: 1), .init(sequence: 2, group: 3)],
            ]
            for records in cases {
                let (path, offsets) = try Self.writeSegment(in: directory, firstSequence: 1, records: records)
                let error = Self.scanFails(directory)
                #expect(error?.code == .corrupted)
                #expect(error?.path == path)
                #expect(error?.offset == offsets[1])
                #expect(error?.sequence == 2)
            }
        }
    }

    // MARK: - Headers and sequences across segments

    @Test func aDamagedHeaderIsCorruption() throws {
        try withTemporaryDirectory { directory in
            let (path, _) = try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [.init(sequence: 1, group: 1)]
            )
            for offset: Int64 in [0, 7, 8, 20, 40, 63] {
                try flipBit(path, at: offset)
                let error = Self.scanFails(directory)
                if offset == 8 {
                    // The version field: read before the checksum, so it names the version.
                    #expect(error?.code == .unsupportedFormat, "byte \(offset)")
                    #expect(error?.offset == 8)
                } else {
                    #expect(error?.code == .corrupted, "byte \(offset)")
                    #expect(error?.offset == 0)
                }
                #expect(error?.path == path)
                try flipBit(path, at: offset)
            }
            #expect(try scanJournal(directory).scan.records == 1)
        }
    }

    @Test func anotherFormatVersionIsUnsupported() throws {
        try withTemporaryDirectory { directory in
            let (path, _) = try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [.init(sequence: 1, group: 1)]
            )
            let header = JournalFormatTests.withField(Array(try fileBytes(path)[0..<64]), at: 8, 2, width: 2)
            try overwrite(path, at: 0, with: header)
            let error = Self.scanFails(directory)
            #expect(error?.code == .unsupportedFormat)
            #expect(error?.path == path)
            #expect(error?.offset == 8)
            #expect(error?.message.contains("version 2") == true)
        }
    }

    @Test func aHeaderThatDisagreesWithItsFileIsCorruption() throws {
        try withTemporaryDirectory { directory in
            // The name says 1, the header says 5.
            let (renamed, _) = try Self.writeSegment(
                in: directory,
                firstSequence: 5,
                records: [],
                name: JournalFormat.segmentName(firstSequence: 1)
            )
            var error = Self.scanFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.path == renamed)
            #expect(error?.offset == 16)
            try SystemFileSystem().removeFile(renamed)

            // The header says 65536 bytes, the file has more.
            let (path, _) = try Self.writeSegment(in: directory, firstSequence: 1, records: [])
            try overwrite(path, at: 65_536, with: [0])
            error = Self.scanFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.offset == 24)

            // Shorter than a header.
            let fileSystem = SystemFileSystem()
            let file = try fileSystem.openFile(path, create: false)
            try fileSystem.resize(file, to: 63)
            try fileSystem.close(file)
            error = Self.scanFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.offset == 0)
        }
    }

    @Test func aSequenceGapBetweenSegmentsIsCorruption() throws {
        try withTemporaryDirectory { directory in
            try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [.init(sequence: 1, group: 1), .init(sequence: 2, group: 2)]
            )
            let (path, _) = try Self.writeSegment(
                in: directory,
                firstSequence: 4,
                records: [.init(sequence: 4, group: 4)]
            )
            let error = Self.scanFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.path == path)
            #expect(error?.offset == 16)
            #expect(error?.sequence == 3)
        }
    }

    @Test func aSegmentStartingBeforeThePreviousEndIsCorruption() throws {
        try withTemporaryDirectory { directory in
            try Self.writeSegment(
                in: directory,
                firstSequence: 1,
                records: [.init(sequence: 1, group: 1), .init(sequence: 2, group: 2)]
            )
            // Records 2 and 3 in the second segment: sequence 2 twice.
            let (path, _) = try Self.writeSegment(
                in: directory,
                firstSequence: 2,
                records: [.init(sequence: 2, group: 2)]
            )
            let error = Self.scanFails(directory)
            #expect(error?.code == .corrupted)
            #expect(error?.path == path)
            #expect(error?.sequence == 3)
        }
    }
}
