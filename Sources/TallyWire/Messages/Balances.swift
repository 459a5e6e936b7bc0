import TallyCore

// balances (opcode 0x20): the four totals of each of one or many accounts. Request flag bit 0:
// read applied rather than durable state.
//
//   request                                  reply
//   0  4  count N (1 to the server's          0  4  count N, as asked
//         operations-per-request limit)       4  65N  per account, in request order:
//   4  8N account ids                           +0  1  found: 1, or 0 (no such account; the rest zero)
//                                               +1  64 balance

/// Balances of accounts.
public struct BalancesRequest: Hashable, Sendable {
    public var accounts: [AccountID]
    public var consistency: ReadConsistency

    public init(_ accounts: [AccountID], consistency: ReadConsistency = .durable) {
        self.accounts = accounts
        self.consistency = consistency
    }

    func encode(into bytes: inout [UInt8]) {
        precondition(!self.accounts.isEmpty, "a read of no accounts")
        encodeIDs(self.accounts.lazy.map(\.rawValue), into: &bytes)
    }

    static func decode(
        _ reader: inout WireReader,
        consistency: ReadConsistency,
        limits: ConnectionLimits
    ) throws(WireError) -> BalancesRequest {
        let ids = try decodeIDs(&reader, "the account count", limits: limits)
        return BalancesRequest(ids.map(AccountID.init(rawValue:)), consistency: consistency)
    }
}

/// One balance per account asked for, nil where the account does not exist.
public struct BalancesReply: Hashable, Sendable {
    public var balances: [Balance?]

    public init(_ balances: [Balance?]) {
        self.balances = balances
    }

    static let itemBytes = 1 + BalanceLayout.bytes

    func encode(into bytes: inout [UInt8]) {
        bytes.putCount(self.balances.count, as: UInt32.self, ceiling: WireProtocol.operationsPerRequestCeiling)
        for balance in self.balances {
            bytes.put(balance != nil)
            (balance ?? .zero).encode(into: &bytes)
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> BalancesReply {
        let count = try decodeReplyCount(&reader, "the balance count", itemBytes: Self.itemBytes)
        var balances: [Balance?] = []
        balances.reserveCapacity(count)
        for _ in 0..<count {
            guard try decodeFound(&reader, "a balance's found byte", itemBytes: Self.itemBytes) else {
                balances.append(nil)
                continue
            }
            balances.append(try Balance.decode(&reader))
        }
        try reader.expectEnd()
        return BalancesReply(balances)
    }
}
