import CSnapshotLatency
import CommitBenchmarkSupport
import Foundation
import Synchronization
import SystemPackage
import TallyStorage

/// Who made a file system call: the engine's threads are told apart by their names (the journal's)
/// or, for the snapshotter, by its lowered priority too (its name is set before it starts, which
/// Foundation on Linux does not always carry over).
enum ThreadKind: String, Codable, Sendable, CaseIterable {
    case main
    case caller
    case writer
    case journalSync = "journal-sync"
    case journalPrepare = "journal-prep"
    case snapshot
    case snapshotRead = "snapshot-read"
    case sampler
    case hog
    case other

    /// The kernel name given to threads of this kind (15 bytes at most), so that procfs and perf
    /// tell them apart.
    var kernelName: String {
        switch self {
        case .main: "bench-main"
        case .caller: "bench-caller"
        case .writer: "tally-writer"
        case .journalSync: "tally-jnl-sync"
        case .journalPrepare: "tally-jnl-prep"
        case .snapshot: "tally-snapshots"
        case .snapshotRead: "tally-snap-read"
        case .sampler: "bench-sampler"
        case .hog: "bench-hog"
        case .other: "bench-other"
        }
    }
}

/// The threads seen so far, by kernel thread id: the harness registers its own; the file system
/// registers the engine's on their first call.
final class ThreadRegistry: Sendable {
    private let kinds = Mutex<[Int32: ThreadKind]>([:])

    /// Registers the calling thread and gives it the kind's kernel name.
    func registerCurrent(_ kind: ThreadKind) {
        snapshot_latency_set_thread_tag(Int32(ThreadKind.allCases.firstIndex(of: kind)!))
        let tid = snapshot_latency_gettid()
        let isNew = self.kinds.withLock { kinds in
            guard kinds[tid] == nil else { return false }
            kinds[tid] = kind
            return true
        }
        if isNew {
            _ = snapshot_latency_set_thread_name(kind.kernelName)
        }
    }

    var all: [Int32: ThreadKind] {
        self.kinds.withLock { $0 }
    }
}

/// One file system call made by a thread other than the journal's sync thread (those are counted
/// apart, they are thousands per second).
struct FileEvent: Codable, Sendable {
    enum Operation: String, Codable, Sendable {
        case open, create, close, read, write, dataSync, sync, rename, remove, resize, allocate, list
    }

    /// Monotonic nanoseconds at the start of the call.
    var start: UInt64
    var nanoseconds: UInt64
    var thread: ThreadKind
    var operation: Operation
    var path: String
    var offset: Int64
    var bytes: Int64
}

/// How a prototype changes the snapshotter's writing and scheduling, from the outside (the engine
/// writes through this file system; nothing in Sources/ changes).
struct SnapshotWritePolicy: Codable, Sendable, Hashable {
    /// After each this many bytes a snapshot thread writes to a file it created, start writeback
    /// of them (sync_file_range WRITE) and wait for the previous chunk's writeback, so that dirty
    /// data never piles up for one large fsync at the end (nil: write as the engine does).
    var writebackChunkBytes: Int?
    /// The most bytes per second a snapshot thread writes (nil: unthrottled).
    var writeBytesPerSecondMax: Double?
    /// Snapshot threads run under SCHED_IDLE (else SCHED_OTHER at the engine's nice 10).
    var schedulerIdle = false
    /// Snapshot threads in the idle I/O class.
    var ioIdle = false
    /// No snapshot at all: the B phase is a control of the same length without one.
    var isControl = false

    var isPacing: Bool {
        self.writebackChunkBytes != nil || self.writeBytesPerSecondMax != nil
    }

    /// `engine` (as the engine writes), `none` (no snapshot: a control), or tokens joined by `+`: `idle` (SCHED_IDLE), `ioidle`,
    /// `wb<MiB>` (writeback every so many MiB), `rate<MB/s>`. Nil for anything else.
    init?(_ spec: String) {
        guard spec != "engine" else { return }
        guard spec != "none" else {
            self.isControl = true
            return
        }
        for token in spec.split(separator: "+") {
            if token == "idle" {
                self.schedulerIdle = true
            } else if token == "ioidle" {
                self.ioIdle = true
            } else if token.hasPrefix("wb"), let mebibytes = Int(token.dropFirst(2)), mebibytes > 0 {
                self.writebackChunkBytes = mebibytes << 20
            } else if token.hasPrefix("rate"), let rate = Double(token.dropFirst(4)), rate > 0 {
                self.writeBytesPerSecondMax = rate * 1e6
            } else {
                return nil
            }
        }
    }

