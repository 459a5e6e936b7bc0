/// A min-heap that never holds more than `capacity` elements: pushing onto a full heap drops the
/// new element. Storage grows up to the capacity and is then reused, so a long run allocates
/// nothing once the heap has been full.
///
/// The workload keys follow-ups by due time here. (A first-in, first-out queue would let one
/// follow-up due in a week hold back everything behind it.) Dropping the newcomer when full keeps
/// the work already scheduled, and costs nothing to find.
struct BoundedHeap<Element: Comparable & Sendable>: Sendable {
    private var storage: [Element] = []
    let capacity: Int
    /// Elements dropped because the heap was full.
    private(set) var dropped = 0

    init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
    }

    var count: Int { self.storage.count }

    var isEmpty: Bool { self.storage.isEmpty }

    /// The smallest element.
    var first: Element? { self.storage.first }

    /// Elements the storage holds room for now (at most ``capacity``).
    var storageCapacity: Int { min(self.storage.capacity, self.capacity) }

    /// Inserts `element`; returns false, dropping it, when the heap is full.
    @discardableResult
    mutating func push(_ element: Element) -> Bool {
        guard self.storage.count < self.capacity else {
            self.dropped += 1
            return false
        }
        if self.storage.count == self.storage.capacity {
            // Grow by doubling, but never past the capacity.
            self.storage.reserveCapacity(min(self.capacity, max(16, self.storage.capacity * 2)))
        }
        // Sift up by moving parents down into the hole, then place the element once.
        self.storage.append(element)
        var child = self.storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard element < self.storage[parent] else { break }
            self.storage[child] = self.storage[parent]
            child = parent
        }
        self.storage[child] = element
        return true
    }

    /// Removes and returns the smallest element.
    mutating func popFirst() -> Element? {
        guard let smallest = self.storage.first else { return nil }
        let last = self.storage.removeLast()
        let count = self.storage.count
        guard count > 0 else { return smallest }
        // Sift the last element down from the root by moving smaller children up into the hole.
        var hole = 0
        while true {
            let left = 2 * hole + 1
            guard left < count else { break }
            let right = left + 1
            let smaller = right < count && self.storage[right] < self.storage[left] ? right : left
            guard self.storage[smaller] < last else { break }
            self.storage[hole] = self.storage[smaller]
            hole = smaller
        }
        self.storage[hole] = last
        return smallest
    }
}
