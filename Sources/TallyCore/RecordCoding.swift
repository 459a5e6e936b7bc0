/// Writes a ``TransactionStore`` record (the layout is described in TransactionStore.swift) into
/// raw memory of at least ``TransactionStore/recordBytesMax`` bytes, with plain stores: encoding
/// is on the posting hot path.
struct RecordWriter {
    private let base: UnsafeMutableRawPointer
    private(set) var count = 0

    init(_ base: UnsafeMutableRawPointer) {
        self.base = base
    }

    /// The bytes written so far.
    var written: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: self.base, count: self.count)
    }

    /// The most bytes a record with `legs` legs and `rates` rates can take, with the 16 bytes of
    /// slack ``amount(_:flagBit:)`` may write past its end: header 81, legs 1 + 21 each, rates
    /// 1 + 48 each, references 2 + 64 + 64.
    static func bytesMax(legs: Int, rates: Int) -> Int {
        81 + 1 + legs * 21 + 1 + rates * 48 + 2 + 2 * Limits.externalReferenceBytesMax + 16
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        self.base.storeBytes(of: value, toByteOffset: self.count, as: UInt8.self)
        self.count += 1
    }

    @inline(__always)
    mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        self.base.storeBytes(of: value.littleEndian, toByteOffset: self.count, as: T.self)
        self.count += MemoryLayout<T>.size
    }

    /// Writes `amount` as one byte (`flagBit` or'ed with the byte length) and its significant
    /// bytes, least significant first. It stores all 16 bytes and keeps the significant ones,
    /// which the buffer's slack allows.
    @inline(__always)
    mutating func amount(_ amount: UInt128, flagBit: UInt8 = 0) {
        let length = (128 - amount.leadingZeroBitCount + 7) / 8
        self.byte(flagBit | UInt8(length))
        self.base.storeBytes(of: amount.littleEndian, toByteOffset: self.count, as: UInt128.self)
        self.count += length
    }

    @inline(__always)
    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        if let source = bytes.baseAddress, bytes.count > 0 {
            (self.base + self.count).copyMemory(from: source, byteCount: bytes.count)
        }
        self.count += bytes.count
    }

    mutating func header(
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
        self.byte(kind.rawValue)
        self.byte(flags)
        self.littleEndian(header.type.rawValue)
        self.littleEndian(recordedTime)
        if header.key.rawValue != 0 { self.littleEndian(header.key.rawValue) }
        if header.effectiveTime.nanosecondsSinceEpoch != 0 {
            self.littleEndian(header.effectiveTime.nanosecondsSinceEpoch)
        }
        if header.actor != 0 { self.littleEndian(header.actor) }
        if header.reason != 0 { self.littleEndian(header.reason) }
        if link.rawValue != 0 { self.littleEndian(link.rawValue) }
        if released != 0 { self.amount(released) }
        if deadline != 0 { self.littleEndian(deadline) }
    }

    /// Writes legs whose account indices are `accounts[0...]`, in order.
    mutating func legs(_ legs: UnsafeBufferPointer<Leg>, accounts: UnsafeBufferPointer<Int32>) {
        self.byte(UInt8(legs.count))
        for index in 0..<legs.count {
            let leg = legs[index]
            self.littleEndian(UInt32(accounts[index]))
            self.amount(leg.amount, flagBit: leg.side == .credit ? 0x80 : 0)
        }
    }

    /// Writes the two legs of a hold movement: a debit on `debit` and a credit on `credit`.
    mutating func holdLegs(debit: Int, credit: Int, amount: UInt128) {
        self.byte(2)
        self.littleEndian(UInt32(debit))
        self.amount(amount)
        self.littleEndian(UInt32(credit))
        self.amount(amount, flagBit: 0x80)
    }

    mutating func rates(_ rates: UnsafeBufferPointer<FXRate>) {
        self.byte(UInt8(rates.count))
        for rate in rates {
            self.littleEndian(rate.base.rawValue)
            self.littleEndian(rate.quote.rawValue)
            self.littleEndian(rate.numerator)
            self.littleEndian(rate.denominator)
        }
    }

    mutating func noRates() {
        self.byte(0)
    }

    /// Writes both references, each as a length byte and its bytes.
    mutating func references(_ references: OperationBatch.ReferenceSlices, in batch: BatchView) {
        if references.paymentID.count == 0 && references.providerReference.count == 0 {
            self.noReferences()
            return
        }
        let payment = batch.bytes(references.paymentID)
        let provider = batch.bytes(references.providerReference)
        self.byte(UInt8(payment.count))
        self.bytes(payment)
        self.byte(UInt8(provider.count))
        self.bytes(provider)
    }

    mutating func noReferences() {
        self.byte(0)
        self.byte(0)
    }
}

