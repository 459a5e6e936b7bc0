import Foundation
import SystemPackage
import TallyCore
import TallyStorage

/// The single writer: it owns the ledger, applies every operation in one order, journals each batch
/// and answers when it is durable.
///
/// Callers hand in whole batches (``submit(_:acknowledgement:completion:)``); a dedicated writer
/// thread drains everything queued at once, applies each batch, appends one journal record per batch
/// and goes straight on while the journal's sync thread writes and syncs. Durable replies are sent
/// from the sync thread as soon as a sync covers them, so one wake-up answers a whole group.
///
/// The writer's role is a token, not a thread: a caller that finds the writer idle and nothing
/// queued takes the token and applies its own batch on its own thread, sparing the wake-up of the
/// writer thread (5-25 µs here, a fifth of a lone durable posting). Everything queued meanwhile is
/// left to the writer thread, so a caller never works for others. The journal's sync thread and
/// the writer thread never take the token from a completion (``ThreadRole``): the sync thread must
/// be free to start the next sync.
///
/// Reads run in the writer's role like writes, so they see one consistent state; by default their
/// reply waits until everything applied before them is durable, so no read shows state that a crash
/// could take back. After a journal failure the engine rebuilds the durable state from the journal
/// and keeps answering reads from it, while every write is refused.
public final class Engine: @unchecked Sendable {
    // @unchecked: `requests`, `state`, `writerRunning` and `writerBusy` are guarded by `queue`; the
    // ledger and the scratch buffers belong to whichever thread holds the writer's role (`writerBusy`,
    // taken under `queue`), and to `open` before the writer starts.

    public struct Configuration: Sendable {
        public var dataDirectory: FilePath
        public var ledger: LedgerConfiguration
        public var journal: Journal.Configuration
        /// Requests waiting for the writer; more are answered ``EngineError/Code-swift.struct/busy``.
        public var queuedRequestsMax: Int
        /// How often an idle writer checks for holds whose deadline has come.
        public var expirySweepIntervalNanoseconds: UInt64
        /// Expiries journaled in one sweep record; more wait for the next sweep.
        public var expiriesPerSweepMax: Int
        /// What to do when the data directory's stored ledger settings differ from ``ledger``'s.
        public var storedSettings: StoredSettingsPolicy
        /// Whether startup computes the state digest after replay (``Recovery/digest``). Off by
        /// default: the digest hashes the whole state, which at production size takes longer than
        /// the replay of a short journal tail; tools and tests that compare states turn it on.
        public var digestAfterRecovery: Bool
        /// Whether startup loads the newest snapshot that checks out and replays only the journal
        /// after it (default); without, it replays the whole journal.
        public var useSnapshots: Bool
        /// Whether a loaded snapshot's state digest is recomputed and compared with its header's
        /// (a walk of the whole state; the checksums and the decoder's checks apply either way).
        public var verifySnapshotDigest: Bool
        /// A snapshot is started in the background once this many journal records were appended
        /// after the last one (nil: never by count). Restart replays at most about this many records
        /// after the newest snapshot (plus what was appended while it was written): at about 2 µs
        /// per one-operation record, the default keeps that under a second. Each snapshot costs a
        /// decode of the previous one, the replay and an encode, on a background thread.
        public var snapshotEveryRecords: UInt64?
        /// A snapshot is started in the background when this long has passed since the last
        /// attempt and records were appended meanwhile (nil: never by time).
        public var snapshotIntervalNanoseconds: UInt64?
        /// Snapshots kept; older ones are removed after each new one (at least 1).
        public var snapshotsRetained: Int
        /// Whether closed journal segments that the oldest kept snapshot covers are moved into the
        /// journal's archive (zstd; never deleted) after each snapshot.
        public var archiveCoveredSegments: Bool
        /// Whether ``Engine/close()`` writes a snapshot of the state when records were appended
        /// after the newest one, so that the next start replays nothing.
        public var snapshotOnClose: Bool
        /// The zstd level of snapshots and archived segments.
        public var snapshotCompressionLevel: Int32
        /// The largest batch a caller that finds the writer idle applies on its own thread (sparing
        /// the writer thread's wake-up); larger batches go to the writer thread, so that the caller
        /// (a server's event loop) decodes its next request while this one is applied.
        public var callerAppliesOperationsMax: Int
        /// For load tests only: engine time also moves forward to the latest effective (business)
        /// time a batch carries, so that a generator's virtual clock drives hold deadlines and
        /// retention windows, and a month of business time passes in minutes. Never in production:
        /// any client could move the ledger's time ahead. Recorded times are journaled either way,
        /// so replay needs no clock.
        public var clockFollowsEffectiveTime: Bool

