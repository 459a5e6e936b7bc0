/// One bit per transaction id: set when the transaction has been reversed. Kept for every id ever
/// assigned (an eighth of a byte per transaction), so a second reversal is refused forever.
struct ReversedSet: Sendable {
    private(set) var words: [UInt64] = []
    private(set) var count = 0

    func contains(_ id: TransactionID) -> Bool {
        let word = Int(id.rawValue >> 6)
        guard word < self.words.count else { return false }
        return self.words[word] & (1 << (id.rawValue & 63)) != 0
    }

    mutating func insert(_ id: TransactionID) {
        let word = Int(id.rawValue >> 6)
        if word >= self.words.count {
            self.words.append(contentsOf: repeatElement(0, count: word - self.words.count + 1))
        }
        precondition(self.words[word] & (1 << (id.rawValue & 63)) == 0)
        self.words[word] |= 1 << (id.rawValue & 63)
        self.count += 1
    }

    mutating func remove(_ id: TransactionID) {
        let word = Int(id.rawValue >> 6)
        precondition(self.contains(id))
        self.words[word] &= ~(1 << (id.rawValue & 63))
        self.count -= 1
    }

    var memoryBytes: Int { self.words.capacity * 8 }

    init() {}

    /// A set holding the bits of `words`.
    init(words: [UInt64]) {
        self.words = words
        self.count = words.reduce(0) { $0 + $1.nonzeroBitCount }
    }
}
