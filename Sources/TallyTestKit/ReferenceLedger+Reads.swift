import TallyCore

extension ReferenceLedger {
    /// The account with id `id`, with its status and balance.
    public func account(_ id: AccountID) -> Account? {
        guard let position = self.accountPositions[id] else { return nil }
        return self.accounts[position]
    }

    /// The balance of account `id`.
    public func balance(of id: AccountID) -> Balance? {
        self.account(id)?.balance
    }

    /// The status of account `id`.
    public func status(of id: AccountID) -> AccountStatus? {
        self.account(id)?.status
    }

    /// Every account, in creation order.
    public var allAccounts: [Account] { self.accounts }

    /// The asset `code` with its totals.
    public func asset(_ code: AssetCode) -> Asset? {
        guard let position = self.assetPositions[code] else { return nil }
        return self.assets[position]
    }

    /// Every asset with its totals, in creation order.
    public var allAssets: [Asset] { self.assets }

    /// The open hold `id`.
    public func hold(_ id: TransactionID) -> Hold? {
        self.holdsOpen[id]
    }

    /// Every open hold, by id.
    public var openHolds: [Hold] {
        self.holdsOpen.values.sorted { $0.id < $1.id }
    }

    /// The number of open holds.
    public var openHoldCount: Int { self.holdsOpen.count }

    /// The open holds whose deadline has come at `time`, earliest deadline first (ties by id).
    public func dueHoldExpiries(at time: Timestamp) -> [TransactionID] {
        self.holdsOpen.values
            .filter { $0.deadline.nanosecondsSinceEpoch != 0 && $0.deadline <= time }
            .sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }
            .map { $0.id }
    }

    /// The sum of the balances of the accounts of `kind` in `asset`, in total or for one merchant or
    /// partner; nil when no such account exists. Computed by scanning every account.
    public func aggregateBalance(kind: AccountKind, asset: AssetCode, _ dimension: AggregateDimension) -> Balance? {
        var found = false
        var total = Balance.zero
        for account in self.accounts where account.kind == kind && account.asset == asset {
            switch dimension {
            case .total: break
            case .merchant(let merchant): guard account.merchant == merchant else { continue }
            case .partner(let partner): guard account.partner == partner else { continue }
            }
            found = true
            total.debitsPosted = ReferenceLedger.sum(total.debitsPosted, account.balance.debitsPosted)
            total.creditsPosted = ReferenceLedger.sum(total.creditsPosted, account.balance.creditsPosted)
            total.debitsPending = ReferenceLedger.sum(total.debitsPending, account.balance.debitsPending)
            total.creditsPending = ReferenceLedger.sum(total.creditsPending, account.balance.creditsPending)
        }
        return found ? total : nil
    }

    /// The aggregate balances of the accounts of `kind` in `asset`, one per merchant or partner value
    /// that some such account has, ordered by that value. Computed by scanning every account.
    public func aggregateBalances(
        kind: AccountKind,
        asset: AssetCode,
        by grouping: AggregateGrouping
    ) -> [(value: UInt64, balance: Balance)] {
        var values: [UInt64] = []
        for account in self.accounts where account.kind == kind && account.asset == asset {
            let value = grouping == .merchant ? account.merchant : account.partner
            if !values.contains(value) { values.append(value) }
        }
        return values.sorted().compactMap { value in
            let dimension: AggregateDimension = grouping == .merchant ? .merchant(value) : .partner(value)
            guard let balance = self.aggregateBalance(kind: kind, asset: asset, dimension) else { return nil }
            return (value: value, balance: balance)
        }
    }

    /// The transaction `id` as the model recorded it. The fields docs/LEDGER.md specifies are
    /// id, kind, key, FX rates, references, effective and recorded time, actor, reason, link, the
    /// deadline of a hold, the final flag of a capture, and what a capture, void or expiry released;
    /// the legs of posts and reversals; the type of every kind but expiries. The legs of hold
    /// operations and the type of an expiry are the model's own choice.
    public func transaction(_ id: TransactionID) -> TransactionRecord? {
        self.record(id)
    }

    /// True when transaction `id` has been reversed.
    public func isReversed(_ id: TransactionID) -> Bool {
        self.reversed.contains(id)
    }

    /// The ids of every reversed transaction, ascending.
    public var reversedTransactions: [TransactionID] {
        self.reversed.sorted()
    }

    /// The result remembered under `key` (with `isReplay` false), if the key is retained.
    public func rememberedResult(_ key: IdempotencyKey) -> OperationResult? {
        self.keyEntry(key)?.result
    }

    /// True when `key` is retained and `operation` has the same content as the operation
    /// remembered under it, so resending `operation` replays.
    public func wouldReplay(_ operation: Operation) -> Bool {
        guard let key = operation.header?.key, let entry = self.keyEntry(key) else { return false }
        return entry.content == ReferenceLedger.content(of: operation)
    }

    /// How many keys are retained.
    public var retainedKeyCount: Int {
        self.keyChunks.reduce(0) { $0 + $1.entries.count }
    }

    /// Every retained key, chunk by chunk from the oldest (unordered within a chunk).
    public var retainedKeys: [IdempotencyKey] {
        self.keyChunks.flatMap { $0.entries.keys }
    }

    /// The recorded time of the newest key of each retained chunk of the key log, oldest first: a
    /// chunk is dropped at the first batch whose recorded time exceeds this plus the window.
    public var keyChunkNewestTimes: [Timestamp] {
        self.keyChunks.map { $0.newestTime }
    }
}
