import Foundation
import Synchronization
import SystemPackage
import TallyTestKit
import Testing

@testable import TallyStorage

/// The journal end to end on the real file system: round trips through close and reopen, segment
/// rotation, the durable handler, backpressure and closing.
@Suite("Journal", .timeLimit(.minutes(1)))
struct JournalTests {
    /// Record sizes from 1 byte to the largest a small segment holds, with the edges around the
    /// record header and the page size, then seeded random ones.
    static func variedSizes(count: Int, seed: UInt64) -> [Int] {
        let largest = smallSegments.recordPayloadBytesMax
        var sizes = [1, 2, 23, 24, 25, 4_071, 4_072, 4_073, 4_096, largest - 1, largest, 1, largest, 300]
        var random = SeededRandom(seed: seed)
        while sizes.count < count {
            // Mostly small records, some large ones.
            let size = random.chance(0.1) ? Int(random.next() % UInt64(largest)) + 1 : Int(random.next() % 2_000) + 1
            sizes.append(size)
        }
        return sizes
    }

    @Test func recordsOfVariedSizesSurviveCloseAndReopen() throws {
        try withTemporaryDirectory { directory in
            let payloads = Self.variedSizes(count: 400, seed: 1).enumerated().map { payload($1, seed: UInt64($0)) }
            let log = DurabilityLog()
            let (journal, scan, replayed) = try openJournal(directory, log: log)
            #expect(scan.nextSequence == 1 && replayed.isEmpty)
            var sequences: [UInt64] = []
            for bytes in payloads {
                sequences.append(try journal.append(bytes))
            }
            #expect(sequences == Array(1...UInt64(payloads.count)))
            #expect(journal.lastAppendedSequence == UInt64(payloads.count))
            try journal.close()
            #expect(log.lastDurable == UInt64(payloads.count))

            let (reopened, rescan, again) = try openJournal(directory)
            defer { try? reopened.close() }
            #expect(again == payloads.enumerated().map { Record(sequence: UInt64($0 + 1), payload: $1) })
            #expect(rescan.records == UInt64(payloads.count))
            #expect(rescan.payloadBytes == UInt64(payloads.reduce(0) { $0 + $1.count }))
            #expect(rescan.tornTail == nil)
            #expect(rescan.nextSequence == UInt64(payloads.count + 1))
            #expect(rescan.segments.count > 10)
            #expect(reopened.durableSequence == UInt64(payloads.count))
            #expect(reopened.lastAppendedSequence == UInt64(payloads.count))
        }
    }

    @Test func appendingContinuesAfterReopen() throws {
        try withTemporaryDirectory { directory in
            var expected: [Record] = []
            for round in 0..<4 {
                let (journal, scan, replayed) = try openJournal(directory)
                #expect(replayed == expected, "round \(round)")
                #expect(scan.nextSequence == UInt64(expected.count + 1))
                for index in 0..<(round * 3) {
                    let bytes = payload(10 + index * 1_000, seed: UInt64(100 * round + index))
                    let sequence = try journal.append(bytes)
                    #expect(sequence == UInt64(expected.count + 1))
                    expected.append(Record(sequence: sequence, payload: bytes))
                }
                try journal.close()
            }
            #expect(try scanJournal(directory).replayed == expected)
        }
    }

    @Test func anEmptyJournalReopensEmpty() throws {
        try withTemporaryDirectory { directory in
            let (journal, _, _) = try openJournal(directory)
            try journal.close()
            // One segment, ready for record 1; the spare is gone.
            #expect(try fileNames(directory) == ["00000000000000000001.journal"])
            let (reopened, scan, replayed) = try openJournal(directory)
            #expect(replayed.isEmpty)
            #expect(scan.nextSequence == 1)
            #expect(try reopened.append([7]) == 1)
            try reopened.close()
            #expect(try scanJournal(directory).replayed == [Record(sequence: 1, payload: [7])])
        }
    }

