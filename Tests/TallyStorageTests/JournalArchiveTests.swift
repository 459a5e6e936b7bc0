import Foundation
import SystemPackage
import Testing

@testable import TallyStorage

/// The journal archive: covered segments move into `archive/` as zstd copies that read back exactly,
/// nothing is lost at any step, and the scanner reads the whole history across both places.
@Suite("Journal archive")
struct JournalArchiveTests {
    /// Writes `count` records of varied sizes through a journal of the smallest segments and
    /// closes it; returns the records.
    static func writeJournal(_ directory: FilePath, count: Int) throws -> [Record] {
        let (journal, _, _) = try openJournal(directory)
        var written: [Record] = []
        for index in 0..<count {
            let bytes = payload(200 + (index * 37) % 3_000, seed: UInt64(index))
            let sequence = try journal.append(bytes)
            written.append(Record(sequence: sequence, payload: bytes))
        }
        try journal.close()
        return written
    }

    static func archiveNames(_ directory: FilePath) throws -> [String] {
        let path = JournalArchive.archivePath(of: directory)
        guard SystemFileSystem().fileExists(path) else { return [] }
        return try fileNames(path)
    }

    @Test func coveredSegmentsMoveToTheArchiveAndTheScanStillReadsEverything() throws {
        try withTemporaryDirectory { directory in
            let written = try Self.writeJournal(directory, count: 200)
            let segments = try JournalScanner(directory: directory).segmentNames()
            #expect(segments.count >= 5)
            let before = try scanJournal(directory)
            // Cover everything up to the middle of the fourth segment: three segments qualify.
            let covered = segments[3].firstSequence + 2
            let archived = try JournalArchive(directory: directory).archive(coveredThrough: covered)
            #expect(archived.map(\.name) == segments[0..<3].map(\.name))
            #expect(archived.allSatisfy { $0.archivedBytes > 0 && $0.records > 0 })
            #expect(try segmentNames(directory) == segments.map(\.name))
            #expect(
                try fileNames(directory).filter { JournalFormat.firstSequence(ofSegmentNamed: $0) != nil }
                    == segments[3...].map(\.name)
            )
            #expect(
                try Self.archiveNames(directory) == segments[0..<3].map { JournalArchive.archivedName(of: $0.name) }
            )

            let after = try scanJournal(directory)
            #expect(after.replayed == written)
            #expect(after.scan.records == before.scan.records)
            #expect(after.scan.segments.map(\.isArchived) == segments.indices.map { $0 < 3 })
            #expect(after.scan.segments.map(\.end) == before.scan.segments.map(\.end))

