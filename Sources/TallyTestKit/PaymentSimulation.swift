import TallyCore

/// Runs a ``PaymentWorkload`` against an in-memory ``Ledger``: the setup, then batch after batch,
/// each preceded by the hold expiries due at its time (in their own batch, as the engine issues
/// them), with every result fed back to the workload.
///
/// ```swift
/// let summary = PaymentSimulation.run(.init(operations: 1_000_000, batchSize: 1_000, seed: 42))
/// print(summary.postings, summary.digest)
/// ```
///
/// or step by step, to report progress:
///
/// ```swift
/// var simulation = PaymentSimulation(options)
/// while simulation.step() { if simulation.batches % 100 == 0 { print(simulation.operations) } }
/// let summary = simulation.summary()
/// ```
public struct PaymentSimulation: Sendable {
    /// What to run.
    public struct Options: Hashable, Sendable {
        /// Workload operations to apply after the setup (not counting setup and expiries).
        public var operations: Int
        /// Operations per batch (1 to ``Limits/operationsPerBatchMax``); setup batches too.
        public var batchSize: Int
        public var workload: PaymentWorkload.Configuration
        /// The ledger's configuration; nil sizes the default one for the workload's accounts.
        public var ledger: LedgerConfiguration?

        public init(
            operations: Int = 100_000,
            batchSize: Int = 1_000,
            workload: PaymentWorkload.Configuration = PaymentWorkload.Configuration(),
            ledger: LedgerConfiguration? = nil
        ) {
            self.operations = operations
            self.batchSize = batchSize
            self.workload = workload
            self.ledger = ledger
        }

        /// The default workload with `seed`.
        public init(operations: Int = 100_000, batchSize: Int = 1_000, seed: UInt64) {
            self.init(operations: operations, batchSize: batchSize, workload: PaymentWorkload.Configuration(seed: seed))
        }

        /// The workload's seed.
        public var seed: UInt64 {
            get { self.workload.seed }
            set { self.workload.seed = newValue }
        }
    }

    /// What a run did.
    public struct Summary: Hashable, Sendable {
        public var seed: UInt64
        /// Workload operations applied (setup and expiries not included).
        public var operations: Int
        public var setupOperations: Int
        /// `expire_hold` operations the driver issued.
        public var expiryOperations: Int
        /// Batches applied, expiry batches included.
        public var batches: Int
        /// Transactions created (posts, holds, captures, increases, voids, expiries, reversals):
        /// every `ok` that is not a replay.
        public var postings: Int
        /// Results by code over all operations (setup and expiries included), replays included.
        public var resultCounts: [ResultCode: Int]
        /// Results that were replays of an earlier result (duplicate retries).
        public var replays: Int
        /// Operations by flow, the driver's expiries under ``PaymentFlow/holdExpiry``.
        public var flowCounts: PaymentWorkload.FlowCounts
        /// Rejections (not replays) by flow.
        public var rejectionsByFlow: PaymentWorkload.FlowCounts
        /// What the workload counted besides: dropped and abandoned follow-ups, fallbacks.
        public var workload: PaymentWorkload.Statistics
        /// Engine time of the setup and of the last batch.
        public var startTime: Timestamp
        public var endTime: Timestamp
        public var accounts: Int
        public var openHolds: Int
        public var digest: StateDigest

        /// Rejections, not counting replays nor the flows that are rejected on purpose (late
        /// captures), over the workload operations and expiries that are not deliberate.
        public var rejectionRate: Double {
            var rejected = 0
            var sent = 0
            for flow in PaymentFlow.allCases where !flow.isDeliberate && flow != .setup {
                rejected += self.rejectionsByFlow[flow]
                sent += self.flowCounts[flow]
            }
            return sent == 0 ? 0 : Double(rejected) / Double(sent)
        }

        /// The result codes seen, in code order, with their counts.
        public var sortedResultCounts: [(code: ResultCode, count: Int)] {
            self.resultCounts.sorted { $0.key.rawValue < $1.key.rawValue }.map { ($0.key, $0.value) }
        }
    }

    public let options: Options
    public private(set) var ledger: Ledger
    public private(set) var workload: PaymentWorkload
    /// Workload operations applied so far.
    public private(set) var operations = 0
    public private(set) var batches = 0
    public private(set) var postings = 0
    public private(set) var expiryOperations = 0
    public private(set) var replays = 0

