import NIOCore
import TallyCore

/// Combines the single operations of concurrent callers into batches, for one kind of
/// acknowledgement.
///
/// The rule: at most one coalesced submit in flight. A caller who finds none in flight is sent at
/// once, alone (no added delay); while one is in flight, new operations queue; when it is answered
/// (or fails, or times out), everything queued goes as the next batch, up to the operation and byte
/// limits, oldest first. Operations of different callers are never linked.
///
/// A state machine without I/O: each event returns the action for the connection handler to run.
/// `Waiter` is what resumes a caller (a type parameter so that tests can script it with plain
/// values).
struct SubmitCoalescer<Waiter> {
    /// One caller's operation.
    struct Item {
        var operation: Operation
        /// Bytes of the operation in the batch encoding.
        var byteCount: Int
        /// When the caller stops waiting.
        var deadline: NIODeadline
        var waiter: Waiter
    }

    enum Action {
        /// Nothing to send now.
        case none
        /// Send these operations as one batch, in this order (never empty).
        case send([Item])
    }

    private enum State {
        case idle
        case inFlight
    }

    private var state = State.idle
    private var queue = CircularBuffer<Item>()
    /// The most operations in one batch.
    let operationsMax: Int
    /// The most bytes of operations in one batch (the frame limit less the frame and batch headers).
    let bytesMax: Int

    init(operationsMax: Int, bytesMax: Int) {
        precondition(operationsMax >= 1 && bytesMax >= 1, "a coalescer that can send nothing")
        self.operationsMax = operationsMax
        self.bytesMax = bytesMax
    }

    /// Operations waiting for the batch in flight to finish.
    var queuedCount: Int { self.queue.count }

    var isInFlight: Bool {
        switch self.state {
        case .idle: return false
        case .inFlight: return true
        }
    }

    /// A caller's operation, which must fit a batch on its own.
    mutating func enqueue(_ item: Item) -> Action {
        precondition(item.byteCount <= self.bytesMax, "an operation of \(item.byteCount) bytes fits no batch")
        switch self.state {
        case .idle:
            self.state = .inFlight
            return .send([item])
        case .inFlight:
            self.queue.append(item)
            return .none
        }
    }

    /// The batch in flight was answered, failed or timed out: send what queued meanwhile.
    mutating func batchFinished() -> Action {
        switch self.state {
        case .idle:
            preconditionFailure("a coalesced batch finished while none was in flight")
        case .inFlight:
            guard !self.queue.isEmpty else {
                self.state = .idle
                return .none
            }
            var items: [Item] = []
            items.reserveCapacity(min(self.queue.count, self.operationsMax))
            var bytes = 0
            while let next = self.queue.first, items.count < self.operationsMax, bytes + next.byteCount <= self.bytesMax
            {
                bytes += next.byteCount
                items.append(self.queue.removeFirst())
            }
            return .send(items)
        }
    }

    /// Takes every queued waiter (the connection is gone); the batch in flight, if any, is the
    /// request table's to fail.
    mutating func removeAll() -> [Waiter] {
        let waiters = self.queue.map(\.waiter)
        self.queue.removeAll()
        self.state = .idle
        return waiters
    }
}
