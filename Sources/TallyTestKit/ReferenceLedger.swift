import TallyCore

/// A deliberately naive model of `TallyCore.Ledger`, written from docs/LEDGER.md alone.
///
/// The model exists to catch bugs in the core, so it shares none of the core's structure: plain
/// dictionaries and arrays, linear scans, explicit overflow checks, and no undo log. An atomic chain
/// copies the whole model value before it runs and puts the copy back when a member fails; copy on
/// write keeps that affordable, and it is obviously exact.
///
/// What the model does not do:
/// - Transaction records are never evicted. The core drops them in chunks of about 1 MiB whose
///   boundaries the document leaves to the implementation, so tests that compare against this model
///   must use a `transactionRetentionSeconds` longer than the engine time they span; then
///   `transaction_not_retained` cannot happen and "finished and no longer retained" holds do not
///   exist.
/// - It keeps no state digest, statistics or memory figures.
public struct ReferenceLedger: Sendable {
    /// How long, in engine seconds, an idempotency key is retained at least.
    public let idempotencyWindowSeconds: UInt64
    /// The most accounts the modelled ledger accepts.
    public let accountsMax: Int

    /// Engine time of the newest batch: never goes backwards.
    public internal(set) var recordedTime: Timestamp = .zero
    /// The id of the newest transaction (zero before the first).
    public internal(set) var lastTransaction: TransactionID = 0

    /// Every asset, in creation order.
    var assets: [Asset] = []
    /// Position of each asset in ``assets``.
    var assetPositions: [AssetCode: Int] = [:]
    /// Every account, in creation order.
    var accounts: [Account] = []
    /// Position of each account in ``accounts``.
    var accountPositions: [AccountID: Int] = [:]
    /// Holds that are not finished, by id.
    var holdsOpen: [TransactionID: Hold] = [:]
    /// Every transaction ever applied; transaction `n` is element `n - 1`. Chunked only so that the
    /// copy an atomic chain takes does not duplicate the whole history on its first append.
    var transactionChunks: [[TransactionRecord]] = []
    /// Ids of the transactions that have been reversed.
    var reversed: Set<TransactionID> = []
    /// The retained idempotency keys, oldest chunk first. A key goes into the newest chunk while it
    /// has room, else into a new chunk; when every chunk has been dropped the next key starts a new
    /// one. (docs/LEDGER.md does not say whether a dropped, partly filled chunk's remaining room is
    /// used by the next keys or whether chunk boundaries are fixed log positions; the core starts
    /// afresh, and the text allows that.)
    var keyChunks: [KeyChunk] = []

    /// Entries per chunk of the key log (docs/LEDGER.md, *Retention*).
    public static let keysPerChunk = 4_096
    /// Records per chunk of ``transactionChunks``; any size works, it only bounds chain copies.
    static let transactionsPerChunk = 1_024

    /// One chunk of the key log.
    struct KeyChunk: Sendable {
        /// Recorded time of the newest key in the chunk; decides when the chunk is dropped.
        var newestTime: Timestamp
        var entries: [IdempotencyKey: KeyEntry]
    }

    /// What is remembered under a key.
    struct KeyEntry: Sendable {
        /// The operation with its key zeroed: comparing it is the naive form of the content
        /// fingerprint (everything the client sent except the key and the linked flag).
        var content: Operation
        /// The remembered result, with `isReplay` false.
        var result: OperationResult
    }

    /// A model of an empty ledger with the given configuration values.
    public init(idempotencyWindowSeconds: UInt64, accountsMax: Int = Limits.accountsMax) {
        self.idempotencyWindowSeconds = idempotencyWindowSeconds
        self.accountsMax = accountsMax
    }

    /// A model of an empty ledger configured like `configuration` (its transaction retention is
    /// ignored: see the type's documentation).
    public init(configuration: LedgerConfiguration) {
        self.init(
            idempotencyWindowSeconds: configuration.idempotencyWindowSeconds,
            accountsMax: configuration.accountsMax
        )
    }

