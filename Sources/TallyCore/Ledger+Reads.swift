import HeapModule

extension Ledger {
    /// The id of the newest transaction (zero before the first).
    public var lastTransaction: TransactionID { TransactionID(self.lastTransactionID) }

    /// Engine time of the newest batch.
    public var recordedTime: Timestamp { Timestamp(nanosecondsSinceEpoch: self.lastRecordedTime) }

    public func account(_ id: AccountID) -> AccountInfo? {
        guard let index = self.accounts.find(id) else { return nil }
        let record = self.accounts.records[index]
        return AccountInfo(
            id: record.id,
            asset: self.assets.codes[Int(record.asset)],
            kind: record.kind,
            normalSide: record.normalSide,
            merchant: record.merchant,
            partner: record.partner,
            flags: record.flags,
            status: record.status,
            balance: self.accounts.balances[index]
        )
    }

    public func balance(of id: AccountID) -> Balance? {
        self.accounts.find(id).map { self.accounts.balances[$0] }
    }

    /// Every account, in creation order.
    public var allAccounts: [AccountInfo] {
        self.accounts.records.map { self.account($0.id)! }
    }

    public func asset(_ code: AssetCode) -> AssetInfo? {
        self.assets.index(of: code).map(self.assetInfo(at:))
    }

    /// Every asset, in creation order.
    public var allAssets: [AssetInfo] {
        (0..<self.assets.count).map { self.assetInfo(at: UInt16($0)) }
    }

    private func assetInfo(at index: UInt16) -> AssetInfo {
        AssetInfo(
            code: self.assets.codes[Int(index)],
            scale: self.assets.scales[Int(index)],
            totals: self.assets.totals[Int(index)]
        )
    }

    /// The aggregate balance of the accounts of `kind` in `asset`, in total or for one merchant or
    /// partner; nil when no such account exists.
    public func aggregateBalance(kind: AccountKind, asset: AssetCode, _ dimension: AggregateDimension) -> Balance? {
        guard let assetIndex = self.assets.index(of: asset) else { return nil }
        let key: AggregateTable.Key
        switch dimension {
        case .total: key = .init(kind: kind, asset: assetIndex, dimension: 0, value: 0)
        case .merchant(let merchant): key = .init(kind: kind, asset: assetIndex, dimension: 1, value: merchant)
        case .partner(let partner): key = .init(kind: kind, asset: assetIndex, dimension: 2, value: partner)
        }
        return self.aggregates.find(key).map { self.aggregates.balances[Int($0)] }
    }

    /// The aggregate balances of the accounts of `kind` in `asset`, one per merchant or partner,
    /// ordered by that dimension's value: what each merchant is owed, what each PSP owes.
    public func aggregateBalances(
        kind: AccountKind,
        asset: AssetCode,
        by grouping: AggregateGrouping
    ) -> [(value: UInt64, balance: Balance)] {
        guard let assetIndex = self.assets.index(of: asset) else { return [] }
        let group = AggregateTable.Group(kind: kind, asset: assetIndex, dimension: grouping.rawValue)
        return self.aggregates.members(of: group)
            .map { (self.aggregates.keys[Int($0)].value, self.aggregates.balances[Int($0)]) }
            .sorted { $0.value < $1.value }
    }

