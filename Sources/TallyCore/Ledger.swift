/// The ledger: a deterministic state machine from operations to results.
///
/// ``apply(_:at:results:)`` is the only way to change it. It reads no clock and no randomness and
/// iterates no hash table for anything that matters: the same operations at the same engine times
/// always produce the same results and the same ``digest()``. A rejected operation changes
/// nothing (except that its idempotency key remembers the rejection, see docs/LEDGER.md).
public struct Ledger: Sendable {
    public let configuration: LedgerConfiguration

    var assets = AssetTable()
    var accounts: AccountTable
    var aggregates: AggregateTable
    var keys: IdempotencyTable
    var transactions = TransactionStore()
    var holds = HoldBook()
    var reversed = ReversedSet()

    /// The id of the newest transaction; ids are gapless from 1.
    var lastTransactionID: UInt64 = 0
    /// Engine time (ns) of the newest batch; recorded times never go backwards.
    var lastRecordedTime: UInt64 = 0
    /// Operations whose result was not `ok`, counted once each.
    var rejectedCount: UInt64 = 0
    /// Batches applied.
    var batchCount: UInt64 = 0

    /// Engine time (ns) of the batch being applied.
    var now: UInt64 = 0

    // Undo state, used only while an atomic chain is being applied.
    var undo: [UndoRecord] = []
    var isRecordingUndo = false

    /// Folds the prefetch loads into something the optimiser cannot drop.
    var prefetchSink: UInt64 = 0

    public init(configuration: LedgerConfiguration = LedgerConfiguration()) {
        Limits.checkRelationships()
        self.configuration = configuration
        self.accounts = AccountTable(expectedCount: configuration.expectedAccounts, seed: configuration.hashSeed)
        self.aggregates = AggregateTable(seed: configuration.hashSeed ^ 0xC2B2_AE3D_27D4_EB4F)
        self.keys = IdempotencyTable(
            expectedCount: configuration.expectedRetainedKeys,
            seed: configuration.hashSeed ^ 0x9E37_79B9_7F4A_7C15
        )
    }

    /// Applies every operation of `batch` in order at engine time `time`, writing one result per
    /// operation into `results` (emptied first).
    ///
    /// The batch's recorded time is `time`, or the previous batch's when `time` is earlier: recorded
    /// time never goes backwards. Returns the recorded time used.
    @discardableResult
    public mutating func apply(
        _ batch: OperationBatch,
        at time: Timestamp,
        results: inout [OperationResult]
    ) -> Timestamp {
        results.removeAll(keepingCapacity: true)
        self.now = max(time.nanosecondsSinceEpoch, self.lastRecordedTime)
        self.lastRecordedTime = self.now
        self.batchCount += 1
        self.evictExpired()
        batch.withView { batch in
            self.prefetchKeys(of: batch)
            self.applyAll(batch, results: &results)
        }
        for result in results where !result.code.isOK {
            self.rejectedCount += 1
        }
        return Timestamp(nanosecondsSinceEpoch: self.now)
    }

    private mutating func applyAll(_ batch: BatchView, results: inout [OperationResult]) {
        var index = 0
        let count = batch.count
        while index < count {
            guard batch.entries[index].isLinked else {
                results.append(self.applyOne(batch, at: index))
                index += 1
                continue
            }
            var end = index
            while end < count && batch.entries[end].isLinked {
                end += 1
            }
            if end == count {
                // The batch ended inside a chain: nothing of it is applied, and nothing is
                // remembered under its keys, so the corrected chain can be sent again.
                for _ in index..<count {
                    results.append(.rejected(.linkedChainOpen))
                }
                break
            }
            self.applyChain(batch, range: index...end, results: &results)
            index = end + 1
        }
    }

    /// Applies a whole batch and returns its results.
    public mutating func apply(_ batch: OperationBatch, at time: Timestamp) -> [OperationResult] {
        var results: [OperationResult] = []
        self.apply(batch, at: time, results: &results)
        return results
    }

