import TallyCore

// idempotency_record (opcode 0x27): what the ledger remembers under an idempotency key. Request
// flag bit 0: read applied rather than durable state.
//
//   request                  reply
//   0  16 key                  0   1   found: 1, or 0 (the key is unknown, or older than the
//                                      idempotency window; nothing follows)
//                              when found:
//                              1   16  key
//                              17  16  the remembered result (submit_batch's result layout; the
//                                      replay flag is 0)
//                              33  1   transaction present: 1 when the result is ok and the
//                                      transaction is still retained, else 0 (nothing follows)
//                              34  …   the transaction (layout in TransactionRecord+Wire.swift)

/// The remembered result of an idempotency key.
public struct IdempotencyRequest: Hashable, Sendable {
    public var key: IdempotencyKey
    public var consistency: ReadConsistency

    public init(_ key: IdempotencyKey, consistency: ReadConsistency = .durable) {
        self.key = key
        self.consistency = consistency
    }

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.key.rawValue)
    }

    static func decode(_ reader: inout WireReader, consistency: ReadConsistency) throws(WireError) -> IdempotencyRequest
    {
        let key = IdempotencyKey(rawValue: try reader.read("the key"))
        try reader.expectEnd()
        return IdempotencyRequest(key, consistency: consistency)
    }
}

/// The record under a key, nil when the ledger remembers none.
public struct IdempotencyReply: Hashable, Sendable {
    public var record: IdempotencyRecord?

    public init(_ record: IdempotencyRecord?) {
        precondition(record.map { !$0.result.isReplay } ?? true, "a remembered result is never a replay")
        self.record = record
    }

    func encode(into bytes: inout [UInt8]) {
        guard let record = self.record else {
            bytes.put(false)
            return
        }
        bytes.put(true)
        bytes.put(record.key.rawValue)
        record.result.encode(into: &bytes)
        bytes.put(record.transaction != nil)
        record.transaction?.encode(into: &bytes)
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> IdempotencyReply {
        guard try reader.readBool("the found byte") else {
            try reader.expectEnd()
            return IdempotencyReply(nil)
        }
        let key = IdempotencyKey(rawValue: try reader.read("the key"))
        let resultOffset = reader.offset
        let result = try OperationResult.decode(&reader)
        guard !result.isReplay else {
            throw .malformed(.valueOutOfRange, at: resultOffset + 4, "a remembered result has the replay flag")
        }
        let transaction =
            try reader.readBool("the transaction present byte") ? try TransactionRecord.decode(&reader) : nil
        try reader.expectEnd()
        return IdempotencyReply(IdempotencyRecord(key: key, result: result, transaction: transaction))
    }
}
