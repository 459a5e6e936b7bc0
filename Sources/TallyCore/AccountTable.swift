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

    /// Undoes the last ``append(_:)``.
    /// Appends a restored account with its balance; false (and nothing changed) when its id is
    /// already present.
    mutating func restore(_ record: AccountRecord, balance: Balance) -> Bool {
        guard self.find(record.id) == nil else { return false }
        let position = self.append(record)
        self.balances[position] = balance
        return true
    }

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
