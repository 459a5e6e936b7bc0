/// Encoding of ``TransactionStore`` records (the layout is described in TransactionStore.swift).
extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { self.append(contentsOf: $0) }
    }

    /// Appends `amount` as one byte (`flagBit` or'ed with the byte length) and its significant
    /// bytes, least significant first.
    @inline(__always)
    mutating func appendAmount(_ amount: UInt128, flagBit: UInt8 = 0) {
        let length = (128 - amount.leadingZeroBitCount + 7) / 8
        self.append(flagBit | UInt8(length))
        var remaining = amount
        for _ in 0..<length {
            self.append(UInt8(truncatingIfNeeded: remaining))
            remaining >>= 8
        }
    }

    mutating func appendRecordHeader(
        kind: OperationKind,
        header: TransactionHeader,
        recordedTime: UInt64,
        link: TransactionID = 0,
        released: UInt128 = 0,
        deadline: UInt64 = 0,
        isFinal: Bool = false
    ) {
        var flags: UInt8 = 0
        if header.key.rawValue != 0 { flags |= 1 << 0 }
        if header.effectiveTime.nanosecondsSinceEpoch != 0 { flags |= 1 << 1 }
        if header.actor != 0 { flags |= 1 << 2 }
        if header.reason != 0 { flags |= 1 << 3 }
        if link.rawValue != 0 { flags |= 1 << 4 }
        if released != 0 { flags |= 1 << 5 }
        if deadline != 0 { flags |= 1 << 6 }
        if isFinal { flags |= 1 << 7 }
        self.append(kind.rawValue)
        self.append(flags)
        self.appendLittleEndian(header.type.rawValue)
        self.appendLittleEndian(recordedTime)
        if header.key.rawValue != 0 { self.appendLittleEndian(header.key.rawValue) }
        if header.effectiveTime.nanosecondsSinceEpoch != 0 {
            self.appendLittleEndian(header.effectiveTime.nanosecondsSinceEpoch)
        }
        if header.actor != 0 { self.appendLittleEndian(header.actor) }
        if header.reason != 0 { self.appendLittleEndian(header.reason) }
        if link.rawValue != 0 { self.appendLittleEndian(link.rawValue) }
        if released != 0 { self.appendAmount(released) }
        if deadline != 0 { self.appendLittleEndian(deadline) }
    }

    /// Appends legs whose account indices are `accounts[0...]`, in order.
    mutating func appendLegs(_ legs: some Collection<Leg>, accounts: [Int]) {
        self.append(UInt8(legs.count))
        var index = 0
        for leg in legs {
            self.appendLittleEndian(UInt32(accounts[index]))
            self.appendAmount(leg.amount, flagBit: leg.side == .credit ? 0x80 : 0)
            index += 1
        }
    }

    /// Appends the two legs of a hold movement: a debit on `debit` and a credit on `credit`.
    mutating func appendHoldLegs(debit: Int, credit: Int, amount: UInt128) {
        self.append(2)
        self.appendLittleEndian(UInt32(debit))
        self.appendAmount(amount)
        self.appendLittleEndian(UInt32(credit))
        self.appendAmount(amount, flagBit: 0x80)
    }

    mutating func appendRates(_ rates: some Collection<FXRate>) {
        self.append(UInt8(rates.count))
        for rate in rates {
            self.appendLittleEndian(rate.base.rawValue)
            self.appendLittleEndian(rate.quote.rawValue)
            self.appendLittleEndian(rate.numerator)
            self.appendLittleEndian(rate.denominator)
        }
    }

    mutating func appendReferences(_ references: OperationBatch.ReferenceSlices, from bytes: [UInt8]) {
        self.append(UInt8(references.paymentID.count))
        self.append(contentsOf: bytes[references.paymentID.range])
        self.append(UInt8(references.providerReference.count))
        self.append(contentsOf: bytes[references.providerReference.range])
    }

    mutating func appendReferences(_ references: ExternalReferences) {
        self.append(UInt8(references.paymentID.bytes.count))
        self.append(contentsOf: references.paymentID.bytes)
        self.append(UInt8(references.providerReference.bytes.count))
        self.append(contentsOf: references.providerReference.bytes)
    }
}