/// Reads a ``TransactionStore`` record. Records are written by this process, so a malformed one is
/// a bug: reads past the end trap.
struct RecordReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { self.offset == self.bytes.count }

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

extension RecordReader {
    /// What is wrong with `bytes` as a record (nil when it is well formed): every field within the
    /// bytes, a known kind, leg accounts among the first `accounts`, amounts of at most 16 bytes,
    /// no trailing bytes. Records restored from a snapshot are checked with it, so that reading
    /// them later never traps.
    static func problem(in bytes: UnsafeRawBufferPointer, accounts: Int) -> String? {
        // Straight-line reads with one length check per step: every retained record of a snapshot
        // goes through here when it is restored.
        guard let base = bytes.baseAddress, bytes.count >= 1,
            OperationKind(rawValue: base.load(as: UInt8.self)) != nil
        else {
            return "unknown kind"
        }
        let count = bytes.count
        @inline(__always) func byte(at offset: Int) -> UInt8 {
            base.load(fromByteOffset: offset, as: UInt8.self)
        }
        /// The offset after the amount at `offset`, or nil when it is cut short or longer than 16 bytes.
        @inline(__always) func afterAmount(at offset: Int) -> Int? {
            guard offset < count else { return nil }
            let length = Int(byte(at: offset) & 0x1F)
            guard length <= 16, length <= count - offset - 1 else { return nil }
            return offset + 1 + length
        }
        // Kind, flags, type (2), recorded time (8); then the optional fixed fields of flag bits 0-4:
        // key 16, effective time 8, actor 8, reason 4, link 8.
        guard count >= 12 else { return "short header" }
        let flags = byte(at: 1)
        var offset = 12
        offset += flags & 1 << 0 != 0 ? 16 : 0
        offset += flags & 1 << 1 != 0 ? 8 : 0
        offset += flags & 1 << 2 != 0 ? 8 : 0
        offset += flags & 1 << 3 != 0 ? 4 : 0
        offset += flags & 1 << 4 != 0 ? 8 : 0
        guard offset <= count else { return "short header" }
        if flags & 1 << 5 != 0 {
            guard let next = afterAmount(at: offset) else { return "bad released amount" }
            offset = next
        }
        if flags & 1 << 6 != 0 {
            guard offset + 8 <= count else { return "short header" }
            offset += 8
        }
        guard offset < count else { return "bad leg count" }
        let legs = byte(at: offset)
        guard legs <= Limits.legsPerTransactionMax else { return "bad leg count" }
        offset += 1
        for _ in 0..<legs {
            guard offset + 4 <= count else { return "short leg" }
            let account = base.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
            guard Int(account) < accounts else { return "a leg refers to account index \(account)" }
            guard let next = afterAmount(at: offset + 4) else { return "bad leg amount" }
            offset = next
        }
        guard offset < count else { return "bad rates" }
        let rates = Int(byte(at: offset))
        guard rates <= Limits.fxRatesPerTransactionMax, rates * 48 <= count - offset - 1 else { return "bad rates" }
        offset += 1 + rates * 48
        for _ in 0..<2 {
            guard offset < count else { return "bad reference" }
            let length = Int(byte(at: offset))
            guard length <= Limits.externalReferenceBytesMax, length <= count - offset - 1 else {
                return "bad reference"
            }
            offset += 1 + length
        }
        return offset == count ? nil : "trailing bytes"
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
