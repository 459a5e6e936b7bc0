import TallyCore

// A transaction as lookups return it (TallyCore.TransactionRecord), 96 + 25 L + 48 R + P + Q bytes:
//
//   0   8   id
//   8   1   kind (OperationKind): 4 post, 5 hold, 6 capture, 7 increase_hold, 8 void_hold,
//           9 expire_hold, 10 reverse
//   9   1   flags: bit 0 final (a capture only); every other bit 0
//   10  2   type (TransactionType)
//   12  16  idempotency key (0 for an expiry, which the engine issues)
//   28  8   effective time, ns (0: not given)
//   36  8   recorded time, ns (engine time)
//   44  8   actor (0: none)
//   52  4   reason (0: none)
//   56  8   link: the hold a capture, increase, void or expiry acted on, the transaction a
//           reversal reverses; 0 otherwise
//   64  16  released: what a final capture, void or expiry released from the hold
//   80  8   deadline of a hold, engine time in ns (0: none)
//   88  2   leg count L (0-255), then L legs of 25 bytes
//   ..  2   rate count R (0-255), then R FX rates of 48 bytes
//   ..  2   payment id length P (0-1,024), then P bytes
//   ..  2   provider reference length Q (0-1,024), then Q bytes

extension TransactionRecord {
    static let fixedBytes = 88
    static let finalFlag: UInt8 = 1 << 0
    static let listMax = 255
    static let referenceBytesMax = OperationBatch.EncodingLimits.referenceBytesMax

    func encode(into bytes: inout [UInt8]) {
        bytes.put(self.id.rawValue)
        bytes.put(self.kind.rawValue)
        bytes.put(self.isFinal ? Self.finalFlag : 0)
        bytes.put(self.type.rawValue)
        bytes.put(self.key.rawValue)
        bytes.put(self.effectiveTime.nanosecondsSinceEpoch)
        bytes.put(self.recordedTime.nanosecondsSinceEpoch)
        bytes.put(self.actor)
        bytes.put(self.reason)
        bytes.put(self.link.rawValue)
        bytes.put(self.released)
        bytes.put(self.deadline.nanosecondsSinceEpoch)
        bytes.putCount(self.legs.count, as: UInt16.self, ceiling: Self.listMax)
        for leg in self.legs {
            leg.encode(into: &bytes)
        }
        bytes.putCount(self.fxRates.count, as: UInt16.self, ceiling: Self.listMax)
        for rate in self.fxRates {
            rate.encode(into: &bytes)
        }
        for reference in [self.references.paymentID, self.references.providerReference] {
            bytes.putCount(reference.bytes.count, as: UInt16.self, ceiling: Self.referenceBytesMax)
            bytes.append(contentsOf: reference.bytes)
        }
    }

    static func decode(_ reader: inout WireReader) throws(WireError) -> TransactionRecord {
        let id = TransactionID(rawValue: try reader.read("the transaction id"))
        let kindOffset = reader.offset
        let rawKind: UInt8 = try reader.read("the transaction's kind")
        guard let kind = OperationKind(rawValue: rawKind), kind.createsTransaction else {
            throw .malformed(
                .valueOutOfRange,
                at: kindOffset,
                "transaction kind \(rawKind) is not one that creates a transaction (4 to 10)"
            )
        }
        let flagsOffset = reader.offset
        let flags: UInt8 = try reader.read("the transaction's flags")
        let allowed = kind == .capture ? Self.finalFlag : 0
        guard flags & ~allowed == 0 else {
            throw .malformed(
                .valueOutOfRange,
                at: flagsOffset,
                "transaction flags \(flags): only bit 0 (final), on a capture, may be set"
            )
        }
        let type = TransactionType(rawValue: try reader.read("the transaction's type"))
        let key = IdempotencyKey(rawValue: try reader.read("the transaction's key"))
        let effectiveTime = Timestamp(nanosecondsSinceEpoch: try reader.read("the effective time"))
        let recordedTime = Timestamp(nanosecondsSinceEpoch: try reader.read("the recorded time"))
        let actor: UInt64 = try reader.read("the actor")
        let reason: UInt32 = try reader.read("the reason")
        let link = TransactionID(rawValue: try reader.read("the link"))
        let released: UInt128 = try reader.read("the released amount")
        let deadline = Timestamp(nanosecondsSinceEpoch: try reader.read("the deadline"))

        let legCount = try reader.readCount(
            UInt16.self,
            "the leg count",
            minimum: 0,
            ceiling: Self.listMax,
            itemBytes: Leg.wireBytes
        )
        var legs: [Leg] = []
        legs.reserveCapacity(legCount)
        for _ in 0..<legCount {
            legs.append(try Leg.decode(&reader))
        }
        let rateCount = try reader.readCount(
            UInt16.self,
            "the rate count",
            minimum: 0,
            ceiling: Self.listMax,
            itemBytes: FXRate.wireBytes
        )
        var rates: [FXRate] = []
        rates.reserveCapacity(rateCount)
        for _ in 0..<rateCount {
            rates.append(try FXRate.decode(&reader))
        }
        let paymentID = try Self.decodeReference(&reader, "the payment id length")
        let providerReference = try Self.decodeReference(&reader, "the provider reference length")
        return TransactionRecord(
            id: id,
            kind: kind,
            type: type,
            key: key,
            legs: legs,
            fxRates: rates,
            references: ExternalReferences(paymentID: paymentID, providerReference: providerReference),
            effectiveTime: effectiveTime,
            recordedTime: recordedTime,
            actor: actor,
            reason: reason,
            link: link,
            released: released,
            deadline: deadline,
            isFinal: flags & Self.finalFlag != 0
        )
    }

    private static func decodeReference(
        _ reader: inout WireReader,
        _ field: StaticString
    ) throws(WireError) -> ExternalReference {
        let offset = reader.offset
        let length = Int(try reader.read(UInt16.self, field))
        guard length <= Self.referenceBytesMax else {
            throw .malformed(
                .lengthOutOfRange,
                at: offset,
                "\(field) is \(length), more than \(Self.referenceBytesMax)"
            )
        }
        return ExternalReference(bytes: Array(try reader.bytes(length, field)))
    }
}
