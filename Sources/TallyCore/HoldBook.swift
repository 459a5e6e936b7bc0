import HeapModule

/// An open hold: what it reserves and how much of it has been captured.
struct HoldRecord: Hashable, Sendable {
    var debit: UInt32
    var credit: UInt32
    var type: TransactionType
    /// Everything ever held: the original amount plus every increase.
    var amount: UInt128
    /// Captured so far; always below `amount` while the hold is open.
    var captured: UInt128
    /// Engine time at which the hold expires, in nanoseconds; zero for none.
    var deadline: UInt64

    var remaining: UInt128 { self.amount - self.captured }
}

/// The open holds, and a schedule of their deadlines for the engine's expiry sweep.
///
/// A hold leaves the book when it is finished (fully or finally captured, voided, expired). The
/// schedule is a min-heap of (deadline, hold) that is cleaned lazily: an entry whose hold is no
/// longer open with that deadline is dropped when it reaches the top. The schedule is derived
/// state (rebuilt from the open holds), so it is not part of the state digest.
struct HoldBook: Sendable {
    struct Expiry: Comparable, Sendable {
        var deadline: UInt64
        var hold: UInt64

        static func < (lhs: Expiry, rhs: Expiry) -> Bool {
            (lhs.deadline, lhs.hold) < (rhs.deadline, rhs.hold)
        }
    }

    private(set) var open: [UInt64: HoldRecord] = [:]
    private var schedule = Heap<Expiry>()

    var count: Int { self.open.count }

    subscript(id: TransactionID) -> HoldRecord? {
        self.open[id.rawValue]
    }

    mutating func insert(_ record: HoldRecord, id: TransactionID) {
        precondition(self.open[id.rawValue] == nil)
        self.open[id.rawValue] = record
        if record.deadline != 0 {
            self.schedule.insert(Expiry(deadline: record.deadline, hold: id.rawValue))
        }
    }

    mutating func update(_ record: HoldRecord, id: TransactionID) {
        precondition(self.open[id.rawValue] != nil)
        self.open[id.rawValue] = record
    }

    @discardableResult
    mutating func remove(_ id: TransactionID) -> HoldRecord {
        self.open.removeValue(forKey: id.rawValue)!
    }

    /// Puts back a hold removed by ``remove(_:)`` (undo); its schedule entry is still there.
    mutating func restore(_ record: HoldRecord, id: TransactionID) {
        precondition(self.open[id.rawValue] == nil)
        self.open[id.rawValue] = record
    }

    /// Makes room for `count` open holds in all (restoring).
    mutating func reserveCapacity(_ count: Int) {
        self.open.reserveCapacity(count)
    }

    /// Adds a restored open hold, whose id the caller has checked is new, without scheduling its
    /// deadline: ``restoreSchedule(_:)`` schedules them all at once when the holds are restored.
    mutating func restoreUnscheduled(_ record: HoldRecord, id: TransactionID) {
        self.open[id.rawValue] = record
    }

    /// Replaces the schedule with `expiries`, one per restored hold with a deadline (heapified in
    /// one pass rather than inserted one by one).
    mutating func restoreSchedule(_ expiries: [Expiry]) {
        self.schedule = Heap(expiries)
    }

    /// Open holds whose deadline is at or before `now`, earliest first (ties by id), at most `limit`.
    mutating func due(at now: UInt64, limit: Int) -> [TransactionID] {
        var due: [TransactionID] = []
        var kept: [Expiry] = []
        while due.count < limit, let top = self.schedule.min, top.deadline <= now {
            self.schedule.removeMin()
            guard let hold = self.open[top.hold], hold.deadline == top.deadline else {
                continue  // stale: finished, or an undone hold whose id was reused
            }
            if due.last?.rawValue != top.hold {
                due.append(TransactionID(top.hold))
                kept.append(top)
            }
        }
        // Due holds stay scheduled until their expiry is applied and finishes them.
        for entry in kept {
            self.schedule.insert(entry)
        }
        return due
    }

    /// The earliest deadline of an open hold, if any, cleaning stale entries on the way.
    mutating func nextDeadline() -> UInt64? {
        while let top = self.schedule.min {
            if let hold = self.open[top.hold], hold.deadline == top.deadline {
                return top.deadline
            }
            self.schedule.removeMin()
        }
        return nil
    }
}