    /// Applies one operation on its own at engine time `time`.
    public mutating func apply(_ operation: Operation, at time: Timestamp) -> OperationResult {
        self.apply(OperationBatch([operation]), at: time)[0]
    }

    // MARK: - Atomic chains

    private mutating func applyChain(
        _ batch: BatchView,
        range: ClosedRange<Int>,
        results: inout [OperationResult]
    ) {
        precondition(!self.isRecordingUndo && self.undo.isEmpty)
        let savedLastTransactionID = self.lastTransactionID
        self.isRecordingUndo = true
        let firstResult = results.count
        var failure: (index: Int, result: OperationResult)? = nil
        for index in range {
            let result = self.applyOne(batch, at: index)
            results.append(result)
            if !result.code.isOK {
                failure = (index, result)
                break
            }
        }
        self.isRecordingUndo = false
        guard let failure else {
            self.undo.removeAll(keepingCapacity: true)
            return
        }

        while let record = self.undo.popLast() {
            self.revert(record)
        }
        self.lastTransactionID = savedLastTransactionID

        // The failing member reports its own code. A member whose key was remembered before the
        // chain (with this content) reports that earlier result as a replay: it was decided then,
        // and it stands. Every other member reports linked_operation_failed. The keys then remember
        // these results, so resending the same chain answers the same codes, as replays, instead
        // of succeeding later against different balances.
        results.removeSubrange(firstResult...)
        for index in range {
            var result = OperationResult.rejected(.linkedOperationFailed)
            if index == failure.index {
                result = failure.result
            } else if let header = self.header(of: batch, at: index), header.key.rawValue != 0,
                let entry = self.keys.find(header.key), entry.fingerprint == batch.fingerprint(at: index)
            {
                result = IdempotencyTable.Outcome.decode(entry.outcome)
                result.isReplay = true
            }
            results.append(result)
        }
        // Only now remember, so that every replay above was decided by keys from before the chain.
        for index in range {
            let result = results[firstResult + index - range.lowerBound]
            if let header = self.header(of: batch, at: index), !result.isReplay {
                self.rememberRejection(result, key: header.key, fingerprint: batch.fingerprint(at: index))
            }
        }
    }

    /// Remembers a rejection under `key` unless the key is invalid or already taken (a conflict,
    /// a replay, or an earlier member of the same chain with the same key).
    mutating func rememberRejection(_ result: OperationResult, key: IdempotencyKey, fingerprint: UInt64) {
        guard key.rawValue != 0, result.code != .idempotencyConflict, self.keys.find(key) == nil else {
            return
        }
        self.rememberOutcome(result, key: key, fingerprint: fingerprint)
    }

    mutating func rememberOutcome(_ result: OperationResult, key: IdempotencyKey, fingerprint: UInt64) {
        let entry = IdempotencyTable.Entry(
            key: key.rawValue,
            fingerprint: fingerprint,
            outcome: IdempotencyTable.Outcome.encode(result)
        )
        let previousNewest = self.keys.append(entry, time: self.now)
        if self.isRecordingUndo {
            self.undo.append(.keyAppended(previousNewest: previousNewest))
        }
    }

    private mutating func revert(_ record: UndoRecord) {
        switch record {
        case .assetCreated:
            self.assets.removeLast()
        case .accountCreated(let bucketsCreated):
            self.accounts.removeLast()
            for _ in 0..<bucketsCreated {
                self.aggregates.removeLast()
            }
        case .accountStatus(let account, let previous):
            self.accounts.setStatus(previous, at: Int(account))
        case .movement(let account, let side, let posted, let pendingIncrease, let pendingDecrease):
            let record = self.accounts.records[Int(account)]
            self.accounts.balances[Int(account)].revert(
                side: side,
                posted: posted,
                pendingIncrease: pendingIncrease,
                pendingDecrease: pendingDecrease
            )
            for bucket in [record.totalBucket, record.merchantBucket, record.partnerBucket] {
                self.aggregates.balances[Int(bucket)].revert(
                    side: side,
                    posted: posted,
                    pendingIncrease: pendingIncrease,
                    pendingDecrease: pendingDecrease
                )
            }
            self.assets.totals[Int(record.asset)].revert(
                side: side,
                posted: posted,
                pendingIncrease: pendingIncrease,
                pendingDecrease: pendingDecrease
            )
        case .keyAppended(let previousNewest):
            self.keys.removeLast(previousNewest: previousNewest)
        case .transactionAppended(let previousNewest):
            self.transactions.removeLast(previousNewest: previousNewest)
        case .holdInserted(let id):
            self.holds.remove(id)
        case .holdUpdated(let id, let previous):
            self.holds.update(previous, id: id)
        case .holdRemoved(let id, let previous):
            self.holds.restore(previous, id: id)
        case .reversed(let id):
            self.reversed.remove(id)
        }
    }

