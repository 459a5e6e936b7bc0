import Foundation
import SystemPackage

/// The write-ahead journal: records appended by one writer, written and synced in groups by a sync
/// thread, durable in order.
///
/// ``append(_:)`` copies a record into the pending group and returns its sequence at once; the sync
/// thread writes each group with one `pwrite` and one `fdatasync` as soon as the previous sync ends
/// (see ``GroupCommit``) and then reports the new durable sequence to the `onDurable` handler. A
/// failed write or sync stops the journal for good. Segments are zero-filled in advance by a
/// preparer thread, so a sync never has to write allocation metadata.
///
/// An appender may instead write and sync its own records: ``append(_:syncByCaller:)`` leaves the
/// sync thread asleep when it is idle, and the appender calls ``syncPending()`` once it has appended
/// what it has (a server: at the end of an event loop tick). A lone request then costs no thread
/// wake-up, and its durability is reported on the appender's thread. Records left so are taken by
/// the sync thread within ``Configuration/callerSyncNanosecondsMax`` if the appender never syncs them.
///
/// Records are opaque bytes here: the journal knows nothing of ledgers.
public final class Journal: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `condition` or, for the spare segment,
    // `spareCondition`, except what only the sync thread touches (`active`, `activeFirstSequence`,
    // `writeOffset`), as marked.

    public struct Configuration: Hashable, Sendable {
        /// Bytes per segment file, header included (default 64 MiB).
        public var segmentBytes: Int
        /// Bytes of records waiting for their write; an append beyond it waits (backpressure).
        public var pendingBytesMax: Int
        /// The longest the sync thread leaves records appended with `syncByCaller` to their
        /// appender: it wakes this often when idle and syncs whatever it finds pending (a safety
        /// net; appenders sync within microseconds).
        public var callerSyncNanosecondsMax: UInt64

        public init(
            segmentBytes: Int = 64 << 20,
            pendingBytesMax: Int = 64 << 20,
            callerSyncNanosecondsMax: UInt64 = 50_000_000
        ) {
            precondition(
                segmentBytes >= Journal.segmentBytesMin,
                "segments must be at least \(Journal.segmentBytesMin) bytes"
            )
            precondition(segmentBytes <= Int(Int32.max), "segments must be below 2 GiB")
            precondition(pendingBytesMax >= 1)
            precondition(callerSyncNanosecondsMax >= 1_000_000, "at least a millisecond between idle wake-ups")
            self.segmentBytes = segmentBytes
            self.pendingBytesMax = pendingBytesMax
            self.callerSyncNanosecondsMax = callerSyncNanosecondsMax
        }

        /// The largest record payload these segments can hold.
        public var recordPayloadBytesMax: Int {
            min(
                JournalFormat.recordPayloadBytesMax,
                self.segmentBytes - JournalFormat.segmentHeaderBytes - JournalFormat.recordHeaderBytes
            )
        }
    }

    /// The smallest segment size a journal accepts (small segments are for tests).
    public static let segmentBytesMin = 64 << 10

    /// The threads' names, as the system shows them (at most 15 bytes on Linux).
    public static let syncThreadName = "tally-jnl-sync"
    public static let preparerThreadName = "tally-jnl-prep"

    /// What the sync thread reports after each group.
    public enum Durability: Hashable, Sendable {
        /// Every record through this sequence is on stable storage.
        case durable(through: UInt64)
        /// The journal stopped for good; records after the last durable one never will be.
        case failed(StorageError)
    }

    /// How many groups were written and synced, and by whom.
    public struct SyncCounts: Hashable, Sendable {
        /// Groups the sync thread wrote and synced.
        public var bySyncThread: UInt64 = 0
        /// Groups an appender wrote and synced itself (``Journal/syncPending()``).
        public var byCaller: UInt64 = 0
        /// Records those groups held.
        public var records: UInt64 = 0

        public init() {}
    }

    /// A group of records waiting for its write.
    private struct PendingWrite {
        var startsNewSegment: Bool
        var firstSequence: UInt64
        var lastSequence: UInt64
        var bytes: [UInt8]
    }

    private enum Spare {
        case none
        case preparing
        case ready(FileDescriptor, FilePath)
        case failed(StorageError)
    }

    public let directory: FilePath
    public let configuration: Configuration
    private let fileSystem: any FileSystem
    private let onDurable: @Sendable (Durability) -> Void
    private let condition = NSCondition()
    /// The preparer's own lock and condition: it waits on it for a spare to be wanted, rarely, and
    /// must not be woken by every append and every sync, as it was when it waited on `condition`
    /// (three futile wake-ups per commit, each taking a core from the writer or the sync thread).
    private let spareCondition = NSCondition()

    // Guarded by `condition`.
    private var machine: GroupCommit
    private var pending: [PendingWrite] = []
    private var pendingBytes = 0
    private var freeBuffers: [[UInt8]] = []
    private var appendOffset: Int
    private var appendCapacity: Int
    private var syncThreadRunning = false
    /// Threads blocked in ``append(_:syncByCaller:)`` for room, and in ``waitUntilDurable(_:)``: a
    /// caller's sync wakes them only when there are any.
    private var appendersWaiting = 0
    private var durableWaiters = 0
    private var syncCounts = SyncCounts()
    /// Set by the first ``close()``: a second one must not close the files again (their descriptor
    /// numbers may belong to other files by then).
    private var closeCalled = false

    // Guarded by `spareCondition`.
    private var spare: Spare = .none
    private var spareWanted = false
    private var stopping = false
    private var preparerRunning = false
    /// Numbers the spares' temporary names, so the next spare never touches the one being activated.
    private var spareCount = 0

    // Whoever syncs (the machine's `syncing` state makes it one thread at a time), and the opener
    // before the threads start.
    private var active: FileDescriptor
    private var activeFirstSequence: UInt64
    private var writeOffset: Int

    /// Opens the journal in `directory` (created when missing, and synced in its parent), replays
    /// every record after `covered` (a snapshot's sequence; segments wholly before it are not read)
    /// into `replay`, cuts a torn tail if there is one (the scan says where), and starts
    /// the sync thread.
    /// Damage anywhere but the tail throws ``StorageError/Code-swift.struct/corrupted``.
    public static func open(
        directory: FilePath,
        fileSystem: any FileSystem = SystemFileSystem(),
        configuration: Configuration = Configuration(),
        after covered: UInt64 = 0,
        replay: (UInt64, UnsafeRawBufferPointer) throws -> Void,
        onDurable: @escaping @Sendable (Durability) -> Void
    ) throws -> (journal: Journal, scan: JournalScan) {
        if !fileSystem.fileExists(directory) {
            try fileSystem.createDirectory(directory)
            // The new directory's entry in its parent must be durable too, or a power loss could
            // take the whole journal with it after its records were acknowledged.
            let parent = directory.removingLastComponent()
            try Self.synchronizeDirectory(parent.isEmpty ? "." : parent, fileSystem: fileSystem)
        }
        for name in try fileSystem.contentsOfDirectory(directory) where JournalFormat.isSpareName(name) {
            try fileSystem.removeFile(directory.appending(name))
        }
        let scan = try JournalScanner(directory: directory, fileSystem: fileSystem).scan(after: covered, replay)
        if let torn = scan.tornTail {
            try Self.zero(torn, in: directory, fileSystem: fileSystem)
        }

        let active: FileDescriptor
        let firstSequence: UInt64
        let offset: Int
        let capacity: Int
        if let last = scan.segments.last {
            active = try fileSystem.openFile(directory.appending(last.name), create: false)
            firstSequence = last.firstSequence
            offset = Int(last.end)
            capacity = Int(last.bytes)
        } else {
            let sparePath = directory.appending(JournalFormat.spareName(0))
            let spare = try Self.prepareSpare(at: sparePath, configuration: configuration, fileSystem: fileSystem)
            do {
                try Self.activate(
                    spare,
                    at: sparePath,
                    firstSequence: scan.nextSequence,
                    in: directory,
                    configuration: configuration,
                    fileSystem: fileSystem
                )
            } catch {
                try? fileSystem.close(spare)
                throw error
            }
            active = spare
            firstSequence = scan.nextSequence
            offset = JournalFormat.segmentHeaderBytes
            capacity = configuration.segmentBytes
        }
        let journal = Journal(
            directory: directory,
            configuration: configuration,
            fileSystem: fileSystem,
            onDurable: onDurable,
            lastDurable: scan.nextSequence - 1,
            active: active,
            activeFirstSequence: firstSequence,
            writeOffset: offset,
            capacity: capacity
        )
        journal.startThreads()
        return (journal, scan)
    }

    private init(
        directory: FilePath,
        configuration: Configuration,
        fileSystem: any FileSystem,
        onDurable: @escaping @Sendable (Durability) -> Void,
        lastDurable: UInt64,
        active: FileDescriptor,
        activeFirstSequence: UInt64,
        writeOffset: Int,
        capacity: Int
    ) {
        self.directory = directory
        self.configuration = configuration
        self.fileSystem = fileSystem
        self.onDurable = onDurable
        self.machine = GroupCommit(lastDurable: lastDurable)
        self.active = active
        self.activeFirstSequence = activeFirstSequence
        self.writeOffset = writeOffset
        self.appendOffset = writeOffset
        self.appendCapacity = capacity
        self.spareWanted = true
    }

    // MARK: - Appending

    /// Appends a record and returns its sequence. It becomes durable when the `onDurable` handler
    /// reports a sequence at or past it. Called by one writer at a time; waits while too many bytes
    /// are pending (backpressure). Throws when the journal has failed or is closed, or when the
    /// payload is empty or too large.
    ///
    /// With `syncByCaller`, an idle sync thread is not woken: the caller must call
    /// ``syncPending()`` soon (a sync under way takes the record in its next group either way).
    @discardableResult
    public func append(_ payload: UnsafeRawBufferPointer, syncByCaller: Bool = false) throws -> UInt64 {
        guard payload.count >= 1, payload.count <= self.configuration.recordPayloadBytesMax else {
            throw StorageError(
                .invalidArgument,
                "a record payload must be 1 to \(self.configuration.recordPayloadBytesMax) bytes, not \(payload.count)"
            )
        }
        let recordBytes = JournalFormat.recordHeaderBytes + payload.count
        self.condition.lock()
        let (sequence, wakeSyncThread): (UInt64, Bool)
        do {
            defer { self.condition.unlock() }
            (sequence, wakeSyncThread) = try self.appendLocked(
                payload,
                recordBytes: recordBytes,
                syncByCaller: syncByCaller
            )
        }
        // Woken after the unlock: woken before it, the sync thread would run only to block on the
        // lock this thread still holds, and sleep and wake a second time (a futex round trip each).
        if wakeSyncThread {
            self.condition.broadcast()
        }
        return sequence
    }

    /// The part of ``append(_:)`` under the lock; returns the sequence, and whether the sync thread
    /// must be woken.
    private func appendLocked(
        _ payload: UnsafeRawBufferPointer,
        recordBytes: Int,
        syncByCaller: Bool
    ) throws -> (UInt64, Bool) {
        while self.pendingBytes > 0 && self.pendingBytes + recordBytes > self.configuration.pendingBytesMax
            && self.machine.failure == nil && !self.machine.isClosed
        {
            // Records this thread left for its own sync would never make room: hand them over.
            if self.machine.syncThreadHasWork {
                self.condition.broadcast()
            }
            self.appendersWaiting += 1
            self.condition.wait()
            self.appendersWaiting -= 1
        }
        let sequence = self.machine.lastAppended + 1
        let action = self.machine.recordAppended(sequence, syncByCaller: syncByCaller)
        if case .reject(let error) = action {
            throw error
        }

        var startsNewSegment = false
        if self.appendOffset + recordBytes > self.appendCapacity {
            startsNewSegment = true
            self.appendOffset = JournalFormat.segmentHeaderBytes
            self.appendCapacity = self.configuration.segmentBytes
        }
        if self.pending.isEmpty || startsNewSegment {
            var buffer = self.freeBuffers.popLast() ?? []
            buffer.removeAll(keepingCapacity: true)
            self.pending.append(
                PendingWrite(
                    startsNewSegment: startsNewSegment,
                    firstSequence: sequence,
                    lastSequence: sequence,
                    bytes: buffer
                )
            )
        }
        let last = self.pending.count - 1
        let group = self.pending[last].firstSequence
        let start = self.pending[last].bytes.count
        self.pending[last].bytes.append(contentsOf: repeatElement(0, count: JournalFormat.recordHeaderBytes))
        self.pending[last].bytes.append(contentsOf: payload)
        self.pending[last].bytes.withUnsafeMutableBytes { bytes in
            JournalFormat.sealRecord(
                UnsafeMutableRawBufferPointer(rebasing: bytes[start...]),
                payloadBytes: payload.count,
                sequence: sequence,
                group: group
            )
        }
        self.pending[last].lastSequence = sequence
        self.pendingBytes += recordBytes
        self.appendOffset += recordBytes
        return (sequence, action == .wakeSyncThread)
    }

    /// Appends a record held in an array.
    @discardableResult
    public func append(_ payload: [UInt8], syncByCaller: Bool = false) throws -> UInt64 {
        try payload.withUnsafeBytes { try self.append($0, syncByCaller: syncByCaller) }
    }

    /// Writes and syncs, on the calling thread, every record appended and not yet taken by a sync,
    /// then reports the new durable sequence (or the failure) to `onDurable` on this thread. Returns
    /// false, at once, when a sync is under way (it or the next one takes the records), when nothing
    /// is pending, or when the journal has stopped. Blocks for one write and `fdatasync`.
    @discardableResult
    public func syncPending() -> Bool {
        self.condition.lock()
        guard case .write = self.machine.callerSyncAction() else {
            self.condition.unlock()
            return false
        }
        let writes = self.pending
        self.pending = []
        self.pendingBytes = 0
        let wakeAppenders = self.appendersWaiting > 0
        self.condition.unlock()
        if wakeAppenders {
            self.condition.broadcast()
        }
        let (action, wake) = self.writeGroup(writes, by: .caller)
        if wake {
            self.condition.broadcast()
        }
        self.publish(action)
        return true
    }

    /// The last sequence known to be on stable storage.
    public var durableSequence: UInt64 {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.machine.durable
    }

    /// The last sequence appended.
    public var lastAppendedSequence: UInt64 {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.machine.lastAppended
    }

    /// The groups written and synced so far (a statistic: records per sync tells group commit's
    /// effect).
    public var syncs: SyncCounts {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.syncCounts
    }

    /// The failure that stopped the journal, if it stopped.
    public var failure: StorageError? {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.machine.failure
    }

    /// Blocks until `sequence` is durable; throws when the journal fails first, or closes without
    /// `sequence` ever having been appended (it never will be: without this a waiter would block
    /// forever).
    public func waitUntilDurable(_ sequence: UInt64) throws {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.machine.durable < sequence {
            if let failure = self.machine.failure {
                throw failure
            }
            if self.machine.isClosed {
                throw StorageError(
                    .closed,
                    "the journal closed at sequence \(self.machine.durable), before \(sequence) was appended",
                    sequence: sequence
                )
            }
            // Records left for their appender's sync are handed to the sync thread.
            if self.machine.syncThreadHasWork {
                self.condition.broadcast()
            }
            self.durableWaiters += 1
            self.condition.wait()
            self.durableWaiters -= 1
        }
    }

    /// Makes everything appended durable, stops the threads and closes the files. Throws the
    /// failure if the journal had failed (records after the last durable one are lost). Closing
    /// again does nothing more (it throws the failure again).
    public func close() throws {
        self.condition.lock()
        guard !self.closeCalled else {
            let failure = self.machine.failure
            self.condition.unlock()
            if let failure {
                throw failure
            }
            return
        }
        self.closeCalled = true
        self.machine.closeRequestedByOwner()
        self.condition.broadcast()
        while self.syncThreadRunning {
            self.condition.wait()
        }
        let failure = self.machine.failure
        self.condition.unlock()
        self.spareCondition.lock()
        self.stopping = true
        self.spareCondition.broadcast()
        while self.preparerRunning {
            self.spareCondition.wait()
        }
        let spare = self.spare
        self.spare = .none
        self.spareCondition.unlock()
        if case .ready(let file, let path) = spare {
            try? self.fileSystem.close(file)
            try? self.fileSystem.removeFile(path)
        }
        try? self.fileSystem.close(self.active)
        if let failure {
            throw failure
        }
    }

    // MARK: - The sync thread

    private func startThreads() {
        self.condition.lock()
        self.syncThreadRunning = true
        self.condition.unlock()
        self.spareCondition.lock()
        self.preparerRunning = true
        self.spareCondition.unlock()
        // Named from inside the thread: on Linux a name set before `start()` never reaches the
        // kernel, which keeps at most 15 bytes of one. Named this way the threads show in top, perf
        // and /proc/<pid>/task/*/comm.
        let sync = Thread { [self] in
            Thread.current.name = Self.syncThreadName
            ThreadRole.current = .journalSync
            self.runSyncThread()
        }
        sync.start()
        let preparer = Thread { [self] in
            Thread.current.name = Self.preparerThreadName
            self.runPreparer()
        }
        preparer.start()
    }

    private func runSyncThread() {
        self.condition.lock()
        let deferredWaitSeconds = Double(self.configuration.callerSyncNanosecondsMax) / 1e9
        while true {
            switch self.machine.nextAction() {
            case .wait:
                // Timed: records appended for their appender's sync do not wake this thread, and
                // are taken on the next wake-up if the appender has not synced them by then.
                _ = self.condition.wait(until: Date(timeIntervalSinceNow: deferredWaitSeconds))
            case .stop:
                self.syncThreadRunning = false
                self.condition.broadcast()
                self.condition.unlock()
                return
            case .write:
                let writes = self.pending
                self.pending = []
                self.pendingBytes = 0
                // After the unlock, so that appenders waiting for room do not wake only to block on it.
                self.condition.unlock()
                self.condition.broadcast()
                let (action, _) = self.writeGroup(writes, by: .syncThread)
                self.condition.broadcast()
                self.publish(action)
                self.condition.lock()
            }
        }
    }

    /// Writes and syncs a group taken from `pending` (by the sync thread or a caller), and ends the
    /// machine's sync. Returns the outcome, and whether anyone waits on `condition` for it: the sync
    /// thread (more records, or a close), appenders waiting for room, or waiters for durability.
    private func writeGroup(
        _ writes: [PendingWrite],
        by syncer: GroupCommit.Syncer
    ) -> (GroupCommit.SyncEndAction, wake: Bool) {
        var failure: StorageError? = nil
        do {
            try self.write(writes)
        } catch let error as StorageError {
            failure = error
        } catch {
            failure = StorageError(.io, "\(error)")
        }
        self.condition.lock()
        defer { self.condition.unlock() }
        for write in writes where self.freeBuffers.count < 4 {
            self.freeBuffers.append(write.bytes)
        }
        let action = failure.map { self.machine.syncFailed($0) } ?? self.machine.syncSucceeded()
        if failure == nil {
            switch syncer {
            case .syncThread: self.syncCounts.bySyncThread += 1
            case .caller: self.syncCounts.byCaller += 1
            }
            for write in writes {
                self.syncCounts.records += write.lastSequence - write.firstSequence + 1
            }
        }
        let wake =
            failure != nil || self.machine.syncThreadHasWork || self.appendersWaiting > 0 || self.durableWaiters > 0
        return (action, wake)
    }

    private func publish(_ action: GroupCommit.SyncEndAction) {
        switch action {
        case .publish(let durable):
            self.onDurable(.durable(through: durable))
        case .fail(let error):
            self.onDurable(.failed(error))
        }
    }

    /// Writes the groups (rotating segments where they say so) and syncs. The syncer only.
    private func write(_ writes: [PendingWrite]) throws {
        for write in writes {
            if write.startsNewSegment {
                try self.rotate(firstSequence: write.firstSequence)
            }
            try write.bytes.withUnsafeBytes { bytes in
                do {
                    try self.fileSystem.write(self.active, bytes, at: Int64(self.writeOffset))
                } catch var error as StorageError {
                    error.path = self.activePath
                    error.offset = Int64(self.writeOffset)
                    error.sequence = write.firstSequence
                    throw error
                }
            }
            self.writeOffset += write.bytes.count
        }
        do {
            try self.fileSystem.synchronizeData(self.active)
        } catch var error as StorageError {
            error.path = self.activePath
            error.sequence = writes.last?.lastSequence
            throw error
        }
    }

    private var activePath: FilePath {
        self.directory.appending(JournalFormat.segmentName(firstSequence: self.activeFirstSequence))
    }

    /// Starts the next segment: the current one is synced first, so a later segment always means
    /// every record before it was durable. The syncer only.
    private func rotate(firstSequence: UInt64) throws {
        try self.fileSystem.synchronizeData(self.active)
        let (spare, sparePath) = try self.takeSpare()
        do {
            try Self.activate(
                spare,
                at: sparePath,
                firstSequence: firstSequence,
                in: self.directory,
                configuration: self.configuration,
                fileSystem: self.fileSystem
            )
        } catch {
            try? self.fileSystem.close(spare)
            throw error
        }
        try? self.fileSystem.close(self.active)
        self.active = spare
        self.activeFirstSequence = firstSequence
        self.writeOffset = JournalFormat.segmentHeaderBytes
    }

    /// Waits for the preparer's spare segment and asks for the next one.
    private func takeSpare() throws -> (FileDescriptor, FilePath) {
        self.spareCondition.lock()
        defer { self.spareCondition.unlock() }
        while true {
            switch self.spare {
            case .ready(let file, let path):
                self.spare = .none
                self.spareWanted = true
                self.spareCondition.broadcast()
                return (file, path)
            case .failed(let error):
                throw error
            case .none:
                self.spareWanted = true
                self.spareCondition.broadcast()
                self.spareCondition.wait()
            case .preparing:
                self.spareCondition.wait()
            }
        }
    }

    // MARK: - Segment preparation

    private func runPreparer() {
        self.spareCondition.lock()
        while true {
            while !self.stopping && !(self.spareWanted && self.isSpareMissing) {
                self.spareCondition.wait()
            }
            if self.stopping {
                self.preparerRunning = false
                self.spareCondition.broadcast()
                self.spareCondition.unlock()
                return
            }
            self.spare = .preparing
            self.spareWanted = false
            self.spareCount += 1
            let path = self.directory.appending(JournalFormat.spareName(self.spareCount))
            self.spareCondition.unlock()
            let prepared: Spare
            do {
                prepared = .ready(
                    try Self.prepareSpare(at: path, configuration: self.configuration, fileSystem: self.fileSystem),
                    path
                )
            } catch let error as StorageError {
                prepared = .failed(error)
            } catch {
                prepared = .failed(StorageError(.io, "\(error)"))
            }
            self.spareCondition.lock()
            self.spare = prepared
            self.spareCondition.broadcast()
        }
    }

    private var isSpareMissing: Bool {
        if case .none = self.spare { return true }
        return false
    }

    /// Creates the spare segment file at full size, zero-filled and synced, so that writing records
    /// into it later changes no metadata.
    static func prepareSpare(
        at path: FilePath,
        configuration: Configuration,
        fileSystem: any FileSystem
    ) throws -> FileDescriptor {
        if fileSystem.fileExists(path) {
            try fileSystem.removeFile(path)
        }
        let file = try fileSystem.openFile(path, create: true)
        do {
            try fileSystem.allocate(file, offset: 0, length: Int64(configuration.segmentBytes))
            let zeros = [UInt8](repeating: 0, count: min(1 << 20, configuration.segmentBytes))
            var offset = 0
            while offset < configuration.segmentBytes {
                let count = min(zeros.count, configuration.segmentBytes - offset)
                try zeros.withUnsafeBytes { bytes in
                    try fileSystem.write(file, UnsafeRawBufferPointer(rebasing: bytes[0..<count]), at: Int64(offset))
                }
                offset += count
            }
            try fileSystem.synchronize(file)
            return file
        } catch {
            try? fileSystem.close(file)
            throw error
        }
    }

    /// Turns the spare into the segment starting at `firstSequence`: header written and synced,
    /// then renamed to its final name and the directory synced.
    static func activate(
        _ spare: FileDescriptor,
        at sparePath: FilePath,
        firstSequence: UInt64,
        in directory: FilePath,
        configuration: Configuration,
        fileSystem: any FileSystem
    ) throws {
        var header = [UInt8](repeating: 0, count: JournalFormat.segmentHeaderBytes)
        header.withUnsafeMutableBytes {
            JournalFormat.writeSegmentHeader(
                into: $0,
                firstSequence: firstSequence,
                segmentBytes: configuration.segmentBytes
            )
        }
        try header.withUnsafeBytes { try fileSystem.write(spare, $0, at: 0) }
        try fileSystem.synchronizeData(spare)
        try fileSystem.rename(
            sparePath,
            to: directory.appending(JournalFormat.segmentName(firstSequence: firstSequence))
        )
        try Self.synchronizeDirectory(directory, fileSystem: fileSystem)
    }

    /// Syncs the directory holding `path`, so that a newly created entry `path` survives a crash.
    public static func synchronizeDirectoryEntry(of path: FilePath, fileSystem: any FileSystem) throws {
        let parent = path.removingLastComponent()
        try Self.synchronizeDirectory(parent.isEmpty ? "." : parent, fileSystem: fileSystem)
    }

    static func synchronizeDirectory(_ directory: FilePath, fileSystem: any FileSystem) throws {
        let handle = try fileSystem.openDirectory(directory)
        defer { try? fileSystem.close(handle) }
        try fileSystem.synchronize(handle)
    }

    /// Overwrites a torn tail with zeros and syncs, so that no stale record of the unfinished write
    /// can ever be read as part of the log once new records are written over it.
    private static func zero(_ torn: JournalScan.TornTail, in directory: FilePath, fileSystem: any FileSystem) throws {
        let file = try fileSystem.openFile(directory.appending(torn.segment), create: false)
        defer { try? fileSystem.close(file) }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var offset = torn.offset
        let end = torn.offset + torn.bytes
        while offset < end {
            let count = Int(min(Int64(zeros.count), end - offset))
            try zeros.withUnsafeBytes { bytes in
                try fileSystem.write(file, UnsafeRawBufferPointer(rebasing: bytes[0..<count]), at: offset)
            }
            offset += Int64(count)
        }
        try fileSystem.synchronizeData(file)
    }
}
