/// The bytes of one transaction-record chunk: a fixed-size raw allocation that is never zero-filled
/// (only the written prefix is ever read), so starting a chunk costs no memset and touches memory
/// only as records are written.
///
/// Sealed chunks are immutable and may be shared between copies of a ledger. The chunk being
/// filled is written through ``TransactionStore`` only after a uniqueness check, which copies it
/// first when another ledger value shares it, so ``Ledger`` keeps value semantics.
final class ChunkBuffer: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let capacity: Int

    init(capacity: Int) {
        self.base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        self.capacity = capacity
    }

    /// A new buffer holding the first `used` bytes of this one.
    func copy(used: Int) -> ChunkBuffer {
        let copy = ChunkBuffer(capacity: self.capacity)
        copy.base.copyMemory(from: self.base, byteCount: used)
        return copy
    }

    deinit {
        self.base.deallocate()
    }
}
