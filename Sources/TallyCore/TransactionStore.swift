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
        var bytes: [UInt8]
    }

    static let chunkBytes = 1 << 20

    private(set) var chunks: Deque<Chunk> = []
    private(set) var count = 0

    /// Bytes held by the chunks.
    var memoryBytes: Int {
        self.chunks.reduce(0) { $0 + $1.bytes.capacity + $1.offsets.capacity * 4 }
    }

    /// The oldest id still retained, if any.
    var firstRetainedID: TransactionID? {
        self.chunks.first.map { TransactionID($0.firstID) }
    }

    /// Appends the record of transaction `id` (which must be the id after the last one) at engine
    /// time `time`. Returns the previous newest time of the chunk it went into; nil for a new chunk.
    mutating func append(id: TransactionID, time: UInt64, record: [UInt8]) -> UInt64? {
        if let last = self.chunks.last {
            precondition(last.firstID + UInt64(last.offsets.count) == id.rawValue, "transaction ids are gapless")
        }
        let previousNewest: UInt64?
        if let last = self.chunks.last, last.bytes.count + record.count <= TransactionStore.chunkBytes {
            previousNewest = last.newestTime
            let end = self.chunks.count - 1
            self.chunks[end].offsets.append(UInt32(last.bytes.count))
            self.chunks[end].bytes.append(contentsOf: record)
            self.chunks[end].newestTime = time
        } else {
            previousNewest = nil
            var chunk = Chunk(firstID: id.rawValue, newestTime: time, offsets: [], bytes: [])
            chunk.bytes.reserveCapacity(TransactionStore.chunkBytes)
            chunk.offsets.reserveCapacity(TransactionStore.chunkBytes / 48)
            chunk.offsets.append(0)
            chunk.bytes.append(contentsOf: record)
            self.chunks.append(chunk)
        }
        self.count += 1
        return previousNewest
    }

    /// Undoes the last ``append(id:time:record:)``.
    mutating func removeLast(previousNewest: UInt64?) {
        let end = self.chunks.count - 1
        let offset = Int(self.chunks[end].offsets.removeLast())
        self.chunks[end].bytes.removeSubrange(offset...)
        self.count -= 1
        if let previousNewest {
            self.chunks[end].newestTime = previousNewest
        } else {
            precondition(self.chunks[end].offsets.isEmpty)
            self.chunks.removeLast()
        }
    }

    /// Evicts every chunk whose newest record is older than `cutoff` (engine ns).
    mutating func evict(olderThan cutoff: UInt64) {
        while let first = self.chunks.first, first.newestTime < cutoff {
            self.count -= first.offsets.count
            self.chunks.removeFirst()
        }
    }

    /// Calls `body` with the encoded record of `id`, or returns nil when it is not retained.
    func withRecord<R>(_ id: TransactionID, _ body: (ArraySlice<UInt8>) -> R) -> R? {
        guard let firstChunk = self.chunks.first, id.rawValue >= firstChunk.firstID else { return nil }
        var low = 0
        var high = self.chunks.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if self.chunks[middle].firstID <= id.rawValue {
                low = middle
            } else {
                high = middle - 1
            }
        }
        let chunk = self.chunks[low]
        let slot = Int(id.rawValue - chunk.firstID)
        guard slot < chunk.offsets.count else { return nil }
        let start = Int(chunk.offsets[slot])
        let end = slot + 1 < chunk.offsets.count ? Int(chunk.offsets[slot + 1]) : chunk.bytes.count
        return body(chunk.bytes[start..<end])
    }
}