    /// The spec it was parsed from, in a fixed order.
    var name: String {
        guard !self.isControl else { return "none" }
        var parts: [String] = []
        if self.schedulerIdle {
            parts.append("idle")
        }
        if self.ioIdle {
            parts.append("ioidle")
        }
        if let chunk = self.writebackChunkBytes {
            parts.append("wb\(chunk >> 20)")
        }
        if let rate = self.writeBytesPerSecondMax {
            parts.append("rate\(Int(rate / 1e6))")
        }
        return parts.isEmpty ? "engine" : parts.joined(separator: "+")
    }

    var label: String {
        guard !self.isControl else { return "no snapshot (control)" }
        var parts: [String] = []
        if let chunk = self.writebackChunkBytes {
            parts.append("writeback every \(chunk >> 20) MiB")
        }
        if let rate = self.writeBytesPerSecondMax {
            parts.append("writes at most \(format(rate / 1e6, digits: 0)) MB/s")
        }
        if self.schedulerIdle {
            parts.append("SCHED_IDLE")
        }
        if self.ioIdle {
            parts.append("idle I/O class")
        }
        return parts.isEmpty ? "as the engine writes" : parts.joined(separator: ", ")
    }
}

/// ``SystemFileSystem`` with a record: every call of the snapshotter and the other background
/// threads is logged with its time (which splits a snapshot into its phases from the outside), the
/// journal sync thread's pwrite and fdatasync are timed one by one, and the snapshotter's writes
/// can be paced by a ``SnapshotWritePolicy`` (the prototype of a fix).
final class ObservedFileSystem: FileSystem, @unchecked Sendable {
    // @unchecked: the mutable state is behind Mutexes; `system` is a stateless value.

    /// The journal sync thread's calls, one entry each.
    struct SyncCall: Sendable {
        var start: UInt64
        var nanoseconds: UInt64
        var isDataSync: Bool
        var bytes: Int
    }

    private struct OpenFile {
        var path: String
        var createdBySnapshot: Bool
        /// Bytes written so far, as the end of the furthest write.
        var writtenEnd: Int64 = 0
        /// Writeback was started up to here, and waited for up to `waitedEnd`.
        var startedEnd: Int64 = 0
        var waitedEnd: Int64 = 0
        var firstWriteAt: UInt64 = 0
        var bytesWritten: Int64 = 0
    }

    private let system = SystemFileSystem()
    private let registry: ThreadRegistry
    /// The policies a session switches between, and the one in force (an index).
    let policies: [SnapshotWritePolicy]
    private let selected = Atomic<Int>(0)
    private let events = Mutex<[FileEvent]>([])
    private let syncCalls = Mutex<[SyncCall]>([])
    private let files = Mutex<[Int32: OpenFile]>([:])

    init(registry: ThreadRegistry, policies: [SnapshotWritePolicy]) {
        precondition(!policies.isEmpty)
        self.registry = registry
        self.policies = policies
        self.syncCalls.withLock { $0.reserveCapacity(1 << 20) }
    }

    /// Puts `policies[index]` in force: snapshot threads apply its scheduling at their next call.
    func select(_ index: Int) {
        self.selected.store(index, ordering: .releasing)
    }

    private var policy: SnapshotWritePolicy {
        self.policies[self.selected.load(ordering: .acquiring)]
    }

    /// The events from `start` on (monotonic nanoseconds).
    func events(since start: UInt64) -> [FileEvent] {
        self.events.withLock { events in events.filter { $0.start >= start } }
    }

    func syncThreadCalls(from start: UInt64, to end: UInt64) -> [SyncCall] {
        self.syncCalls.withLock { calls in calls.filter { $0.start >= start && $0.start < end } }
    }

    // MARK: - Threads

