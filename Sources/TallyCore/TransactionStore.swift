import DequeModule

/// Recent transactions, encoded compactly, for lookup by id and for reversals.
///
/// Records are appended in id order into chunks of about ``chunkBytes``; each chunk remembers the
/// first id it holds and the engine time of its newest record, and is evicted whole once that time
/// is older than the transaction retention window. Ids are gapless, so a chunk is found by binary
/// search over first ids and a record by its offset within the chunk.
///
/// Record layout (little-endian; fields in brackets are present when their flag bit is set):
///
///     u8 kind, u8 flags, u16 type, u64 recorded time,
///     [u128 key: bit 0] [u64 effective time: bit 1] [u64 actor: bit 2] [u32 reason: bit 3]
///     [u64 link: bit 4] [amount released: bit 5] [u64 deadline: bit 6], final capture: bit 7,
///     u8 leg count, legs: u32 account index, u8 (side << 7 | amount length), amount bytes,
///     u8 rate count, rates: u128 base, u128 quote, u64 numerator, u64 denominator,
///     u8 payment id length, bytes, u8 provider reference length, bytes.
///
/// An amount is its length in bytes (0-16) and that many bytes, least significant first.
struct TransactionStore: Sendable {
    struct Chunk: Sendable {
        var firstID: UInt64
        var newestTime: UInt64
        var offsets: [UInt32]
        /// Allocated at full size up front; the first `used` bytes are records.
        var bytes: ChunkBuffer
        var used: Int
    }

    static let chunkBytes = 1 << 20
    /// Full chunks, oldest first.
    private(set) var sealed: Deque<Chunk> = []
    // The chunk being filled, kept as plain stored properties rather than an optional Chunk: the
    // append path then touches each buffer through one uniqueness check and no unwrapping.
    private var currentFirstID: UInt64 = 0
    private var currentNewestTime: UInt64 = 0
    private var currentOffsets: [UInt32] = []
    private var currentBytes = ChunkBuffer(capacity: 0)
    private var currentUsed = 0
    /// Whether the current chunk holds any record (false only while the whole store is empty).
    private var hasCurrent = false
    private(set) var count = 0

    /// The chunk being filled, if the store holds anything.
    var current: Chunk? {
        guard self.hasCurrent else { return nil }
        return Chunk(
            firstID: self.currentFirstID,
            newestTime: self.currentNewestTime,
            offsets: self.currentOffsets,
            bytes: self.currentBytes,
            used: self.currentUsed
        )
    }

    /// Every chunk, oldest first.
    var chunks: [Chunk] {
        Array(self.sealed) + (self.current.map { [$0] } ?? [])
    }

    /// Bytes held by the chunks.
    var memoryBytes: Int {
        self.chunks.reduce(0) { $0 + $1.bytes.capacity + $1.offsets.capacity * 4 }
    }

    /// The oldest id still retained, if any.
    var firstRetainedID: TransactionID? {
        if let first = self.sealed.first {
            return TransactionID(first.firstID)
        }
        return self.hasCurrent ? TransactionID(self.currentFirstID) : nil
    }

    /// Appends the record of transaction `id` (which must be the id after the last one) at engine
    /// time `time`: `write` gets memory for at most `bytesMax` bytes and returns how many it wrote.
    /// Returns the previous newest time of the chunk it went into; nil for a new chunk.
    mutating func append(
        id: TransactionID,
        time: UInt64,
        bytesMax: Int,
        _ write: (UnsafeMutableRawPointer) -> Int
    ) -> UInt64? {
        precondition(bytesMax <= TransactionStore.chunkBytes)
        var previousNewest: UInt64? = nil
        if self.hasCurrent {
            precondition(
                self.currentFirstID + UInt64(self.currentOffsets.count) == id.rawValue,
                "transaction ids are gapless"
            )
            if self.currentUsed + bytesMax <= TransactionStore.chunkBytes {
                previousNewest = self.currentNewestTime
            } else {
                self.sealCurrent()
            }
        }
        if !self.hasCurrent {
            self.startChunk(firstID: id.rawValue)
        }
        let start = self.currentUsed
        if !isKnownUniquelyReferenced(&self.currentBytes) {
            self.currentBytes = self.currentBytes.copy(used: start)
        }
        let written = write(self.currentBytes.base + start)
        self.currentOffsets.append(UInt32(start))
        self.currentUsed = start + written
        self.currentNewestTime = time
        self.count += 1
        return previousNewest
    }