    // MARK: - Batches and chains

    /// Applies `batch` at engine time `time` and returns one result per operation, in order.
    public mutating func apply(
        _ batch: [(operation: Operation, linked: Bool)],
        at time: Timestamp
    ) -> [OperationResult] {
        if time > self.recordedTime {
            self.recordedTime = time
        }
        self.dropExpiredKeyChunks()

        var results: [OperationResult] = []
        var start = 0
        while start < batch.count {
            // The chain starting at `start` runs to the first unlinked operation, inclusive.
            var end = start
            while end < batch.count && batch[end].linked {
                end += 1
            }
            if end == batch.count {
                // The batch ends inside the chain: none of it is applied or remembered.
                for _ in start..<batch.count {
                    results.append(.rejected(.linkedChainOpen))
                }
                break
            }
            if end == start {
                results.append(self.applyRemembering(batch[start].operation))
            } else {
                results.append(contentsOf: self.applyChain(batch[start...end].map { $0.operation }))
            }
            start = end + 1
        }
        return results
    }

    /// Applies one operation outside any chain at the current recorded time, key first: a zero key
    /// is rejected, a retained key replays (same content) or conflicts (different content), and
    /// otherwise the operation runs and its result is remembered under the key.
    mutating func applyRemembering(_ operation: Operation) -> OperationResult {
        guard let header = operation.header else {
            return self.execute(operation)
        }
        if header.key.rawValue == 0 {
            return .rejected(.idempotencyKeyInvalid)
        }
        let content = ReferenceLedger.content(of: operation)
        if let entry = self.keyEntry(header.key) {
            guard entry.content == content else {
                return .rejected(.idempotencyConflict)
            }
            var replay = entry.result
            replay.isReplay = true
            return replay
        }
        let result = self.execute(operation)
        self.remember(header.key, content: content, result: result)
        return result
    }

    /// Applies the members of an atomic chain all or nothing.
    mutating func applyChain(_ members: [Operation]) -> [OperationResult] {
        let saved = self
        var results: [OperationResult] = []
        var failed: Int? = nil
        for (index, member) in members.enumerated() {
            let result = self.applyRemembering(member)
            results.append(result)
            if !result.code.isOK {
                failed = index
                break
            }
        }
        guard let failed else {
            return results
        }
        let rejection = results[failed]
        // Undo everything, then report and remember exactly what the clients are told.
        self = saved
        var reported: [OperationResult] = []
        for (index, member) in members.enumerated() {
            if index == failed {
                reported.append(rejection)
            } else if let header = member.header, header.key.rawValue != 0, let entry = self.keyEntry(header.key),
                entry.content == ReferenceLedger.content(of: member)
            {
                // Decided before the chain, with this content: that result stands, as a replay.
                var replay = entry.result
                replay.isReplay = true
                reported.append(replay)
            } else {
                reported.append(.rejected(.linkedOperationFailed))
            }
        }
        for (member, result) in zip(members, reported) {
            guard let header = member.header, header.key.rawValue != 0 else { continue }
            if result.code == .idempotencyConflict || result.isReplay { continue }
            // Taken by an earlier member of this chain, or from before the chain with other content
            // (docs/LEDGER.md names only the first case; a key is never remembered twice).
            if self.keyEntry(header.key) != nil { continue }
            self.remember(header.key, content: ReferenceLedger.content(of: member), result: result)
        }
        return reported
    }

    // MARK: - Idempotency keys