    /// The calling thread's kind, worked out once per thread (and registered, with its kernel name
    /// set); a snapshot thread applies the scheduling of the policy in force when it changed.
    private func currentKind() -> ThreadKind {
        let tag = snapshot_latency_thread_tag()
        let kind: ThreadKind
        if tag >= 0 {
            kind = ThreadKind.allCases[Int(tag)]
        } else {
            switch Thread.current.name {
            case Journal.syncThreadName: kind = .journalSync
            case Journal.preparerThreadName: kind = .journalPrepare
            case "tally-snapshots": kind = .snapshot
            case "tally-snapshot-read": kind = .snapshotRead
            default:
                // The snapshotter lowers its own priority by 10 first thing; its helper threads inherit it.
                kind = snapshot_latency_thread_nice(0) >= 10 ? .snapshot : .other
            }
            self.registry.registerCurrent(kind)
        }
        if kind == .snapshot || kind == .snapshotRead {
            let selected = self.selected.load(ordering: .acquiring)
            if snapshot_latency_thread_policy() != Int32(selected) {
                snapshot_latency_set_thread_policy(Int32(selected))
                let policy = self.policies[selected]
                if snapshot_latency_set_sched_idle(policy.schedulerIdle ? 1 : 0) != 0 {
                    FileHandle.standardError.write(Data("== sched_setscheduler refused (errno \(errno))\n".utf8))
                }
                if snapshot_latency_set_io_idle(policy.ioIdle ? 1 : 0) != 0 {
                    FileHandle.standardError.write(Data("== ioprio_set refused (errno \(errno))\n".utf8))
                }
            }
        }
        return kind
    }

    private func log(
        _ kind: ThreadKind,
        _ operation: FileEvent.Operation,
        path: String,
        start: UInt64,
        offset: Int64 = 0,
        bytes: Int64 = 0
    ) {
        let event = FileEvent(
            start: start,
            nanoseconds: monotonicNanoseconds() - start,
            thread: kind,
            operation: operation,
            path: path,
            offset: offset,
            bytes: bytes
        )
        self.events.withLock { $0.append(event) }
    }

    private func path(of file: FileDescriptor) -> String {
        self.files.withLock { $0[file.rawValue]?.path ?? "fd \(file.rawValue)" }
    }

    // MARK: - The snapshot write policy

    /// Paces a snapshot thread's write that just ended at `end` in a file it created.
    private func pace(_ file: FileDescriptor, end: Int64, bytes: Int, kind: ThreadKind) throws {
        let policy = self.policy
        guard kind == .snapshot || kind == .snapshotRead, policy.isPacing else { return }
        let now = monotonicNanoseconds()
        var state = self.files.withLock { files -> OpenFile? in
            guard var open = files[file.rawValue], open.createdBySnapshot else { return nil }
            if open.firstWriteAt == 0 {
                open.firstWriteAt = now
            }
            open.writtenEnd = max(open.writtenEnd, end)
            open.bytesWritten += Int64(bytes)
            files[file.rawValue] = open
            return open
        }
        guard state != nil else { return }
        if let chunk = policy.writebackChunkBytes.map(Int64.init), state!.writtenEnd - state!.startedEnd >= chunk {
            // Start writeback of what was written since the last start, then wait for the chunk
            // before it: at most two chunks are dirty or in flight at a time.
            let started = state!.startedEnd
            let waited = state!.waitedEnd
            let issued = monotonicNanoseconds()
            guard snapshot_latency_sync_file_range(file.rawValue, started, state!.writtenEnd - started, 0) == 0,
                started <= waited || snapshot_latency_sync_file_range(file.rawValue, waited, started - waited, 1) == 0
            else {
                throw StorageError(.io, "sync_file_range failed (errno \(errno))")
            }
            self.log(
                kind,
                .dataSync,
                path: self.path(of: file) + " (sync_file_range)",
                start: issued,
                offset: waited,
                bytes: state!.writtenEnd - waited
            )
            state!.waitedEnd = started
            state!.startedEnd = state!.writtenEnd
            let updated = state!
            self.files.withLock { files in
                files[file.rawValue]?.startedEnd = updated.startedEnd
                files[file.rawValue]?.waitedEnd = updated.waitedEnd
            }
        }
        if let rate = policy.writeBytesPerSecondMax {
            let due = state!.firstWriteAt + UInt64(Double(state!.bytesWritten) / rate * 1e9)
            let now = monotonicNanoseconds()
            if due > now {
                sleep(seconds: Double(due - now) / 1e9)
            }
        }
    }

