import DequeModule
import Foundation
import TallyStorage

/// Follows the journal's durable sequence and runs what waits for it: the replies of durable writes
/// and of reads. Fed by the journal's sync thread (``handle(_:)``); waiters are registered by the
/// writer thread and by ``Engine/waitUntilDurable(_:)``. Completions run on the thread that makes
/// them ready, outside the lock.
final class DurabilityTracker: @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.

    typealias Completion = @Sendable (Result<Void, EngineError>) -> Void

    private struct Waiter {
        var sequence: UInt64
        var id: UInt64
        var completion: Completion
    }

    private let lock = NSLock()
    private var waiters = Deque<Waiter>()
    private var durable: UInt64 = 0
    private var failure: EngineError?
    private var nextWaiterID: UInt64 = 1

    var durableSequence: UInt64 {
        self.lock.withLock { self.durable }
    }

    var journalFailure: EngineError? {
        self.lock.withLock { self.failure }
    }

    /// Sets the starting point after recovery (everything replayed is durable).
    func start(durable: UInt64) {
        self.lock.withLock { self.durable = durable }
    }

    /// The journal's report after each sync.
    func handle(_ event: Journal.Durability) {
        var ready: [Waiter] = []
        var failed: EngineError? = nil
        self.lock.withLock {
            switch event {
            case .durable(let through):
                self.durable = max(self.durable, through)
                while let first = self.waiters.first, first.sequence <= through {
                    ready.append(self.waiters.removeFirst())
                }
            case .failed(let error):
                let failure = EngineError(
                    .journalFailed,
                    "the journal failed; nothing after sequence \(self.durable) is durable",
                    storage: error
                )
                self.failure = failure
                failed = failure
                ready = Array(self.waiters)
                self.waiters.removeAll()
            }
        }
        for waiter in ready {
            waiter.completion(failed.map { .failure($0) } ?? .success(()))
        }
    }

    /// Runs `completion` once `sequence` is durable: now, if it already is.
    func whenDurable(_ sequence: UInt64, _ completion: @escaping Completion) -> DurableWait {
        var id: UInt64 = 0
        let immediate: Result<Void, EngineError>? = self.lock.withLock {
            if self.durable >= sequence {
                return .success(())
            }
            if let failure = self.failure {
                return .failure(failure)
            }
            id = self.nextWaiterID
            self.nextWaiterID += 1
            // Waiters are kept in sequence order; the writer registers in order, so the insertion
            // point is almost always the end.
            var index = self.waiters.count
            while index > 0 && self.waiters[index - 1].sequence > sequence {
                index -= 1
            }
            self.waiters.insert(Waiter(sequence: sequence, id: id, completion: completion), at: index)
            return nil
        }
        if let immediate {
            completion(immediate)
        }
        return DurableWait(sequence: sequence, id: id)
    }

    /// Removes a waiter that has not run. Linear in the waiters after its place: cancelling is the
    /// rare path (a wait that timed out).
    func cancel(_ wait: DurableWait) -> Bool {
        guard wait.id != 0 else { return false }
        return self.lock.withLock {
            // Waiters are in sequence order; start from the first one at the wait's sequence.
            var index = 0
            var low = 0
            var high = self.waiters.count
            while low < high {
                let middle = (low + high) / 2
                if self.waiters[middle].sequence < wait.sequence { low = middle + 1 } else { high = middle }
            }
            index = low
            while index < self.waiters.count && self.waiters[index].sequence == wait.sequence {
                if self.waiters[index].id == wait.id {
                    self.waiters.remove(at: index)
                    return true
                }
                index += 1
            }
            return false
        }
    }
}

/// A registered wait for durability (``Engine/whenDurable(_:completion:)``), to cancel it.
public struct DurableWait: Hashable, Sendable {
    let sequence: UInt64
    /// 0 when the completion ran at once (nothing to cancel).
    let id: UInt64
}
