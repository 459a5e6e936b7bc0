import Foundation
import Synchronization
import SystemPackage
import TallyTestKit
import Testing

@testable import TallyStorage

/// The journal on a ``FaultInjectingFileSystem``: group commit under slow syncs, failed syncs and
/// writes, a full disk, failures while preparing segments, and power losses.
@Suite("Journal faults", .timeLimit(.minutes(1)))
struct JournalFaultTests {
    typealias Faulty = FaultInjectingFileSystem

    static func isSegment(_ call: Faulty.Call) -> Bool {
        call.path.map(Faulty.segmentFiles) ?? false
    }

    /// The calls to segment files after the `index`th call of the log.
    static func segmentCalls(after index: Int, in calls: [Faulty.Call]) -> [Faulty.Call] {
        calls[(index + 1)...].filter(Self.isSegment)
    }

    // MARK: - Group commit

    @Test func slowSyncsAreSharedByTheRecordsAppendedMeanwhile() throws {
        try withTemporaryDirectory { directory in
            let fileSystem = Faulty()
            fileSystem.delay(.synchronizeData, nanoseconds: 20_000_000, where: Faulty.segmentFiles)
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem, log: log)
            let payloads = (0..<500).map { payload(100, seed: UInt64($0)) }
            for bytes in payloads {
                try journal.append(bytes)
            }
            try journal.close()

            let calls = fileSystem.calls.filter(Self.isSegment)
            let syncs = calls.filter { $0.operation == .synchronizeData }
            #expect(syncs.count >= 1)
            #expect(syncs.count < 25, "\(syncs.count) syncs for 500 records")
            // One write per group, each followed by its sync; one durable report per sync.
            let pattern = calls.filter { $0.operation == .write || $0.operation == .synchronizeData }.map(\.operation)
            #expect(
                pattern
                    == Array(repeating: [Faulty.Operation.write, .synchronizeData], count: syncs.count).flatMap { $0 }
            )
            #expect(log.durableSequences.count == syncs.count)
            #expect(log.lastDurable == 500)
            #expect(try scanJournal(directory).replayed.map(\.payload) == payloads)
        }
    }

    // MARK: - c) Power loss

    /// Records 1 ... 20 are durable; 21 ... 60 are written as one group whose sync hangs when the
    /// power goes. Without tearing exactly 1 ... 20 come back; with tearing, a prefix of the group
    /// may too, as the surviving pages say, and the rest is a torn tail when any of it survived.
    /// Returns how many records of the group survived and whether a torn tail was found.
    static func powerLossDuringAHungSync(tearing: Faulty.Tearing) throws -> (survivors: Int, tornTail: Bool) {
        try withTemporaryDirectory { directory in
            let fileSystem = Faulty()
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem, log: log)
            let payloads = (0..<60).map { payload(1_000, seed: UInt64($0)) }
            try appendOneByOne(journal, Array(payloads[0..<19]))

            // Record 20 waits in its write while 21 ... 60 gather behind it; then 20 is synced and
            // the sync of 21 ... 60 hangs.
            fileSystem.hold(.write, where: Faulty.segmentFiles)
            try journal.append(payloads[19])
            #expect(fileSystem.waitUntil { _, held in held == 1 })
            for bytes in payloads[20...] {
                try journal.append(bytes)
            }
            fileSystem.hold(.synchronizeData, on: .nth(2), where: Faulty.segmentFiles)
            fileSystem.release(.write)
            let segmentSyncs = { (calls: [Faulty.Call]) in
                calls.filter { $0.operation == .synchronizeData && Self.isSegment($0) }.count
            }
            #expect(fileSystem.waitUntil { calls, held in held == 1 && segmentSyncs(calls) == 21 })
            #expect(journal.durableSequence == 20)

            let report = try fileSystem.simulatePowerLoss(tearing: tearing)
            fileSystem.release(.synchronizeData)
            let failure = storageError { try journal.close() }
            #expect(failure?.code == .journalFailed)
            #expect(failure?.errno == .ioError)
            #expect(log.lastDurable == 20)

            // Where the group's records are, and which of them the surviving pages hold whole.
            let segment = directory.appending(JournalFormat.segmentName(firstSequence: 1))
            let groupStart = Int64(JournalFormat.segmentHeaderBytes + 20 * 1_024)
            let groupEnd = groupStart + Int64(40 * 1_024)
            let firstReverted = (report.revertedPages[segment] ?? []).min() ?? Int64.max
            let survivors = (0..<40).prefix { groupStart + Int64(($0 + 1) * 1_024) <= firstReverted }.count
            let cut = groupStart + Int64(survivors * 1_024)
            let bytesLeftAfterCut = (report.keptPages[segment] ?? []).contains {
                max($0, cut) < min($0 + 4_096, groupEnd)
            }
            if tearing == .none {
                #expect(report.keptPages.isEmpty)
                #expect(report.revertedPages[segment] == (5...15).map { Int64($0 * 4_096) })
            }

            fileSystem.restart()
            let (reopened, scan, replayed) = try openJournal(directory, fileSystem: fileSystem)
            #expect(replayed.map(\.payload) == Array(payloads[0..<20 + survivors]))
            if bytesLeftAfterCut {
                #expect(scan.tornTail?.segment == segment.lastComponent?.string)
                #expect(scan.tornTail?.offset == cut)
                #expect(scan.tornTail?.sequence == UInt64(21 + survivors))
            } else {
                #expect(scan.tornTail == nil)
            }
            #expect(try fileBytes(segment)[Int(cut)...].allSatisfy { $0 == 0 })
            #expect(try reopened.append([42]) == UInt64(21 + survivors))
            try reopened.close()
            #expect(try scanJournal(directory).replayed.last == Record(sequence: UInt64(21 + survivors), payload: [42]))
            return (survivors, scan.tornTail != nil)
        }
    }

    @Test func aPowerLossKeepsWhatWasReportedDurable() throws {
        let untorn = try Self.powerLossDuringAHungSync(tearing: .none)
        #expect(untorn.survivors == 0 && !untorn.tornTail)
        // The seeds must produce every outcome, or the test checks less than it says.
        var outcomes: Set<String> = []
        let tearings =
            (1...8).map { Faulty.Tearing.randomPages(seed: $0) }
            + (1...2).map { Faulty.Tearing.randomPages(seed: $0, keptProbability: 0.97) }
        for tearing in tearings {
            let torn = try Self.powerLossDuringAHungSync(tearing: tearing)
            outcomes.insert(torn.survivors > 0 ? "part of the group survived" : "none of the group survived")
            outcomes.insert(torn.tornTail ? "torn tail" : "clean end")
        }
        #expect(outcomes.count == 4, "\(outcomes)")
    }

    /// A crash at a random moment under load, rotations included: every record reported durable
    /// survives, what survives is a prefix of what was appended, and the journal opens.
    @Test(arguments: 1...6 as ClosedRange<UInt64>)
    func aPowerLossAtARandomMoment(seed: UInt64) throws {
        try withTemporaryDirectory { directory in
            let fileSystem = Faulty()
            fileSystem.delay(.synchronizeData, nanoseconds: 300_000, where: Faulty.segmentFiles)
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem, log: log)
            let appended = Mutex<[[UInt8]]>([])
            let done = DispatchSemaphore(value: 0)
            Thread {
                var random = SeededRandom(seed: seed)
                var index: UInt64 = 0
                while true {
                    index += 1
                    let bytes = payload(Int(random.next() % 6_000) + 1, seed: seed << 32 | index)
                    guard (try? journal.append(bytes)) != nil else { break }
                    appended.withLock { $0.append(bytes) }
                }
                done.signal()
            }.start()
            // Something is durable first, however slow the machine, then the crash comes 0 to 40 ms
            // later.
            try journal.waitUntilDurable(1)
            var random = SeededRandom(seed: seed)
            Thread.sleep(forTimeInterval: Double(random.next() % 40) / 1_000)
            try fileSystem.simulatePowerLoss(tearing: seed % 2 == 0 ? .none : .randomPages(seed: seed))
            done.wait()
            #expect(storageError { try journal.close() }?.code == .journalFailed)
            let durable = log.lastDurable
            #expect(durable > 0)
            #expect(log.failures.count == 1)

            fileSystem.restart()
            let (reopened, scan, replayed) = try openJournal(directory, fileSystem: fileSystem)
            let written = appended.withLock { $0 }
            #expect(replayed.count >= Int(durable))
            try #require(replayed.count <= written.count)
            #expect(replayed.map(\.payload) == Array(written[0..<replayed.count]))
            #expect(replayed.map(\.sequence) == Array(1...UInt64(replayed.count)))
            #expect(scan.nextSequence == UInt64(replayed.count + 1))
            #expect(try reopened.append([7]) == UInt64(replayed.count + 1))
            try reopened.close()
            #expect(try scanJournal(directory).scan.lastSequence == UInt64(replayed.count + 1))
        }
    }

    // MARK: - d) A failed fdatasync

    /// Records 1 ... 5 are durable; 6 is written and its sync fails; 7 and 8 were appended during
    /// that sync. The design: 6 was written before its sync failed, so the file holds it and a
    /// reopen without a power loss replays it (never acknowledged, but intact); 7 and 8 were never
    /// written. After a power loss only 1 ... 5 are there.
    @Test(arguments: [false, true])
    func aFailedSyncStopsTheJournalForGood(powerLoss: Bool) throws {
        try withTemporaryDirectory { directory in
            let fileSystem = Faulty()
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem, log: log)
            let payloads = (0..<9).map { payload(200, seed: UInt64($0)) }
            try appendOneByOne(journal, Array(payloads[0..<5]))

            fileSystem.hold(.synchronizeData, where: Faulty.segmentFiles)
            fileSystem.failCalls(.synchronizeData, with: .ioError, on: .nth(1), where: Faulty.segmentFiles)
            #expect(try journal.append(payloads[5]) == 6)
            #expect(fileSystem.waitUntil { _, held in held == 1 })
            #expect(try journal.append(payloads[6]) == 7)
            #expect(try journal.append(payloads[7]) == 8)
            fileSystem.release(.synchronizeData)

            let waited = storageError { try journal.waitUntilDurable(6) }
            #expect(waited?.code == .journalFailed)
            #expect(waited?.errno == .ioError)
            #expect(waited?.path == directory.appending(JournalFormat.segmentName(firstSequence: 1)))
            #expect(waited?.sequence == 6)
            let appendError = storageError { try journal.append(payloads[8]) }
            #expect(appendError?.code == .journalFailed)
            #expect(appendError?.errno == .ioError)
            #expect(journal.failure?.code == .journalFailed)
            #expect(journal.durableSequence == 5)
            let closeError = storageError { try journal.close() }
            #expect(closeError == waited)

            #expect(log.durableSequences == [1, 2, 3, 4, 5])
            #expect(log.failures.map(\.code) == [.journalFailed])
            #expect(log.failures.first?.errno == .ioError)
            #expect(log.all.count == 6)

            // No fdatasync at all after the failed one, and nothing written to or synced in a
            // segment (the preparer may still have finished its spare).
            let calls = fileSystem.calls
            let failed = try #require(
                calls.lastIndex { $0.operation == .synchronizeData && $0.outcome == .failed(.ioError) }
            )
            #expect(calls[(failed + 1)...].filter { $0.operation == .synchronizeData }.isEmpty)
            #expect(
                Self.segmentCalls(after: failed, in: calls)
                    .filter { [.write, .synchronizeData, .synchronize].contains($0.operation) }.isEmpty
            )

            if powerLoss {
                try fileSystem.simulatePowerLoss()
                fileSystem.restart()
            }
            fileSystem.clearFaults()
            let (reopened, scan, replayed) = try openJournal(directory, fileSystem: fileSystem)
            try reopened.close()
            let expected = powerLoss ? 5 : 6
            #expect(replayed.map(\.payload) == Array(payloads[0..<expected]))
            #expect(scan.tornTail == nil)
        }
    }

    // MARK: - e) A full disk

    /// Records 1 ... 5 are durable; 6 is written alone, then 7 and 8 as one group, while the disk
    /// fills up after `budget` more bytes.
    static func fillTheDisk(
        _ directory: FilePath,
        budget: Int64,
        shortWrite: Bool
    ) throws -> (fileSystem: Faulty, log: DurabilityLog, payloads: [[UInt8]], failure: StorageError?) {
        let fileSystem = Faulty()
        let log = DurabilityLog()
        let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem, log: log)
        let payloads = (0..<9).map { payload(100, seed: UInt64($0)) }
        try appendOneByOne(journal, Array(payloads[0..<5]))
        fileSystem.hold(.write, where: Faulty.segmentFiles)
        try journal.append(payloads[5])
        #expect(fileSystem.waitUntil { _, held in held == 1 })
        try journal.append(payloads[6])
        try journal.append(payloads[7])
        fileSystem.failWrites(afterBytes: budget, shortWrite: shortWrite, where: Faulty.segmentFiles)
        fileSystem.release(.write)
        let failure = storageError { try journal.waitUntilDurable(8) }
        #expect(storageError { try journal.append(payloads[8]) }?.code == .journalFailed)
        #expect(storageError { try journal.close() } == failure)
        return (fileSystem, log, payloads, failure)
    }

    @Test func aFullDiskStopsTheJournal() throws {
        try withTemporaryDirectory { directory in
            // Not even record 6 fits: nothing of it is written.
            let (fileSystem, log, payloads, failure) = try Self.fillTheDisk(directory, budget: 0, shortWrite: false)
            #expect(failure?.code == .journalFailed)
            #expect(failure?.errno == .noSpace)
            #expect(failure?.sequence == 6)
            #expect(failure?.offset == Int64(64 + 5 * 124))
            #expect(log.durableSequences == [1, 2, 3, 4, 5])
            #expect(log.failures.map(\.errno) == [.noSpace])
            let calls = fileSystem.calls
            let failed = try #require(calls.lastIndex { $0.operation == .write && $0.outcome == .failed(.noSpace) })
            #expect(calls[(failed + 1)...].filter { $0.operation == .synchronizeData }.isEmpty)
            #expect(Self.segmentCalls(after: failed, in: calls).filter { $0.operation == .write }.isEmpty)

            let (reopened, scan, replayed) = try openJournal(directory)
            try reopened.close()
            #expect(replayed.map(\.payload) == Array(payloads[0..<5]))
            #expect(scan.tornTail == nil)
        }
    }

    @Test func aShortWriteOnAFullDiskLeavesATornTail() throws {
        try withTemporaryDirectory { directory in
            // Record 6 fits, then 50 bytes of the group of 7 and 8.
            let (_, log, payloads, failure) = try Self.fillTheDisk(directory, budget: 124 + 50, shortWrite: true)
            #expect(failure?.code == .journalFailed)
            #expect(failure?.errno == .noSpace)
            #expect(failure?.sequence == 7)
            #expect(log.durableSequences == [1, 2, 3, 4, 5, 6])

            let segment = JournalFormat.segmentName(firstSequence: 1)
            let (reopened, scan, replayed) = try openJournal(directory)
            #expect(replayed.map(\.payload) == Array(payloads[0..<6]))
            #expect(scan.tornTail == .init(segment: segment, offset: Int64(64 + 6 * 124), sequence: 7, bytes: 50))
            #expect(try reopened.append([1]) == 7)
            try reopened.close()
            #expect(try scanJournal(directory).replayed.map(\.sequence) == Array(1...7))
        }
    }

    // MARK: - Failures while preparing or activating a segment

    /// A failure preparing the spare segment surfaces when the journal needs it: the rotation
    /// fails, the journal stops with that failure, and everything before it is intact.
    @Test(
        arguments: [
            (Faulty.Operation.allocate, Errno.noSpace),
            (.write, .noSpace),
            (.openFile, .tooManyOpenFiles),
            (.synchronize, .ioError),
        ]
    )
    func aFailurePreparingTheNextSegmentStopsTheJournalAtRotation(operation: Faulty.Operation, errno: Errno) throws {
        try withTemporaryDirectory { directory in
            let (first, _, _) = try openJournal(directory)
            try first.close()

            let fileSystem = Faulty()
            fileSystem.failCalls(operation, with: errno, where: Faulty.spareFiles)
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem, log: log)
            // Six records of 10 000 bytes fill segment 1; the seventh needs the spare.
            let payloads = (0..<7).map { payload(10_000, seed: UInt64($0)) }
            try appendOneByOne(journal, Array(payloads[0..<6]))
            #expect(try journal.append(payloads[6]) == 7)
            let failure = storageError { try journal.waitUntilDurable(7) }
            #expect(failure?.code == .journalFailed)
            #expect(failure?.errno == errno)
            #expect(storageError { try journal.close() } == failure)
            // Once closed, the sync thread has made its last report.
            #expect(log.durableSequences == [1, 2, 3, 4, 5, 6])
            #expect(log.failures == [failure])
            #expect(fileSystem.calls(of: .rename).isEmpty)

            let (reopened, scan, replayed) = try openJournal(directory)
            try reopened.close()
            #expect(replayed.map(\.payload) == Array(payloads[0..<6]))
            #expect(scan.segments.count == 1)
            #expect(scan.tornTail == nil)
            #expect(try fileNames(directory) == [JournalFormat.segmentName(firstSequence: 1)])
        }
    }

    @Test(arguments: [Faulty.Operation.rename, .synchronizeData, .openDirectory])
    func aFailureActivatingTheNextSegmentStopsTheJournal(operation: Faulty.Operation) throws {
        try withTemporaryDirectory { directory in
            let fileSystem = Faulty()
            let log = DurabilityLog()
            let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem, log: log)
            let payloads = (0..<7).map { payload(10_000, seed: UInt64($0)) }
            try appendOneByOne(journal, Array(payloads[0..<6]))
            // The spare is ready; activating it (header sync, rename, directory sync) fails.
            let spareIsReady = { (calls: [Faulty.Call]) in
                calls.contains { call in
                    call.operation == .synchronize && call.outcome == .succeeded
                        && (call.path.map(Faulty.spareFiles) ?? false)
                }
            }
            #expect(fileSystem.waitUntil { calls, _ in spareIsReady(calls) })
            fileSystem.failCalls(
                operation,
                with: .ioError,
                where: operation == .openDirectory ? nil : Faulty.spareFiles
            )
            try journal.append(payloads[6])
            let failure = storageError { try journal.waitUntilDurable(7) }
            #expect(failure?.code == .journalFailed)
            #expect(failure?.errno == .ioError)
            #expect(storageError { try journal.close() } == failure)
            #expect(log.durableSequences == [1, 2, 3, 4, 5, 6])
            #expect(log.failures == [failure])

            let (reopened, _, replayed) = try openJournal(directory)
            #expect(replayed.map(\.payload) == Array(payloads[0..<6]))
            // Appending goes on where it stopped, in a new segment if the rename had happened.
            #expect(try reopened.append(payloads[6]) == 7)
            try reopened.close()
            #expect(try scanJournal(directory).replayed.map(\.payload) == payloads)
        }
    }

    @Test func aNewJournalDirectoryIsSyncedInItsParent() throws {
        try withTemporaryDirectory { parent in
            let directory = parent.appending("journal")
            let fileSystem = Faulty()
            let (journal, _, _) = try openJournal(directory, fileSystem: fileSystem)
            try journal.close()
            let calls = fileSystem.calls
            let created = try #require(calls.firstIndex { $0.operation == .createDirectory })
            let synced = try #require(calls.firstIndex { $0.operation == .synchronize && $0.path == parent })
            #expect(created < synced)
            #expect(calls[created...synced].contains { $0.operation == .openDirectory && $0.path == parent })

            // An existing directory is left as it is.
            fileSystem.clearCalls()
            let (reopened, _, _) = try openJournal(directory, fileSystem: fileSystem)
            try reopened.close()
            #expect(fileSystem.calls(of: .createDirectory).isEmpty)
            #expect(!fileSystem.calls.contains { $0.path == parent })
        }
    }

    @Test func aFullDiskWhileCreatingTheFirstSegmentFailsTheOpen() throws {
        try withTemporaryDirectory { directory in
            let fileSystem = Faulty()
            fileSystem.failCalls(.allocate, with: .noSpace)
            let error = openingFails(directory, fileSystem: fileSystem)
            #expect(error?.code == .noSpace)
            #expect(error?.errno == .noSpace)
            // Nothing usable was left behind, and the next open works.
            #expect(try segmentNames(directory).isEmpty)
            let (journal, _, _) = try openJournal(directory)
            #expect(try journal.append([1]) == 1)
            try journal.close()
            #expect(try fileNames(directory) == [JournalFormat.segmentName(firstSequence: 1)])
        }
    }
}