    // MARK: - Dispatch

    private func header(of batch: BatchView, at index: Int) -> TransactionHeader? {
        switch batch.entries[index].operation {
        case .createAsset, .createAccount, .setAccountStatus, .expireHold:
            return nil
        case .post(let header, _, _, _), .hold(let header, _, _), .capture(let header, _, _),
            .increaseHold(let header, _, _), .voidHold(let header, _, _), .reverse(let header, _, _):
            return header
        }
    }

    /// Applies the operation at `index`, handling its idempotency key.
    private mutating func applyOne(_ batch: BatchView, at index: Int) -> OperationResult {
        switch batch.entries[index].operation {
        case .createAsset(let body):
            return self.applyCreateAsset(body)
        case .createAccount(let body):
            return self.applyCreateAccount(body)
        case .setAccountStatus(let body):
            return self.applySetAccountStatus(body)
        case .expireHold(let hold):
            return self.applyExpire(hold: hold)
        case .post(let header, let legs, let fxRates, let references):
            let fingerprint = batch.fingerprintPost(header, legs: legs, fxRates: fxRates, references: references)
            if let earlier = self.checkKey(header.key, fingerprint: fingerprint) {
                return earlier
            }
            let result = self.applyPost(header, legs: legs, fxRates: fxRates, references: references, in: batch)
            self.rememberOutcome(result, key: header.key, fingerprint: fingerprint)
            return result
        case .hold(let header, let terms, let references):
            let fingerprint = batch.fingerprintHold(header, terms, references: references)
            if let earlier = self.checkKey(header.key, fingerprint: fingerprint) {
                return earlier
            }
            let result = self.applyHold(header, terms, references: references, in: batch)
            self.rememberOutcome(result, key: header.key, fingerprint: fingerprint)
            return result
        case .capture(let header, let terms, let references):
            let fingerprint = batch.fingerprintCapture(header, terms, references: references)
            if let earlier = self.checkKey(header.key, fingerprint: fingerprint) {
                return earlier
            }
            let result = self.applyCapture(header, terms, references: references, in: batch)
            self.rememberOutcome(result, key: header.key, fingerprint: fingerprint)
            return result
        case .increaseHold(let header, let terms, let references):
            let fingerprint = batch.fingerprintIncrease(header, terms, references: references)
            if let earlier = self.checkKey(header.key, fingerprint: fingerprint) {
                return earlier
            }
            let result = self.applyIncrease(header, terms, references: references, in: batch)
            self.rememberOutcome(result, key: header.key, fingerprint: fingerprint)
            return result
        case .voidHold(let header, let hold, let references):
            let fingerprint = batch.fingerprintVoid(header, hold: hold, references: references)
            if let earlier = self.checkKey(header.key, fingerprint: fingerprint) {
                return earlier
            }
            let result = self.applyVoid(header, hold: hold, references: references, in: batch)
            self.rememberOutcome(result, key: header.key, fingerprint: fingerprint)
            return result
        case .reverse(let header, let transaction, let references):
            let fingerprint = batch.fingerprintReverse(header, transaction: transaction, references: references)
            if let earlier = self.checkKey(header.key, fingerprint: fingerprint) {
                return earlier
            }
            let result = self.applyReverse(header, transaction: transaction, references: references, in: batch)
            self.rememberOutcome(result, key: header.key, fingerprint: fingerprint)
            return result
        }
    }

