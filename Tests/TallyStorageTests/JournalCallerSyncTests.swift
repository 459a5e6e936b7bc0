import Foundation
import Glibc
import Synchronization
import SystemPackage
import TallyTestKit
import Testing

@testable import TallyStorage

/// Records appended with `syncByCaller`: the appender writes and syncs them itself with
/// `syncPending()`, and the sync thread takes them only when woken or after the configured wait.
@Suite("Journal: syncs by the caller", .timeLimit(.minutes(1)))
struct JournalCallerSyncTests {
    /// Segments as small as the other journal tests use, and a safety-net wait long enough that the
    /// sync thread never takes a caller's records in the middle of a test by its timer.
    static let patient = Journal.Configuration(
        segmentBytes: Journal.segmentBytesMin * 4,
        pendingBytesMax: 64 << 20,
        callerSyncNanosecondsMax: 30_000_000_000
    )

    /// Durability reports with the thread that made each one.
    final class ThreadLog: Sendable {
        private let events = Mutex<[(durable: UInt64, thread: pthread_t)]>([])

        var handler: @Sendable (Journal.Durability) -> Void {
            { event in
                if case .durable(let through) = event {
                    let thread = pthread_self()
                    self.events.withLock { $0.append((through, thread)) }
                }
            }
        }

        var all: [(durable: UInt64, thread: pthread_t)] { self.events.withLock { $0 } }
    }

    static func open(_ directory: FilePath, _ configuration: Journal.Configuration, log: ThreadLog) throws -> Journal {
        try Journal.open(
            directory: directory,
            configuration: configuration,
            replay: { _, _ in },
            onDurable: log.handler
        ).journal
    }

    @Test func theCallerWritesAndSyncsItsRecordsAndHearsOfItOnItsOwnThread() throws {
        try withTemporaryDirectory { directory in
            let log = ThreadLog()
            let journal = try Self.open(directory, Self.patient, log: log)
            defer { try? journal.close() }
            for round: UInt64 in 0..<20 {
                let first = try journal.append(payload(300, seed: round), syncByCaller: true)
                let second = try journal.append(payload(5, seed: round + 100), syncByCaller: true)
                #expect(second == first + 1)
                // Nothing woke the sync thread: the records wait for their appender.
                #expect(journal.durableSequence == first - 1)
                #expect(journal.syncPending())
                #expect(journal.durableSequence == second)
                #expect(!journal.syncPending(), "nothing left to sync")
                let last = log.all.last
                #expect(last?.durable == second)
                #expect(last.map { pthread_equal($0.thread, pthread_self()) != 0 } == true)
            }
            try journal.close()
            #expect(try scanJournal(directory).scan.records == 40)
        }
    }

    @Test func recordsNobodySyncsAreTakenByTheSyncThreadAfterItsWait() throws {
        try withTemporaryDirectory { directory in
            var configuration = Self.patient
            configuration.callerSyncNanosecondsMax = 20_000_000
            let log = ThreadLog()
            let journal = try Self.open(directory, configuration, log: log)
            defer { try? journal.close() }
            let sequence = try journal.append(payload(64, seed: 1), syncByCaller: true)
            let deadline = ContinuousClock.now + .seconds(10)
            while journal.durableSequence < sequence && ContinuousClock.now < deadline {
                usleep(1_000)
            }
            #expect(journal.durableSequence == sequence)
            let report = log.all.last
            #expect(report?.durable == sequence)
            #expect(report.map { pthread_equal($0.thread, pthread_self()) == 0 } == true, "the sync thread did it")
            #expect(!journal.syncPending())
        }
    }

    @Test func aWaiterForDurabilityHandsDeferredRecordsToTheSyncThread() throws {
        try withTemporaryDirectory { directory in
            let journal = try Self.open(directory, Self.patient, log: ThreadLog())
            defer { try? journal.close() }
            let sequence = try journal.append(payload(64, seed: 2), syncByCaller: true)
            let start = ContinuousClock.now
            try journal.waitUntilDurable(sequence)
            // Far sooner than the 30 s the sync thread would otherwise leave them.
            #expect(ContinuousClock.now - start < .seconds(10))
        }
    }

    @Test func appendsBlockedOnThePendingLimitHandTheirOwnRecordsOver() throws {
        try withTemporaryDirectory { directory in
            var configuration = Self.patient
            configuration.pendingBytesMax = 1_000
            let journal = try Self.open(directory, configuration, log: ThreadLog())
            // Never synced by the caller: without the hand-over the second append would wait for
            // room forever (the suite's time limit would end it).
            for index in 0..<200 {
                try journal.append(payload(700, seed: UInt64(index)), syncByCaller: true)
            }
            try journal.close()
            #expect(try scanJournal(directory).scan.records == 200)
        }
    }

    @Test func closeSyncsRecordsLeftForTheCaller() throws {
        try withTemporaryDirectory { directory in
            let journal = try Self.open(directory, Self.patient, log: ThreadLog())
            for index in 0..<7 {
                try journal.append(payload(100, seed: UInt64(index)), syncByCaller: true)
            }
            try journal.close()
            #expect(!journal.syncPending(), "a closed journal syncs nothing")
            #expect(try scanJournal(directory).scan.records == 7)
        }
    }

    @Test func callerAndSyncThreadInterleaveWithoutLosingOrDuplicatingRecords() throws {
        try withTemporaryDirectory { directory in
            var configuration = Self.patient
            configuration.callerSyncNanosecondsMax = 1_000_000
            let log = ThreadLog()
            let journal = try Self.open(directory, configuration, log: log)
            var random = SeededRandom(seed: 7)
            var payloads: [[UInt8]] = []
            for index in 0..<3_000 {
                let bytes = payload(Int(random.next() % 400) + 1, seed: UInt64(index))
                payloads.append(bytes)
                // Mixed: records for the sync thread, records for this thread, syncs now and then.
                try journal.append(bytes, syncByCaller: random.chance(0.7))
                if random.chance(0.3) {
                    journal.syncPending()
                }
            }
            try journal.close()
            let reported = log.all.map(\.durable)
            #expect(reported.last == 3_000)
            #expect(zip(reported, reported.dropFirst()).allSatisfy { $0 < $1 }, "durability only grows")
            #expect(try scanJournal(directory).replayed.map(\.payload) == payloads)
        }
    }
}
