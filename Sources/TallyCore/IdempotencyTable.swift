import DequeModule

/// The retained idempotency keys: an append-only log of 32-byte entries in engine-time order,
/// indexed by a ``HashIndex`` of 8-byte slots.
///
/// Entries live in chunks of ``chunkCapacity``; each chunk remembers the engine time of its newest
/// entry, and a chunk is evicted as a whole once that time is older than the retention window. So
/// a key is kept at least for the window, and longer only until the other keys of its chunk are
/// old enough too; which keys are retained is a function of the operations and their times alone.
///
/// Memory per key: 32 bytes of entry plus 8 / load-factor bytes of index, the load factor being
/// between 3/8 and 3/4: 42.7 to 53.3 bytes, plus the partly filled newest chunk.
struct IdempotencyTable: Sendable {
    struct Entry: Hashable, Sendable {
        var key: UInt128
        /// The ``ContentHasher`` fingerprint of the operation's content.
        var fingerprint: UInt64
        /// The remembered result, see ``Outcome``.
        var outcome: UInt64
    }

    /// Packs an ``OperationResult`` into 64 bits: a transaction id with the top bit clear, or a
    /// rejection with the top bit set, the code in bits 0-15 and the detail in bits 16-31.
    enum Outcome {
        static func encode(_ result: OperationResult) -> UInt64 {
            if result.code.isOK {
                return result.transactionID.rawValue
            }
            return 1 << 63 | UInt64(result.detail) << 16 | UInt64(result.code.rawValue)
        }

        static func decode(_ outcome: UInt64) -> OperationResult {
            if outcome & (1 << 63) == 0 {
                return OperationResult(code: .ok, transactionID: TransactionID(outcome))
            }
            return OperationResult(
                code: ResultCode(rawValue: UInt16(truncatingIfNeeded: outcome)),
                detail: UInt16(truncatingIfNeeded: outcome >> 16)
            )
        }
    }

    static let chunkCapacity = 4_096

    /// Whether an entry's memory is its encoding in a snapshot (u128 key, u64 fingerprint, u64
    /// outcome, little-endian, docs/FORMATS.md): then a chunk of keys is restored by copying bytes.
    static let entryLayoutIsTheEncoding =
        UInt16(littleEndian: 1) == 1 && MemoryLayout<Entry>.size == 32 && MemoryLayout<Entry>.stride == 32
        && MemoryLayout<Entry>.offset(of: \.key) == 0 && MemoryLayout<Entry>.offset(of: \.fingerprint) == 16
        && MemoryLayout<Entry>.offset(of: \.outcome) == 24

    /// Full chunks, oldest first, and the engine time of each one's newest entry.
    private var sealed: Deque<[Entry]> = []
    private var sealedNewestTimes: Deque<UInt64> = []
    /// The chunk being filled: empty only while the whole log is empty.
    private var current: [Entry] = []
    private var currentNewestTime: UInt64 = 0
    /// Log position of the first entry of the oldest chunk; positions only grow.
    private(set) var headPosition: UInt64 = 0
    private(set) var count = 0
    private var index: HashIndex
    private let seed: UInt64
    /// Folds eviction's prefetch loads into something the optimiser cannot drop.
    private var evictionSink: UInt64 = 0
    /// Stands in for the index while it is built (see ``buildIndex()``).
    private static let placeholderIndex = HashIndex(minimumCapacity: 0)

    init(expectedCount: Int, seed: UInt64) {
        self.index = HashIndex(minimumCapacity: expectedCount)
        self.seed = seed
    }

    /// Engine time (ns) of the newest entry of each chunk, oldest chunk first.
    var chunkNewestTimes: [UInt64] {
        Array(self.sealedNewestTimes) + (self.current.isEmpty ? [] : [self.currentNewestTime])
    }

    /// Bytes held by entries and index.
    var memoryBytes: Int {
        (self.sealed.count + 1) * IdempotencyTable.chunkCapacity * MemoryLayout<Entry>.stride
            + self.index.memoryBytes
    }

