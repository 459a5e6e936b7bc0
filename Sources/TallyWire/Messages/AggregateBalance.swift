import TallyCore

// aggregate_balance (opcode 0x22): the summed balance of the accounts of one kind in one asset, in
// total or for one merchant or partner; kept up to date on every posting, never computed by
// scanning. Request flag bit 0: read applied rather than durable state.
//
//   request                                   reply
//   0   2  account kind                         0  1   found: 1, or 0 (no such account exists;
//   2   16 asset code                                   the balance is zero)
//   18  1  dimension: 0 total, 1 merchant,      1  64  balance
//          2 partner
//   19  8  the merchant or partner (0 with
//          total; 0 with merchant or partner
//          means the accounts without one)

/// One aggregate balance.
public struct AggregateBalanceRequest: Hashable, Sendable {
    public var kind: AccountKind
    public var asset: AssetCode
    public var dimension: AggregateDimension
    public var consistency: ReadConsistency

    public init(
        kind: AccountKind,
        asset: AssetCode,
        _ dimension: AggregateDimension,
        consistency: ReadConsistency = .durable
    ) {
        self.kind = kind
        self.asset = asset
        self.dimension = dimension
        self.consistency = consistency
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.kind.rawValue)
        bytes.put(self.asset.rawValue)
        switch self.dimension {
        case .total:
            bytes.put(UInt8(0))
            bytes.put(UInt64(0))
        case .merchant(let merchant):
            bytes.put(UInt8(1))
            bytes.put(merchant)
        case .partner(let partner):
            bytes.put(UInt8(2))
            bytes.put(partner)
        }
    }

    static func decode(
        _ reader: inout WireReader,
        consistency: ReadConsistency
    ) throws(WireError) -> AggregateBalanceRequest {
        let kind = AccountKind(rawValue: try reader.read("the account kind"))
        let asset = AssetCode(rawValue: try reader.read("the asset code"))
        let dimensionOffset = reader.offset
        let rawDimension: UInt8 = try reader.read("the dimension")
        let dimension: AggregateDimension
        switch rawDimension {
        case 0:
            try reader.readZero(UInt64.self, "the value of the total dimension")
            dimension = .total
        case 1:
            dimension = .merchant(try reader.read("the merchant"))
        case 2:
            dimension = .partner(try reader.read("the partner"))
        default:
            throw .malformed(
                .valueOutOfRange,
                at: dimensionOffset,
                "dimension \(rawDimension) is not 0 (total), 1 (merchant) or 2 (partner)"
            )
        }
        try reader.expectEnd()
        return AggregateBalanceRequest(kind: kind, asset: asset, dimension, consistency: consistency)
    }
}

/// The aggregate balance, nil when no account of the kind, asset and dimension exists.
public struct AggregateBalanceReply: Hashable, Sendable {
    public var balance: Balance?

    public init(_ balance: Balance?) {
        self.balance = balance
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.balance != nil)
        (self.balance ?? .zero).encode(into: &bytes)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> AggregateBalanceReply {
        let found = try decodeFound(&reader, "the found byte", itemBytes: 1 + BalanceLayout.bytes)
        let balance = found ? try Balance.decode(&reader) : nil
        try reader.expectEnd()
        return AggregateBalanceReply(balance)
    }
}
