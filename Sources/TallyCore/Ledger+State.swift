extension Ledger {
    /// Writes one section of the state (``LedgerState``, version 1) to `output`, in pieces of about
    /// 64 KiB. The ledger must not be in the middle of an atomic chain (it never is between
    /// batches).
    public func encodeState(
        _ section: LedgerState.Section,
        to output: @escaping (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        precondition(!self.isRecordingUndo && self.undo.isEmpty, "encoding a ledger inside a chain")
        var writer = StateWriter(output)
        switch section {
        case .counters:
            try writer.put(LedgerState.version)
            try writer.put(self.configuration.idempotencyWindowSeconds)
            try writer.put(self.configuration.transactionRetentionSeconds)
            try writer.put(self.lastTransactionID)
            try writer.put(self.lastRecordedTime)
            try writer.put(self.rejectedCount)
            try writer.put(self.batchCount)

        case .assets:
            try writer.put(UInt32(self.assets.count))
            for index in 0..<self.assets.count {
                try writer.put(self.assets.codes[index].rawValue)
                try writer.put(self.assets.scales[index])
                try writer.put(self.assets.totals[index])
            }

        case .aggregates:
            try writer.put(UInt32(self.aggregates.count))
            for (key, balance) in zip(self.aggregates.keys, self.aggregates.balances) {
                try writer.put(key.kind.rawValue)
                try writer.put(key.asset)
                try writer.put(key.dimension)
                try writer.put(key.value)
                try writer.put(balance)
            }

        case .accounts:
            try writer.put(UInt32(self.accounts.count))
            for (record, balance) in zip(self.accounts.records, self.accounts.balances) {
                try writer.put(record.id.rawValue)
                try writer.put(record.merchant)
                try writer.put(record.partner)
                try writer.put(record.asset)
                try writer.put(record.kind.rawValue)
                try writer.put(record.flags.rawValue)
                try writer.put(record.normalSide.rawValue)
                try writer.put(record.status.rawValue)
                try writer.put(record.totalBucket)
                try writer.put(record.merchantBucket)
                try writer.put(record.partnerBucket)
                try writer.put(balance)
            }

        case .holds:
            try writer.put(UInt32(self.holds.count))
            for id in self.holds.open.keys.sorted() {
                let hold = self.holds.open[id]!
                try writer.put(id)
                try writer.put(hold.debit)
                try writer.put(hold.credit)
                try writer.put(hold.type.rawValue)
                try writer.put(hold.amount)
                try writer.put(hold.captured)
                try writer.put(hold.deadline)
            }

        case .reversals:
            // Trailing zero words carry nothing: leave them out.
            var words = self.reversed.words[...]
            while words.last == 0 {
                words.removeLast()
            }
            try writer.put(UInt64(words.count))
            for word in words {
                try writer.put(word)
            }

        case .keys:
            let times = self.keys.chunkNewestTimes
            try writer.put(UInt32(IdempotencyTable.chunkCapacity))
            try writer.put(self.keys.headPosition)
            try writer.put(UInt64(self.keys.count))
            try writer.put(UInt64(times.count))
            for time in times {
                try writer.put(time)
            }
            var failure: (any Error)? = nil
            self.keys.forEachEntry { entry in
                guard failure == nil else { return }
                do {
                    try writer.put(entry.key)
                    try writer.put(entry.fingerprint)
                    try writer.put(entry.outcome)
                } catch {
                    failure = error
                }
            }
            if let failure {
                throw failure
            }

        case .transactions:
            let chunks = self.transactions.chunks
            try writer.put(UInt32(TransactionStore.chunkBytes))
            try writer.put(UInt64(self.transactions.count))
            try writer.put(UInt64(chunks.count))
            for chunk in chunks {
                try writer.put(chunk.firstID)
                try writer.put(chunk.newestTime)
                try writer.put(UInt32(chunk.offsets.count))
                try writer.put(UInt32(chunk.used))
                for offset in chunk.offsets {
                    try writer.put(offset)
                }
                try withExtendedLifetime(chunk.bytes) {
                    try writer.put(bytes: UnsafeRawBufferPointer(start: chunk.bytes.base, count: chunk.used))
                }
            }
        }
        try writer.flush()
    }
}

/// Rebuilds a ledger from the sections of ``LedgerState``, decoded in order.
///
///     var decoder = LedgerStateDecoder(configuration: configuration)
///     for section in LedgerState.Section.allCases {
///         try decoder.decode(section, from: input(for: section))
///     }
///     let ledger = try decoder.finish()
///
/// The configuration's windows must be the ones the state was made under (they decide what is
/// retained); its hash seed and capacity hints may differ (the indexes are rebuilt).
public struct LedgerStateDecoder: Sendable {
    private var ledger: Ledger
    private var last: LedgerState.Section? = nil

    public init(configuration: LedgerConfiguration) {
        self.ledger = Ledger(configuration: configuration)
    }

    /// The next section expected, nil when all are decoded.
    public var nextSection: LedgerState.Section? {
        guard let last else { return .counters }
        return LedgerState.Section(rawValue: last.rawValue + 1)
    }

    /// Decodes `section`, which must be ``nextSection``, from the whole of `input`.
    public mutating func decode(_ section: LedgerState.Section, from input: any LedgerStateInput) throws {
        guard section == self.nextSection else {
            throw LedgerState.DecodingError(
                section: section,
                offset: 0,
                "sections must come in order: expected \(self.nextSection.map { "\($0)" } ?? "none")"
            )
        }
        var reader = StateReader(input, section: section)
        switch section {
        case .counters: try self.decodeCounters(&reader)
        case .assets: try self.decodeAssets(&reader)
        case .aggregates: try self.decodeAggregates(&reader)
        case .accounts: try self.decodeAccounts(&reader)
        case .holds: try self.decodeHolds(&reader)
        case .reversals: try self.decodeReversals(&reader)
        case .keys:
            try Self.decodeKeys(
                &reader,
                into: &self.ledger.keys,
                lastTransactionID: self.ledger.lastTransactionID,
                lastRecordedTime: self.ledger.lastRecordedTime
            )
        case .transactions: try self.decodeTransactions(&reader)
        }
        try reader.expectEnd()
        self.last = section
    }

    /// The restored ledger, once every section is decoded.
    public consuming func finish() throws -> Ledger {
        guard self.nextSection == nil else {
            throw LedgerState.DecodingError(
                section: nil,
                offset: 0,
                "the state is incomplete: section \(self.nextSection!) is missing"
            )
        }
        return self.ledger
    }

    /// A decoder of the keys section alone, to run apart from this one (on another thread, while
    /// this one decodes the other sections: the keys are the largest section of a large state). It
    /// checks the keys against the counters, so it is made once they are decoded; its result takes
    /// the place of the keys section through ``adopt(_:)``.
    public func keysDecoder() throws -> LedgerKeysDecoder {
        guard self.last != nil, self.nextSection.map({ $0.rawValue <= LedgerState.Section.keys.rawValue }) ?? false
        else {
            throw LedgerState.DecodingError(
                section: .keys,
                offset: 0,
                "the keys are decoded apart after the counters and before the keys' turn"
            )
        }
        return LedgerKeysDecoder(
            table: self.ledger.keys,
            lastTransactionID: self.ledger.lastTransactionID,
            lastRecordedTime: self.ledger.lastRecordedTime
        )
    }

    /// Takes keys decoded apart (``keysDecoder()``) as the keys section, which must be
    /// ``nextSection``.
    public mutating func adopt(_ keys: DecodedKeys) throws {
        guard self.nextSection == .keys else {
            throw LedgerState.DecodingError(
                section: .keys,
                offset: 0,
                "sections must come in order: expected \(self.nextSection.map { "\($0)" } ?? "none")"
            )
        }
        self.ledger.keys = keys.table
        self.last = .keys
    }

    // MARK: - Sections

    private mutating func decodeCounters(_ reader: inout StateReader) throws {
        let version = try reader.next(UInt16.self)
        guard version == LedgerState.version else {
            throw reader.error("ledger state version \(version); this build reads version \(LedgerState.version)")
        }
        let idempotencyWindow = try reader.next(UInt64.self)
        let retention = try reader.next(UInt64.self)
        let configuration = self.ledger.configuration
        guard
            idempotencyWindow == configuration.idempotencyWindowSeconds
                && retention == configuration.transactionRetentionSeconds
        else {
            throw reader.error(
                "the state was made with windows of \(idempotencyWindow) s (keys) and \(retention) s (transactions), "
                    + "not \(configuration.idempotencyWindowSeconds) s and \(configuration.transactionRetentionSeconds) s"
            )
        }
        self.ledger.lastTransactionID = try reader.next()
        self.ledger.lastRecordedTime = try reader.next()
        self.ledger.rejectedCount = try reader.next()
        self.ledger.batchCount = try reader.next()
        self.ledger.now = self.ledger.lastRecordedTime
    }

    private mutating func decodeAssets(_ reader: inout StateReader) throws {
        let count = try reader.count(UInt32.self, limit: Limits.assetsMax, of: "assets")
        for _ in 0..<count {
            let code = AssetCode(rawValue: try reader.next())
            let scale = try reader.next(UInt8.self)
            let totals = try reader.balance()
            guard scale <= Limits.assetScaleMax else {
                throw reader.error("asset \(code) has scale \(scale), above \(Limits.assetScaleMax)")
            }
            guard self.ledger.assets.index(of: code) == nil else {
                throw reader.error("asset \(code) appears twice")
            }
            let index = self.ledger.assets.append(code: code, scale: scale)
            self.ledger.assets.totals[Int(index)] = totals
        }
    }

    // The large sections are read in runs of whole items (``StateReader/next(bytes:)``): the
    // tables are sized once from the section's count, filled run by run, and their hash indexes
    // built at the section's end in one pass (``HashIndex/build(count:firstPosition:forEachHash:
    // isDuplicate:)``), duplicates included. An error names the offset just past the item at fault.

    private mutating func decodeAggregates(_ reader: inout StateReader) throws {
        // Each account feeds at most three buckets.
        let count = try reader.count(UInt32.self, limit: 3 * Limits.accountsMax, of: "aggregate buckets")
        self.ledger.aggregates.reserveCapacity(count)
        let itemBytes = 2 + 2 + 1 + 8 + 64
        let runMax = StateReader.bufferBytes / itemBytes
        var keys: [AggregateTable.Key] = []
        var balances: [Balance] = []
        keys.reserveCapacity(min(count, runMax))
        balances.reserveCapacity(min(count, runMax))
        let assets = self.ledger.assets.count
        let entriesStart = reader.offset
        var remaining = count
        while remaining > 0 {
            let run = min(remaining, runMax)
            let start = reader.offset
            var fields = FieldCursor(try reader.next(bytes: run * itemBytes))
            keys.removeAll(keepingCapacity: true)
            balances.removeAll(keepingCapacity: true)
            for item in 0..<run {
                let key = AggregateTable.Key(
                    kind: AccountKind(rawValue: fields.next()),
                    asset: fields.next(),
                    dimension: fields.next(),
                    value: fields.next()
                )
                balances.append(fields.balance())
                guard Int(key.asset) < assets else {
                    throw reader.error(
                        at: start + (item + 1) * itemBytes,
                        "a bucket refers to asset \(key.asset); there are \(assets)"
                    )
                }
                keys.append(key)
            }
            self.ledger.aggregates.restoreUnindexed(keys, balances: balances)
            remaining -= run
        }
        if let duplicate = self.ledger.aggregates.buildIndex() {
            throw reader.error(
                at: entriesStart + (duplicate + 1) * itemBytes,
                "bucket \(self.ledger.aggregates.keys[duplicate]) appears twice"
            )
        }
    }

    private mutating func decodeAccounts(_ reader: inout StateReader) throws {
        let count = try reader.count(UInt32.self, limit: self.ledger.configuration.accountsMax, of: "accounts")
        self.ledger.accounts.reserveCapacity(count)
        let itemBytes = 8 + 8 + 8 + 2 + 2 + 2 + 1 + 1 + 4 + 4 + 4 + 64
        let runMax = StateReader.bufferBytes / itemBytes
        var records: [AccountRecord] = []
        var balances: [Balance] = []
        records.reserveCapacity(min(count, runMax))
        balances.reserveCapacity(min(count, runMax))
        let assets = self.ledger.assets.count
        let buckets = UInt32(self.ledger.aggregates.count)
        let entriesStart = reader.offset
        var remaining = count
        while remaining > 0 {
            let run = min(remaining, runMax)
            let start = reader.offset
            var fields = FieldCursor(try reader.next(bytes: run * itemBytes))
            records.removeAll(keepingCapacity: true)
            balances.removeAll(keepingCapacity: true)
            for item in 0..<run {
                let id = AccountID(rawValue: fields.next())
                let merchant = fields.next(UInt64.self)
                let partner = fields.next(UInt64.self)
                let asset = fields.next(UInt16.self)
                let kind = AccountKind(rawValue: fields.next())
                let flags = AccountFlags(rawValue: fields.next())
                let rawSide = fields.next(UInt8.self)
                let rawStatus = fields.next(UInt8.self)
                let totalBucket = fields.next(UInt32.self)
                let merchantBucket = fields.next(UInt32.self)
                let partnerBucket = fields.next(UInt32.self)
                balances.append(fields.balance())
                let end = start + (item + 1) * itemBytes
                guard let side = Side(rawValue: rawSide), let status = AccountStatus(rawValue: rawStatus) else {
                    throw reader.error(at: end, "account \(id) has side \(rawSide) and status \(rawStatus)")
                }
                guard Int(asset) < assets else {
                    throw reader.error(at: end, "account \(id) refers to asset \(asset); there are \(assets)")
                }
                guard totalBucket < buckets, merchantBucket < buckets, partnerBucket < buckets else {
                    throw reader.error(at: end, "account \(id) refers to a bucket beyond the \(buckets) there are")
                }
                records.append(
                    AccountRecord(
                        id: id,
                        merchant: merchant,
                        partner: partner,
                        asset: asset,
                        kind: kind,
                        flags: flags,
                        normalSide: side,
                        status: status,
                        totalBucket: totalBucket,
                        merchantBucket: merchantBucket,
                        partnerBucket: partnerBucket
                    )
                )
            }
            self.ledger.accounts.restoreUnindexed(records, balances: balances)
            remaining -= run
        }
        if let duplicate = self.ledger.accounts.buildIndex() {
            throw reader.error(
                at: entriesStart + (duplicate + 1) * itemBytes,
                "account \(self.ledger.accounts.records[duplicate].id) appears twice"
            )
        }
    }

    private mutating func decodeHolds(_ reader: inout StateReader) throws {
        let count = try reader.count(UInt32.self, limit: Int(UInt32.max), of: "holds")
        self.ledger.holds.reserveCapacity(count)
        let itemBytes = 8 + 4 + 4 + 2 + 16 + 16 + 8
        let runMax = StateReader.bufferBytes / itemBytes
        let accounts = UInt32(self.ledger.accounts.count)
        let lastTransactionID = self.ledger.lastTransactionID
        var previous: UInt64 = 0
        var expiries: [HoldBook.Expiry] = []
        expiries.reserveCapacity(count)
        var remaining = count
        while remaining > 0 {
            let run = min(remaining, runMax)
            let start = reader.offset
            var fields = FieldCursor(try reader.next(bytes: run * itemBytes))
            for item in 0..<run {
                let id = fields.next(UInt64.self)
                let hold = HoldRecord(
                    debit: fields.next(),
                    credit: fields.next(),
                    type: TransactionType(rawValue: fields.next()),
                    amount: fields.next(),
                    captured: fields.next(),
                    deadline: fields.next()
                )
                let end = start + (item + 1) * itemBytes
                guard id > previous, id <= lastTransactionID else {
                    throw reader.error(at: end, "hold \(id) is out of order or beyond the last transaction")
                }
                guard hold.debit < accounts, hold.credit < accounts else {
                    throw reader.error(at: end, "hold \(id) refers to an account beyond the \(accounts) there are")
                }
                guard hold.captured < hold.amount else {
                    throw reader.error(
                        at: end,
                        "hold \(id) has nothing left (captured \(hold.captured) of \(hold.amount))"
                    )
                }
                // Ids rise strictly, so none is present already.
                self.ledger.holds.restoreUnscheduled(hold, id: TransactionID(id))
                if hold.deadline != 0 {
                    expiries.append(HoldBook.Expiry(deadline: hold.deadline, hold: id))
                }
                previous = id
            }
            remaining -= run
        }
        self.ledger.holds.restoreSchedule(expiries)
    }

    private mutating func decodeReversals(_ reader: inout StateReader) throws {
        let wordsMax = Int(self.ledger.lastTransactionID / 64) + 1
        let count = try reader.count(UInt64.self, limit: wordsMax, of: "words of reversed ids")
        var words: [UInt64] = []
        words.reserveCapacity(count)
        for _ in 0..<count {
            words.append(try reader.next())
        }
        if let last = words.last, last == 0 {
            throw reader.error("the reversed-id words end with a zero word")
        }
        if let first = words.first, first & 1 != 0 {
            throw reader.error("transaction 0 cannot be reversed")
        }
        if let last = words.last,
            UInt64(words.count - 1) * 64 + UInt64(63 - last.leadingZeroBitCount) > self.ledger.lastTransactionID
        {
            throw reader.error("a reversed id is beyond the last transaction")
        }
        self.ledger.reversed = ReversedSet(words: words)
    }

    /// Decodes the keys section into `table`, an empty one; `lastTransactionID` and
    /// `lastRecordedTime` are the counters'.
    fileprivate static func decodeKeys(
        _ reader: inout StateReader,
        into table: inout IdempotencyTable,
        lastTransactionID: UInt64,
        lastRecordedTime: UInt64
    ) throws {
        let capacity = try reader.next(UInt32.self)
        guard capacity == IdempotencyTable.chunkCapacity else {
            throw reader.error("key chunks of \(capacity); this build's hold \(IdempotencyTable.chunkCapacity)")
        }
        let head = try reader.next(UInt64.self)
        let count = try reader.count(UInt64.self, limit: Limits.retainedKeysMax - 1, of: "keys")
        let chunkCount = try reader.count(UInt64.self, limit: Limits.retainedKeysMax / Int(capacity) + 1, of: "chunks")
        guard chunkCount == (count + Int(capacity) - 1) / Int(capacity) else {
            throw reader.error("\(count) keys cannot fill \(chunkCount) chunks of \(capacity)")
        }
        var times: [UInt64] = []
        times.reserveCapacity(chunkCount)
        for _ in 0..<chunkCount {
            let time = try reader.next(UInt64.self)
            guard time >= (times.last ?? 0), time <= lastRecordedTime else {
                throw reader.error("key chunk times go backwards or beyond the last recorded time")
            }
            times.append(time)
        }
        table.restart(at: head)
        let entryBytes = 16 + 8 + 8
        let entriesStart = reader.offset
        var remaining = count
        for time in times {
            let keys = min(remaining, Int(capacity))
            let start = reader.offset
            // Every chunk gets the full capacity, as a chunk filled by appends has.
            let chunk = try [IdempotencyTable.Entry](unsafeUninitializedCapacity: Int(capacity)) { chunk, initialized in
                if IdempotencyTable.entryLayoutIsTheEncoding {
                    try reader.copy(into: UnsafeMutableRawPointer(chunk.baseAddress!), count: keys * entryBytes)
                } else {
                    for index in 0..<keys {
                        chunk.initializeElement(
                            at: index,
                            to: IdempotencyTable.Entry(
                                key: try reader.next(),
                                fingerprint: try reader.next(),
                                outcome: try reader.next()
                            )
                        )
                        initialized = index + 1
                    }
                }
                initialized = keys
            }
            for (index, entry) in chunk.enumerated()
            where entry.outcome & 1 << 63 == 0 && entry.outcome > lastTransactionID {
                throw reader.error(
                    at: start + (index + 1) * entryBytes,
                    "a key remembers transaction \(entry.outcome), beyond the last one"
                )
            }
            table.restoreUnindexed(chunk: chunk, newestTime: time)
            remaining -= keys
        }
        if let duplicate = table.buildIndex() {
            throw reader.error(
                at: entriesStart + (duplicate.offset + 1) * entryBytes,
                "key \(duplicate.key) appears twice"
            )
        }
    }

    private mutating func decodeTransactions(_ reader: inout StateReader) throws {
        let chunkBytes = try reader.next(UInt32.self)
        guard chunkBytes == TransactionStore.chunkBytes else {
            throw reader.error("record chunks of \(chunkBytes) bytes; this build's hold \(TransactionStore.chunkBytes)")
        }
        let lastID = self.ledger.lastTransactionID
        let count = try reader.count(UInt64.self, limit: Int(min(lastID, UInt64(Int.max))), of: "records")
        let chunkCount = try reader.count(UInt64.self, limit: max(count, 0), of: "record chunks")
        var expectedFirst: UInt64? = nil
        var restored = 0
        var previousTime: UInt64 = 0
        for _ in 0..<chunkCount {
            let firstID = try reader.next(UInt64.self)
            let newestTime = try reader.next(UInt64.self)
            let records = try reader.count(UInt32.self, limit: TransactionStore.chunkBytes, of: "records in a chunk")
            let used = try reader.count(UInt32.self, limit: TransactionStore.chunkBytes, of: "bytes in a chunk")
            guard records >= 1, restored + records <= count else {
                throw reader.error("a record chunk holds \(records) records; \(count - restored) remain")
            }
            guard firstID >= 1, expectedFirst == nil || firstID == expectedFirst else {
                throw reader.error("record chunk starting at \(firstID) leaves a gap")
            }
            guard newestTime >= previousTime, newestTime <= self.ledger.lastRecordedTime else {
                throw reader.error("record chunk times go backwards or beyond the last recorded time")
            }
            let offsetsStart = reader.offset
            var offsets = try [UInt32](unsafeUninitializedCapacity: records) { offsets, initialized in
                try reader.copy(into: UnsafeMutableRawPointer(offsets.baseAddress!), count: records * 4)
                initialized = records
            }
            var previousOffset: UInt32 = 0
            for (index, stored) in offsets.enumerated() {
                let offset = UInt32(littleEndian: stored)
                guard (index == 0 && offset == 0) || (index > 0 && offset > previousOffset), Int(offset) < used else {
                    throw reader.error(
                        at: offsetsStart + (index + 1) * 4,
                        "record offsets of the chunk at \(firstID) are out of order"
                    )
                }
                previousOffset = offset
            }
            if UInt32(littleEndian: 1) != 1 {
                offsets = offsets.map { UInt32(littleEndian: $0) }
            }
            let bytes = ChunkBuffer(capacity: TransactionStore.chunkBytes)
            try reader.copy(into: bytes.base, count: used)
            let accounts = self.ledger.accounts.count
            for index in 0..<records {
                let end = index + 1 < records ? Int(offsets[index + 1]) : used
                let record = UnsafeRawBufferPointer(
                    start: bytes.base + Int(offsets[index]),
                    count: end - Int(offsets[index])
                )
                if let problem = RecordReader.problem(in: record, accounts: accounts) {
                    throw reader.error("record of transaction \(firstID + UInt64(index)): \(problem)")
                }
            }
            self.ledger.transactions.restore(
                chunk: TransactionStore.Chunk(
                    firstID: firstID,
                    newestTime: newestTime,
                    offsets: offsets,
                    bytes: bytes,
                    used: used
                )
            )
            restored += records
            previousTime = newestTime
            expectedFirst = firstID + UInt64(records)
        }
        guard restored == count else {
            throw reader.error("\(count) records announced, \(restored) found")
        }
        if let expectedFirst, expectedFirst != lastID + 1 {
            throw reader.error("the newest retained record is \(expectedFirst - 1), not the last transaction \(lastID)")
        }
    }
}

/// Decodes the keys section on its own (see ``LedgerStateDecoder/keysDecoder()``), with every check
/// the decoder makes; what it returns goes back through ``LedgerStateDecoder/adopt(_:)``.
public struct LedgerKeysDecoder: Sendable {
    fileprivate var table: IdempotencyTable
    fileprivate let lastTransactionID: UInt64
    fileprivate let lastRecordedTime: UInt64

    /// Decodes the whole of `input`, the keys section.
    public consuming func decode(from input: any LedgerStateInput) throws -> DecodedKeys {
        var reader = StateReader(input, section: .keys)
        try LedgerStateDecoder.decodeKeys(
            &reader,
            into: &self.table,
            lastTransactionID: self.lastTransactionID,
            lastRecordedTime: self.lastRecordedTime
        )
        try reader.expectEnd()
        return DecodedKeys(table: self.table)
    }
}

/// The retained idempotency keys of a state, decoded by a ``LedgerKeysDecoder``.
public struct DecodedKeys: Sendable {
    fileprivate let table: IdempotencyTable
}