    /// Slots in the hash index.
    var indexCapacity: Int { self.index.capacity }

    @inline(__always)
    private func entry(atPosition position: UInt64) -> Entry {
        let offset = Int(position &- self.headPosition)
        let chunk = offset / IdempotencyTable.chunkCapacity
        let slot = offset % IdempotencyTable.chunkCapacity
        return chunk < self.sealed.count ? self.sealed[chunk][slot] : self.current[slot]
    }

    /// The full log position of an entry from the low 32 bits kept in the index: fewer than 2^32
    /// entries are live, so the offset from the head fits in 32 bits.
    @inline(__always)
    private func position(fromLow low: UInt32) -> UInt64 {
        self.headPosition &+ UInt64(low &- UInt32(truncatingIfNeeded: self.headPosition))
    }

    @inline(__always)
    func find(_ key: IdempotencyKey) -> Entry? {
        var probe = self.index.probe(hash: Hashing.key(key.rawValue, seed: self.seed))
        while let low = self.index.next(&probe) {
            let entry = self.entry(atPosition: self.position(fromLow: low))
            if entry.key == key.rawValue {
                return entry
            }
        }
        return nil
    }

    /// Loads the index slot where `key` would be found, so that a later ``find(_:)`` hits the cache.
    /// Loads for many keys issued back to back overlap their memory latency.
    @inline(__always)
    func touch(_ key: IdempotencyKey) -> UInt64 {
        self.index.touch(hash: Hashing.key(key.rawValue, seed: self.seed))
    }

    /// Appends an entry at engine time `time` (never earlier than the previous one). Returns the
    /// previous newest time of the chunk it went into, which undo needs; nil for a new chunk.
    mutating func append(_ entry: Entry, time: UInt64) -> UInt64? {
        precondition(self.count < Limits.retainedKeysMax, "retained keys limit")
        let previousNewest: UInt64?
        if !self.current.isEmpty && self.current.count < IdempotencyTable.chunkCapacity {
            previousNewest = self.currentNewestTime
        } else {
            previousNewest = nil
            if !self.current.isEmpty {
                self.sealed.append(self.current)
                self.sealedNewestTimes.append(self.currentNewestTime)
                self.current = []
            }
            self.current.reserveCapacity(IdempotencyTable.chunkCapacity)
        }
        self.current.append(entry)
        self.currentNewestTime = time
        let position = self.headPosition &+ UInt64(self.count)
        self.count += 1
        self.index.insert(hash: Hashing.key(entry.key, seed: self.seed), position: UInt32(truncatingIfNeeded: position))
        return previousNewest
    }

    /// Undoes the last ``append(_:time:)``.
    mutating func removeLast(previousNewest: UInt64?) {
        let position = self.headPosition &+ UInt64(self.count - 1)
        let entry = self.current.removeLast()
        self.index.remove(hash: Hashing.key(entry.key, seed: self.seed), position: UInt32(truncatingIfNeeded: position))
        self.count -= 1
        if let previousNewest {
            self.currentNewestTime = previousNewest
        } else {
            precondition(self.current.isEmpty)
            if let chunk = self.sealed.popLast() {
                self.current = chunk
                self.currentNewestTime = self.sealedNewestTimes.removeLast()
            } else {
                self.currentNewestTime = 0
            }
        }
    }

    /// Evicts every chunk whose newest entry is older than `cutoff` (engine ns). Returns how many
    /// keys went.
    @discardableResult
    mutating func evict(olderThan cutoff: UInt64) -> Int {
        var evicted = 0
        while let newest = self.sealedNewestTimes.first, newest < cutoff {
            self.sealedNewestTimes.removeFirst()
            evicted += self.evictOldest(self.sealed.removeFirst())
        }
        if self.sealed.isEmpty, !self.current.isEmpty, self.currentNewestTime < cutoff {
            let chunk = self.current
            self.current = []
            self.currentNewestTime = 0
            evicted += self.evictOldest(chunk)
        }
        return evicted
    }

