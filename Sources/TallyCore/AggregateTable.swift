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
/// scanning accounts.
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
    private var indexByKey: [Key: UInt32] = [:]
    private var membersByGroup: [Group: [UInt32]] = [:]

    var count: Int { self.keys.count }

    func find(_ key: Key) -> UInt32? {
        self.indexByKey[key]
    }

    /// The bucket for `key`, created when missing.
    mutating func bucket(for key: Key) -> (index: UInt32, created: Bool) {
        if let index = self.indexByKey[key] {
            return (index, false)
        }
        let index = UInt32(self.keys.count)
        self.keys.append(key)
        self.balances.append(.zero)
        self.indexByKey[key] = index
        self.membersByGroup[Group(kind: key.kind, asset: key.asset, dimension: key.dimension), default: []]
            .append(index)
        return (index, true)
    }

    /// Undoes the creation of the newest bucket.
    mutating func removeLast() {
        let key = self.keys.removeLast()
        let balance = self.balances.removeLast()
        precondition(balance == .zero, "a bucket is removed only after every movement in it was undone")
        self.indexByKey[key] = nil
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