    @Test func aRecordThatExactlyFillsASegment() throws {
        try withTemporaryDirectory { directory in
            let room = Journal.segmentBytesMin - JournalFormat.segmentHeaderBytes
            let (journal, _, _) = try openJournal(directory)
            // A record filling the rest of segment 1 exactly, then one byte too many for the rest
            // of segment 2, then the largest record, alone in segment 4.
            let first = payload(1_000, seed: 1)
            let fill = payload(room - 1_024 - JournalFormat.recordHeaderBytes, seed: 2)
            let almost = payload(room - 2_024 - JournalFormat.recordHeaderBytes + 1, seed: 4)
            let largest = payload(smallSegments.recordPayloadBytesMax, seed: 5)
            let payloads = [first, fill, payload(2_000, seed: 3), almost, largest, [1]]
            for bytes in payloads {
                try journal.append(bytes)
            }
            try journal.close()

            #expect(
                try segmentNames(directory) == [1, 3, 4, 5, 6].map { JournalFormat.segmentName(firstSequence: $0) }
            )
            let (scan, replayed) = try scanJournal(directory)
            #expect(replayed.map(\.payload) == payloads)
            #expect(scan.segments.map(\.records) == [2, 1, 1, 1, 1])
            #expect(scan.segments.map(\.end) == [65_536, 2_088, 65_536 - 2_023, 65_536, 89])
            #expect(scan.segments.allSatisfy { $0.bytes == 65_536 })
        }
    }

    @Test func theLargestRecordFillsTheSmallestFullSizeSegment() throws {
        try withTemporaryDirectory { directory in
            let configuration = Journal.Configuration(segmentBytes: JournalFormat.segmentBytesMin)
            #expect(configuration.recordPayloadBytesMax == JournalFormat.recordPayloadBytesMax)
            let largest = payload(JournalFormat.recordPayloadBytesMax, seed: 1)
            let (journal, _, _) = try openJournal(directory, configuration: configuration)
            try journal.append([1])
            try journal.append(largest)
            try journal.append(largest)
            try journal.append([2])
            try journal.close()
            let (scan, replayed) = try scanJournal(directory)
            #expect(replayed.map(\.payload) == [[1], largest, largest, [2]])
            // Each largest record fills a segment of its own; the last record needs a fourth.
            #expect(scan.segments.map(\.records) == [1, 1, 1, 1])
            #expect(
                scan.segments.map(\.end) == [
                    89, Int64(JournalFormat.segmentBytesMin), Int64(JournalFormat.segmentBytesMin), 89,
                ]
            )
        }
    }

    @Test func payloadsOutOfRangeAreRejected() throws {
        try withTemporaryDirectory { directory in
            let (journal, _, _) = try openJournal(directory)
            defer { try? journal.close() }
            for count in [0, smallSegments.recordPayloadBytesMax + 1] {
                let error = storageError { try journal.append([UInt8](repeating: 1, count: count)) }
                #expect(error?.code == .invalidArgument, "\(count) bytes")
            }
            // Nothing was appended.
            #expect(try journal.append([1]) == 1)
        }
    }

    @Test func theDurableHandlerReportsIncreasingSequencesEndingAtTheLast() throws {
        try withTemporaryDirectory { directory in
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, log: log)
            // Appended on this thread, reported on the sync thread.
            let count: UInt64 = 20_000
            var sequences: [UInt64] = []
            for index in 1...count {
                sequences.append(try journal.append(payload(Int(index % 50) + 1, seed: index)))
            }
            #expect(sequences == Array(1...count))
            try journal.waitUntilDurable(count)
            #expect(journal.durableSequence == count)
            try journal.close()
            let reported = log.durableSequences
            #expect(log.failures.isEmpty)
            #expect(reported.last == count)
            #expect(zip(reported, reported.dropFirst()).allSatisfy { $0 < $1 })
            #expect(try scanJournal(directory).scan.records == count)
        }
    }

    @Test func waitUntilDurableReturnsOnceTheSyncCoversTheRecord() throws {
        try withTemporaryDirectory { directory in
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, log: log)
            defer { try? journal.close() }
            try journal.waitUntilDurable(0)
            for expected: UInt64 in 1...50 {
                let sequence = try journal.append(payload(100, seed: expected))
                try journal.waitUntilDurable(sequence)
                #expect(journal.durableSequence >= sequence)
            }
            try journal.close()
            #expect(log.lastDurable == 50)
            // Waiting for what is already durable returns at once, even after close.
            try journal.waitUntilDurable(50)
        }
    }

    @Test func waitingForASequenceNeverAppendedEndsWithTheClose() throws {
        try withTemporaryDirectory { directory in
            let (journal, _, _) = try openJournal(directory)
            try journal.append([1])
            let outcome = Mutex<StorageError?>(nil)
            let done = DispatchSemaphore(value: 0)
            Thread {
                do {
                    try journal.waitUntilDurable(2)
                } catch let error as StorageError {
                    outcome.withLock { $0 = error }
                } catch {}
                done.signal()
            }.start()
            // The waiter is blocked (nothing will append 2) until the close.
            #expect(done.wait(timeout: .now() + 0.05) == .timedOut)
            try journal.close()
            done.wait()
            let error = outcome.withLock { $0 }
            #expect(error?.code == .closed)
            #expect(error?.sequence == 2)
            #expect(storageError { try journal.waitUntilDurable(2) }?.code == .closed)
            try journal.waitUntilDurable(1)
        }
    }

    @Test func tinyPendingLimitDoesNotDeadlock() throws {
        try withTemporaryDirectory { directory in
            let configuration = Journal.Configuration(segmentBytes: Journal.segmentBytesMin, pendingBytesMax: 1)
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, configuration: configuration, log: log)
            // Every append waits until the sync thread took the previous record; records larger
            // than the limit still go, one at a time.
            let payloads = (0..<500).map { payload($0 % 7 == 0 ? 30_000 : 200, seed: UInt64($0)) }
            for bytes in payloads {
                try journal.append(bytes)
            }
            try journal.close()
            #expect(log.lastDurable == 500)
            #expect(try scanJournal(directory).replayed.map(\.payload) == payloads)
        }
    }

    @Test func backpressureBoundsWhatIsPending() throws {
        try withTemporaryDirectory { directory in
            // With syncs slowed down, appends must wait for the sync thread instead of queueing
            // megabytes: 100 KiB of records at most per group.
            let fileSystem = FaultInjectingFileSystem()
            fileSystem.delay(.synchronizeData, nanoseconds: 2_000_000, where: FaultInjectingFileSystem.segmentFiles)
            let configuration = Journal.Configuration(
                segmentBytes: Journal.segmentBytesMin * 4,
                pendingBytesMax: 100 << 10
            )
            let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem, configuration: configuration)
            for index in 0..<400 {
                try journal.append(payload(4_000, seed: UInt64(index)))
            }
            try journal.close()
            let writes = fileSystem.calls(of: .write).filter {
                $0.path.map(FaultInjectingFileSystem.segmentFiles) ?? false
            }
            #expect(writes.allSatisfy { ($0.bytes ?? 0) <= 100 << 10 }, "\(writes.map { $0.bytes ?? 0 }.max() ?? 0)")
            #expect(try scanJournal(directory).scan.records == 400)
        }
    }

    @Test func closeMakesEverythingDurable() throws {
        try withTemporaryDirectory { directory in
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, log: log)
            let payloads = (0..<3_000).map { payload(Int($0 % 300) + 1, seed: UInt64($0)) }
            for bytes in payloads {
                try journal.append(bytes)
            }
            try journal.close()
            #expect(log.lastDurable == 3_000)
            #expect(journal.durableSequence == 3_000)
            #expect(try scanJournal(directory).replayed.map(\.payload) == payloads)
        }
    }

    @Test func afterCloseAppendsAreRejectedAndCloseAgainDoesNothing() throws {
        try withTemporaryDirectory { directory in
            let (journal, _, _) = try openJournal(directory)
            try journal.append([1, 2, 3])
            try journal.close()
            #expect(storageError { try journal.append([4]) }?.code == .closed)
            try journal.close()
            #expect(journal.failure == nil)
            // Only the segment is left: the spare was removed.
            #expect(try fileNames(directory) == ["00000000000000000001.journal"])
        }
    }

    @Test func leftoverSparesAreRemovedWhenOpening() throws {
        try withTemporaryDirectory { directory in
            let (journal, _, _) = try openJournal(directory)
            try journal.append([1])
            try journal.close()
            for number in [0, 1, 7] {
                try JournalScannerTests.writeSegment(
                    in: directory,
                    firstSequence: 2,
                    records: [],
                    name: JournalFormat.spareName(number)
                )
            }
            let (reopened, _, replayed) = try openJournal(directory)
            #expect(replayed.map(\.sequence) == [1])
            try reopened.close()
            #expect(try fileNames(directory) == ["00000000000000000001.journal"])
        }
    }

    @Test func recordsAppendedFromOneThreadWhileAnotherWaits() throws {
        try withTemporaryDirectory { directory in
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, log: log)
            let count: UInt64 = 5_000
            // A waiter on another thread follows the durable sequence while this one appends; what
            // it sees never goes back.
            let waitedFor = Array(stride(from: UInt64(1), through: count, by: 97)) + [count]
            let seen = Mutex<[UInt64]>([])
            let done = DispatchSemaphore(value: 0)
            let waiter = Thread {
                for sequence in waitedFor {
                    try? journal.waitUntilDurable(sequence)
                    let durable = journal.durableSequence
                    seen.withLock { $0.append(durable) }
                }
                done.signal()
            }
            waiter.start()
            for index in 1...count {
                try journal.append(payload(64, seed: index))
            }
            done.wait()
            try journal.close()
            let observed = seen.withLock { $0 }
            #expect(observed.count == waitedFor.count)
            #expect(zip(observed, waitedFor).allSatisfy { $0 >= $1 })
            #expect(zip(observed, observed.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(log.lastDurable == count)
        }
    }
}