    private mutating func sealCurrent() {
        self.sealed.append(self.current!)
        self.currentOffsets = []
        self.currentBytes = ChunkBuffer(capacity: 0)
        self.currentUsed = 0
        self.hasCurrent = false
    }

    private mutating func startChunk(firstID: UInt64) {
        self.currentFirstID = firstID
        self.currentNewestTime = 0
        self.currentOffsets = []
        // A 2-leg post without references takes about 40 bytes: reserve for records of 32 on
        // average so the offsets never regrow within a chunk in practice.
        self.currentOffsets.reserveCapacity(TransactionStore.chunkBytes / 32)
        self.currentBytes = ChunkBuffer(capacity: TransactionStore.chunkBytes)
        self.currentUsed = 0
        self.hasCurrent = true
    }

    /// Appends a restored chunk after the others; it becomes the chunk being filled. Its buffer must
    /// have the capacity of ``chunkBytes``, as every chunk's has (an undo may make a sealed chunk the
    /// one being filled again).
    mutating func restore(chunk: Chunk) {
        precondition(chunk.bytes.capacity == TransactionStore.chunkBytes && !chunk.offsets.isEmpty)
        if self.hasCurrent {
            precondition(self.currentFirstID + UInt64(self.currentOffsets.count) == chunk.firstID)
            self.sealCurrent()
        }
        self.restore(chunk)
        self.count += chunk.offsets.count
    }

    /// Undoes the last ``append(id:time:bytesMax:_:)``.
    mutating func removeLast(previousNewest: UInt64?) {
        let offset = Int(self.currentOffsets.removeLast())
        self.currentUsed = offset
        self.count -= 1
        if let previousNewest {
            self.currentNewestTime = previousNewest
        } else {
            precondition(self.currentOffsets.isEmpty)
            self.hasCurrent = false
            self.currentBytes = ChunkBuffer(capacity: 0)
            if let chunk = self.sealed.popLast() {
                self.restore(chunk)
            }
        }
    }

    private mutating func restore(_ chunk: Chunk) {
        self.currentFirstID = chunk.firstID
        self.currentNewestTime = chunk.newestTime
        self.currentOffsets = chunk.offsets
        self.currentBytes = chunk.bytes
        self.currentUsed = chunk.used
        self.hasCurrent = true
    }

    /// Evicts every chunk whose newest record is older than `cutoff` (engine ns).
    mutating func evict(olderThan cutoff: UInt64) {
        while let first = self.sealed.first, first.newestTime < cutoff {
            self.count -= first.offsets.count
            self.sealed.removeFirst()
        }
        if self.sealed.isEmpty && self.hasCurrent && self.currentNewestTime < cutoff {
            self.count -= self.currentOffsets.count
            self.hasCurrent = false
            self.currentOffsets = []
            self.currentBytes = ChunkBuffer(capacity: 0)
            self.currentUsed = 0
        }
    }

    /// Calls `body` with the encoded record of `id`, or returns nil when it is not retained.
    func withRecord<R>(_ id: TransactionID, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        if self.hasCurrent && id.rawValue >= self.currentFirstID {
            let slot = Int(id.rawValue - self.currentFirstID)
            guard slot < self.currentOffsets.count else { return nil }
            let start = Int(self.currentOffsets[slot])
            let end = slot + 1 < self.currentOffsets.count ? Int(self.currentOffsets[slot + 1]) : self.currentUsed
            return withExtendedLifetime(self.currentBytes) {
                body(UnsafeRawBufferPointer(start: self.currentBytes.base + start, count: end - start))
            }
        }
        guard let first = self.sealed.first, id.rawValue >= first.firstID else { return nil }
        var low = 0
        var high = self.sealed.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if self.sealed[middle].firstID <= id.rawValue {
                low = middle
            } else {
                high = middle - 1
            }
        }
        return Self.withRecord(id, in: self.sealed[low], body)
    }

    private static func withRecord<R>(
        _ id: TransactionID,
        in chunk: Chunk,
        _ body: (UnsafeRawBufferPointer) -> R
    ) -> R? {
        let slot = Int(id.rawValue - chunk.firstID)
        guard slot < chunk.offsets.count else { return nil }
        let start = Int(chunk.offsets[slot])
        let end = slot + 1 < chunk.offsets.count ? Int(chunk.offsets[slot + 1]) : chunk.used
        return withExtendedLifetime(chunk.bytes) {
            body(UnsafeRawBufferPointer(start: chunk.bytes.base + start, count: end - start))
        }
    }
}
