import NIOCore

/// A binary min-heap of request deadlines, earliest first: how one timer serves every request in
/// flight. Entries are not removed when their request is answered; ``RequestTable`` skips them
/// when they reach the top and rebuilds the heap when they outnumber the live ones.
struct DeadlineHeap {
    struct Element: Hashable {
        var deadline: NIODeadline
        var requestID: UInt64
    }

    private var elements: [Element] = []

    var count: Int { self.elements.count }

    var isEmpty: Bool { self.elements.isEmpty }

    /// The earliest deadline.
    var first: Element? { self.elements.first }

    mutating func insert(_ element: Element) {
        self.elements.append(element)
        var child = self.elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.elements[child].deadline < self.elements[parent].deadline else { break }
            self.elements.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func removeFirst() -> Element {
        precondition(!self.elements.isEmpty, "removeFirst on an empty deadline heap")
        let first = self.elements[0]
        let last = self.elements.removeLast()
        if !self.elements.isEmpty {
            self.elements[0] = last
            self.siftDown(from: 0)
        }
        return first
    }

    /// Replaces the content with `elements`, in linear time.
    mutating func rebuild(from elements: some Sequence<Element>) {
        self.elements.removeAll(keepingCapacity: true)
        self.elements.append(contentsOf: elements)
        var index = self.elements.count / 2
        while index > 0 {
            index -= 1
            self.siftDown(from: index)
        }
    }

    mutating func removeAll() {
        self.elements.removeAll(keepingCapacity: true)
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        let count = self.elements.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            let right = left + 1
            var smallest = left
            if right < count && self.elements[right].deadline < self.elements[left].deadline {
                smallest = right
            }
            guard self.elements[smallest].deadline < self.elements[parent].deadline else { return }
            self.elements.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
