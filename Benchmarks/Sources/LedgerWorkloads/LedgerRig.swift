import TallyCore

/// How a rig's ledger is sized and how its engine clock moves.
public struct RigSettings: Sendable {
    /// Operations per ``OperationBatch``.
    public var operationsPerBatch = 1_000
    /// Engine time each applied operation takes: 1,000 ns is an arrival rate of one million
    /// operations per second, whatever the machine's real speed.
    public var engineNanosecondsPerOperation: UInt64 = 1_000
    /// The idempotency window. At the arrival rate above, 2 s keeps about two million keys: far
    /// more than the caches hold, so every lookup and insert misses as it would in production,
    /// while chunks of old keys are evicted as they are in steady state.
    public var idempotencyWindowSeconds: UInt64 = 2
    /// The transaction retention window: about one million records at the rate above.
    public var transactionRetentionSeconds: UInt64 = 1
    /// Transfers applied before anything is measured: past the idempotency window, so the key
    /// table is at its steady size and evicting.
    public var prefillOperations = 2_500_000

    public init() {}

    /// Keys retained at steady state: the window's worth, a partly filled chunk of 4,096, and a
    /// batch (a hold-and-capture round is two operations per item).
    public var retainedKeysMax: Int {
        let window = self.idempotencyWindowSeconds * 1_000_000_000 / self.engineNanosecondsPerOperation
        return Int(window) + 4_096 + 2 * self.operationsPerBatch
    }

    /// The ledger's configuration: windows as above, and tables sized up front so that the key
    /// index never grows while a benchmark measures.
    public var configuration: LedgerConfiguration {
        LedgerConfiguration(
            idempotencyWindowSeconds: self.idempotencyWindowSeconds,
            transactionRetentionSeconds: self.transactionRetentionSeconds,
            expectedAccounts: Chart.accountCount,
            expectedRetainedKeys: self.retainedKeysMax + self.retainedKeysMax / 8
        )
    }
}

/// A ledger on the ``Chart``, a reusable batch and results array, and the engine clock: the
/// state one benchmark drives. Building a batch and applying it are separate calls, so a
/// benchmark can measure either or both.
public struct LedgerRig {
    public let settings: RigSettings
    public var ledger: Ledger
    public var batch = OperationBatch()
    public var results: [OperationResult] = []
    /// Engine time (ns) of the next batch.
    public private(set) var time: UInt64 = 1_800_000_000 * 1_000_000_000

    /// Sequence numbers of the next operation of each stream.
    public private(set) var nextTransfer: UInt64 = 0
    public private(set) var nextCapture: UInt64 = 0
    public private(set) var nextHold: UInt64 = 0
    /// Holds applied by the last round and not captured yet: their sequence numbers start at
    /// ``pendingHoldsStart`` and their transaction ids are here, in order.
    public private(set) var pendingHolds: [TransactionID] = []
    public private(set) var pendingHoldsStart: UInt64 = 0

    var legs: [Leg] = []
    var random: UInt64 = 0x243F_6A88_85A3_08D3

    public init(settings: RigSettings = RigSettings()) {
        self.settings = settings
        self.ledger = Ledger(configuration: settings.configuration)
        self.legs.reserveCapacity(Limits.legsPerTransactionMax)
        self.batch.reserveCapacity(operations: 2 * settings.operationsPerBatch, legs: 6 * settings.operationsPerBatch)
        self.results.reserveCapacity(2 * settings.operationsPerBatch)
        self.pendingHolds.reserveCapacity(settings.operationsPerBatch)
        Chart.create(in: &self.ledger, at: Timestamp(nanosecondsSinceEpoch: self.time))
        self.time += 1_000_000
    }

    /// Applies ``RigSettings/prefillOperations`` transfers, checking every result.
    public mutating func prefill() {
        var remaining = self.settings.prefillOperations
        while remaining > 0 {
            let count = min(remaining, self.settings.operationsPerBatch)
            self.buildTransfers(count)
            self.apply()
            self.requireAllOK()
            remaining -= count
        }
    }

