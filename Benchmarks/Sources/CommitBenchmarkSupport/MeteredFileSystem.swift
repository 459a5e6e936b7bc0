import Foundation
import Synchronization
import SystemPackage
import TallyStorage

/// ``SystemFileSystem`` with meters: every call is passed on unchanged, and writes, syncs and their
/// durations are counted by the thread that made them (the journal's sync thread, its segment
/// preparer, anyone else). The journal already calls its file system through `any FileSystem`,
/// so the wrapper adds a lock and two clock reads per system call, nothing per record.
///
/// This is what separates a commit's time into the disk's part (`pwrite` + `fdatasync` on the sync
/// thread) and everything else, and shows the disk traffic of segment preparation.
public final class MeteredFileSystem: FileSystem, @unchecked Sendable {
    // @unchecked: the meters are behind a Mutex; `system` is a stateless value.

    /// Who made a call, by thread name.
    public enum Role: String, Codable, Sendable, CaseIterable {
        case sync
        case prepare
        case other
    }

    /// The counts of one role.
    public struct Counts: Codable, Sendable {
        public var writes: UInt64 = 0
        public var writeBytes: UInt64 = 0
        public var writeNanoseconds: UInt64 = 0
        /// `fdatasync` calls.
        public var dataSyncs: UInt64 = 0
        public var dataSyncNanoseconds: UInt64 = 0
        /// `fsync` calls (spare segments, directories).
        public var fullSyncs: UInt64 = 0
        public var fullSyncNanoseconds: UInt64 = 0
        public var renames: UInt64 = 0
        /// Sync thread: from the end of the `fdatasync` that closes a segment to the new segment's
        /// header write, which is the time spent waiting for the preparer's spare.
        public var spareWaitNanoseconds: UInt64 = 0

        func minus(_ other: Counts) -> Counts {
            Counts(
                writes: self.writes - other.writes,
                writeBytes: self.writeBytes - other.writeBytes,
                writeNanoseconds: self.writeNanoseconds - other.writeNanoseconds,
                dataSyncs: self.dataSyncs - other.dataSyncs,
                dataSyncNanoseconds: self.dataSyncNanoseconds - other.dataSyncNanoseconds,
                fullSyncs: self.fullSyncs - other.fullSyncs,
                fullSyncNanoseconds: self.fullSyncNanoseconds - other.fullSyncNanoseconds,
                renames: self.renames - other.renames,
                spareWaitNanoseconds: self.spareWaitNanoseconds - other.spareWaitNanoseconds
            )
        }
    }

    /// The counts of every role at one moment.
    public struct Snapshot: Codable, Sendable {
        public var sync = Counts()
        public var prepare = Counts()
        public var other = Counts()

        /// What happened between `earlier` and this snapshot.
        public func since(_ earlier: Snapshot) -> Snapshot {
            Snapshot(
                sync: self.sync.minus(earlier.sync),
                prepare: self.prepare.minus(earlier.prepare),
                other: self.other.minus(earlier.other)
            )
        }

        /// The sync thread's `fdatasync` calls that ended a group: each segment rotation adds two
        /// more (the old segment, the new one's header), which are left out.
        public var groupSyncs: UInt64 {
            self.sync.dataSyncs - min(self.sync.dataSyncs, 2 * self.sync.renames)
        }

        subscript(role: Role) -> Counts {
            get {
                switch role {
                case .sync: return self.sync
                case .prepare: return self.prepare
                case .other: return self.other
                }
            }
            set {
                switch role {
                case .sync: self.sync = newValue
                case .prepare: self.prepare = newValue
                case .other: self.other = newValue
                }
            }
        }

        /// Every byte written, by every thread.
        public var bytesWritten: UInt64 {
            self.sync.writeBytes + self.prepare.writeBytes + self.other.writeBytes
        }
    }

    private struct State {
        var snapshot = Snapshot()
        /// When the sync thread's last `fdatasync` ended.
        var syncThreadDataSyncEnded: UInt64 = 0
        var syncThreadDataSyncs = LatencyRecorder()
        var syncThreadWrites = LatencyRecorder()
    }

    private let system = SystemFileSystem()
    private let state = Mutex(State())

    public init() {}