            // Archiving again does nothing more; the journal reopens and appends after the archive.
            #expect(try JournalArchive(directory: directory).archive(coveredThrough: covered).isEmpty)
            let (journal, scan, replayed) = try openJournal(directory)
            #expect(replayed == written)
            #expect(scan.nextSequence == UInt64(written.count + 1))
            #expect(try journal.append(payload(10, seed: 99)) == UInt64(written.count + 1))
            try journal.close()
        }
    }

    @Test func theLastSegmentAndSegmentsNotWhollyCoveredStay() throws {
        try withTemporaryDirectory { directory in
            let written = try Self.writeJournal(directory, count: 120)
            let segments = try JournalScanner(directory: directory).segmentNames()
            // Through the record before the second segment starts: only the first is covered.
            let first = try JournalArchive(directory: directory).archive(coveredThrough: segments[1].firstSequence - 1)
            #expect(first.map(\.name) == [segments[0].name])
            // Everything covered: every segment but the last.
            let rest = try JournalArchive(directory: directory).archive(coveredThrough: UInt64(written.count))
            #expect(rest.map(\.name) == segments.dropFirst().dropLast().map(\.name))
            #expect(try fileNames(directory).contains(segments.last!.name))
        }
    }

    @Test func aSegmentInBothPlacesIsReadFromTheJournalAndArchivedAgain() throws {
        try withTemporaryDirectory { directory in
            let written = try Self.writeJournal(directory, count: 120)
            let segments = try JournalScanner(directory: directory).segmentNames()
            let original = directory.appending(segments[0].name)
            let kept = try Data(contentsOf: URL(fileURLWithPath: original.string))
            try JournalArchive(directory: directory).archive(coveredThrough: segments[1].firstSequence - 1)
            // A crash after the copy was renamed into place and before the original was removed.
            try kept.write(to: URL(fileURLWithPath: original.string))
            let listed = try JournalScanner(directory: directory).segmentNames()
            #expect(listed.first?.isArchived == false)
            #expect(try scanJournal(directory).replayed == written)
            // A crash before the rename leaves a temporary copy, which the next run removes.
            let temporary = JournalArchive.archivePath(of: directory).appending(
                JournalArchive.archivedName(of: segments[0].name) + ".tmp"
            )
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: temporary.string))
            let again = try JournalArchive(directory: directory).archive(coveredThrough: segments[1].firstSequence - 1)
            #expect(again.map(\.name) == [segments[0].name])
            #expect(!SystemFileSystem().fileExists(original))
            #expect(!SystemFileSystem().fileExists(temporary))
            #expect(try scanJournal(directory).replayed == written)
        }
    }

    /// A reader that listed the segments just before one was archived still reads it, from the copy.
    @Test func aSegmentArchivedAfterItWasListedIsReadFromTheCopy() throws {
        try withTemporaryDirectory { directory in
            _ = try Self.writeJournal(directory, count: 120)
            let scanner = JournalScanner(directory: directory)
            let listed = try scanner.segmentNames()
            var before: [UInt8] = []
            let size = try scanner.load(listed[0], into: &before)
            try JournalArchive(directory: directory).archive(coveredThrough: listed[1].firstSequence - 1)
            #expect(!SystemFileSystem().fileExists(directory.appending(listed[0].name)))
            var after: [UInt8] = []
            #expect(try scanner.load(listed[0], into: &after) == size)
            #expect(after[0..<size] == before[0..<size])
        }
    }

    @Test func aDamagedArchiveCopyIsReportedWithItsPath() throws {
        try withTemporaryDirectory { directory in
            _ = try Self.writeJournal(directory, count: 120)
            let segments = try JournalScanner(directory: directory).segmentNames()
            try JournalArchive(directory: directory).archive(coveredThrough: segments[1].firstSequence - 1)
            let path = JournalArchive.archivePath(of: directory).appending(
                JournalArchive.archivedName(of: segments[0].name)
            )
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path.string)))
            let pristine = bytes
            for index in [bytes.count / 2, bytes.count - 2, 6] {
                bytes = pristine
                bytes[index] ^= 0x20
                try Data(bytes).write(to: URL(fileURLWithPath: path.string))
                let error = storageError { _ = try scanJournal(directory) }
                #expect(error?.code == .corrupted)
                #expect(error?.path == path)
            }
            // Truncated.
            try Data(pristine[0..<pristine.count / 2]).write(to: URL(fileURLWithPath: path.string))
            #expect(storageError { _ = try scanJournal(directory) }?.path == path)
            // Missing: the log then starts after sequence 1, which a replay from empty must refuse.
            try FileManager.default.removeItem(atPath: path.string)
            let missing = storageError { _ = try scanJournal(directory) }
            #expect(missing?.code == .corrupted)
        }
    }

    @Test func aDamagedSegmentIsNotArchived() throws {
        try withTemporaryDirectory { directory in
            _ = try Self.writeJournal(directory, count: 120)
            let segments = try JournalScanner(directory: directory).segmentNames()
            let path = directory.appending(segments[0].name)
            let victim = try #require(try recordLocations(path).first { $0.sequence == 3 })
            try flipBit(path, at: victim.offset + Int64(JournalFormat.recordHeaderBytes) + 5)
            let error = storageError {
                try JournalArchive(directory: directory).archive(coveredThrough: segments[2].firstSequence - 1)
            }
            #expect(error?.code == .corrupted)
            #expect(try Self.archiveNames(directory).isEmpty)
            #expect(try fileNames(directory).contains(segments[0].name))
        }
    }

    @Test func aBoundedScanStopsAtItsSequenceAndRefusesAJournalThatEndsBefore() throws {
        try withTemporaryDirectory { directory in
            let written = try Self.writeJournal(directory, count: 150)
            let segments = try JournalScanner(directory: directory).segmentNames()
            try JournalArchive(directory: directory).archive(coveredThrough: segments[1].firstSequence - 1)
            for (after, through) in [(0, 1), (0, 77), (10, 150), (Int(segments[1].firstSequence), 120), (40, 40)] {
                var seen: [Record] = []
                let scan = try JournalScanner(directory: directory).scan(
                    after: UInt64(after),
                    through: UInt64(through)
                ) { seen.append(Record(sequence: $0, payload: Array($1))) }
                #expect(seen == Array(written[after..<through]))
                #expect(scan.lastSequence == (through > after ? UInt64(through) : nil))
            }
            // Bytes after the bound are never looked at: garbage there (a write in progress in a live
            // journal) does not matter.
            let lastPath = directory.appending(try #require(segments.last).name)
            let last = try #require(try recordLocations(lastPath).last)
            try flipBit(lastPath, at: last.offset + 30)
            var count = 0
            _ = try JournalScanner(directory: directory).scan(through: last.sequence - 1) { _, _ in count += 1 }
            #expect(count == Int(last.sequence - 1))
            let beyond = storageError { _ = try JournalScanner(directory: directory).scan(through: 151) { _, _ in } }
            #expect(beyond?.code == .corrupted)
        }
    }
}
