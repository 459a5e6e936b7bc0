import NIOCore

/// The requests of one connection that await a reply, by request id, with their deadlines; and the
/// ids of requests that timed out, so that their late replies are recognised and dropped rather than
/// taken for a protocol violation.
///
/// A state structure without I/O: the connection handler inserts, removes and expires, and runs one
/// timer for ``nextDeadline``. `Waiter` is what resumes the caller (a type parameter so that tests
/// can script the table with plain values).
struct RequestTable<Waiter> {
    private struct Entry {
        var waiter: Waiter
        var deadline: NIODeadline
    }

    /// What a reply's request id names.
    enum Removal {
        /// A request in flight: resume its waiter.
        case waiting(Waiter)
        /// A request that timed out: drop the late reply.
        case abandoned
        /// No request this connection sent and has not been answered: a protocol violation.
        case unknown
    }

    private var pending: [UInt64: Entry] = [:]
    /// Deadlines of pending requests, and of answered ones not yet trimmed from the heap.
    private var deadlines = DeadlineHeap()
    private var abandoned: Set<UInt64> = []

    /// Requests awaiting a reply.
    var count: Int { self.pending.count }

    var isEmpty: Bool { self.pending.isEmpty }

    /// Requests that timed out and whose replies have not come.
    var abandonedCount: Int { self.abandoned.count }

    /// When the timer should next fire: the earliest deadline of a request in flight, or one answered
    /// since (a timer set for it expires nothing and is set again).
    var nextDeadline: NIODeadline? { self.deadlines.first?.deadline }

    mutating func insert(_ waiter: Waiter, requestID: UInt64, deadline: NIODeadline) {
        precondition(requestID != 0, "request id 0 is never sent")
        let previous = self.pending.updateValue(Entry(waiter: waiter, deadline: deadline), forKey: requestID)
        precondition(previous == nil, "request id \(requestID) is already in flight")
        self.deadlines.insert(DeadlineHeap.Element(deadline: deadline, requestID: requestID))
    }

    /// The request a reply with `requestID` answers; it is no longer pending.
    mutating func remove(requestID: UInt64) -> Removal {
        if let entry = self.pending.removeValue(forKey: requestID) {
            self.trimDeadlines()
            return .waiting(entry.waiter)
        }
        if self.abandoned.remove(requestID) != nil {
            return .abandoned
        }
        return .unknown
    }

    /// Removes every request whose deadline is `now` or earlier and returns their waiters, in deadline
    /// order; their ids are remembered as abandoned.
    mutating func expire(now: NIODeadline) -> [(requestID: UInt64, waiter: Waiter)] {
        var expired: [(requestID: UInt64, waiter: Waiter)] = []
        while let first = self.deadlines.first, first.deadline <= now {
            self.deadlines.removeFirst()
            if let entry = self.pending.removeValue(forKey: first.requestID) {
                self.abandoned.insert(first.requestID)
                expired.append((first.requestID, entry.waiter))
            }
        }
        self.trimDeadlines()
        return expired
    }

    /// Removes every pending request (the connection is gone) and returns their waiters, by id.
    mutating func removeAll() -> [Waiter] {
        let waiters = self.pending.sorted { $0.key < $1.key }.map(\.value.waiter)
        self.pending.removeAll()
        self.deadlines.removeAll()
        self.abandoned.removeAll()
        return waiters
    }

    /// Drops answered requests from the top of the heap, and rebuilds the heap once answered
    /// requests make up most of it, so that it stays within about twice the requests in flight
    /// even while an old request (a long wait for durability) holds the top.
    private mutating func trimDeadlines() {
        while let first = self.deadlines.first, self.pending[first.requestID] == nil {
            self.deadlines.removeFirst()
        }
        if self.deadlines.count > 2 * self.pending.count + 64 {
            self.deadlines.rebuild(
                from: self.pending.lazy.map { DeadlineHeap.Element(deadline: $0.value.deadline, requestID: $0.key) }
            )
        }
    }
}