/// Reads a ``TransactionStore`` record. Records are written by this process, so a malformed one is
/// a bug: reads past the end trap.
struct RecordReader {
    private let bytes: ArraySlice<UInt8>
    private var offset: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.offset = bytes.startIndex
    }

    var isAtEnd: Bool { self.offset == self.bytes.endIndex }

    mutating func byte() -> UInt8 {
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    mutating func littleEndian<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        var value: T = 0
        for shift in stride(from: 0, to: T.bitWidth, by: 8) {
            value |= T(truncatingIfNeeded: self.byte()) << shift
        }
        return value
    }

    /// Reads an amount and the flag bit stored with its length.
    mutating func amount() -> (amount: UInt128, flag: Bool) {
        let lead = self.byte()
        var amount: UInt128 = 0
        for shift in 0..<Int(lead & 0x1F) {
            amount |= UInt128(self.byte()) << (shift * 8)
        }
        return (amount, lead & 0x80 != 0)
    }

    mutating func bytes(count: Int) -> [UInt8] {
        defer { self.offset += count }
        return Array(self.bytes[self.offset..<self.offset + count])
    }
}

extension Ledger {
    /// Decodes the retained record of transaction `id`.
    func decodeRecord(_ id: TransactionID) -> TransactionRecord? {
        self.transactions.withRecord(id) { bytes in
            var reader = RecordReader(bytes)
            let kind = OperationKind(rawValue: reader.byte())!
            let flags = reader.byte()
            let type = TransactionType(rawValue: reader.littleEndian())
            let recordedTime = Timestamp(nanosecondsSinceEpoch: reader.littleEndian())
            let key = flags & 1 << 0 != 0 ? IdempotencyKey(reader.littleEndian(UInt128.self)) : 0
            let effective = flags & 1 << 1 != 0 ? Timestamp(nanosecondsSinceEpoch: reader.littleEndian()) : .zero
            let actor: UInt64 = flags & 1 << 2 != 0 ? reader.littleEndian() : 0
            let reason: UInt32 = flags & 1 << 3 != 0 ? reader.littleEndian() : 0
            let link = flags & 1 << 4 != 0 ? TransactionID(reader.littleEndian(UInt64.self)) : 0
            let released = flags & 1 << 5 != 0 ? reader.amount().amount : 0
            let deadline = flags & 1 << 6 != 0 ? Timestamp(nanosecondsSinceEpoch: reader.littleEndian()) : .zero
            var legs: [Leg] = []
            for _ in 0..<reader.byte() {
                let account = self.accounts.records[Int(reader.littleEndian(UInt32.self))].id
                let (amount, isCredit) = reader.amount()
                legs.append(Leg(account: account, side: isCredit ? .credit : .debit, amount: amount))
            }
            var rates: [FXRate] = []
            for _ in 0..<reader.byte() {
                rates.append(
                    FXRate(
                        base: AssetCode(rawValue: reader.littleEndian()),
                        quote: AssetCode(rawValue: reader.littleEndian()),
                        numerator: reader.littleEndian(),
                        denominator: reader.littleEndian()
                    )
                )
            }
            let paymentID = reader.bytes(count: Int(reader.byte()))
            let providerReference = reader.bytes(count: Int(reader.byte()))
            precondition(reader.isAtEnd, "transaction record \(id) has trailing bytes")
            return TransactionRecord(
                id: id,
                kind: kind,
                type: type,
                key: key,
                legs: legs,
                fxRates: rates,
                references: ExternalReferences(
                    paymentID: ExternalReference(bytes: paymentID),
                    providerReference: ExternalReference(bytes: providerReference)
                ),
                effectiveTime: effective,
                recordedTime: recordedTime,
                actor: actor,
                reason: reason,
                link: link,
                released: released,
                deadline: deadline,
                isFinal: flags & 1 << 7 != 0
            )
        }
    }
}