    // MARK: - FileSystem

    func openFile(_ path: FilePath, create: Bool) throws -> FileDescriptor {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        let file = try self.system.openFile(path, create: create)
        let createdBySnapshot = create && (kind == .snapshot || kind == .snapshotRead)
        self.files.withLock { $0[file.rawValue] = OpenFile(path: path.string, createdBySnapshot: createdBySnapshot) }
        if kind != .journalSync {
            self.log(kind, create ? .create : .open, path: path.string, start: start)
        }
        return file
    }

    func openDirectory(_ path: FilePath) throws -> FileDescriptor {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        let file = try self.system.openDirectory(path)
        self.files.withLock { $0[file.rawValue] = OpenFile(path: path.string, createdBySnapshot: false) }
        if kind != .journalSync {
            self.log(kind, .open, path: path.string, start: start)
        }
        return file
    }

    func close(_ file: FileDescriptor) throws {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        let path = self.files.withLock { $0.removeValue(forKey: file.rawValue)?.path ?? "fd \(file.rawValue)" }
        try self.system.close(file)
        if kind != .journalSync {
            self.log(kind, .close, path: path, start: start)
        }
    }

    func write(_ file: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        try self.system.write(file, bytes, at: offset)
        if kind == .journalSync {
            let call = SyncCall(
                start: start,
                nanoseconds: monotonicNanoseconds() - start,
                isDataSync: false,
                bytes: bytes.count
            )
            self.syncCalls.withLock { $0.append(call) }
            return
        }
        self.log(kind, .write, path: self.path(of: file), start: start, offset: offset, bytes: Int64(bytes.count))
        try self.pace(file, end: offset + Int64(bytes.count), bytes: bytes.count, kind: kind)
    }

    func read(_ file: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        let count = try self.system.read(file, into: buffer, at: offset)
        if kind != .journalSync {
            self.log(kind, .read, path: self.path(of: file), start: start, offset: offset, bytes: Int64(count))
        }
        return count
    }

    func synchronizeData(_ file: FileDescriptor) throws {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        try self.system.synchronizeData(file)
        if kind == .journalSync {
            let call = SyncCall(start: start, nanoseconds: monotonicNanoseconds() - start, isDataSync: true, bytes: 0)
            self.syncCalls.withLock { $0.append(call) }
            return
        }
        self.log(kind, .dataSync, path: self.path(of: file), start: start)
    }

    func synchronize(_ file: FileDescriptor) throws {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        try self.system.synchronize(file)
        self.log(kind, .sync, path: self.path(of: file), start: start)
    }

    func allocate(_ file: FileDescriptor, offset: Int64, length: Int64) throws {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        try self.system.allocate(file, offset: offset, length: length)
        self.log(kind, .allocate, path: self.path(of: file), start: start, offset: offset, bytes: length)
    }

    func resize(_ file: FileDescriptor, to size: Int64) throws {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        try self.system.resize(file, to: size)
        self.log(kind, .resize, path: self.path(of: file), start: start, bytes: size)
    }

    func rename(_ source: FilePath, to destination: FilePath) throws {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        try self.system.rename(source, to: destination)
        self.log(kind, .rename, path: source.string + " -> " + (destination.lastComponent?.string ?? ""), start: start)
    }

    func removeFile(_ path: FilePath) throws {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        try self.system.removeFile(path)
        self.log(kind, .remove, path: path.string, start: start)
    }

    func contentsOfDirectory(_ path: FilePath) throws -> [String] {
        let kind = self.currentKind()
        let start = monotonicNanoseconds()
        let names = try self.system.contentsOfDirectory(path)
        if kind != .journalSync {
            self.log(kind, .list, path: path.string, start: start)
        }
        return names
    }

    func size(of file: FileDescriptor) throws -> Int64 {
        try self.system.size(of: file)
    }

    func lockExclusively(_ file: FileDescriptor) throws -> Bool {
        try self.system.lockExclusively(file)
    }

    func createDirectory(_ path: FilePath) throws {
        try self.system.createDirectory(path)
    }

    func fileExists(_ path: FilePath) -> Bool {
        self.system.fileExists(path)
    }
}