    // MARK: - Building

    /// Empties the batch (keeping its capacity) and fills it with the next `count` transfers.
    public mutating func buildTransfers(_ count: Int) {
        self.batch.removeAll(keepingCapacity: true)
        for _ in 0..<count {
            Workload.appendTransfer(self.nextTransfer, to: &self.batch, legs: &self.legs)
            self.nextTransfer += 1
        }
    }

    /// Empties the batch and fills it with the next `count` 3-leg captures with fee.
    public mutating func buildCaptures(_ count: Int) {
        self.batch.removeAll(keepingCapacity: true)
        for _ in 0..<count {
            Workload.appendCapture(self.nextCapture, to: &self.batch, legs: &self.legs)
            self.nextCapture += 1
        }
    }

    /// Empties the batch and fills it with the full captures of the pending holds, then `count`
    /// new holds. After ``apply()``, ``collectHolds()`` makes the new holds the pending ones.
    public mutating func buildHoldRound(_ count: Int) {
        self.batch.removeAll(keepingCapacity: true)
        for (offset, hold) in self.pendingHolds.enumerated() {
            Workload.appendHoldCapture(self.pendingHoldsStart + UInt64(offset), hold: hold, to: &self.batch)
        }
        for _ in 0..<count {
            Workload.appendHold(self.nextHold, to: &self.batch)
            self.nextHold += 1
        }
    }

    /// After a hold round is applied: checks every result and remembers the new holds' ids.
    public mutating func collectHolds(_ count: Int) {
        self.requireAllOK()
        self.pendingHolds.removeAll(keepingCapacity: true)
        self.pendingHoldsStart = self.nextHold - UInt64(count)
        for result in self.results[(self.results.count - count)...] {
            self.pendingHolds.append(result.transactionID)
        }
    }

    /// Empties the batch and fills it with `count` transfers already applied, chosen at random
    /// among the `recent` newest (which must all still be retained): exact resends, so every one
    /// is answered by its remembered result.
    public mutating func buildReplays(_ count: Int, amongRecent recent: Int) {
        precondition(recent > 0 && UInt64(recent) <= self.nextTransfer)
        self.batch.removeAll(keepingCapacity: true)
        let oldest = self.nextTransfer - UInt64(recent)
        for _ in 0..<count {
            let sequence = oldest + self.nextRandom() % UInt64(recent)
            Workload.appendTransfer(sequence, to: &self.batch, legs: &self.legs)
        }
    }

    /// `count` random pool account ids, for read benchmarks.
    public mutating func randomPoolAccounts(_ count: Int) -> [AccountID] {
        (0..<count).map { _ in Chart.pool(Int(self.nextRandom() % UInt64(Chart.poolCount))) }
    }

    mutating func nextRandom() -> UInt64 {
        // xorshift64*: only for choosing which operations to resend, never measured.
        self.random ^= self.random >> 12
        self.random ^= self.random << 25
        self.random ^= self.random >> 27
        return self.random &* 0x2545_F491_4F6C_DD1D
    }

    // MARK: - Applying

    /// Applies the batch at the engine time, then moves the engine clock on by the batch's
    /// operations (unless `advancingTime` is false).
    @inline(__always)
    public mutating func apply(advancingTime: Bool = true) {
        self.ledger.apply(self.batch, at: Timestamp(nanosecondsSinceEpoch: self.time), results: &self.results)
        if advancingTime {
            self.time += UInt64(self.batch.count) * self.settings.engineNanosecondsPerOperation
        }
    }

    /// Stops the process unless every result of the last apply is `ok` (and, with `replays`, a
    /// replay; without, not one): a benchmark must measure what it says it measures.
    public func requireAllOK(replays: Bool = false) {
        precondition(self.results.count == self.batch.count, "one result per operation")
        for (index, result) in self.results.enumerated() where !result.code.isOK || result.isReplay != replays {
            preconditionFailure("operation \(index) of the batch: \(result), expected ok\(replays ? " (replay)" : "")")
        }
    }
}
