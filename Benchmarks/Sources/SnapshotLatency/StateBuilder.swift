import CommitBenchmarkSupport
import SnapshotBenchmarkSupport
import TallyCore

// The large state, built once through the real engine. The accounts, their ids and the ledger
// settings are SnapshotRestart's (`PaymentLedgerShape`), and so are the steps of the build
// (`StateBuildEngine`): keyed operations spread over a month of virtual engine time, holds left open;
// without the journal tail: this harness only needs a big state and a snapshot of it for the
// snapshotter to start from.

/// What the large state is made of.
struct StateShape: Codable, Sendable, PaymentLedgerShape {
    /// Accounts: PSP receivables, one fee revenue account, and merchant payables (one merchant each).
    var accounts: Int
    /// Operations with an idempotency key (all retained: they fall within the 30-day key window).
    var operations: Int
    /// Holds left open (never captured; their deadline is past the span).
    var openHolds: Int
    /// Engine days the operations are spread over: with the default 7-day transaction retention,
    /// 29 days retains about a quarter of the transactions.
    var spanDays: Double
    var operationsPerBatch: Int

    var name: String {
        "snapshot-latency-a\(self.accounts)-o\(self.operations)-h\(self.openHolds)-d\(format(self.spanDays, digits: 1))"
    }

    static func key(_ sequence: UInt64) -> IdempotencyKey {
        IdempotencyKey(UInt128(mix(sequence &+ 0xA5A5)) << 64 | UInt128(sequence &+ 1))
    }
}

/// Builds the state on a fresh data directory: the accounts, then the keyed operations (transfers,
/// 3-leg captures with a fee, holds) in batches acknowledged when applied with several in flight,
/// a durable wait, one snapshot through `Engine.snapshot()`, and close (no snapshot at close).
struct StateBuilder {
    struct Report: Codable {
        var shape: StateShape
        var accounts: Int
        var openHolds: Int
        var retainedKeys: Int
        var transactions: UInt64
        var retainedTransactions: Int
        var rejectedOperations: UInt64
        var buildSeconds: Double
        var snapshotSeconds: Double
        var snapshotSequence: UInt64
        var snapshotFileBytes: Int64
        var snapshotUncompressedBytes: Int64
    }

    let shape: StateShape
    let directory: String

    func build(log: (String) -> Void) throws -> Report {
        let build = try StateBuildEngine(shape: self.shape, directory: self.directory)
        try build.createAccounts(log: log)

        // Per operation a deterministic draw picks the kind: captures with a fee 5%, holds as many
        // as open holds are wanted, transfers the rest.
        let operations = self.shape.operations
        let batches = (operations + self.shape.operationsPerBatch - 1) / self.shape.operationsPerBatch
        let stepNanoseconds = UInt64(self.shape.spanDays * 86_400e9) / UInt64(max(1, batches))
        let feeCaptureShare = 0.05
        let holdShare = feeCaptureShare + Double(self.shape.openHolds) / Double(max(1, operations))
        var batch = OperationBatch()
        var legs: [Leg] = []
        var reported = monotonicNanoseconds()
        let buildStarted = reported
        for sequence in 0..<UInt64(operations) {
            let draw = StateShape.mix(sequence &* 0x9E37_79B9_7F4A_7C15 ^ 0x51)
            let share = Double(draw >> 11) / Double(1 << 53)
            let key = StateShape.key(sequence)
            let amount = UInt128(100 + (draw >> 24) % 1_000_000)
            let paymentID = Array("pay_\(String(StateShape.mix(sequence ^ 0x77), radix: 16))".utf8)
            if share < feeCaptureShare {
                let fee = amount * 29 / 1_000 + 30
                legs.removeAll(keepingCapacity: true)
                legs.append(.debit(StateShape.psp(draw >> 3), amount + fee))
                legs.append(.credit(self.shape.merchant(draw >> 9), amount))
                legs.append(.credit(StateShape.feeRevenue, fee))
                batch.appendPost(TransactionHeader(key: key, type: .capture), legs: legs, paymentID: paymentID)
            } else if share < holdShare {
                let terms = HoldTerms(
                    debit: StateShape.psp(draw >> 3),
                    credit: self.shape.merchant(draw >> 9),
                    amount: amount,
                    timeoutSeconds: StateShape.holdTimeoutSeconds
                )
                batch.appendHold(TransactionHeader(key: key, type: .capture), terms, paymentID: paymentID)
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
            }
            if batch.count == self.shape.operationsPerBatch || sequence + 1 == UInt64(operations) {
                build.clock.advance(byNanoseconds: stepNanoseconds)
                try build.pipeline.submit(batch)
                batch.removeAll(keepingCapacity: true)
            }
            build.logProgress(after: sequence, reported: &reported, log: log)
        }
        let snapshot = try build.snapshot(buildStarted: buildStarted, log: log)
        let statistics = snapshot.statistics
        try build.engine.close()
        return Report(
            shape: self.shape,
            accounts: statistics.accounts,
            openHolds: statistics.openHolds,
            retainedKeys: statistics.retainedKeys,
            transactions: statistics.transactions,
            retainedTransactions: statistics.retainedTransactions,
            rejectedOperations: statistics.rejectedOperations,
            buildSeconds: snapshot.buildSeconds,
            snapshotSeconds: snapshot.snapshotSeconds,
            snapshotSequence: snapshot.info.sequence,
            snapshotFileBytes: snapshot.info.fileBytes,
            snapshotUncompressedBytes: snapshot.info.uncompressedBytes
        )
    }
}
