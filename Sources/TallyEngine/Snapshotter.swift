import Foundation
import Synchronization
import SystemPackage
import TallyCore
import TallyStorage

/// Writes the engine's snapshots on a thread of its own, without ever taking the writer's role:
/// posting goes on while a snapshot is made.
///
/// The snapshotter never reads the live ledger. For a snapshot through sequence S it waits until S
/// is durable, loads the newest snapshot at or before S (or starts from an empty ledger), replays
/// the journal after it through S into that private copy — checking, as recovery does, that every
/// record reproduces the results it recorded — and writes the copy (temp file, fsync, rename,
/// directory fsync). The price is processor time and, while a snapshot is made, the memory of a
/// second state; the thread runs at a lower priority so that the writer keeps its processor.
///
/// After each snapshot it applies retention: the newest ``Policy/retained`` snapshots are kept and
/// older ones removed, and closed journal segments whose records the oldest kept snapshot includes
/// are moved into the journal's archive (``JournalArchive``) — never deleted.
final class Snapshotter: @unchecked Sendable {
    // @unchecked: mutable state is guarded by `condition`; `cancelled` is atomic; the rest is
    // immutable.

    /// When and how snapshots are written (from ``Engine/Configuration``).
    struct Policy: Sendable {
        var everyRecords: UInt64?
        var intervalNanoseconds: UInt64?
        var retained: Int
        var archive: Bool
        var level: Int32
    }

    typealias Completion = @Sendable (Result<SnapshotFile.Info, EngineError>) -> Void

    private let ledgerConfiguration: LedgerConfiguration
    private let directory: DataDirectory
    private let journal: Journal
    private let tracker: DurabilityTracker
    private let policy: Policy
    private let condition = NSCondition()
    private let cancelled = Atomic<Bool>(false)

    // Guarded by `condition`.
    private var wanted: UInt64 = 0
    private var waiters: [(target: UInt64, completion: Completion)] = []
    private var covered: UInt64
    private var status = SnapshotStatus()
    private var stopping = false
    private var running = false

    init(
        ledgerConfiguration: LedgerConfiguration,
        directory: DataDirectory,
        journal: Journal,
        tracker: DurabilityTracker,
        policy: Policy,
        newest: SnapshotFile.Info?
    ) {
        precondition(policy.retained >= 1)
        self.ledgerConfiguration = ledgerConfiguration
        self.directory = directory
        self.journal = journal
        self.tracker = tracker
        self.policy = policy
        self.covered = newest?.sequence ?? 0
        self.status.newest = newest
    }

    /// The sequence the newest snapshot covers (0: none).
    var coveredSequence: UInt64 {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.covered
    }

    var currentStatus: SnapshotStatus {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.status
    }

    func start() {
        self.condition.lock()
        self.running = true
        self.condition.unlock()
        // Named from inside the thread: on Linux a name set before `start()` never reaches the kernel.
        let thread = Thread { [self] in
            Thread.current.name = "tally-snapshots"
            self.run()
        }
        thread.start()
    }

    /// Asks for a snapshot through `target` (an appended sequence; it is written once durable).
    /// Requests made while one is written are merged into the next. `completion`, when given,
    /// runs on the snapshotter's thread with the snapshot that covers `target`.
    func request(through target: UInt64, completion: Completion? = nil) {
        self.condition.lock()
        if self.stopping {
            self.condition.unlock()
            completion?(.failure(EngineError(.closed, "the engine is closed")))
            return
        }
        if target <= self.covered, let newest = self.status.newest {
            self.condition.unlock()
            completion?(.success(newest))
            return
        }
        self.wanted = max(self.wanted, target)
        if let completion {
            self.waiters.append((target, completion))
        }
        self.condition.signal()
        self.condition.unlock()
    }

    /// Stops the thread: a snapshot being made is abandoned where possible (between journal
    /// records) or finished; waiting requests fail. Returns once the thread has ended.
    func stop() {
        self.condition.lock()
        self.stopping = true
        self.cancelled.store(true, ordering: .relaxed)
        self.condition.broadcast()
        while self.running {
            self.condition.wait()
        }
        let waiters = self.waiters
        self.waiters.removeAll()
        self.condition.unlock()
        for waiter in waiters {
            waiter.completion(.failure(EngineError(.closed, "the engine closed before the snapshot was written")))
        }
    }

    /// Records a snapshot written by someone else (the engine's snapshot at close) and applies
    /// retention after it. Call only once the thread has stopped.
    func adopt(_ info: SnapshotFile.Info) throws {
        self.condition.lock()
        self.covered = max(self.covered, info.sequence)
        self.status.newest = info
        self.status.written += 1
        self.condition.unlock()
        try self.applyRetention()
    }

    /// Records a failed snapshot made outside the thread.
    func noteFailure(_ error: EngineError) {
        self.condition.lock()
        self.status.failed += 1
        self.status.lastFailure = error
        self.condition.unlock()
    }

    // MARK: - The thread

