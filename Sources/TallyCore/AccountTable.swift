/// An account's definition and status, as the state keeps it (its balance lives beside it).
struct AccountRecord: Hashable, Sendable {
    var id: AccountID
    var merchant: UInt64
    var partner: UInt64
    var asset: UInt16
    var kind: AccountKind
    var flags: AccountFlags
    var normalSide: Side
    var status: AccountStatus
    /// The aggregate buckets this account feeds: by kind and asset, then also by merchant, then
    /// by partner.
    var totalBucket: UInt32
    var merchantBucket: UInt32
    var partnerBucket: UInt32
}

/// Accounts in creation order (their dense index), balances beside them, and a hash index from
/// account id to dense index. Accounts are never deleted; only an undone creation is removed.
struct AccountTable: Sendable {
    private(set) var records: [AccountRecord] = []
    var balances: [Balance] = []
    private var index: HashIndex
    private let seed: UInt64
    /// Stands in for the index while it is built (see ``buildIndex()``).
    private static let placeholderIndex = HashIndex(minimumCapacity: 0)

    init(expectedCount: Int, seed: UInt64) {
        self.index = HashIndex(minimumCapacity: expectedCount)
        self.seed = seed
        self.records.reserveCapacity(expectedCount)
        self.balances.reserveCapacity(expectedCount)
    }

    var count: Int { self.records.count }

    /// Bytes held by the table's storage.
    var memoryBytes: Int {
        self.records.capacity * MemoryLayout<AccountRecord>.stride + self.balances.capacity
            * MemoryLayout<Balance>.stride + self.index.memoryBytes
    }

    /// The dense index of the account with `id`, if it exists.
    @inline(__always)
    func find(_ id: AccountID) -> Int? {
        var probe = self.index.probe(hash: Hashing.account(id.rawValue, seed: self.seed))
        while let position = self.index.next(&probe) {
            if self.records[Int(position)].id == id {
                return Int(position)
            }
        }
        return nil
    }

    mutating func append(_ record: AccountRecord) -> Int {
        let position = self.records.count
        self.records.append(record)
        self.balances.append(.zero)
        self.index.insert(hash: Hashing.account(record.id.rawValue, seed: self.seed), position: UInt32(position))
        return position
    }

    /// Makes room for `count` accounts in all (restoring: the arrays are sized once; ``buildIndex()``
    /// sizes the index).
    mutating func reserveCapacity(_ count: Int) {
        self.records.reserveCapacity(count)
        self.balances.reserveCapacity(count)
    }

    /// Appends restored accounts with their balances without indexing them: ``buildIndex()``
    /// indexes every restored account at once.
    mutating func restoreUnindexed(_ records: [AccountRecord], balances: [Balance]) {
        precondition(records.count == balances.count)
        self.records.append(contentsOf: records)
        self.balances.append(contentsOf: balances)
    }

    /// Indexes every account restored by ``restoreUnindexed(_:balances:)``, the index being empty
    /// (``HashIndex/build(count:firstPosition:forEachHash:isDuplicate:)``). Returns the position of
    /// an account whose id is present twice, or nil. After a duplicate the table is left
    /// half-indexed: the decoder that called this throws and discards it.
    mutating func buildIndex() -> Int? {
        let seed = self.seed
        // The index leaves `self` while it is built, so that its closures may read the records (the
        // placeholder costs no allocation; the index stays uniquely referenced).
        var index = AccountTable.placeholderIndex
        swap(&index, &self.index)
        let duplicate = self.records.withUnsafeBufferPointer { records in
            index.build(
                count: records.count,
                firstPosition: 0,
                forEachHash: { body in
                    for record in records {
                        body(Hashing.account(record.id.rawValue, seed: seed))
                    }
                },
                isDuplicate: { offset, position in records[Int(position)].id == records[offset].id }
            )
        }
        swap(&index, &self.index)
        return duplicate
    }

    /// Undoes the last ``append(_:)``.
    mutating func removeLast() {
        let position = self.records.count - 1
        let record = self.records.removeLast()
        let balance = self.balances.removeLast()
        precondition(balance == .zero, "an account is removed only after every movement on it was undone")
        self.index.remove(hash: Hashing.account(record.id.rawValue, seed: self.seed), position: UInt32(position))
    }

    mutating func setStatus(_ status: AccountStatus, at position: Int) {
        self.records[position].status = status
    }
}