    /// The operation as the fingerprint sees it: the key zeroed, everything else kept.
    static func content(of operation: Operation) -> Operation {
        func zeroed(_ header: TransactionHeader) -> TransactionHeader {
            var copy = header
            copy.key = 0
            return copy
        }
        switch operation {
        case .createAsset, .createAccount, .setAccountStatus, .expireHold:
            return operation
        case .post(let header, let legs, let fxRates, let references):
            return .post(zeroed(header), legs: legs, fxRates: fxRates, references: references)
        case .hold(let header, let terms, let references):
            return .hold(zeroed(header), terms, references: references)
        case .capture(let header, let terms, let references):
            return .capture(zeroed(header), terms, references: references)
        case .increaseHold(let header, let terms, let references):
            return .increaseHold(zeroed(header), terms, references: references)
        case .voidHold(let header, let hold, let references):
            return .voidHold(zeroed(header), hold: hold, references: references)
        case .reverse(let header, let transaction, let references):
            return .reverse(zeroed(header), transaction: transaction, references: references)
        }
    }

    /// The retained entry for `key`, if any. A linear walk over the chunks.
    func keyEntry(_ key: IdempotencyKey) -> KeyEntry? {
        for chunk in self.keyChunks {
            if let entry = chunk.entries[key] {
                return entry
            }
        }
        return nil
    }

    /// Appends `key` to the log at the next position.
    mutating func remember(_ key: IdempotencyKey, content: Operation, result: OperationResult) {
        precondition(self.keyEntry(key) == nil, "a retained key is never remembered twice")
        var stored = result
        stored.isReplay = false
        let entry = KeyEntry(content: content, result: stored)
        if let last = self.keyChunks.indices.last, self.keyChunks[last].entries.count < ReferenceLedger.keysPerChunk {
            self.keyChunks[last].entries[key] = entry
            self.keyChunks[last].newestTime = self.recordedTime
        } else {
            self.keyChunks.append(KeyChunk(newestTime: self.recordedTime, entries: [key: entry]))
        }
    }

    /// Drops every chunk whose newest key is older than `recorded time - window`.
    mutating func dropExpiredKeyChunks() {
        let (windowNanoseconds, overflow) = self.idempotencyWindowSeconds.multipliedReportingOverflow(
            by: Timestamp.nanosecondsPerSecond
        )
        // A window longer than the clock can express, or longer than time so far, drops nothing.
        guard !overflow, self.recordedTime.nanosecondsSinceEpoch > windowNanoseconds else { return }
        let cutoff = self.recordedTime.nanosecondsSinceEpoch - windowNanoseconds
        self.keyChunks.removeAll { $0.newestTime.nanosecondsSinceEpoch < cutoff }
    }

    // MARK: - Small helpers shared by the operations

    /// `a + b`, which the caller has proven cannot overflow (every figure is bounded by its asset's
    /// volume); a failure here is a bug in the model itself.
    static func sum(_ a: UInt128, _ b: UInt128) -> UInt128 {
        let (value, overflow) = a.addingReportingOverflow(b)
        precondition(!overflow, "model arithmetic overflowed: a volume check is missing")
        return value
    }

    /// `a - b`, which the caller has proven cannot underflow.
    static func difference(_ a: UInt128, _ b: UInt128) -> UInt128 {
        let (value, overflow) = a.subtractingReportingOverflow(b)
        precondition(!overflow, "model arithmetic underflowed: a pending amount went negative")
        return value
    }

    /// The transaction with id `id`, if it was ever applied.
    func record(_ id: TransactionID) -> TransactionRecord? {
        guard id.rawValue >= 1, id <= self.lastTransaction else { return nil }
        let index = Int(id.rawValue - 1)
        return self.transactionChunks[index / ReferenceLedger.transactionsPerChunk][
            index % ReferenceLedger.transactionsPerChunk
        ]
    }

    /// Assigns the next transaction id to `record` and stores it.
    mutating func appendRecord(_ record: TransactionRecord) -> TransactionID {
        let id = TransactionID(self.lastTransaction.rawValue + 1)
        var stored = record
        stored.id = id
        stored.recordedTime = self.recordedTime
        if let last = self.transactionChunks.indices.last,
            self.transactionChunks[last].count < ReferenceLedger.transactionsPerChunk
        {
            self.transactionChunks[last].append(stored)
        } else {
            self.transactionChunks.append([stored])
        }
        self.lastTransaction = id
        return id
    }
}
