import TallyCore

// Wire layouts of the ledger values that several replies carry. Integers little-endian; amounts
// u128 minor units; ids u64; asset codes and idempotency keys u128 as in the batch encoding.
//
//   Balance, 64 bytes: debits posted, credits posted, debits pending, credits pending (u128 each)
//   Leg, 25 bytes: account u64, side u8 (1 debit, 2 credit), amount u128
//   FX rate, 48 bytes: base u128, quote u128, numerator u64, denominator u64

enum BalanceLayout {
    static let bytes = 64
}

extension Balance {
    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.debitsPosted)
        bytes.put(self.creditsPosted)
        bytes.put(self.debitsPending)
        bytes.put(self.creditsPending)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> Balance {
        Balance(
            debitsPosted: try reader.read("debits posted"),
            creditsPosted: try reader.read("credits posted"),
            debitsPending: try reader.read("debits pending"),
            creditsPending: try reader.read("credits pending")
        )
    }
}

extension Leg {
    static let wireBytes = 25

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.account.rawValue)
        bytes.put(self.side.rawValue)
        bytes.put(self.amount)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> Leg {
        let account = AccountID(rawValue: try reader.read("a leg's account"))
        let side = try Side.decode(&reader, "a leg's side")
        return Leg(account: account, side: side, amount: try reader.read("a leg's amount"))
    }
}

extension FXRate {
    static let wireBytes = 48

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.base.rawValue)
        bytes.put(self.quote.rawValue)
        bytes.put(self.numerator)
        bytes.put(self.denominator)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> FXRate {
        FXRate(
            base: AssetCode(rawValue: try reader.read("a rate's base")),
            quote: AssetCode(rawValue: try reader.read("a rate's quote")),
            numerator: try reader.read("a rate's numerator"),
            denominator: try reader.read("a rate's denominator")
        )
    }
}

extension Side {
    /// 1 debit, 2 credit.
    static func decode(_ reader: inout WireReader, _ field: StaticString) throws(WireError) -> Side {
        let offset = reader.offset
        let raw: UInt8 = try reader.read(field)
        guard let side = Side(rawValue: raw) else {
            throw .malformed(.valueOutOfRange, at: offset, "\(field) is \(raw), not 1 (debit) or 2 (credit)")
        }
        return side
    }
}

/// Reads a list of `u64` ids (accounts or transactions) behind a `u32` count.
func decodeIDs(
    _ reader: inout WireReader,
    _ field: StaticString,
    limits: ConnectionLimits
) throws(WireError) -> [UInt64] {
    let count = try reader.readCount(
        UInt32.self,
        field,
        ceiling: WireProtocol.operationsPerRequestCeiling,
        limit: limits.operationsPerRequestMax,
        itemBytes: 8
    )
    var ids: [UInt64] = []
    ids.reserveCapacity(count)
    for _ in 0..<count {
        ids.append(try reader.read(field))
    }
    try reader.expectEnd()
    return ids
}

/// Appends a list of `u64` ids behind a `u32` count.
func encodeIDs(_ ids: some Collection<UInt64>, into bytes: inout [UInt8]) {
    bytes.putCount(ids.count, as: UInt32.self, ceiling: WireProtocol.operationsPerRequestCeiling)
    for id in ids {
        bytes.put(id)
    }
}

/// Reads the count of a reply's list of fixed-size items (1 to the ceiling).
func decodeReplyCount(
    _ reader: inout WireReader,
    _ field: StaticString,
    minimum: Int = 1,
    itemBytes: Int
) throws(WireError) -> Int {
    try reader.readCount(
        UInt32.self,
        field,
        minimum: minimum,
        ceiling: WireProtocol.operationsPerRequestCeiling,
        itemBytes: itemBytes
    )
}

/// Reads the found byte of a fixed-size reply item; a missing item's other bytes must be zero.
/// Returns false, having read the whole item, when it is missing.
func decodeFound(
    _ reader: inout WireReader,
    _ field: StaticString,
    itemBytes: Int
) throws(WireError) -> Bool {
    let found = try reader.readBool(field)
    if !found {
        let offset = reader.offset
        let rest = try reader.bytes(itemBytes - 1, field)
        if let index = rest.firstIndex(where: { $0 != 0 }) {
            throw .malformed(
                .valueOutOfRange,
                at: offset + index,
                "\(field) is 0 (not found) but the item's bytes are not all zero"
            )
        }
    }
    return found
}
