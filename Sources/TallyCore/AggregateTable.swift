/// How an aggregate balance groups accounts beyond kind and asset.
public enum AggregateDimension: Hashable, Sendable {
    /// Every account of the kind and asset.
    case total
    /// The accounts of one merchant (0: accounts without a merchant).
    case merchant(UInt64)
    /// The accounts held with one partner (0: accounts without a partner).
    case partner(UInt64)
}

/// Which dimension to list aggregate balances by.
public enum AggregateGrouping: UInt8, Hashable, Sendable {
    case merchant = 1
    case partner = 2
}

/// Aggregate balances by (kind, asset), by (kind, asset, merchant) and by (kind, asset, partner),
/// updated with every movement through the three buckets each account caches: never computed by
/// scanning accounts. Buckets are found through a seeded ``HashIndex`` (a million merchants make a
/// million buckets, which a snapshot restores in bulk).
struct AggregateTable: Sendable {
    struct Key: Hashable, Sendable {
        var kind: AccountKind
        var asset: UInt16
        /// 0 total, 1 merchant, 2 partner.
        var dimension: UInt8
        var value: UInt64
    }

    struct Group: Hashable, Sendable {
        var kind: AccountKind
        var asset: UInt16
        var dimension: UInt8
    }

    private(set) var keys: [Key] = []
    var balances: [Balance] = []
    private var index = HashIndex(minimumCapacity: 0)
    private var membersByGroup: [Group: [UInt32]] = [:]
    private let seed: UInt64
    /// Stands in for the index while it is built (see ``buildIndex()``).
    private static let placeholderIndex = HashIndex(minimumCapacity: 0)

    init(seed: UInt64) {
        self.seed = seed
    }

    var count: Int { self.keys.count }

    @inline(__always)
    private static func hash(_ key: Key, seed: UInt64) -> UInt64 {
        let group = UInt64(key.kind.rawValue) << 24 | UInt64(key.asset) << 8 | UInt64(key.dimension)
        return Hashing.mix(key.value ^ Hashing.mix(group ^ seed))
    }

    func find(_ key: Key) -> UInt32? {
        self.index.find(hash: Self.hash(key, seed: self.seed)) { self.keys[Int($0)] == key }
    }

    /// The bucket for `key`, created when missing.
    mutating func bucket(for key: Key) -> (index: UInt32, created: Bool) {
        if let index = self.find(key) {
            return (index, false)
        }
        let index = UInt32(self.keys.count)
        self.keys.append(key)
        self.balances.append(.zero)
        self.index.insert(hash: Self.hash(key, seed: self.seed), position: index)
        self.membersByGroup[Group(kind: key.kind, asset: key.asset, dimension: key.dimension), default: []]
            .append(index)
        return (index, true)
    }

    /// Makes room for `count` buckets in all (restoring: the arrays are sized once; ``buildIndex()``
    /// sizes the index).
    mutating func reserveCapacity(_ count: Int) {
        self.keys.reserveCapacity(count)
        self.balances.reserveCapacity(count)
    }

    /// Appends restored buckets with their balances without indexing them: ``buildIndex()`` indexes
    /// every restored bucket at once.
    mutating func restoreUnindexed(_ keys: [Key], balances: [Balance]) {
        precondition(keys.count == balances.count)
        let firstPosition = UInt32(self.keys.count)
        self.keys.append(contentsOf: keys)
        self.balances.append(contentsOf: balances)
        // Buckets come in runs of one group (an account's creation makes at most one per group,
        // and accounts of one kind and asset tend to follow each other): append a run at a time.
        var runStart = 0
        while runStart < keys.count {
            let first = keys[runStart]
            var runEnd = runStart + 1
            while runEnd < keys.count && keys[runEnd].kind == first.kind && keys[runEnd].asset == first.asset
                && keys[runEnd].dimension == first.dimension
            {
                runEnd += 1
            }
            self.membersByGroup[Group(kind: first.kind, asset: first.asset, dimension: first.dimension), default: []]
                .append(contentsOf: (runStart..<runEnd).lazy.map { firstPosition + UInt32($0) })
            runStart = runEnd
        }
    }

    /// Indexes every bucket restored by ``restoreUnindexed(_:balances:)``, the index being empty
    /// (``HashIndex/build(count:firstPosition:forEachHash:isDuplicate:)``). Returns the position of
    /// a bucket whose key is present twice, or nil. After a duplicate the table is left
    /// half-indexed: the decoder that called this throws and discards it.
    mutating func buildIndex() -> Int? {
        let seed = self.seed
        // The index leaves `self` while it is built, so that its closures may read the keys (the
        // placeholder costs no allocation; the index stays uniquely referenced).
        var index = AggregateTable.placeholderIndex
        swap(&index, &self.index)
        let duplicate = self.keys.withUnsafeBufferPointer { keys in
            index.build(
                count: keys.count,
                firstPosition: 0,
                forEachHash: { body in
                    for key in keys {
                        body(Self.hash(key, seed: seed))
                    }
                },
                isDuplicate: { offset, position in keys[Int(position)] == keys[offset] }
            )
        }
        swap(&index, &self.index)
        return duplicate
    }

    /// Undoes the creation of the newest bucket.
    mutating func removeLast() {
        let key = self.keys.removeLast()
        let balance = self.balances.removeLast()
        precondition(balance == .zero, "a bucket is removed only after every movement in it was undone")
        self.index.remove(hash: Self.hash(key, seed: self.seed), position: UInt32(self.keys.count))
        let group = Group(kind: key.kind, asset: key.asset, dimension: key.dimension)
        self.membersByGroup[group]!.removeLast()
        if self.membersByGroup[group]!.isEmpty {
            self.membersByGroup[group] = nil
        }
    }

    /// The buckets of one group, in creation order.
    func members(of group: Group) -> [UInt32] {
        self.membersByGroup[group] ?? []
    }
}
