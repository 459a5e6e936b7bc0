/// A SHA-256 over a ledger's whole state in a fixed order: two ledgers with equal digests hold the
/// same accounts, balances, aggregates, holds, retained keys, retained transactions and counters.
public struct StateDigest: Hashable, Sendable, CustomStringConvertible {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    init(bytes: [UInt8]) {
        precondition(bytes.count == 32)
        self.bytes = bytes
    }

    /// The digest whose 32 bytes are `bytes`; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        self.bytes = Array(bytes)
    }

    /// Parses 64 hexadecimal digits.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    /// 64 lowercase hexadecimal digits.
    public var description: String {
        self.bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

/// Collects canonical little-endian bytes and feeds them to SHA-256 in large pieces.
struct DigestWriter {
    private var hash = SHA256()
    private var buffer: [UInt8] = []

    init() {
        self.buffer.reserveCapacity(1 << 16)
    }

    mutating func write<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { self.buffer.append(contentsOf: $0) }
        if self.buffer.count >= 1 << 16 - 64 {
            self.flush()
        }
    }

    mutating func write(bytes: [UInt8]) {
        self.write(UInt64(bytes.count))
        self.buffer.append(contentsOf: bytes)
        if self.buffer.count >= 1 << 16 - 64 {
            self.flush()
        }
    }

    mutating func write(_ balance: Balance) {
        self.write(balance.debitsPosted)
        self.write(balance.creditsPosted)
        self.write(balance.debitsPending)
        self.write(balance.creditsPending)
    }

    private mutating func flush() {
        self.hash.update(self.buffer)
        self.buffer.removeAll(keepingCapacity: true)
    }

    consuming func finalize() -> StateDigest {
        self.flush()
        return StateDigest(bytes: self.hash.finalize())
    }
}

extension Ledger {
    /// The digest of the whole state (version 1 of the canonical order, docs/LEDGER.md).
    ///
    /// It covers the configuration windows, the counters, every asset with its totals, every
    /// account with its balance, every aggregate bucket, every open hold, every reversed id, every
    /// retained idempotency key (with the engine times that decide its eviction) and every retained
    /// transaction (its decoded content, not its in-memory encoding). It leaves out what never
    /// changes a result: hash-table layouts and seeds, capacities, the expiry schedule, and the
    /// operational statistics (batches and rejections counted), so a replayed retry changes nothing.
    public func digest() -> StateDigest {
        var writer = DigestWriter()
        writer.write(bytes: Array("tally-state-digest-v1".utf8))
        writer.write(self.configuration.idempotencyWindowSeconds)
        writer.write(self.configuration.transactionRetentionSeconds)
        writer.write(self.lastTransactionID)
        writer.write(self.lastRecordedTime)

        writer.write(UInt64(self.assets.count))
        for index in 0..<self.assets.count {
            writer.write(self.assets.codes[index].rawValue)
            writer.write(self.assets.scales[index])
            writer.write(self.assets.totals[index])
        }

        writer.write(UInt64(self.accounts.count))
        for (record, balance) in zip(self.accounts.records, self.accounts.balances) {
            writer.write(record.id.rawValue)
            writer.write(record.asset)
            writer.write(record.kind.rawValue)
            writer.write(record.normalSide.rawValue)
            writer.write(record.flags.rawValue)
            writer.write(record.status.rawValue)
            writer.write(record.merchant)
            writer.write(record.partner)
            writer.write(balance)
        }

        writer.write(UInt64(self.aggregates.count))
        for (key, balance) in zip(self.aggregates.keys, self.aggregates.balances) {
            writer.write(key.kind.rawValue)
            writer.write(key.asset)
            writer.write(key.dimension)
            writer.write(key.value)
            writer.write(balance)
        }

        writer.write(UInt64(self.holds.count))
        for id in self.holds.open.keys.sorted() {
            let hold = self.holds.open[id]!
            writer.write(id)
            writer.write(hold.debit)
            writer.write(hold.credit)
            writer.write(hold.type.rawValue)
            writer.write(hold.amount)
            writer.write(hold.captured)
            writer.write(hold.deadline)
        }

        writer.write(UInt64(self.reversed.count))
        for (wordIndex, word) in self.reversed.words.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 {
                writer.write(UInt64(wordIndex * 64 + bit))
            }
        }

        writer.write(self.keys.headPosition)
        writer.write(UInt64(self.keys.count))
        let keyChunkTimes = self.keys.chunkNewestTimes
        writer.write(UInt64(keyChunkTimes.count))
        for time in keyChunkTimes {
            writer.write(time)
        }
        self.keys.forEachEntry { entry in
            writer.write(entry.key)
            writer.write(entry.fingerprint)
            writer.write(entry.outcome)
        }

        writer.write(UInt64(self.transactions.count))
        let transactionChunks = self.transactions.chunks
        writer.write(UInt64(transactionChunks.count))
        for chunk in transactionChunks {
            writer.write(chunk.firstID)
            writer.write(chunk.newestTime)
            writer.write(UInt64(chunk.offsets.count))
            for id in chunk.firstID..<chunk.firstID + UInt64(chunk.offsets.count) {
                writer.write(record: self.decodeRecord(TransactionID(id))!)
            }
        }
        return writer.finalize()
    }
}

extension DigestWriter {
    mutating func write(record: TransactionRecord) {
        self.write(record.id.rawValue)
        self.write(record.kind.rawValue)
        self.write(record.type.rawValue)
        self.write(record.key.rawValue)
        self.write(UInt64(record.legs.count))
        for leg in record.legs {
            self.write(leg.account.rawValue)
            self.write(leg.side.rawValue)
            self.write(leg.amount)
        }
        self.write(UInt64(record.fxRates.count))
        for rate in record.fxRates {
            self.write(rate.base.rawValue)
            self.write(rate.quote.rawValue)
            self.write(rate.numerator)
            self.write(rate.denominator)
        }
        self.write(bytes: record.references.paymentID.bytes)
        self.write(bytes: record.references.providerReference.bytes)
        self.write(record.effectiveTime.nanosecondsSinceEpoch)
        self.write(record.recordedTime.nanosecondsSinceEpoch)
        self.write(record.actor)
        self.write(record.reason)
        self.write(record.link.rawValue)
        self.write(record.released)
        self.write(record.deadline.nanosecondsSinceEpoch)
        self.write(UInt8(record.isFinal ? 1 : 0))
    }
}
