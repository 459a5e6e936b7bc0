import Foundation
import Glibc
import TallyCore
import TallyEngine
import TallyStorage
import Testing

/// `submit(syncByCaller:)` and `syncPending()`: a durable batch that its caller applies itself
/// waits for that caller's sync, and is answered on that caller's thread; everything else is synced
/// by the journal's sync thread as before.
struct CallerSyncTests {
    /// The journal's sync thread would take deferred records only after 30 s: within a test, only
    /// the caller's `syncPending()` (or a hand-over) makes them durable.
    static func open(_ directory: TemporaryDirectory, callerAppliesOperationsMax: Int = 256) throws -> Engine {
        var configuration = EngineFixture.configuration(directory)
        configuration.journal = Journal.Configuration(
            segmentBytes: Journal.segmentBytesMin,
            callerSyncNanosecondsMax: 30_000_000_000
        )
        configuration.callerAppliesOperationsMax = callerAppliesOperationsMax
        return try Engine.open(configuration, clock: VirtualClock(EngineFixture.start)).engine
    }

    /// Runs `body` on a plain thread (the engine's "caller" role) and waits for it.
    static func onThread(_ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        Thread {
            body()
            done.signal()
        }.start()
        done.wait()
    }

    @Test func aDurableBatchItsCallerAppliedIsAnsweredInsideThatCallersSync() async throws {
        let directory = TemporaryDirectory()
        let engine = try Self.open(directory)
        _ = try await engine.submit(EngineFixture.setup)
        nonisolated(unsafe) var answered: Result<Engine.Response, EngineError>? = nil
        nonisolated(unsafe) var answeredBeforeSync = true
        nonisolated(unsafe) var answeredOnCaller = false
        nonisolated(unsafe) var durableBeforeSync: UInt64 = 0
        Self.onThread {
            let thread = pthread_self()
            engine.submit(
                OperationBatch([EngineFixture.capture(key: 1, amount: 10_000)]),
                syncByCaller: true
            ) { result in
                answered = result
                answeredOnCaller = pthread_equal(pthread_self(), thread) != 0
            }
            answeredBeforeSync = answered != nil
            durableBeforeSync = engine.durableSequence
            engine.syncPending()
        }
        #expect(!answeredBeforeSync, "a durable reply waits for the sync")
        let response = try #require(try answered?.get())
        #expect(response.results.map(\.code) == [.ok])
        #expect(durableBeforeSync == response.sequence - 1)
        #expect(answeredOnCaller, "the completion ran inside syncPending, on the caller's thread")
        #expect(engine.durableSequence >= response.sequence)
        try engine.close()
    }

    @Test func appliedAcknowledgementsAndQueuedBatchesAreSyncedWithoutTheCaller() async throws {
        let directory = TemporaryDirectory()
        let engine = try Self.open(directory)
        _ = try await engine.submit(EngineFixture.setup)
        // Applied: answered at once; the sync thread makes it durable, nobody calls syncPending.
        nonisolated(unsafe) var applied: Engine.Response? = nil
        Self.onThread {
            engine.submit(
                OperationBatch([EngineFixture.capture(key: 2, amount: 10_000)]),
                acknowledgement: .applied,
                syncByCaller: true
            ) { applied = try? $0.get() }
        }
        let appliedSequence = try #require(applied?.sequence)
        try await Self.waitDurable(engine, appliedSequence)
        // Queued behind a caller that holds the writer's role: the writer thread applies it and
        // the sync thread syncs it; the caller's syncPending is never called.
        let holder = WriterRoleHolder(engine)
        let answered = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var queued: Engine.Response? = nil
        Self.onThread {
            engine.submit(
                OperationBatch([EngineFixture.capture(key: 3, amount: 10_000)]),
                syncByCaller: true
            ) { result in
                queued = try? result.get()
                answered.signal()
            }
        }
        holder.release()
        #expect(answered.wait(timeout: .now() + 10) == .success)
        #expect(queued?.results.map(\.code) == [.ok])
        try engine.close()
    }

    @Test func largeBatchesGoToTheWriterThreadSmallOnesStayWithTheCaller() async throws {
        let directory = TemporaryDirectory()
        let engine = try Self.open(directory, callerAppliesOperationsMax: 2)
        _ = try await engine.submit(EngineFixture.setup)
        func role(of batch: OperationBatch) -> ThreadRole? {
            nonisolated(unsafe) var role: ThreadRole? = nil
            let answered = DispatchSemaphore(value: 0)
            Self.onThread {
                engine.submit(batch, acknowledgement: .applied) { _ in
                    role = ThreadRole.current
                    answered.signal()
                }
            }
            answered.wait()
            return role
        }
        let two = OperationBatch((10...11).map { EngineFixture.capture(key: UInt64($0), amount: 500) })
        let three = OperationBatch((20...22).map { EngineFixture.capture(key: UInt64($0), amount: 500) })
        #expect(role(of: two) == .caller)
        #expect(role(of: three) == .engineWriter)
        try engine.close()
    }

    @Test func recordsLeftForACallerAreDurableAfterClose() throws {
        let directory = TemporaryDirectory()
        let engine = try Self.open(directory)
        nonisolated(unsafe) var sequence: UInt64 = 0
        Self.onThread {
            engine.submit(EngineFixture.setup, syncByCaller: true) { result in
                if case .success(let response) = result { sequence = response.sequence }
            }
            // The caller never syncs: closing makes the record durable and answers it.
        }
        try engine.close()
        #expect(sequence == 1)
        let reopened = try Self.open(directory)
        #expect(reopened.durableSequence == 1)
        try reopened.close()
    }

    static func waitDurable(_ engine: Engine, _ sequence: UInt64) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while engine.durableSequence < sequence && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(engine.durableSequence >= sequence)
    }
}