    /// Removes the oldest chunk's keys from the index and moves the head past it. Every chunk but
    /// the newest is full, so the head stays at a chunk boundary of the remaining log; after the
    /// newest chunk goes, the log is empty and continues from where that chunk ended.
    private mutating func evictOldest(_ chunk: [Entry]) -> Int {
        // Load every slot first: the loads are independent, so their cache misses overlap instead
        // of being taken one per removal (a chunk is 4,096 random slots).
        var sink: UInt64 = 0
        for entry in chunk {
            sink ^= self.index.touch(hash: Hashing.key(entry.key, seed: self.seed))
        }
        self.evictionSink ^= sink
        for (offset, entry) in chunk.enumerated() {
            let position = self.headPosition &+ UInt64(offset)
            self.index.remove(
                hash: Hashing.key(entry.key, seed: self.seed),
                position: UInt32(truncatingIfNeeded: position)
            )
        }
        self.headPosition &+= UInt64(chunk.count)
        self.count -= chunk.count
        return chunk.count
    }

    /// Starts an empty log at `headPosition` (a restored table continues the positions it had).
    mutating func restart(at headPosition: UInt64) {
        precondition(self.count == 0)
        self.headPosition = headPosition
    }

    /// Appends a restored chunk of keys, the newest of which has engine time `newestTime`, without
    /// indexing it: ``buildIndex()`` indexes every restored key at once. Every chunk before it must
    /// be full.
    mutating func restoreUnindexed(chunk: [Entry], newestTime: UInt64) {
        precondition(chunk.count >= 1 && chunk.count <= IdempotencyTable.chunkCapacity)
        precondition(self.current.isEmpty || self.current.count == IdempotencyTable.chunkCapacity)
        precondition(self.count + chunk.count <= Limits.retainedKeysMax)
        if !self.current.isEmpty {
            self.sealed.append(self.current)
            self.sealedNewestTimes.append(self.currentNewestTime)
        }
        self.current = chunk
        self.currentNewestTime = newestTime
        self.count += chunk.count
    }

    /// Indexes every key restored by ``restoreUnindexed(chunk:newestTime:)``, the index being empty
    /// (``HashIndex/build(count:firstPosition:forEachHash:isDuplicate:)``). Returns a key that is
    /// present twice, with the offset of one of its entries from the oldest, or nil. After a
    /// duplicate the table is left half-indexed: the decoder that called this throws and discards it.
    mutating func buildIndex() -> (offset: Int, key: UInt128)? {
        let seed = self.seed
        // The index leaves `self` while it is built, so that its closures may read the entries (the
        // placeholder costs no allocation; the index stays uniquely referenced).
        var index = IdempotencyTable.placeholderIndex
        swap(&index, &self.index)
        let duplicate = index.build(
            count: self.count,
            firstPosition: UInt32(truncatingIfNeeded: self.headPosition),
            forEachHash: { body in self.forEachEntry { body(Hashing.key($0.key, seed: seed)) } },
            isDuplicate: { offset, low in
                self.entry(atPosition: self.position(fromLow: low)).key == self.entry(atOffset: offset).key
            }
        )
        swap(&index, &self.index)
        return duplicate.map { ($0, self.entry(atOffset: $0).key) }
    }

    @inline(__always)
    private func entry(atOffset offset: Int) -> Entry {
        let chunk = offset / IdempotencyTable.chunkCapacity
        let slot = offset % IdempotencyTable.chunkCapacity
        return chunk < self.sealed.count ? self.sealed[chunk][slot] : self.current[slot]
    }

    /// Every entry, oldest first.
    func forEachEntry(_ body: (Entry) -> Void) {
        for chunk in self.sealed {
            for entry in chunk {
                body(entry)
            }
        }
        for entry in self.current {
            body(entry)
        }
    }
}
