import TallyCore

// transaction (opcode 0x26): a transaction by id. Request flag bit 0: read applied rather than
// durable state.
//
//   request                       reply
//   0  8  transaction id            0  1  outcome: 1 found, 2 not retained (the id was assigned but
//                                          the transaction is older than the retention window; the
//                                          journal has it), 3 not found
//                                   1  …  when found: the transaction (layout in TransactionRecord+Wire.swift)

/// A transaction by id.
public struct TransactionRequest: Hashable, Sendable {
    public var id: TransactionID
    public var consistency: ReadConsistency

    public init(_ id: TransactionID, consistency: ReadConsistency = .durable) {
        self.id = id
        self.consistency = consistency
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.id.rawValue)
    }

    static func decode(_ reader: inout WireReader, consistency: ReadConsistency) throws(WireError) -> TransactionRequest
    {
        let id = TransactionID(rawValue: try reader.read("the transaction id"))
        try reader.expectEnd()
        return TransactionRequest(id, consistency: consistency)
    }
}

/// What a lookup by id found.
public struct TransactionReply: Hashable, Sendable {
    public var lookup: TransactionLookup

    public init(_ lookup: TransactionLookup) {
        self.lookup = lookup
    }

    func encode(into bytes: inout [UInt8]) {
        switch self.lookup {
        case .found(let record):
            bytes.put(UInt8(1))
            record.encode(into: &bytes)
        case .notRetained:
            bytes.put(UInt8(2))
        case .notFound:
            bytes.put(UInt8(3))
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> TransactionReply {
        let outcomeOffset = reader.offset
        let outcome: UInt8 = try reader.read("the outcome")
        let lookup: TransactionLookup
        switch outcome {
        case 1: lookup = .found(try TransactionRecord.decode(&reader))
        case 2: lookup = .notRetained
        case 3: lookup = .notFound
        default:
            throw .malformed(
                .valueOutOfRange,
                at: outcomeOffset,
                "outcome \(outcome) is not 1 (found), 2 (not retained) or 3 (not found)"
            )
        }
        try reader.expectEnd()
        return TransactionReply(lookup)
    }
}