    public var snapshot: Snapshot {
        self.state.withLock { $0.snapshot }
    }

    /// The durations of the sync thread's `fdatasync` calls and `pwrite` calls since the last reset.
    public var syncThreadLatencies: (dataSync: LatencySummary, write: LatencySummary) {
        self.state.withLock { ($0.syncThreadDataSyncs.summary, $0.syncThreadWrites.summary) }
    }

    public func resetLatencies() {
        self.state.withLock {
            $0.syncThreadDataSyncs = LatencyRecorder()
            $0.syncThreadWrites = LatencyRecorder()
        }
    }

    private static var currentRole: Role {
        switch Thread.current.name {
        case Journal.syncThreadName: return .sync
        case Journal.preparerThreadName: return .prepare
        default: return .other
        }
    }

    /// Counts a call under the lock, in the current thread's role.
    private func count(_ body: (inout Counts, Role, inout State) -> Void) {
        let role = Self.currentRole
        self.state.withLock { state in
            var counts = state.snapshot[role]
            body(&counts, role, &state)
            state.snapshot[role] = counts
        }
    }

    // MARK: - FileSystem

    public func write(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        let started = monotonicNanoseconds()
        try self.system.write(file, bytes, at: offset)
        let elapsed = monotonicNanoseconds() - started
        self.count { counts, role, state in
            counts.writes += 1
            counts.writeBytes += UInt64(bytes.count)
            counts.writeNanoseconds += elapsed
            if role == .sync {
                state.syncThreadWrites.record(elapsed)
                // Only a new segment's header is written at offset 0 by the sync thread.
                if offset == 0 && state.syncThreadDataSyncEnded > 0 {
                    counts.spareWaitNanoseconds += started - min(started, state.syncThreadDataSyncEnded)
                }
            }
        }
    }

    public func synchronizeData(_ file: FileDescriptor) throws {
        let started = monotonicNanoseconds()
        try self.system.synchronizeData(file)
        let elapsed = monotonicNanoseconds() - started
        self.count { counts, role, state in
            counts.dataSyncs += 1
            counts.dataSyncNanoseconds += elapsed
            if role == .sync {
                state.syncThreadDataSyncs.record(elapsed)
                state.syncThreadDataSyncEnded = started + elapsed
            }
        }
    }

    public func synchronize(_ file: FileDescriptor) throws {
        let started = monotonicNanoseconds()
        try self.system.synchronize(file)
        let elapsed = monotonicNanoseconds() - started
        self.count { counts, _, _ in
            counts.fullSyncs += 1
            counts.fullSyncNanoseconds += elapsed
        }
    }

    public func rename(_ source: FilePath, to destination: FilePath) throws {
        try self.system.rename(source, to: destination)
        self.count { counts, _, _ in counts.renames += 1 }
    }

    public func openFile(_ path: FilePath, create: Bool) throws -> FileDescriptor {
        try self.system.openFile(path, create: create)
    }

    public func openDirectory(_ path: FilePath) throws -> FileDescriptor {
        try self.system.openDirectory(path)
    }

    public func close(_ file: FileDescriptor) throws {
        try self.system.close(file)
    }

    public func read(_ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int
    {
        try self.system.read(file, into: buffer, at: offset)
    }

    public func allocate(_ file: FileDescriptor, offset: Int64, length: Int64) throws {
        try self.system.allocate(file, offset: offset, length: length)
    }

    public func resize(_ file: FileDescriptor, to size: Int64) throws {
        try self.system.resize(file, to: size)
    }

    public func size(of file: FileDescriptor) throws -> Int64 {
        try self.system.size(of: file)
    }

    public func lockExclusively(_ file: FileDescriptor) throws -> Bool {
        try self.system.lockExclusively(file)
    }

    public func createDirectory(_ path: FilePath) throws {
        try self.system.createDirectory(path)
    }

    public func contentsOfDirectory(_ path: FilePath) throws -> [String] {
        try self.system.contentsOfDirectory(path)
    }

    public func removeFile(_ path: FilePath) throws {
        try self.system.removeFile(path)
    }

    public func fileExists(_ path: FilePath) -> Bool {
        self.system.fileExists(path)
    }
}