    /// The idempotency step before a keyed operation: a zero key is invalid; a known key replays its
    /// remembered result when the content matches and conflicts when it does not; nil means apply.
    @inline(__always)
    private mutating func checkKey(_ key: IdempotencyKey, fingerprint: UInt64) -> OperationResult? {
        guard key.rawValue != 0 else {
            return .rejected(.idempotencyKeyInvalid)
        }
        guard let entry = self.keys.find(key) else {
            return nil
        }
        guard entry.fingerprint == fingerprint else {
            return .rejected(.idempotencyConflict)
        }
        var result = IdempotencyTable.Outcome.decode(entry.outcome)
        result.isReplay = true
        return result
    }

    // MARK: - Shared steps

    /// Drops keys and transaction records that have outlived their windows.
    private mutating func evictExpired() {
        let keyWindow = self.configuration.idempotencyWindowSeconds.multipliedReportingOverflow(
            by: Timestamp.nanosecondsPerSecond
        )
        if !keyWindow.overflow, self.now > keyWindow.partialValue {
            self.keys.evict(olderThan: self.now - keyWindow.partialValue)
        }
        let recordWindow = self.configuration.transactionRetentionSeconds.multipliedReportingOverflow(
            by: Timestamp.nanosecondsPerSecond
        )
        if !recordWindow.overflow, self.now > recordWindow.partialValue {
            self.transactions.evict(olderThan: self.now - recordWindow.partialValue)
        }
    }

    /// Moves money on one account and everything that sums it (its aggregate buckets, its asset).
    @inline(__always)
    mutating func move(
        _ account: Int,
        _ side: Side,
        posted: UInt128 = 0,
        pendingIncrease: UInt128 = 0,
        pendingDecrease: UInt128 = 0
    ) {
        let record = self.accounts.records[account]
        self.accounts.balances[account].apply(
            side: side,
            posted: posted,
            pendingIncrease: pendingIncrease,
            pendingDecrease: pendingDecrease
        )
        self.aggregates.balances[Int(record.totalBucket)].apply(
            side: side,
            posted: posted,
            pendingIncrease: pendingIncrease,
            pendingDecrease: pendingDecrease
        )
        self.aggregates.balances[Int(record.merchantBucket)].apply(
            side: side,
            posted: posted,
            pendingIncrease: pendingIncrease,
            pendingDecrease: pendingDecrease
        )
        self.aggregates.balances[Int(record.partnerBucket)].apply(
            side: side,
            posted: posted,
            pendingIncrease: pendingIncrease,
            pendingDecrease: pendingDecrease
        )
        self.assets.totals[Int(record.asset)].apply(
            side: side,
            posted: posted,
            pendingIncrease: pendingIncrease,
            pendingDecrease: pendingDecrease
        )
        if self.isRecordingUndo {
            self.undo.append(
                .movement(
                    account: UInt32(account),
                    side: side,
                    posted: posted,
                    pendingIncrease: pendingIncrease,
                    pendingDecrease: pendingDecrease
                )
            )
        }
    }

    /// Takes the next transaction id.
    @inline(__always)
    mutating func nextTransactionID() -> TransactionID {
        self.lastTransactionID += 1
        return TransactionID(self.lastTransactionID)
    }

    /// Stores the record of transaction `id`, written by `write` in at most `bytesMax` bytes.
    mutating func storeRecord(_ id: TransactionID, bytesMax: Int, _ write: (inout RecordWriter) -> Void) {
        let previousNewest = self.transactions.append(id: id, time: self.now, bytesMax: bytesMax) { base in
            var writer = RecordWriter(base)
            write(&writer)
            precondition(writer.count + 16 <= bytesMax, "record bound too small")
            return writer.count
        }
        if self.isRecordingUndo {
            self.undo.append(.transactionAppended(previousNewest: previousNewest))
        }
    }

