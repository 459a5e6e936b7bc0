import TallyCore

// aggregate_balances (opcode 0x23): a page of the aggregate balances of one kind and asset, one per
// merchant or per partner, in increasing order of the merchant or partner. Request flag bit 0:
// read applied rather than durable state.
//
//   request                                     reply
//   0   2  account kind                           0  1  more: 1 when entries follow the page's
//   2   16 asset code                                   last (ask again from its value + 1)
//   18  1  grouping: 1 merchant, 2 partner        1  4  count N (0 to the limit asked)
//   19  8  first merchant or partner of the       5  72N  entries, values strictly increasing:
//          page (0: from the start)                  +0  8   merchant or partner (0: the
//   27  4  limit: most entries wanted, 1 to               accounts without one)
//          16,384; the server returns at most        +8  64  balance
//          its operations-per-request limit

/// A page of aggregate balances by merchant or partner.
public struct AggregateBalancesRequest: Hashable, Sendable {
    public var kind: AccountKind
    public var asset: AssetCode
    public var grouping: AggregateGrouping
    /// The first merchant or partner of the page.
    public var start: UInt64
    /// The most entries wanted: 1 to ``WireProtocol/operationsPerRequestCeiling``.
    public var limit: Int
    public var consistency: ReadConsistency

    public init(
        kind: AccountKind,
        asset: AssetCode,
        by grouping: AggregateGrouping,
        start: UInt64 = 0,
        limit: Int = WireProtocol.operationsPerRequestCeiling,
        consistency: ReadConsistency = .durable
    ) {
        precondition((1...WireProtocol.operationsPerRequestCeiling).contains(limit), "a page limit of \(limit)")
        self.kind = kind
        self.asset = asset
        self.grouping = grouping
        self.start = start
        self.limit = limit
        self.consistency = consistency
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.kind.rawValue)
        bytes.put(self.asset.rawValue)
        bytes.put(self.grouping.rawValue)
        bytes.put(self.start)
        bytes.put(UInt32(self.limit))
    }

    static func decode(
        _ reader: inout WireReader,
        consistency: ReadConsistency
    ) throws(WireError) -> AggregateBalancesRequest {
        let kind = AccountKind(rawValue: try reader.read("the account kind"))
        let asset = AssetCode(rawValue: try reader.read("the asset code"))
        let groupingOffset = reader.offset
        let rawGrouping: UInt8 = try reader.read("the grouping")
        guard let grouping = AggregateGrouping(rawValue: rawGrouping) else {
            throw .malformed(
                .valueOutOfRange,
                at: groupingOffset,
                "grouping \(rawGrouping) is not 1 (merchant) or 2 (partner)"
            )
        }
        let start: UInt64 = try reader.read("the first value")
        let limitOffset = reader.offset
        let limit = Int(try reader.read(UInt32.self, "the limit"))
        guard (1...WireProtocol.operationsPerRequestCeiling).contains(limit) else {
            throw .malformed(
                .countOutOfRange,
                at: limitOffset,
                "the limit is \(limit), outside 1 to \(WireProtocol.operationsPerRequestCeiling)"
            )
        }
        try reader.expectEnd()
        return AggregateBalancesRequest(
            kind: kind,
            asset: asset,
            by: grouping,
            start: start,
            limit: limit,
            consistency: consistency
        )
    }
}

/// One entry of a page: a merchant or partner and its aggregate balance.
public struct AggregateEntry: Hashable, Sendable {
    public var value: UInt64
    public var balance: Balance

    public init(value: UInt64, balance: Balance) {
        self.value = value
        self.balance = balance
    }
}

/// A page of aggregate balances.
public struct AggregateBalancesReply: Hashable, Sendable {
    /// In strictly increasing order of value.
    public var entries: [AggregateEntry]
    /// Whether entries follow the page's last: ask again from its value + 1.
    public var hasMore: Bool

    public init(_ entries: [AggregateEntry], hasMore: Bool) {
        precondition(entries.count <= WireProtocol.operationsPerRequestCeiling, "a page of \(entries.count)")
        precondition(zip(entries, entries.dropFirst()).allSatisfy { $0.value < $1.value }, "a page out of order")
        self.entries = entries
        self.hasMore = hasMore
    }

    static let entryBytes = 8 + BalanceLayout.bytes

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.hasMore)
        bytes.putCount(self.entries.count, as: UInt32.self, ceiling: WireProtocol.operationsPerRequestCeiling)
        for entry in self.entries {
            bytes.put(entry.value)
            entry.balance.encode(into: &bytes)
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> AggregateBalancesReply {
        let hasMore = try reader.readBool("the more byte")
        let count = try decodeReplyCount(&reader, "the entry count", minimum: 0, itemBytes: Self.entryBytes)
        var entries: [AggregateEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let valueOffset = reader.offset
            let value: UInt64 = try reader.read("an entry's value")
            if let previous = entries.last, value <= previous.value {
                throw .malformed(
                    .valueOutOfRange,
                    at: valueOffset,
                    "entry value \(value) does not follow \(previous.value): a page is in increasing order"
                )
            }
            entries.append(AggregateEntry(value: value, balance: try Balance.decode(&reader)))
        }
        try reader.expectEnd()
        return AggregateBalancesReply(entries, hasMore: hasMore)
    }
}