    private func run() {
        ThreadPriority.lowerCurrent(by: 10)
        var lastAttempt = DispatchTime.now().uptimeNanoseconds
        self.condition.lock()
        while !self.stopping {
            var target: UInt64? = nil
            if self.wanted > self.covered || self.waiters.contains(where: { $0.target <= self.covered }) {
                target = self.wanted
            } else if let interval = self.policy.intervalNanoseconds {
                let now = DispatchTime.now().uptimeNanoseconds
                if now - lastAttempt >= interval {
                    let durable = self.tracker.durableSequence
                    if durable > self.covered {
                        target = durable
                    }
                    lastAttempt = now
                } else {
                    let seconds = Double(interval - (now - lastAttempt)) / 1e9
                    _ = self.condition.wait(until: Date(timeIntervalSinceNow: seconds))
                    continue
                }
            }
            guard let target else {
                if self.policy.intervalNanoseconds == nil {
                    self.condition.wait()
                }
                continue
            }
            self.status.inProgress = target
            self.condition.unlock()
            let result = self.snapshot(through: target)
            lastAttempt = DispatchTime.now().uptimeNanoseconds
            self.condition.lock()
            self.status.inProgress = nil
            var ready: [Completion] = []
            var failure: EngineError? = nil
            switch result {
            case .success(let info):
                self.covered = max(self.covered, info.sequence)
                self.status.newest = info
                self.status.written += 1
                self.waiters.removeAll { waiter in
                    guard waiter.target <= info.sequence else { return false }
                    ready.append(waiter.completion)
                    return true
                }
            case .failure(let error):
                failure = error
                // A snapshot abandoned because the engine is closing did not fail.
                if !self.stopping {
                    self.status.failed += 1
                    self.status.lastFailure = error
                }
                // The requests this attempt was for fail; later ones wait for the next attempt.
                self.waiters.removeAll { waiter in
                    guard waiter.target <= target else { return false }
                    ready.append(waiter.completion)
                    return true
                }
                // An automatic request is not retried until the next trigger asks again; requests
                // made during the attempt for later sequences still are.
                self.wanted = self.waiters.map(\.target).max() ?? self.covered
            }
            self.condition.unlock()
            for completion in ready {
                completion(failure.map { .failure($0) } ?? result)
            }
            self.condition.lock()
        }
        self.running = false
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// Makes the snapshot through `target`, then applies retention (a retention failure is
    /// reported as the snapshot's failure: the snapshot itself stays).
    private func snapshot(through target: UInt64) -> Result<SnapshotFile.Info, EngineError> {
        do {
            let info = try self.write(through: target)
            try self.applyRetention()
            return .success(info)
        } catch let error as EngineError {
            return .failure(error)
        } catch let error as StorageError {
            return .failure(
                EngineError(.snapshotFailed, "the snapshot through sequence \(target) failed", storage: error)
            )
        } catch {
            return .failure(EngineError(.snapshotFailed, "the snapshot through sequence \(target) failed: \(error)"))
        }
    }

    private func write(through target: UInt64) throws -> SnapshotFile.Info {
        let fileSystem = self.directory.fileSystem
        let snapshots = self.directory.snapshotsPath
        do {
            try self.journal.waitUntilDurable(target)
        } catch let error as StorageError {
            throw EngineError(
                .snapshotFailed,
                "sequence \(target) never became durable, so no snapshot covers it",
                storage: error
            )
        }
        let catalog = SnapshotCatalog(directory: snapshots, fileSystem: fileSystem)
        var newest = try catalog.loadNewest(configuration: self.ledgerConfiguration, sequenceMax: target)
        if let loaded = newest.loaded, loaded.info.sequence == target {
            return loaded.info
        }
        let base = newest.loaded?.info.sequence ?? 0
        // The loaded ledger moves into the replayer: a second reference would make the first
        // replayed record copy every table it touches.
        var replayer = Replayer(
            ledger: newest.loaded.take()?.ledger ?? Ledger(configuration: self.ledgerConfiguration),
            through: target
        )
        _ = try JournalScanner(directory: self.directory.journalPath, fileSystem: fileSystem).scan(
            after: base,
            through: target
        ) { sequence, payload in
            if self.cancelled.load(ordering: .relaxed) {
                throw EngineError(.closed, "the engine closed before the snapshot through \(target) was written")
            }
            try replayer.replay(sequence, payload)
        }
        if !fileSystem.fileExists(snapshots) {
            try fileSystem.createDirectory(snapshots)
            try Journal.synchronizeDirectoryEntry(of: snapshots, fileSystem: fileSystem)
        }
        return try SnapshotFile.write(
            replayer.ledger,
            sequence: target,
            to: snapshots,
            fileSystem: fileSystem,
            level: self.policy.level
        )
    }

    /// Keeps the newest ``Policy/retained`` snapshots, removes older ones, and archives the
    /// journal segments the oldest kept one covers.
    private func applyRetention() throws {
        let fileSystem = self.directory.fileSystem
        let catalog = SnapshotCatalog(directory: self.directory.snapshotsPath, fileSystem: fileSystem)
        let snapshots = try catalog.snapshots()
        guard !snapshots.isEmpty else { return }
        let kept = snapshots.prefix(self.policy.retained)
        if snapshots.count > kept.count {
            for old in snapshots.dropFirst(kept.count) {
                try fileSystem.removeFile(self.directory.snapshotsPath.appending(old.name))
            }
            try Journal.synchronizeDirectoryEntry(
                of: self.directory.snapshotsPath.appending(kept[kept.startIndex].name),
                fileSystem: fileSystem
            )
        }
        guard self.policy.archive, let oldest = kept.last else { return }
        let archived = try JournalArchive(
            directory: self.directory.journalPath,
            fileSystem: fileSystem,
            level: self.policy.level
        ).archive(coveredThrough: oldest.sequence)
        if !archived.isEmpty {
            self.condition.lock()
            self.status.archivedSegments += UInt64(archived.count)
            self.condition.unlock()
        }
    }
}

/// What an engine's snapshots have come to (``Engine/snapshotStatus``).
public struct SnapshotStatus: Sendable {
    /// The newest snapshot written or loaded at startup.
    public var newest: SnapshotFile.Info?
    /// Snapshots written since the engine opened, and attempts that failed.
    public var written: UInt64 = 0
    public var failed: UInt64 = 0
    public var lastFailure: EngineError?
    /// The sequence of the snapshot being made, if one is.
    public var inProgress: UInt64?
    /// Journal segments moved into the archive since the engine opened.
    public var archivedSegments: UInt64 = 0
}
