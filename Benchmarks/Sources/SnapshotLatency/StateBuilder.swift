import CommitBenchmarkSupport
import Dispatch
import Foundation
import Synchronization
import SystemPackage
import TallyCore
import TallyEngine

// The large state, built once through the real engine. The shape and the way it is built follow
// SnapshotRestart's StateBuilder (accounts of a payment service provider, keyed operations spread
// over a month of virtual engine time, holds left open), without the journal tail: this harness
// only needs a big state and a snapshot of it for the snapshotter to start from.

/// What the large state is made of.
struct StateShape: Codable, Sendable {
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

    static let pspCount = 64
    static let holdTimeoutSeconds: UInt32 = 60 * 86_400
    static let asset: AssetCode = "USD"
    /// Engine time at the start: 2027-01-15.
    static let startNanoseconds: UInt64 = 1_800_000_000 * 1_000_000_000

    /// The data directory's stored settings are the defaults (30-day key window, 7-day
    /// retention), as a server would run; the capacity hints are not stored.
    var buildConfiguration: LedgerConfiguration {
        LedgerConfiguration(
            expectedAccounts: self.accounts,
            expectedRetainedKeys: self.operations + self.operations / 8
        )
    }

    var name: String {
        "snapshot-latency-a\(self.accounts)-o\(self.operations)-h\(self.openHolds)-d\(format(self.spanDays, digits: 1))"
    }

    /// Account `index` (0-based): random-looking 64-bit ids, as an upstream system would assign.
    static func account(_ index: Int) -> AccountID {
        AccountID(mix(UInt64(index) &+ 0x1000))
    }

    static func psp(_ draw: UInt64) -> AccountID { account(Int(draw % UInt64(pspCount))) }
    static var feeRevenue: AccountID { account(pspCount) }
    func merchant(_ draw: UInt64) -> AccountID {
        let merchants = UInt64(self.accounts - Self.pspCount - 1)
        return Self.account(Self.pspCount + 1 + Int(draw % merchants))
    }

    /// MurmurHash3's finaliser (a bijection).
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return x
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

    static let inFlightMax = 8

