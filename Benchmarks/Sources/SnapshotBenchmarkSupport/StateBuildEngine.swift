import CommitBenchmarkSupport
import SystemPackage
import TallyCore
import TallyEngine

/// The engine a large state is built through, on a fresh data directory: a virtual clock from the
/// shape's start time, no automatic snapshot and none at close (a harness takes the one snapshot it
/// wants, and what it applies after that stays in the journal), and a pipeline of requests in flight.
/// The steps the snapshot harnesses take alike are here, so that their states are built the same way;
/// the keyed operations between the accounts and the snapshot are each harness's own.
public struct StateBuildEngine<Shape: PaymentLedgerShape> {
    /// The state at the build's snapshot, and how long the build and the snapshot took.
    public struct Snapshot {
        /// The ledger's counts at the snapshot.
        public var statistics: LedgerStatistics
        public var info: SnapshotFile.Info
        /// From the first keyed operation until the last is applied (before the durable wait).
        public var buildSeconds: Double
        public var snapshotSeconds: Double
    }

    public let shape: Shape
    public let directory: String
    public let clock: VirtualClock
    public let engine: Engine
    public let pipeline: Pipeline

    public init(shape: Shape, directory: String) throws {
        self.shape = shape
        self.directory = directory
        self.clock = VirtualClock(Timestamp(nanosecondsSinceEpoch: Shape.startNanoseconds))
        let configuration = Engine.Configuration(
            dataDirectory: FilePath(directory),
            ledger: shape.buildConfiguration,
            storedSettings: .requireMatch,
            // One snapshot, when asked for, and none at close: a tail after it stays for restart to replay.
            snapshotEveryRecords: nil,
            snapshotIntervalNanoseconds: nil,
            snapshotOnClose: false
        )
        let (engine, _) = try Engine.open(configuration, clock: self.clock)
        self.engine = engine
        self.pipeline = Pipeline(engine: engine)
    }

    /// Creates the asset and the shape's accounts (as many per request as a request takes), waits for
    /// them to be applied, and logs how long that took.
    public func createAccounts(log: (String) -> Void) throws {
        let started = monotonicNanoseconds()
        var batch = OperationBatch()
        batch.append(.createAsset(CreateAsset(code: Shape.asset, scale: 2)))
        for index in 0..<self.shape.accounts {
            let kind: AccountKind
            var merchant: UInt64 = 0
            var partner: UInt64 = 0
            if index < Shape.pspCount {
                kind = .pspReceivable
                partner = UInt64(1 + index)
            } else if index == Shape.pspCount {
                kind = .feeRevenue
            } else {
                kind = .merchantPayable
                merchant = UInt64(index)
            }
            batch.append(
                .createAccount(
                    CreateAccount(
                        id: Shape.account(index),
                        asset: Shape.asset,
                        kind: kind,
                        merchant: merchant,
                        partner: partner
                    )
                )
            )
            if batch.count == Limits.operationsPerBatchMax {
                try self.pipeline.submit(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if batch.count > 0 {
            try self.pipeline.submit(batch)
            batch.removeAll(keepingCapacity: true)
        }
        try self.pipeline.drain()
        log("accounts created: \(self.shape.accounts) in \(format(seconds(since: started), digits: 1)) s")
    }

    /// After every millionth keyed operation (`sequence` counts from 0), logs the rate since `reported`
    /// and the machine's load, and moves `reported` on; a long build shows that it is progressing.
    public func logProgress(after sequence: UInt64, reported: inout UInt64, log: (String) -> Void) {
        guard sequence % 1_000_000 == 999_999 else { return }
        let now = monotonicNanoseconds()
        log(
            "\(sequence + 1) operations, \(format(Double(1_000_000) / Double(now - reported) * 1e9, digits: 0))/s, "
                + MachineState.sample(directory: self.directory).loadText
        )
        reported = now
    }

    /// Waits for the keyed operations (submitted since `buildStarted`) to be applied and durable, then
    /// takes the ledger's counts and one snapshot through `Engine.snapshot()`, logging each step.
    public func snapshot(buildStarted: UInt64, log: (String) -> Void) throws -> Snapshot {
        try self.pipeline.drain()
        let buildSeconds = seconds(since: buildStarted)
        try self.pipeline.waitDurable()
        log("operations applied and durable: \(format(buildSeconds, digits: 1)) s; writing the snapshot")

        let engine = self.engine
        let statistics = try blocking { try await engine.read(.durable) { $0.statistics } }
        let snapshotStarted = monotonicNanoseconds()
        let info = try blocking { try await engine.snapshot() }
        let snapshotSeconds = seconds(since: snapshotStarted)
        log("snapshot through sequence \(info.sequence): \(format(snapshotSeconds, digits: 1)) s")
        return Snapshot(
            statistics: statistics,
            info: info,
            buildSeconds: buildSeconds,
            snapshotSeconds: snapshotSeconds
        )
    }
}