    private var codeCounts = [Int](repeating: 0, count: 256)
    private var expiryRejections = 0
    private var batch = OperationBatch()
    private var expiries = OperationBatch()
    private var results: [OperationResult] = []

    public init(_ options: Options) {
        precondition(options.operations >= 0)
        precondition(options.batchSize >= 1 && options.batchSize <= Limits.operationsPerBatchMax)
        self.options = options
        self.workload = PaymentWorkload(configuration: options.workload)
        var ledgerConfiguration = options.ledger ?? LedgerConfiguration()
        if options.ledger == nil {
            ledgerConfiguration.expectedAccounts = self.workload.accountCount
        }
        self.ledger = Ledger(configuration: ledgerConfiguration)
        self.batch.reserveCapacity(operations: options.batchSize, legs: 4 * options.batchSize)
        self.results.reserveCapacity(options.batchSize)
    }

    /// Runs `options` to the end.
    public static func run(_ options: Options) -> Summary {
        var simulation = PaymentSimulation(options)
        while simulation.step() {}
        return simulation.summary()
    }

    /// True once every workload operation has been applied.
    public var isFinished: Bool { self.workload.isSetUp && self.operations >= self.options.operations }

    /// Applies the next batch: a setup batch, or the due expiries and a workload batch. Returns
    /// false, doing nothing, when the run is finished.
    public mutating func step() -> Bool {
        if !self.workload.isSetUp {
            let time = self.workload.nextBatch(into: &self.batch, count: self.options.batchSize)
            self.apply(self.batch, at: time)
            self.workload.observe(self.results, of: self.batch)
            return true
        }
        guard self.operations < self.options.operations else { return false }
        let count = min(self.options.batchSize, self.options.operations - self.operations)
        let time = self.workload.nextBatch(into: &self.batch, count: count)
        self.applyDueExpiries(at: time)
        self.apply(self.batch, at: time)
        self.workload.observe(self.results, of: self.batch)
        self.operations += count
        return true
    }

    /// Issues an `expire_hold` for every hold whose deadline has come by `time`, in batches.
    private mutating func applyDueExpiries(at time: Timestamp) {
        var due = self.ledger.dueHoldExpiries(at: time)[...]
        while !due.isEmpty {
            let chunk = due.prefix(Limits.operationsPerBatchMax)
            due = due.dropFirst(chunk.count)
            self.expiries.removeAll(keepingCapacity: true)
            for hold in chunk {
                self.expiries.append(.expireHold(hold: hold))
            }
            self.apply(self.expiries, at: time)
            self.expiryOperations += chunk.count
            self.expiryRejections += self.results.lazy.filter { !$0.code.isOK }.count
        }
    }

    private mutating func apply(_ batch: OperationBatch, at time: Timestamp) {
        self.ledger.apply(batch, at: time, results: &self.results)
        self.batches += 1
        for result in self.results {
            self.codeCounts[Int(min(result.code.rawValue, 255))] += 1
            if result.isReplay {
                self.replays += 1
            } else if result.code.isOK && result.transactionID.rawValue != 0 {
                self.postings += 1
            }
        }
    }

    /// The counts so far and the state digest (computing it walks the whole state).
    public func summary() -> Summary {
        var resultCounts: [ResultCode: Int] = [:]
        for (code, count) in self.codeCounts.enumerated() where count > 0 {
            resultCounts[ResultCode(rawValue: UInt16(code))] = count
        }
        let statistics = self.workload.statistics
        var flowCounts = statistics.sent
        flowCounts[.holdExpiry] += self.expiryOperations
        var rejections = statistics.rejected
        rejections[.holdExpiry] += self.expiryRejections
        return Summary(
            seed: self.options.workload.seed,
            operations: self.operations,
            setupOperations: statistics.sent[.setup],
            expiryOperations: self.expiryOperations,
            batches: self.batches,
            postings: self.postings,
            resultCounts: resultCounts,
            replays: self.replays,
            flowCounts: flowCounts,
            rejectionsByFlow: rejections,
            workload: statistics,
            startTime: self.options.workload.startTime,
            endTime: self.ledger.recordedTime,
            accounts: self.ledger.statistics.accounts,
            openHolds: self.ledger.statistics.openHolds,
            digest: self.ledger.digest()
        )
    }
}