    /// Accounts from which the prefetch pass also loads the accounts of posted legs: about 3.6 MiB
    /// of account records and balances, more than a core's 2 MiB L2 cache on the machines we run.
    static let accountPrefetchThreshold = 32_768

    /// Loads what the batch will touch before applying it: each key's index slot and, in a large
    /// ledger, each posted leg's account index slot, record and balance. The loads of different
    /// operations are independent, so the processor overlaps their cache misses instead of taking
    /// them one at a time during apply. Nothing here changes a result.
    ///
    /// Measured with 2-leg posts in batches of 1,000 (median ns per post): with 10,000 accounts,
    /// keys only 279, keys and accounts 366, nothing 405; with 1,000,000 accounts, keys only 782,
    /// keys and accounts 673. Hence accounts only above ``accountPrefetchThreshold``.
    private mutating func prefetchKeys(of batch: BatchView) {
        guard batch.count >= 8 else { return }
        let prefetchAccounts = self.accounts.count >= Ledger.accountPrefetchThreshold
        var sink: UInt64 = 0
        for entry in batch.entries {
            switch entry.operation {
            case .post(let header, let legs, _, _):
                sink ^= self.keys.touch(header.key)
                for leg in batch.legs(legs) where prefetchAccounts {
                    if let account = self.accounts.find(leg.account) {
                        sink ^= UInt64(truncatingIfNeeded: self.accounts.balances[account].creditsPosted)
                    }
                }
            case .hold(let header, _, _), .capture(let header, _, _), .increaseHold(let header, _, _),
                .voidHold(let header, _, _), .reverse(let header, _, _):
                sink ^= self.keys.touch(header.key)
            case .createAsset, .createAccount, .setAccountStatus, .expireHold:
                break
            }
        }
        self.prefetchSink ^= sink
    }

    // The checks below change nothing but are `mutating`: called from the mutating apply path, a
    // non-mutating method makes the compiler copy the whole Ledger (hundreds of bytes) per call.

    /// The checks every money-moving operation makes on its header before its own: type, external
    /// references, and actor and reason on adjustments.
    mutating func checkHeader(
        _ header: TransactionHeader,
        references: OperationBatch.ReferenceSlices
    ) -> OperationResult? {
        if !header.type.isValid {
            return .rejected(.transactionTypeInvalid)
        }
        if references.paymentID.count > Limits.externalReferenceBytesMax {
            return .rejected(.externalReferenceTooLong, detail: 0)
        }
        if references.providerReference.count > Limits.externalReferenceBytesMax {
            return .rejected(.externalReferenceTooLong, detail: 1)
        }
        if header.type == .adjustment && (header.actor == 0 || header.reason == 0) {
            return .rejected(.actorAndReasonRequired)
        }
        return nil
    }

    /// The status check for an account a movement touches.
    @inline(__always)
    mutating func checkOpen(_ account: Int, detail: Int) -> OperationResult? {
        switch self.accounts.records[account].status {
        case .open: return nil
        case .frozen: return .rejected(.accountFrozen, detail: detail)
        case .closed: return .rejected(.accountClosed, detail: detail)
        }
    }

    /// The balance-constraint check for adding `amount` on `side` of `account`, counting pending.
    @inline(__always)
    mutating func checkConstraint(_ account: Int, side: Side, amount: UInt128, detail: Int) -> OperationResult? {
        let flags = self.accounts.records[account].flags
        let balance = self.accounts.balances[account]
        // The asset volume check ran first, so none of these sums can overflow.
        switch side {
        case .debit:
            if flags.contains(.debitsMustNotExceedCredits)
                && balance.debitsPosted + balance.debitsPending + amount > balance.creditsPosted
            {
                return .rejected(.exceedsCredits, detail: detail)
            }
        case .credit:
            if flags.contains(.creditsMustNotExceedDebits)
                && balance.creditsPosted + balance.creditsPending + amount > balance.debitsPosted
            {
                return .rejected(.exceedsDebits, detail: detail)
            }
        }
        return nil
    }
}
