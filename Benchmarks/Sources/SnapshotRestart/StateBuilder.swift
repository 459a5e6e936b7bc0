import CommitBenchmarkSupport
import Foundation
import SnapshotBenchmarkSupport
import TallyCore
import TallyEngine

/// What the large state is made of; the accounts, ids and settings are SnapshotLatency's too
/// (`PaymentLedgerShape`), the journal tail and the keys are this harness's own.
struct StateShape: Codable, PaymentLedgerShape {
    /// Accounts: PSP receivables, one fee revenue account, and merchant payables (one merchant each).
    var accounts: Int
    /// Operations with an idempotency key (every one is retained: they all fall in the key window).
    var operations: Int
    /// Holds left open at the end; half as many again are created and captured in full.
    var openHolds: Int
    /// Engine days the operations are spread over (the clock is virtual): with the default 7-day
    /// transaction retention, 29 days retains about a quarter of the transactions, under 7 all.
    var spanDays: Double
    /// Transfers applied after the snapshot, which restart replays from the journal.
    var tailOperations: Int
    /// Operations per journal record of the tail (1: every request a single transfer).
    var tailOperationsPerRecord: Int
    var operationsPerBatch: Int

    var name: String {
        "snapshot-state-a\(self.accounts)-o\(self.operations)-h\(self.openHolds)-d\(format(self.spanDays, digits: 1))"
            + "-t\(self.tailOperations)x\(self.tailOperationsPerRecord)"
    }

    /// The key of operation `sequence`: 128 random-looking bits, as a client's UUIDs would be (a
    /// bijection of the sequence in each half, so keys never repeat and are never zero). The halves
    /// come from disjoint inputs (`sequence + c` and `~sequence`), so that no half of one key equals
    /// a half of another: a compressor with a long window would otherwise find them.
    static func key(_ sequence: UInt64) -> IdempotencyKey {
        IdempotencyKey(UInt128(mix(sequence &+ 0xA5A5)) << 64 | UInt128(mix(~sequence)))
    }
}

/// Builds the state through the real engine on a fresh data directory: accounts, then the keyed
/// operations in batches acknowledged when applied (several in flight), a durable wait, a snapshot
/// through `Engine.snapshot()`, then the journal tail; and closes the engine.
struct StateBuilder {
    struct Report: Codable {
        var statistics: Statistics
        var buildSeconds: Double
        var operationsPerSecond: Double
        var snapshotSeconds: Double
        var snapshotSequence: UInt64
        var tailSeconds: Double
        var journalBytes: Int64
        var snapshotName: String
    }

    /// The ledger's counts at the snapshot.
    struct Statistics: Codable {
        var accounts: Int
        var aggregateBuckets: Int
        var openHolds: Int
        var transactions: UInt64
        var retainedTransactions: Int
        var reversedTransactions: Int
        var retainedKeys: Int
        var rejectedOperations: UInt64

        init(_ statistics: LedgerStatistics) {
            self.accounts = statistics.accounts
            self.aggregateBuckets = statistics.aggregateBuckets
            self.openHolds = statistics.openHolds
            self.transactions = statistics.transactions
            self.retainedTransactions = statistics.retainedTransactions
            self.reversedTransactions = statistics.reversedTransactions
            self.retainedKeys = statistics.retainedKeys
            self.rejectedOperations = statistics.rejectedOperations
        }
    }

    let shape: StateShape
    let directory: String

