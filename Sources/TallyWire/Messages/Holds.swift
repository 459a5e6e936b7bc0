import TallyCore

// holds (opcode 0x25): open holds by transaction id. Request flag bit 0: read applied rather than
// durable state.
//
//   request                                  reply
//   0  4  count N (1 to the server's          0  4  count N, as asked
//         operations-per-request limit)       4  67N  per hold, in request order:
//   4  8N hold transaction ids                  +0   1   found: 1, or 0 (no open hold with the id:
//                                                        never a hold, or captured, voided,
//                                                        expired; the rest zero)
//                                               +1   8   id
//                                               +9   8   debit account
//                                               +17  8   credit account
//                                               +25  2   transaction type
//                                               +27  16  amount held (with every increase)
//                                               +43  16  amount captured so far
//                                               +59  8   deadline, engine time in ns (0: none)

/// Open holds by id.
public struct HoldsRequest: Hashable, Sendable {
    public var holds: [TransactionID]
    public var consistency: ReadConsistency

    public init(_ holds: [TransactionID], consistency: ReadConsistency = .durable) {
        self.holds = holds
        self.consistency = consistency
    }

    func encode(into bytes: inout [UInt8]) {
        precondition(!self.holds.isEmpty, "a read of no holds")
        encodeIDs(self.holds.lazy.map(\.rawValue), into: &bytes)
    }

    static func decode(
        _ reader: inout WireReader,
        consistency: ReadConsistency,
        limits: ConnectionLimits
    ) throws(WireError) -> HoldsRequest {
        let ids = try decodeIDs(&reader, "the hold count", limits: limits)
        return HoldsRequest(ids.map(TransactionID.init(rawValue:)), consistency: consistency)
    }
}

/// One hold per id asked for, nil where no open hold has it.
public struct HoldsReply: Hashable, Sendable {
    public var holds: [HoldInfo?]

    public init(_ holds: [HoldInfo?]) {
        self.holds = holds
    }

    static let itemBytes = 67

    func encode(into bytes: inout [UInt8]) {
        bytes.putCount(self.holds.count, as: UInt32.self, ceiling: WireProtocol.operationsPerRequestCeiling)
        for hold in self.holds {
            guard let hold else {
                bytes.append(contentsOf: repeatElement(0, count: Self.itemBytes))
                continue
            }
            bytes.put(true)
            bytes.put(hold.id.rawValue)
            bytes.put(hold.debit.rawValue)
            bytes.put(hold.credit.rawValue)
            bytes.put(hold.type.rawValue)
            bytes.put(hold.amount)
            bytes.put(hold.captured)
            bytes.put(hold.deadline.nanosecondsSinceEpoch)
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> HoldsReply {
        let count = try decodeReplyCount(&reader, "the hold count", itemBytes: Self.itemBytes)
        var holds: [HoldInfo?] = []
        holds.reserveCapacity(count)
        for _ in 0..<count {
            guard try decodeFound(&reader, "a hold's found byte", itemBytes: Self.itemBytes) else {
                holds.append(nil)
                continue
            }
            holds.append(
                HoldInfo(
                    id: TransactionID(rawValue: try reader.read("a hold's id")),
                    debit: AccountID(rawValue: try reader.read("a hold's debit account")),
                    credit: AccountID(rawValue: try reader.read("a hold's credit account")),
                    type: TransactionType(rawValue: try reader.read("a hold's type")),
                    amount: try reader.read("a hold's amount"),
                    captured: try reader.read("a hold's captured amount"),
                    deadline: Timestamp(nanosecondsSinceEpoch: try reader.read("a hold's deadline"))
                )
            )
        }
        try reader.expectEnd()
        return HoldsReply(holds)
    }
}
