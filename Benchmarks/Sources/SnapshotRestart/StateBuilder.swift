import CommitBenchmarkSupport
import Dispatch
import Foundation
import Synchronization
import SystemPackage
import TallyCore
import TallyEngine

/// What the large state is made of.
struct StateShape: Codable {
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

    static let pspCount = 64
    /// Holds stay open past the span, so that none expires while the state is built.
    static let holdTimeoutSeconds: UInt32 = 60 * 86_400
    static let asset: AssetCode = "USD"
    /// Engine time at the start: 2027-01-15.
    static let startNanoseconds: UInt64 = 1_800_000_000 * 1_000_000_000

    /// The data directory's ledger settings: the defaults (30-day key window, 7-day retention), as a
    /// server would run; only the capacity hints of the build differ (they are not stored).
    var buildConfiguration: LedgerConfiguration {
        LedgerConfiguration(
            expectedAccounts: self.accounts,
            expectedRetainedKeys: self.operations + self.operations / 8
        )
    }

    var name: String {
        "snapshot-state-a\(self.accounts)-o\(self.operations)-h\(self.openHolds)-d\(format(self.spanDays, digits: 1))"
            + "-t\(self.tailOperations)x\(self.tailOperationsPerRecord)"
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

    /// Requests in flight while building.
    static let inFlightMax = 8

    func build(log: (String) -> Void) throws -> Report {
        let clock = VirtualClock(Timestamp(nanosecondsSinceEpoch: StateShape.startNanoseconds))
        let configuration = Engine.Configuration(
            dataDirectory: FilePath(self.directory),
            ledger: self.shape.buildConfiguration,
            storedSettings: .requireMatch,
            // One snapshot, when asked for, and none at close: the tail stays for restart to replay.
            snapshotEveryRecords: nil,
            snapshotIntervalNanoseconds: nil,
            snapshotOnClose: false
        )
        let (engine, _) = try Engine.open(configuration, clock: clock)
        let started = monotonicNanoseconds()
        let pipeline = Pipeline(engine: engine)

        // Accounts.
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
                try pipeline.submit(batch, kinds: nil)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if batch.count > 0 {
            try pipeline.submit(batch, kinds: nil)
            batch.removeAll(keepingCapacity: true)
        }
        try pipeline.drain()
        log("accounts created: \(self.shape.accounts) in \(format(seconds(since: started), digits: 1)) s")

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
            if sequence % 1_000_000 == 999_999 {
                let now = monotonicNanoseconds()
                log(
                    "\(sequence + 1) operations, \(format(Double(1_000_000) / Double(now - reported) * 1e9, digits: 0))/s, "
                        + "\(MachineState.sample(directory: self.directory).loadText)"
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
        try engine.close()

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
            statistics: Statistics(statistics),
            buildSeconds: buildSeconds,
            operationsPerSecond: Double(operations) / buildSeconds,
            snapshotSeconds: snapshotSeconds,
            snapshotSequence: info.sequence,
            tailSeconds: tailSeconds,
            journalBytes: journalBytes,
            snapshotName: SnapshotFile.name(sequence: info.sequence)
        )
    }
}

func seconds(since start: UInt64) -> Double {
    Double(monotonicNanoseconds() - start) / 1e9
}

/// Requests to the engine with a bounded number in flight; remembers the transaction ids of holds
/// (to capture later) and of the latest transfer (to reverse).
final class Pipeline: @unchecked Sendable {
    // @unchecked: the mutable state is behind `lock`.
    enum Kind {
        case transfer
        case hold(UInt128)
        case other
    }

    private let engine: Engine
    private let slots = DispatchSemaphore(value: StateBuilder.inFlightMax)
    private let lock = NSLock()
    private var holds: [(hold: TransactionID, amount: UInt128)] = []
    private var transfer: TransactionID?
    private var failure: String?
    private var lastSequence: UInt64 = 0

    init(engine: Engine) {
        self.engine = engine
    }

    func submit(_ batch: OperationBatch, kinds: [Kind]?) throws {
        self.slots.wait()
        try self.check()
        self.engine.submit(batch, acknowledgement: .applied) { result in
            self.lock.lock()
            switch result {
            case .success(let response):
                self.lastSequence = max(self.lastSequence, response.sequence)
                for (index, result) in response.results.enumerated() {
                    guard result.code.isOK else {
                        self.failure = self.failure ?? "operation \(index) of a batch: \(result)"
                        continue
                    }
                    guard let kinds else { continue }
                    switch kinds[index] {
                    case .transfer: self.transfer = result.transactionID
                    case .hold(let amount): self.holds.append((result.transactionID, amount))
                    case .other: break
                    }
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

    func lastTransfer() -> TransactionID? {
        self.lock.withLock { self.transfer }
    }

    /// Moves the holds applied so far to `into` (dropping what `start` has passed); false if none.
    func takeHolds(into destination: inout [(hold: TransactionID, amount: UInt128)], start: inout Int) -> Bool {
        destination.removeFirst(start)
        start = 0
        self.lock.withLock {
            destination.append(contentsOf: self.holds)
            self.holds.removeAll(keepingCapacity: true)
        }
        return !destination.isEmpty
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