    /// One page of ``aggregateBalances(kind:asset:by:)``: the first `limit` entries whose value is at
    /// least `start`, and whether more follow. Scans the group's members once and sorts only what
    /// is kept (at most `limit` + 1), so a page costs the writer O(members) whatever the page.
    public func aggregateBalances(
        kind: AccountKind,
        asset: AssetCode,
        by grouping: AggregateGrouping,
        start: UInt64,
        limit: Int
    ) -> (entries: [(value: UInt64, balance: Balance)], hasMore: Bool) {
        precondition(limit >= 1, "a page of at least one entry")
        guard let assetIndex = self.assets.index(of: asset) else { return ([], false) }
        let group = AggregateTable.Group(kind: kind, asset: assetIndex, dimension: grouping.rawValue)
        // Keep the limit + 1 smallest values ≥ start in a max-heap ordered by value.
        var kept = Heap<HeapEntry>()
        for member in self.aggregates.members(of: group) {
            let value = self.aggregates.keys[Int(member)].value
            guard value >= start else { continue }
            if kept.count <= limit {
                kept.insert(HeapEntry(value: value, index: member))
            } else if let largest = kept.max, value < largest.value {
                kept.replaceMax(with: HeapEntry(value: value, index: member))
            }
        }
        let hasMore = kept.count > limit
        if hasMore { _ = kept.popMax() }
        let entries = kept.unordered.sorted { $0.value < $1.value }
            .map { (value: $0.value, balance: self.aggregates.balances[Int($0.index)]) }
        return (entries, hasMore)
    }

    private struct HeapEntry: Comparable {
        var value: UInt64
        var index: UInt32
        static func < (lhs: HeapEntry, rhs: HeapEntry) -> Bool { lhs.value < rhs.value }
    }

    public func transaction(_ id: TransactionID) -> TransactionLookup {
        guard id.rawValue != 0, id.rawValue <= self.lastTransactionID else { return .notFound }
        return self.decodeRecord(id).map { .found($0) } ?? .notRetained
    }

    public func idempotencyRecord(_ key: IdempotencyKey) -> IdempotencyRecord? {
        guard let entry = self.keys.find(key) else { return nil }
        let result = IdempotencyTable.Outcome.decode(entry.outcome)
        let transaction = result.transactionID.rawValue == 0 ? nil : self.decodeRecord(result.transactionID)
        return IdempotencyRecord(key: key, result: result, transaction: transaction)
    }

    public func hold(_ id: TransactionID) -> HoldInfo? {
        self.holds[id].map { self.holdInfo($0, id: id) }
    }

    /// Every open hold, by id.
    public var openHolds: [HoldInfo] {
        self.holds.open.keys.sorted().map { self.holdInfo(self.holds.open[$0]!, id: TransactionID($0)) }
    }

    private func holdInfo(_ hold: HoldRecord, id: TransactionID) -> HoldInfo {
        HoldInfo(
            id: id,
            debit: self.accounts.records[Int(hold.debit)].id,
            credit: self.accounts.records[Int(hold.credit)].id,
            type: hold.type,
            amount: hold.amount,
            captured: hold.captured,
            deadline: Timestamp(nanosecondsSinceEpoch: hold.deadline)
        )
    }

    /// Open holds whose deadline is at or before `time`, earliest deadline first, at most `limit`.
    ///
    /// The engine turns each into an ``Operation/expireHold(hold:)`` and applies it (journaled like
    /// any operation), so replay reproduces every expiry. Mutating only to drop stale schedule
    /// entries; results and digest do not change.
    public mutating func dueHoldExpiries(at time: Timestamp, limit: Int = Int.max) -> [TransactionID] {
        self.holds.due(at: time.nanosecondsSinceEpoch, limit: limit)
    }

    /// The earliest deadline of an open hold, for scheduling the next expiry sweep.
    public mutating func nextHoldDeadline() -> Timestamp? {
        self.holds.nextDeadline().map { Timestamp(nanosecondsSinceEpoch: $0) }
    }

    public var statistics: LedgerStatistics {
        LedgerStatistics(
            assets: self.assets.count,
            accounts: self.accounts.count,
            aggregateBuckets: self.aggregates.count,
            openHolds: self.holds.count,
            transactions: self.lastTransactionID,
            retainedTransactions: self.transactions.count,
            reversedTransactions: self.reversed.count,
            retainedKeys: self.keys.count,
            rejectedOperations: self.rejectedCount,
            batches: self.batchCount,
            recordedTime: self.recordedTime,
            keyMemoryBytes: self.keys.memoryBytes,
            keyIndexSlots: self.keys.indexCapacity,
            transactionMemoryBytes: self.transactions.memoryBytes,
            accountMemoryBytes: self.accounts.memoryBytes
        )
    }
}