    func build(log: (String) -> Void) throws -> Report {
        let build = try StateBuildEngine(shape: self.shape, directory: self.directory)
        let clock = build.clock
        let pipeline = build.pipeline
        try build.createAccounts(log: log)

        // Keyed operations. Per operation, a deterministic draw picks the kind: reversals 0.1%,
        // captures with a fee 5%, holds 1.5 x the open holds wanted, full captures of earlier
        // holds 0.5 x; transfers the rest.
        let operations = self.shape.operations
        let batches = (operations + self.shape.operationsPerBatch - 1) / self.shape.operationsPerBatch
        let stepNanoseconds = UInt64(self.shape.spanDays * 86_400e9) / UInt64(max(1, batches))
        let holdShare = Double(self.shape.openHolds) * 1.5 / Double(max(1, operations))
        let holdCaptureShare = Double(self.shape.openHolds) * 0.5 / Double(max(1, operations))
        let thresholds = (
            reversal: 0.001,
            feeCapture: 0.001 + 0.05,
            hold: 0.051 + holdShare,
            holdCapture: 0.051 + holdShare + holdCaptureShare
        )
        var batch = OperationBatch()
        var legs: [Leg] = []
        var kinds: [Pipeline.Kind] = []
        var capturable: [(hold: TransactionID, amount: UInt128)] = []
        var capturableStart = 0
        var lastReversed: TransactionID? = nil
        let buildStarted = monotonicNanoseconds()
        var reported = buildStarted
        for sequence in 0..<UInt64(operations) {
            let draw = StateShape.mix(sequence &* 0x9E37_79B9_7F4A_7C15 ^ 0x51)
            let share = Double(draw >> 11) / Double(1 << 53)
            let key = StateShape.key(sequence)
            let amount = UInt128(100 + (draw >> 24) % 1_000_000)
            let paymentID = Array("pay_\(String(StateShape.mix(sequence ^ 0x77), radix: 16))".utf8)
            if share < thresholds.reversal, let transfer = pipeline.lastTransfer(), transfer != lastReversed {
                batch.appendReverse(TransactionHeader(key: key, type: .refund), transaction: transfer)
                kinds.append(.other)
                lastReversed = transfer
            } else if share < thresholds.feeCapture {
                let fee = amount * 29 / 1_000 + 30
                legs.removeAll(keepingCapacity: true)
                legs.append(.debit(StateShape.psp(draw >> 3), amount + fee))
                legs.append(.credit(self.shape.merchant(draw >> 9), amount))
                legs.append(.credit(StateShape.feeRevenue, fee))
                batch.appendPost(TransactionHeader(key: key, type: .capture), legs: legs, paymentID: paymentID)
                kinds.append(.other)
            } else if share < thresholds.hold {
                let terms = HoldTerms(
                    debit: StateShape.psp(draw >> 3),
                    credit: self.shape.merchant(draw >> 9),
                    amount: amount,
                    timeoutSeconds: StateShape.holdTimeoutSeconds
                )
                batch.appendHold(TransactionHeader(key: key, type: .capture), terms, paymentID: paymentID)
                kinds.append(.hold(amount))
            } else if share < thresholds.holdCapture,
                capturableStart < capturable.count || pipeline.takeHolds(into: &capturable, start: &capturableStart)
            {
                let hold = capturable[capturableStart]
                capturableStart += 1
                batch.appendCapture(
                    TransactionHeader(key: key, type: .capture),
                    CaptureTerms(hold: hold.hold, amount: hold.amount)
                )
                kinds.append(.other)
            } else {
                let debit = self.shape.merchant(draw >> 3)
                var credit = self.shape.merchant(draw >> 29)
                if credit == debit {
                    credit = StateShape.feeRevenue
                }
                legs.removeAll(keepingCapacity: true)
                legs.append(.debit(debit, amount))
                legs.append(.credit(credit, amount))
                batch.appendPost(TransactionHeader(key: key, type: .settlement), legs: legs)
                kinds.append(.transfer)
            }
            if batch.count == self.shape.operationsPerBatch || sequence + 1 == UInt64(operations) {
                clock.advance(byNanoseconds: stepNanoseconds)
                try pipeline.submit(batch, kinds: kinds)
                batch.removeAll(keepingCapacity: true)
                kinds.removeAll(keepingCapacity: true)
            }
            build.logProgress(after: sequence, reported: &reported, log: log)
        }
        let snapshot = try build.snapshot(buildStarted: buildStarted, log: log)

        // The tail: transfers after the snapshot, which restart replays.
        let tailStarted = monotonicNanoseconds()
        var sequence = UInt64(operations)
        while sequence < UInt64(operations + self.shape.tailOperations) {
            let draw = StateShape.mix(sequence &* 0x9E37_79B9_7F4A_7C15 ^ 0x51)
            legs.removeAll(keepingCapacity: true)
            let debit = self.shape.merchant(draw >> 3)
            var credit = self.shape.merchant(draw >> 29)
            if credit == debit {
                credit = StateShape.feeRevenue
            }
            legs.append(.debit(debit, UInt128(100 + (draw >> 24) % 1_000_000)))
            legs.append(.credit(credit, UInt128(100 + (draw >> 24) % 1_000_000)))
            batch.appendPost(TransactionHeader(key: StateShape.key(sequence), type: .settlement), legs: legs)
            kinds.append(.other)
            sequence += 1
            if batch.count == self.shape.tailOperationsPerRecord
                || sequence == UInt64(operations + self.shape.tailOperations)
            {
                clock.advance(
                    byNanoseconds: stepNanoseconds * UInt64(batch.count) / UInt64(self.shape.operationsPerBatch)
                )
                try pipeline.submit(batch, kinds: kinds)
                batch.removeAll(keepingCapacity: true)
                kinds.removeAll(keepingCapacity: true)
            }
        }
        try pipeline.drain()
        try pipeline.waitDurable()
        let tailSeconds = seconds(since: tailStarted)
        try build.engine.close()

        // Live segments and the archive (closed segments a snapshot covers, compressed).
        var journalBytes: Int64 = 0
        let journal = self.directory + "/journal"
        for case let name as String in FileManager.default.enumerator(atPath: journal)
            ?? FileManager.DirectoryEnumerator()
        {
            let attributes = try FileManager.default.attributesOfItem(atPath: journal + "/" + name)
            if attributes[.type] as? FileAttributeType == .typeRegular {
                journalBytes += (attributes[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return Report(
            statistics: Statistics(snapshot.statistics),
            buildSeconds: snapshot.buildSeconds,
            operationsPerSecond: Double(operations) / snapshot.buildSeconds,
            snapshotSeconds: snapshot.snapshotSeconds,
            snapshotSequence: snapshot.info.sequence,
            tailSeconds: tailSeconds,
            journalBytes: journalBytes,
            snapshotName: SnapshotFile.name(sequence: snapshot.info.sequence)
        )
    }
}