        public init(
            dataDirectory: FilePath,
            ledger: LedgerConfiguration = LedgerConfiguration(),
            journal: Journal.Configuration = Journal.Configuration(),
            queuedRequestsMax: Int = 4_096,
            expirySweepIntervalNanoseconds: UInt64 = 100_000_000,
            expiriesPerSweepMax: Int = 4_096,
            storedSettings: StoredSettingsPolicy = .adopt,
            digestAfterRecovery: Bool = false,
            useSnapshots: Bool = true,
            verifySnapshotDigest: Bool = false,
            snapshotEveryRecords: UInt64? = 250_000,
            snapshotIntervalNanoseconds: UInt64? = 300_000_000_000,
            snapshotsRetained: Int = 3,
            archiveCoveredSegments: Bool = true,
            snapshotOnClose: Bool = true,
            snapshotCompressionLevel: Int32 = 1,
            callerAppliesOperationsMax: Int = 256,
            clockFollowsEffectiveTime: Bool = false
        ) {
            precondition(queuedRequestsMax >= 1)
            precondition(expiriesPerSweepMax >= 1 && expiriesPerSweepMax <= Limits.operationsPerBatchMax)
            precondition(snapshotsRetained >= 1)
            precondition(snapshotEveryRecords.map { $0 >= 1 } ?? true)
            precondition(snapshotIntervalNanoseconds.map { $0 >= 1 } ?? true)
            precondition(Zstd.levels.contains(snapshotCompressionLevel))
            precondition(callerAppliesOperationsMax >= 0)
            self.dataDirectory = dataDirectory
            self.ledger = ledger
            self.journal = journal
            self.queuedRequestsMax = queuedRequestsMax
            self.expirySweepIntervalNanoseconds = expirySweepIntervalNanoseconds
            self.expiriesPerSweepMax = expiriesPerSweepMax
            self.storedSettings = storedSettings
            self.digestAfterRecovery = digestAfterRecovery
            self.useSnapshots = useSnapshots
            self.verifySnapshotDigest = verifySnapshotDigest
            self.snapshotEveryRecords = snapshotEveryRecords
            self.snapshotIntervalNanoseconds = snapshotIntervalNanoseconds
            self.snapshotsRetained = snapshotsRetained
            self.archiveCoveredSegments = archiveCoveredSegments
            self.snapshotOnClose = snapshotOnClose
            self.snapshotCompressionLevel = snapshotCompressionLevel
            self.callerAppliesOperationsMax = callerAppliesOperationsMax
            self.clockFollowsEffectiveTime = clockFollowsEffectiveTime
        }
    }

    /// The ledger settings that shape the state (retention windows, account limit) are stored in
    /// the data directory when it is created and used on every later open, because replay reproduces
    /// a state only under the same settings.
    public enum StoredSettingsPolicy: Hashable, Sendable {
        /// An existing directory's settings replace the configuration's (the default).
        case adopt
        /// Opening fails when they differ, for callers that state the settings explicitly.
        case requireMatch
    }

    /// When a write is answered.
    public enum Acknowledgement: Hashable, Sendable {
        /// When its journal record is on stable storage (the default).
        case durable
        /// As soon as it is applied; ``waitUntilDurable(_:)`` confirms durability later.
        case applied
    }

    /// What a read may see.
    public enum ReadConsistency: Hashable, Sendable {
        /// Only what is durable: the reply waits for the journal to cover everything read.
        case durable
        /// Everything applied, durable or not.
        case applied
    }

    /// The answer to a write.
    public struct Response: Hashable, Sendable {
        /// The journal sequence of the batch's record.
        public var sequence: UInt64
        /// The engine time the ledger recorded for the batch.
        public var recordedTime: Timestamp
        /// One result per operation, in order.
        public var results: [OperationResult]
    }

