import TallyCore

// accounts (opcode 0x21): each account's definition, status and balance. Request flag bit 0:
// read applied rather than durable state.
//
//   request: as balances (u32 count N, N account ids)
//   reply:   0  4  count N, as asked
//            4  111N  per account, in request order:
//              +0   1   found: 1, or 0 (no such account; the rest zero)
//              +1   8   id
//              +9   16  asset code
//              +25  2   kind (AccountKind)
//              +27  1   normal side: 1 debit, 2 credit
//              +28  8   merchant (0: none)
//              +36  8   partner (0: none)
//              +44  2   flags (AccountFlags)
//              +46  1   status: 1 open, 2 frozen, 3 closed
//              +47  64  balance

/// Accounts by id.
public struct AccountsRequest: Hashable, Sendable {
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
    ) throws(WireError) -> AccountsRequest {
        let ids = try decodeIDs(&reader, "the account count", limits: limits)
        return AccountsRequest(ids.map(AccountID.init(rawValue:)), consistency: consistency)
    }
}

/// One account per id asked for, nil where it does not exist.
public struct AccountsReply: Hashable, Sendable {
    public var accounts: [AccountInfo?]

    public init(_ accounts: [AccountInfo?]) {
        self.accounts = accounts
    }

    static let itemBytes = 47 + BalanceLayout.bytes

    func encode(into bytes: inout [UInt8]) {
        bytes.putCount(self.accounts.count, as: UInt32.self, ceiling: WireProtocol.operationsPerRequestCeiling)
        for account in self.accounts {
            guard let account else {
                bytes.append(contentsOf: repeatElement(0, count: Self.itemBytes))
                continue
            }
            bytes.put(true)
            bytes.put(account.id.rawValue)
            bytes.put(account.asset.rawValue)
            bytes.put(account.kind.rawValue)
            bytes.put(account.normalSide.rawValue)
            bytes.put(account.merchant)
            bytes.put(account.partner)
            bytes.put(account.flags.rawValue)
            bytes.put(account.status.rawValue)
            account.balance.encode(into: &bytes)
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> AccountsReply {
        let count = try decodeReplyCount(&reader, "the account count", itemBytes: Self.itemBytes)
        var accounts: [AccountInfo?] = []
        accounts.reserveCapacity(count)
        for _ in 0..<count {
            guard try decodeFound(&reader, "an account's found byte", itemBytes: Self.itemBytes) else {
                accounts.append(nil)
                continue
            }
            let id = AccountID(rawValue: try reader.read("an account's id"))
            let asset = AssetCode(rawValue: try reader.read("an account's asset"))
            let kind = AccountKind(rawValue: try reader.read("an account's kind"))
            let normalSide = try Side.decode(&reader, "an account's normal side")
            let merchant: UInt64 = try reader.read("an account's merchant")
            let partner: UInt64 = try reader.read("an account's partner")
            let flags = AccountFlags(rawValue: try reader.read("an account's flags"))
            let statusOffset = reader.offset
            let rawStatus: UInt8 = try reader.read("an account's status")
            guard let status = AccountStatus(rawValue: rawStatus) else {
                throw .malformed(
                    .valueOutOfRange,
                    at: statusOffset,
                    "account status \(rawStatus) is not 1 (open), 2 (frozen) or 3 (closed)"
                )
            }
            accounts.append(
                AccountInfo(
                    id: id,
                    asset: asset,
                    kind: kind,
                    normalSide: normalSide,
                    merchant: merchant,
                    partner: partner,
                    flags: flags,
                    status: status,
                    balance: try Balance.decode(&reader)
                )
            )
        }
        try reader.expectEnd()
        return AccountsReply(accounts)
    }
}
