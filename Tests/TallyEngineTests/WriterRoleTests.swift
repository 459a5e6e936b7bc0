import Foundation
import TallyCore
import TallyEngine
import TallyStorage
import Testing

/// Holds the engine's writer role from a thread of its own: it submits a batch with applied
/// acknowledgement from a plain thread (the writer is idle, so that thread takes the role) and its
/// completion blocks until ``release()``. Everything submitted meanwhile queues.
final class WriterRoleHolder: @unchecked Sendable {
    private let gate = DispatchSemaphore(value: 0)
    private let held = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private(set) var roleWhileHeld: ThreadRole?

    init(_ engine: Engine, batch: OperationBatch = OperationBatch([.createAsset(CreateAsset(code: "HLD", scale: 0))])) {
        let thread = Thread { [self] in
            engine.submit(batch, acknowledgement: .applied) { _ in
                self.roleWhileHeld = ThreadRole.current
                self.held.signal()
                self.gate.wait()
            }
            self.done.signal()
        }
        thread.start()
        self.held.wait()
    }

    /// Lets the holder's completion return, and waits until its submit has returned.
    func release() {
        self.gate.signal()
        self.done.wait()
    }
}

/// The writer's role is a token (see `Engine`): a lone caller applies its own batch; what queues
/// meanwhile goes to the writer thread in order; the journal's sync thread never takes the role.
struct WriterRoleTests {
    @Test func aLoneCallerAppliesItsOwnBatchBeforeSubmitReturns() throws {
        let directory = TemporaryDirectory()
        let engine = try EngineFixture.open(directory)
        nonisolated(unsafe) var answered: Result<Engine.Response, EngineError>? = nil
        nonisolated(unsafe) var role: ThreadRole? = nil
        nonisolated(unsafe) var answeredBeforeReturn = false
        let finished = DispatchSemaphore(value: 0)
        Thread {
            engine.submit(EngineFixture.setup, acknowledgement: .applied) { result in
                answered = result
                role = ThreadRole.current
            }
            answeredBeforeReturn = answered != nil
            finished.signal()
        }.start()
        finished.wait()
        // The completion ran on the submitting thread, inside submit.
        #expect(answeredBeforeReturn)
        #expect(role == .caller)
        let response = try #require(try answered?.get())
        #expect(response.results.allSatisfy { $0.code == .ok })
        try engine.close()
    }

    @Test func requestsQueuedWhileACallerHoldsTheRoleRunOnTheWriterThreadInOrder() async throws {
        let directory = TemporaryDirectory()
        let engine = try EngineFixture.open(directory)
        _ = try await engine.submit(EngineFixture.setup)
        let holder = WriterRoleHolder(engine)
        #expect(holder.roleWhileHeld == .caller)
        let lock = NSLock()
        nonisolated(unsafe) var order: [UInt64] = []
        nonisolated(unsafe) var roles: [ThreadRole] = []
        let finished = DispatchGroup()
        for key in 1...50 {
            finished.enter()
            engine.submit(
                OperationBatch([EngineFixture.capture(key: UInt64(key), amount: 1_000)]),
                acknowledgement: .applied
            ) { result in
                lock.withLock {
                    if case .success(let response) = result, response.results[0].code == .ok {
                        order.append(UInt64(key))
                    }
                    roles.append(ThreadRole.current)
                }
                finished.leave()
            }
        }
        // Nothing ran while the role was held.
        #expect(lock.withLock { order.isEmpty })
        holder.release()
        finished.wait()
        #expect(order == Array(1...50))
        #expect(roles.allSatisfy { $0 == .engineWriter })
        try engine.close()
    }

    @Test func aCompletionOnTheSyncThreadNeverTakesTheRole() async throws {
        let directory = TemporaryDirectory()
        let engine = try EngineFixture.open(directory)
        let roles: (outer: ThreadRole, inner: ThreadRole) = await withCheckedContinuation { continuation in
            // Durable: the completion runs on the journal's sync thread, which must hand the next
            // request to the writer thread rather than apply it itself.
            engine.submit(EngineFixture.setup) { _ in
                let outer = ThreadRole.current
                engine.submit(
                    OperationBatch([EngineFixture.capture(key: 1, amount: 100)]),
                    acknowledgement: .applied
                ) { _ in
                    continuation.resume(returning: (outer, ThreadRole.current))
                }
            }
        }
        #expect(roles.outer == .journalSync)
        #expect(roles.inner == .engineWriter)
        try engine.close()
    }

    @Test func closeWaitsForACallerThatHoldsTheRole() async throws {
        let directory = TemporaryDirectory()
        let engine = try EngineFixture.open(directory)
        _ = try await engine.submit(EngineFixture.setup)
        let holder = WriterRoleHolder(engine)
        let closed = DispatchSemaphore(value: 0)
        let closer = Thread {
            try? engine.close()
            closed.signal()
        }
        closer.start()
        // The holder's batch is applied but its caller still holds the role: close must wait.
        let closedEarly = closed.wait(timeout: .now() + .milliseconds(200)) == .success
        #expect(!closedEarly, "close returned while a caller still held the writer's role")
        holder.release()
        if !closedEarly {
            closed.wait()
        }
        // The holder's record was journaled before close: it replays.
        let (reopened, recovery) = try Engine.open(
            EngineFixture.configuration(directory),
            clock: VirtualClock(EngineFixture.start)
        )
        #expect(recovery.recordsReplayed == 2)
        try reopened.close()
    }
}
