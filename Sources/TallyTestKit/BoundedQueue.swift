/// A first-in, first-out queue that never holds more than `capacity` elements: pushing onto a full
/// queue drops the oldest element. Storage grows by doubling up to the capacity and is then reused
/// forever, so a long run allocates nothing once the queue has been full.
struct BoundedQueue<Element: Sendable>: Sendable {
    private var storage: [Element] = []
    private var head = 0
    private(set) var count = 0
    let capacity: Int
    /// Elements dropped because the queue was full.
    private(set) var dropped = 0

    init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
    }

    var isEmpty: Bool { self.count == 0 }

    /// The oldest element.
    var first: Element? {
        self.count == 0 ? nil : self.storage[self.head]
    }

    /// Appends `element`; returns true when the oldest element was dropped to make room.
    @discardableResult
    mutating func push(_ element: Element) -> Bool {
        if self.count < self.storage.count {
            self.storage[(self.head + self.count) % self.storage.count] = element
            self.count += 1
            return false
        }
        if self.storage.count < self.capacity {
            // Full but allowed to grow: straighten the ring so the new element goes at the end.
            if self.head != 0 {
                var straightened: [Element] = []
                straightened.reserveCapacity(min(self.capacity, self.storage.count * 2))
                straightened.append(contentsOf: self.storage[self.head...])
                straightened.append(contentsOf: self.storage[..<self.head])
                self.storage = straightened
                self.head = 0
            }
            self.storage.append(element)
            self.count += 1
            return false
        }
        self.storage[self.head] = element
        self.head = (self.head + 1) % self.storage.count
        self.dropped += 1
        return true
    }

    /// Removes and returns the oldest element.
    mutating func popFirst() -> Element? {
        guard self.count > 0 else { return nil }
        let element = self.storage[self.head]
        self.head = (self.head + 1) % self.storage.count
        self.count -= 1
        return element
    }

    /// Elements the storage holds room for now (at most ``capacity``).
    var storageCount: Int { self.storage.count }
}