    /// What startup found and did.
    public struct Recovery: Hashable, Sendable {
        public var scan: JournalScan
        /// Records replayed (client batches and expiry sweeps).
        public var recordsReplayed: UInt64
        public var operationsReplayed: UInt64
        /// Opening the directory and replaying the journal, up to serving.
        public var nanoseconds: UInt64
        /// The state after replay, when ``Configuration/digestAfterRecovery`` asked for it.
        public var digest: StateDigest?
        /// The time the digest took (zero without it), not included in ``nanoseconds``.
        public var digestNanoseconds: UInt64
        /// The snapshot recovery started from (nil: the whole journal was replayed).
        public var snapshot: SnapshotFile.Info?
        /// Newer snapshots that did not load, and why (recovery fell back past them).
        public var rejectedSnapshots: [SnapshotCatalog.Rejection]
    }

    private enum Request {
        case write(
            OperationBatch,
            Acknowledgement,
            syncByCaller: Bool,
            @Sendable (Result<Response, EngineError>) -> Void
        )
        case read(
            ReadConsistency,
            @Sendable (borrowing Ledger) -> @Sendable () -> Void,
            @Sendable (EngineError) -> Void
        )
        case sweepExpiries
        case snapshot(@Sendable (Result<SnapshotFile.Info, EngineError>) -> Void)
    }

    private enum State {
        case running
        /// The journal failed: writes are refused; reads are served from the durable state.
        case failed(EngineError)
        case closing
        case closed
    }

    public let configuration: Configuration
    private let clock: any EngineClock
    private let directory: DataDirectory
    private let journal: Journal
    private let tracker: DurabilityTracker
    private let snapshotter: Snapshotter
    private let queue = NSCondition()

    // Guarded by `queue`.
    private var requests: [Request] = []
    private var state: State = .running
    private var writerRunning = false
    /// The writer's role is taken: by the writer thread, or by a caller running its own request.
    private var writerBusy = false

    // Writer thread only.
    private var ledger: Ledger
    private var lastAppended: UInt64
    private var recordBytes: [UInt8] = []
    private var checksumScratch: [UInt8] = []
    private var expiryBatch = OperationBatch()
    private var expiryResults: [OperationResult] = []
    private var writerFailure: EngineError?
    /// The appended sequence at which the next snapshot is asked for.
    private var nextSnapshotAt: UInt64
    /// Set when, after a failure, the durable state could not be read back: reads fail with it.
    private var readFailure: EngineError?