    func build(log: (String) -> Void) throws -> Report {
        let clock = VirtualClock(Timestamp(nanosecondsSinceEpoch: StateShape.startNanoseconds))
        let configuration = Engine.Configuration(
            dataDirectory: FilePath(self.directory),
            ledger: self.shape.buildConfiguration,
            storedSettings: .requireMatch,
            snapshotEveryRecords: nil,
            snapshotIntervalNanoseconds: nil,
            snapshotOnClose: false
        )
        let (engine, _) = try Engine.open(configuration, clock: clock)
        let started = monotonicNanoseconds()
        let pipeline = Pipeline(engine: engine)

        var batch = OperationBatch()
        batch.append(.createAsset(CreateAsset(code: StateShape.asset, scale: 2)))
        for index in 0..<self.shape.accounts {
            let kind: AccountKind
            var merchant: UInt64 = 0
            var partner: UInt64 = 0
            if index < StateShape.pspCount {
                kind = .pspReceivable
                partner = UInt64(1 + index)
            } else if index == StateShape.pspCount {
                kind = .feeRevenue
            } else {
                kind = .merchantPayable
                merchant = UInt64(index)
            }
            batch.append(
                .createAccount(
                    CreateAccount(
                        id: StateShape.account(index),
                        asset: StateShape.asset,
                        kind: kind,
                        merchant: merchant,
                        partner: partner
                    )
                )
            )
            if batch.count == Limits.operationsPerBatchMax {
                try pipeline.submit(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if batch.count > 0 {
            try pipeline.submit(batch)
            batch.removeAll(keepingCapacity: true)
        }
        try pipeline.drain()
        log("accounts created: \(self.shape.accounts) in \(format(seconds(since: started), digits: 1)) s")

        // Per operation a deterministic draw picks the kind: captures with a fee 5%, holds as many
        // as open holds are wanted, transfers the rest.
        let operations = self.shape.operations
        let batches = (operations + self.shape.operationsPerBatch - 1) / self.shape.operationsPerBatch
        let stepNanoseconds = UInt64(self.shape.spanDays * 86_400e9) / UInt64(max(1, batches))
        let feeCaptureShare = 0.05
        let holdShare = feeCaptureShare + Double(self.shape.openHolds) / Double(max(1, operations))
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
                clock.advance(byNanoseconds: stepNanoseconds)
                try pipeline.submit(batch)
                batch.removeAll(keepingCapacity: true)
            }
            if sequence % 1_000_000 == 999_999 {
                let now = monotonicNanoseconds()
                log(
                    "\(sequence + 1) operations, \(format(Double(1_000_000) / Double(now - reported) * 1e9, digits: 0))/s, "
                        + MachineState.sample(directory: self.directory).loadText
                )
                reported = now
            }
        }
        try pipeline.drain()
        let buildSeconds = seconds(since: buildStarted)
        try pipeline.waitDurable()
        log("operations applied and durable: \(format(buildSeconds, digits: 1)) s; writing the snapshot")

        let statistics = try blocking { try await engine.read(.durable) { $0.statistics } }
        let snapshotStarted = monotonicNanoseconds()
        let info = try blocking { try await engine.snapshot() }
        let snapshotSeconds = seconds(since: snapshotStarted)
        log("snapshot through sequence \(info.sequence): \(format(snapshotSeconds, digits: 1)) s")
        try engine.close()
        return Report(
            shape: self.shape,
            accounts: statistics.accounts,
            openHolds: statistics.openHolds,
            retainedKeys: statistics.retainedKeys,
            transactions: statistics.transactions,
            retainedTransactions: statistics.retainedTransactions,
            rejectedOperations: statistics.rejectedOperations,
            buildSeconds: buildSeconds,
            snapshotSeconds: snapshotSeconds,
            snapshotSequence: info.sequence,
            snapshotFileBytes: info.fileBytes,
            snapshotUncompressedBytes: info.uncompressedBytes
        )
    }
}

func seconds(since start: UInt64) -> Double {
    Double(monotonicNanoseconds() - start) / 1e9
}

/// Requests to the engine with a bounded number in flight, acknowledged when applied.
final class Pipeline: @unchecked Sendable {
    // @unchecked: the mutable state is behind `lock`.
    private let engine: Engine
    private let slots = DispatchSemaphore(value: StateBuilder.inFlightMax)
    private let lock = NSLock()
    private var failure: String?
    private var lastSequence: UInt64 = 0

    init(engine: Engine) {
        self.engine = engine
    }

    func submit(_ batch: OperationBatch) throws {
        self.slots.wait()
        try self.check()
        self.engine.submit(batch, acknowledgement: .applied) { result in
            self.lock.lock()
            switch result {
            case .success(let response):
                self.lastSequence = max(self.lastSequence, response.sequence)
                if let index = response.results.firstIndex(where: { !$0.code.isOK }) {
                    self.failure = self.failure ?? "operation \(index) of a batch: \(response.results[index])"
                }
            case .failure(let error):
                self.failure = self.failure ?? "\(error)"
            }
            self.lock.unlock()
            self.slots.signal()
        }
    }

    /// Waits for every request in flight.
    func drain() throws {
        for _ in 0..<StateBuilder.inFlightMax {
            self.slots.wait()
        }
        for _ in 0..<StateBuilder.inFlightMax {
            self.slots.signal()
        }
        try self.check()
    }

    func waitDurable() throws {
        let sequence = self.lock.withLock { self.lastSequence }
        let engine = self.engine
        try blocking { try await engine.waitUntilDurable(sequence) }
    }

    private func check() throws {
        if let failure = self.lock.withLock({ self.failure }) {
            throw HarnessFailure(description: "building the state failed: \(failure)")
        }
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs `body` on the cooperative pool and waits for it (the main thread is not on the pool).
func blocking<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) throws -> Value {
    let outcome = Mutex<Result<Value, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let result: Result<Value, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        outcome.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    return try outcome.withLock { $0! }.get()
}