    /// Opens (or creates) the data directory, replays the journal into an empty ledger, and starts
    /// the writer. Damage, a held lock or a replay that does not reproduce the journal's record of
    /// itself stops here with an error that says where.
    public static func open(
        _ configuration: Configuration,
        clock: any EngineClock = SystemClock(),
        fileSystem: any FileSystem = SystemFileSystem()
    ) throws -> (engine: Engine, recovery: Recovery) {
        let started = DispatchTime.now().uptimeNanoseconds
        let directory: DataDirectory
        do {
            directory = try DataDirectory(configuration.dataDirectory, fileSystem: fileSystem)
        } catch let error as StorageError {
            throw EngineError(.recoveryFailed, "cannot open the data directory", storage: error)
        }
        // The settings that shape the state belong to the data directory for life.
        var configuration = configuration
        do {
            if let stored = try StoredLedgerSettings.load(from: directory) {
                if configuration.storedSettings == .requireMatch && stored != StoredLedgerSettings(configuration.ledger)
                {
                    directory.close()
                    throw EngineError(
                        .recoveryFailed,
                        "the data directory was created with other ledger settings (\(stored.summary)); they cannot change"
                    )
                }
                configuration.ledger = stored.applied(to: configuration.ledger)
            } else {
                try StoredLedgerSettings(configuration.ledger).store(in: directory)
            }
        } catch let error as StorageError {
            directory.close()
            throw EngineError(
                .recoveryFailed,
                "cannot read or write the data directory's ledger settings",
                storage: error
            )
        }
        var start = Ledger(configuration: configuration.ledger)
        var snapshot: SnapshotFile.Info? = nil
        var rejectedSnapshots: [SnapshotCatalog.Rejection] = []
        if configuration.useSnapshots {
            let catalog = SnapshotCatalog(directory: directory.snapshotsPath, fileSystem: fileSystem)
            do {
                try catalog.removeUnfinished()
                let newest = try catalog.loadNewest(
                    configuration: configuration.ledger,
                    verifyDigest: configuration.verifySnapshotDigest
                )
                rejectedSnapshots = newest.rejected
                if let loaded = newest.loaded {
                    start = loaded.ledger
                    snapshot = loaded.info
                }
            } catch let error as StorageError {
                directory.close()
                throw EngineError(.recoveryFailed, "cannot read the snapshots", storage: error)
            }
        }
        // Consumed: a second reference would make the first replayed record copy every table it touches.
        var replayer = Replayer(ledger: consume start)
        let tracker = DurabilityTracker()
        let opened: (journal: Journal, scan: JournalScan)
        do {
            opened = try Journal.open(
                directory: directory.journalPath,
                fileSystem: fileSystem,
                configuration: configuration.journal,
                after: snapshot?.sequence ?? 0,
                replay: { sequence, payload in try replayer.replay(sequence, payload) },
                onDurable: { tracker.handle($0) }
            )
        } catch let error as StorageError {
            directory.close()
            throw EngineError(.recoveryFailed, "cannot recover the journal", storage: error)
        } catch let error as EngineError {
            directory.close()
            throw error
        }
        if let snapshot, (opened.scan.lastSequence ?? 0) < snapshot.sequence {
            try? opened.journal.close()
            directory.close()
            throw EngineError(
                .recoveryFailed,
                "the journal ends at sequence \(opened.scan.lastSequence ?? 0), before the snapshot's \(snapshot.sequence): records the snapshot includes are missing from the journal"
            )
        }
        tracker.start(durable: opened.scan.lastSequence ?? 0)
        let engine = Engine(
            configuration: configuration,
            clock: clock,
            directory: directory,
            journal: opened.journal,
            tracker: tracker,
            ledger: replayer.ledger,
            lastAppended: opened.scan.lastSequence ?? 0,
            newestSnapshot: snapshot
        )
        let replayed = DispatchTime.now().uptimeNanoseconds
        let digest = configuration.digestAfterRecovery ? replayer.ledger.digest() : nil
        let recovery = Recovery(
            scan: opened.scan,
            recordsReplayed: replayer.records,
            operationsReplayed: replayer.operations,
            nanoseconds: replayed - started,
            digest: digest,
            digestNanoseconds: digest == nil ? 0 : DispatchTime.now().uptimeNanoseconds - replayed,
            snapshot: snapshot,
            rejectedSnapshots: rejectedSnapshots
        )
        engine.snapshotter.start()
        engine.startWriter()
        return (engine, recovery)
    }

    private init(
        configuration: Configuration,
        clock: any EngineClock,
        directory: DataDirectory,
        journal: Journal,
        tracker: DurabilityTracker,
        ledger: Ledger,
        lastAppended: UInt64,
        newestSnapshot: SnapshotFile.Info?
    ) {
        self.configuration = configuration
        self.clock = clock
        self.directory = directory
        self.journal = journal
        self.tracker = tracker
        self.ledger = ledger
        self.lastAppended = lastAppended
        self.snapshotter = Snapshotter(
            ledgerConfiguration: configuration.ledger,
            directory: directory,
            journal: journal,
            tracker: tracker,
            policy: Snapshotter.Policy(
                everyRecords: configuration.snapshotEveryRecords,
                intervalNanoseconds: configuration.snapshotIntervalNanoseconds,
                retained: configuration.snapshotsRetained,
                archive: configuration.archiveCoveredSegments,
                level: configuration.snapshotCompressionLevel
            ),
            newest: newestSnapshot
        )
        let covered = newestSnapshot?.sequence ?? 0
        self.nextSnapshotAt = configuration.snapshotEveryRecords.map { covered + $0 } ?? .max
    }

    // MARK: - Requests

    /// Applies `batch` as one journal record and calls `completion` with one result per operation:
    /// after the record is durable, or at once with `.applied`. The completion runs on an engine
    /// thread, or on the calling thread before this returns (when the writer was idle and the
    /// caller applied its own batch, or the answer was ready at once); it must not block.
    ///
    /// With `syncByCaller`, a durable batch that the calling thread applies itself is left for the
    /// caller's own ``syncPending()`` instead of waking the journal's sync thread: the caller, a
    /// server's event loop, syncs once for everything it submitted in a pass, and the completions
    /// run on it, so a lone request costs no thread wake-up. A caller that asks for this must call
    /// ``syncPending()`` soon after (the journal takes such records itself after
    /// `Journal.deferredSyncNanosecondsMax` at the latest).
    public func submit(
        _ batch: OperationBatch,
        acknowledgement: Acknowledgement = .durable,
        syncByCaller: Bool = false,
        completion: @escaping @Sendable (Result<Response, EngineError>) -> Void
    ) {
        self.enqueue(.write(batch, acknowledgement, syncByCaller: syncByCaller, completion)) {
            completion(.failure($0))
        }
    }

    /// Writes and syncs, on the calling thread, the journal records that callers left for it
    /// (``submit(_:acknowledgement:syncByCaller:completion:)``), and runs the completions that
    /// become ready, on this thread. Does nothing when a sync is under way (it or the next one takes
    /// them) or nothing is pending. Blocks for one write and `fdatasync`.
    public func syncPending() {
        self.journal.syncPending()
    }

    /// Applies `batch` and returns its results (see ``submit(_:acknowledgement:completion:)``).
    public func submit(_ batch: OperationBatch, acknowledgement: Acknowledgement = .durable) async throws -> Response {
        try await withCheckedThrowingContinuation { continuation in
            self.submit(batch, acknowledgement: acknowledgement) { continuation.resume(with: $0) }
        }
    }

    /// Runs `body` on the ledger in the writer's order and returns its value; with `.durable`, only
    /// once everything applied before the read is durable.
    public func read<Value: Sendable>(
        _ consistency: ReadConsistency = .durable,
        _ body: @escaping @Sendable (borrowing Ledger) -> Value
    ) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            self.read(consistency, body) { continuation.resume(with: $0) }
        }
    }

    /// Runs `body` on the ledger in the writer's order and calls `completion` with its value; with
    /// `.durable`, only once everything applied before the read is durable. `body` runs on the
    /// writer's thread and must be quick; `completion` runs on an engine thread, or on the calling
    /// thread before this returns, and must not block.
    public func read<Value: Sendable>(
        _ consistency: ReadConsistency = .durable,
        _ body: @escaping @Sendable (borrowing Ledger) -> Value,
        completion: @escaping @Sendable (Result<Value, EngineError>) -> Void
    ) {
        let evaluate: @Sendable (borrowing Ledger) -> @Sendable () -> Void = { ledger in
            let value = body(ledger)
            return { completion(.success(value)) }
        }
        self.enqueue(.read(consistency, evaluate, { completion(.failure($0)) })) { completion(.failure($0)) }
    }

    /// Returns once `sequence` is durable; throws if the journal fails first.
    public func waitUntilDurable(_ sequence: UInt64) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            _ = self.tracker.whenDurable(sequence) { result in
                continuation.resume(with: result.mapError { $0 as any Error })
            }
        }
    }

    /// Calls `completion` once `sequence` is durable (at once if it already is), or with the journal's
    /// failure. The returned wait can be cancelled, after which `completion` is not called: a
    /// caller with a timeout cancels so that waits for sequences far ahead do not pile up.
    public func whenDurable(
        _ sequence: UInt64,
        completion: @escaping @Sendable (Result<Void, EngineError>) -> Void
    ) -> DurableWait {
        self.tracker.whenDurable(sequence, completion)
    }

    /// Forgets a wait registered by ``whenDurable(_:completion:)``; returns false if its completion
    /// already ran or is running.
    @discardableResult
    public func cancel(_ wait: DurableWait) -> Bool {
        self.tracker.cancel(wait)
    }

    /// Writes a snapshot of the state through the last record applied (or returns the newest one,
    /// if it covers that record already). It is made in the background from the last snapshot and
    /// the journal (see ``Snapshotter``): writes go on meanwhile. Returns what the file holds.
    public func snapshot() async throws -> SnapshotFile.Info {
        try await withCheckedThrowingContinuation { continuation in
            self.enqueue(.snapshot({ continuation.resume(with: $0.mapError { $0 as any Error }) })) {
                continuation.resume(throwing: $0)
            }
        }
    }

    /// Asks the writer to expire holds whose deadline has come now (it also does so by itself every
    /// ``Configuration/expirySweepIntervalNanoseconds`` and before every batch).
    public func sweepExpiries() {
        self.enqueue(.sweepExpiries) { _ in }
    }

    /// The last journal sequence known to be durable.
    public var durableSequence: UInt64 { self.tracker.durableSequence }

    /// The journal's syncs so far: by its sync thread and by callers (``syncPending()``).
    public var journalSyncs: Journal.SyncCounts { self.journal.syncs }

    /// What the background snapshots have done so far.
    public var snapshotStatus: SnapshotStatus { self.snapshotter.currentStatus }

    /// Stops taking requests, finishes the queued ones, makes the journal durable and closes it and
    /// the data directory. Throws the journal's failure if it had failed.
    public func close() throws {
        self.queue.lock()
        if case .running = self.state {
            self.state = .closing
        } else if case .failed = self.state {
            self.state = .closing
        }
        self.queue.broadcast()
        while self.writerRunning || self.writerBusy {
            self.queue.wait()
        }
        self.state = .closed
        self.queue.unlock()
        defer { self.directory.close() }
        self.snapshotter.stop()
        if self.configuration.snapshotOnClose && self.writerFailure == nil
            && self.lastAppended > self.snapshotter.coveredSequence
        {
            self.snapshotAtClose()
        }
        do {
            try self.journal.close()
        } catch let error as StorageError {
            throw EngineError(.journalFailed, "the journal had failed", storage: error)
        }
    }

    private func enqueue(_ request: Request, rejected: (EngineError) -> Void) {
        self.queue.lock()
        switch self.state {
        case .closing, .closed:
            self.queue.unlock()
            rejected(EngineError(.closed, "the engine is closed"))
            return
        case .running, .failed:
            break
        }
        guard self.requests.count < self.configuration.queuedRequestsMax else {
            self.queue.unlock()
            rejected(EngineError(.busy, "\(self.configuration.queuedRequestsMax) requests are already waiting"))
            return
        }
        if self.requests.isEmpty && !self.writerBusy && ThreadRole.current == .caller && self.callerMayRun(request) {
            self.runAsWriter(request)
            return
        }
        self.requests.append(request)
        if self.requests.count == 1 {
            self.queue.signal()
        }
        self.queue.unlock()
    }

    /// Whether a caller that finds the writer idle runs `request` itself: all but large batches.
    private func callerMayRun(_ request: Request) -> Bool {
        switch request {
        case .write(let batch, _, _, _):
            return batch.count <= self.configuration.callerAppliesOperationsMax
        case .read, .sweepExpiries, .snapshot:
            return true
        }
    }

    /// Runs `request` on the calling thread in the writer's role; called with `queue` locked, returns
    /// with it unlocked. Whatever was queued meanwhile is the writer thread's.
    private func runAsWriter(_ request: Request) {
        self.writerBusy = true
        self.queue.unlock()
        self.handle(request, onCaller: true)
        self.queue.lock()
        self.writerBusy = false
        // The writer thread waits for the role when requests came meanwhile, and `close` waits for
        // it when closing; anyone else asleep on `queue` (the idle writer thread) is left asleep.
        let wake = !self.requests.isEmpty || !self.isAcceptingRequests
        self.queue.unlock()
        if wake {
            self.queue.broadcast()
        }
    }

    // MARK: - The writer thread

    private func startWriter() {
        self.queue.lock()
        self.writerRunning = true
        self.queue.unlock()
        // Named from inside the thread: on Linux a name set before `start()` never reaches the kernel.
        let thread = Thread { [self] in
            Thread.current.name = "tally-writer"
            self.runWriter()
        }
        thread.start()
    }

    private func runWriter() {
        ThreadRole.current = .engineWriter
        var drained: [Request] = []
        self.queue.lock()
        while true {
            // Waits for queued requests and the role; when closing, for the queue to empty (a caller
            // may still be finishing its own request: `close` waits for that).
            while self.writerBusy || self.requests.isEmpty {
                if self.requests.isEmpty && !self.isAcceptingRequests {
                    break
                }
                let interval = Double(self.configuration.expirySweepIntervalNanoseconds) / 1e9
                let signalled = self.queue.wait(until: Date(timeIntervalSinceNow: interval))
                if !signalled && self.requests.isEmpty && !self.writerBusy && self.isAcceptingRequests {
                    self.writerBusy = true
                    self.queue.unlock()
                    self.sweepExpiries(at: self.clock.now())
                    self.queue.lock()
                    self.writerBusy = false
                }
            }
            if self.requests.isEmpty {
                break
            }
            self.writerBusy = true
            swap(&drained, &self.requests)
            self.queue.unlock()
            for request in drained {
                self.handle(request, onCaller: false)
            }
            drained.removeAll(keepingCapacity: true)
            self.queue.lock()
            self.writerBusy = false
        }
        self.writerRunning = false
        self.queue.broadcast()
        self.queue.unlock()
    }

    private var isAcceptingRequests: Bool {
        switch self.state {
        case .running, .failed: return true
        case .closing, .closed: return false
        }
    }

    /// Runs one request in the writer's role; `onCaller` when the thread that submitted it does.
    private func handle(_ request: Request, onCaller: Bool) {
        self.noticeJournalFailure()
        switch request {
        case .write(let batch, let acknowledgement, let syncByCaller, let completion):
            self.write(
                batch,
                acknowledgement: acknowledgement,
                syncByCaller: onCaller && syncByCaller && acknowledgement == .durable,
                completion: completion
            )
        case .read(let consistency, let evaluate, let fail):
            if let readFailure = self.readFailure {
                fail(readFailure)
                return
            }
            let deliver = evaluate(self.ledger)
            if consistency == .applied || self.writerFailure != nil {
                // After a failure the ledger was rebuilt from what is durable.
                deliver()
            } else {
                _ = self.tracker.whenDurable(self.lastAppended) { result in
                    switch result {
                    case .success: deliver()
                    case .failure(let error): fail(error)
                    }
                }
            }
        case .sweepExpiries:
            self.sweepExpiries(at: self.clock.now())
        case .snapshot(let completion):
            if let failure = self.writerFailure {
                completion(.failure(failure))
            } else {
                self.snapshotter.request(through: self.lastAppended, completion: completion)
            }
        }
    }

    private func write(
        _ batch: OperationBatch,
        acknowledgement: Acknowledgement,
        syncByCaller: Bool,
        completion: @escaping @Sendable (Result<Response, EngineError>) -> Void
    ) {
        if let failure = self.writerFailure {
            completion(.failure(failure))
            return
        }
        guard batch.count <= Limits.operationsPerBatchMax else {
            completion(
                .failure(
                    EngineError(
                        .batchTooLarge,
                        "\(batch.count) operations; a batch carries at most \(Limits.operationsPerBatchMax)"
                    )
                )
            )
            return
        }
        guard batch.isWithinEncodingLimits else {
            completion(.failure(EngineError(.batchNotEncodable, "the batch exceeds the journal encoding's limits")))
            return
        }
        // Checked before applying: a record the journal refuses after the batch was applied would
        // leave the ledger ahead of the journal, and the engine would have to stop.
        let recordBytes = JournalRecord.headerBytes + batch.encodedByteCount
        guard recordBytes <= self.configuration.journal.recordPayloadBytesMax else {
            completion(
                .failure(
                    EngineError(
                        .batchTooLarge,
                        "the batch encodes to \(recordBytes) bytes; one journal record holds at most \(self.configuration.journal.recordPayloadBytesMax): split it"
                    )
                )
            )
            return
        }
        var now = self.clock.now()
        if self.configuration.clockFollowsEffectiveTime {
            now = max(now, batch.latestEffectiveTime)
        }
        self.sweepExpiries(at: now, syncByCaller: syncByCaller)
        if let failure = self.writerFailure {
            completion(.failure(failure))
            return
        }
        var results: [OperationResult] = []
        results.reserveCapacity(batch.count)
        guard
            let (sequence, recorded) = self.applyAndJournal(
                batch,
                kind: .client,
                at: now,
                syncByCaller: syncByCaller,
                results: &results
            )
        else {
            completion(.failure(self.writerFailure!))
            return
        }
        let response = Response(sequence: sequence, recordedTime: recorded, results: results)
        switch acknowledgement {
        case .applied:
            completion(.success(response))
        case .durable:
            _ = self.tracker.whenDurable(sequence) { result in
                completion(result.map { response })
            }
        }
    }

    /// Applies `batch` and appends its journal record. Returns nil, with the engine failed, when the
    /// journal refuses the record.
    private func applyAndJournal(
        _ batch: OperationBatch,
        kind: JournalRecord.Kind,
        at now: Timestamp,
        syncByCaller: Bool = false,
        results: inout [OperationResult]
    ) -> (UInt64, Timestamp)? {
        let first = self.ledger.lastTransaction.rawValue + 1
        let recorded = self.ledger.apply(batch, at: now, results: &results)
        let record = JournalRecord(
            kind: kind,
            resultsChecksum: JournalRecord.checksum(of: results, scratch: &self.checksumScratch),
            time: now,
            firstTransaction: first,
            transactionsCreated: self.ledger.lastTransaction.rawValue - (first - 1)
        )
        self.recordBytes.removeAll(keepingCapacity: true)
        record.encode(batch, into: &self.recordBytes)
        do {
            self.lastAppended = try self.journal.append(self.recordBytes, syncByCaller: syncByCaller)
            if self.lastAppended >= self.nextSnapshotAt {
                self.snapshotter.request(through: self.lastAppended)
                self.nextSnapshotAt = self.lastAppended &+ (self.configuration.snapshotEveryRecords ?? .max)
            }
            return (self.lastAppended, recorded)
        } catch let error as StorageError {
            // The ledger now holds a batch the journal never got: it must not be read or built on.
            self.fail(EngineError(.journalFailed, "the journal refused a record", storage: error))
            return nil
        } catch {
            self.fail(EngineError(.journalFailed, "the journal refused a record: \(error)"))
            return nil
        }
    }

    /// Journals an expiry for every hold whose deadline has come by `now`, in sweeps of at most
    /// ``Configuration/expiriesPerSweepMax``.
    private func sweepExpiries(at now: Timestamp, syncByCaller: Bool = false) {
        while self.writerFailure == nil, let deadline = self.ledger.nextHoldDeadline(), deadline <= now {
            let due = self.ledger.dueHoldExpiries(at: now, limit: self.configuration.expiriesPerSweepMax)
            guard !due.isEmpty else { return }
            self.expiryBatch.removeAll(keepingCapacity: true)
            for hold in due {
                self.expiryBatch.appendExpiry(hold: hold)
            }
            guard
                self.applyAndJournal(
                    self.expiryBatch,
                    kind: .expirySweep,
                    at: now,
                    syncByCaller: syncByCaller,
                    results: &self.expiryResults
                ) != nil
            else {
                return
            }
        }
    }

    /// Writes the closed engine's state as a snapshot (the writer has stopped, so the live ledger
    /// is read directly), once its last record is durable. A failure is reported in
    /// ``snapshotStatus``; the journal holds everything either way.
    private func snapshotAtClose() {
        let sequence = self.lastAppended
        let snapshots = self.directory.snapshotsPath
        let fileSystem = self.directory.fileSystem
        do {
            if !fileSystem.fileExists(snapshots) {
                try fileSystem.createDirectory(snapshots)
                try Journal.synchronizeDirectoryEntry(of: snapshots, fileSystem: fileSystem)
            }
            let info = try SnapshotFile.write(
                self.ledger,
                sequence: sequence,
                to: snapshots,
                fileSystem: fileSystem,
                level: self.configuration.snapshotCompressionLevel
            ) {
                try self.journal.waitUntilDurable(sequence)
            }
            try self.snapshotter.adopt(info)
        } catch let error as StorageError {
            self.snapshotter.noteFailure(
                EngineError(
                    .snapshotFailed,
                    "the snapshot at close through sequence \(sequence) failed",
                    storage: error
                )
            )
        } catch {
            self.snapshotter.noteFailure(
                EngineError(.snapshotFailed, "the snapshot at close through sequence \(sequence) failed: \(error)")
            )
        }
    }

    /// Picks up a failure the journal reported from its sync thread.
    private func noticeJournalFailure() {
        if self.writerFailure == nil, let failure = self.tracker.journalFailure {
            self.fail(failure)
        }
    }

    /// Stops writes for good and rebuilds the durable state for reads.
    private func fail(_ failure: EngineError) {
        guard self.writerFailure == nil else { return }
        self.writerFailure = failure
        self.queue.lock()
        if case .running = self.state {
            self.state = .failed(failure)
        }
        self.queue.unlock()
        // The in-memory ledger may hold batches that never became durable: rebuild what is.
        let durable = self.tracker.durableSequence
        var replayer = Replayer(ledger: Ledger(configuration: self.configuration.ledger), through: durable)
        do {
            _ = try JournalScanner(directory: self.directory.journalPath, fileSystem: self.directory.fileSystem).scan {
                try replayer.replay($0, $1)
            }
            self.ledger = replayer.ledger
        } catch {
            // Reads must not be served from a state that may hold non-durable batches.
            self.ledger = Ledger(configuration: self.configuration.ledger)
            self.readFailure = EngineError(
                .journalFailed,
                "the journal failed and its durable part could not be read back (\(error))",
                storage: failure.storage
            )
        }
    }
}
