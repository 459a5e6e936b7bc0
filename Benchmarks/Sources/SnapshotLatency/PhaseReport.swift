import CommitBenchmarkSupport
import Foundation

/// A stretch of a session: A (no snapshot), B (from `Engine.snapshot()` to its completion),
/// S (settling after a snapshot), W (warm-up), or a stage inside a B.
struct PhaseWindow: Sendable {
    var label: String
    var start: UInt64
    var end: UInt64
}

/// What a thread kind did over a window.
struct ThreadShare: Codable, Sendable {
    var thread: String
    /// Shares of the window on a CPU and runnable but waiting for one (1 = one whole core).
    var cpu: Double
    var runnableWaiting: Double
    var minorFaults: UInt64
    var majorFaults: UInt64
}

/// The machine's counters over a window.
struct MachineActivity: Codable, Sendable {
    var threads: [ThreadShare]
    var diskWriteMegabytes: Double
    var diskWrites: UInt64
    var diskReadMegabytes: Double
    /// Cache flushes the device completed (every fdatasync and fsync sends one) and their time.
    var diskFlushes: UInt64
    var diskFlushMilliseconds: UInt64
    var diskWriteMilliseconds: UInt64
    var discards: UInt64
    var discardMegabytes: Double
    /// Share of the window the device had I/O in flight.
    var diskBusy: Double
    var dirtyMaxMegabytes: Double
    var writebackMaxMegabytes: Double
    var residentMaxMegabytes: Double
    /// Shares of the window some task stalled on I/O, every task stalled on I/O, some task waited
    /// for a CPU (/proc/pressure, machine-wide).
    var ioSome: Double
    var ioFull: Double
    var cpuSome: Double
    /// Processors (1 = one core) used by everything but this process, and stolen by the
    /// hypervisor: the disturbance a shared machine adds to the window.
    var foreignCPU: Double
    var stealCPU: Double

    init(samples: [MachineSample], window: PhaseWindow, kinds: [Int32: ThreadKind]) {
        // The samples nearest the window's ends (every boundary of a phase takes one).
        let first = samples.last { $0.time <= window.start } ?? samples.first!
        let last = samples.first { $0.time >= window.end } ?? samples.last!
        let inside = samples.filter { $0.time >= first.time && $0.time <= last.time }
        let elapsed = Double(max(1, last.time - first.time))
        // A thread that ended inside the window (the snapshot's reading and decoding helpers) is
        // counted up to the last sample that saw it.
        var latest = last.threads
        for sample in inside.reversed() {
            for (tid, counters) in sample.threads where latest[tid] == nil {
                latest[tid] = counters
            }
        }
        var byKind: [String: ThreadShare] = [:]
        for (tid, now) in latest {
            let before = first.threads[tid]
            // Threads that never called the file system: the snapshotter's helpers inherit its
            // lowered priority; the rest are the engine's writer thread and the concurrency pool.
            let name = kinds[tid]?.rawValue ?? (now.nice >= 10 ? "snapshot-helper" : "unnamed")
            var share =
                byKind[name] ?? ThreadShare(thread: name, cpu: 0, runnableWaiting: 0, minorFaults: 0, majorFaults: 0)
            share.cpu += Double(now.cpuNanoseconds &- (before?.cpuNanoseconds ?? 0)) / elapsed
            share.runnableWaiting += Double(now.waitNanoseconds &- (before?.waitNanoseconds ?? 0)) / elapsed
            share.minorFaults += now.minorFaults &- (before?.minorFaults ?? 0)
            share.majorFaults += now.majorFaults &- (before?.majorFaults ?? 0)
            byKind[name] = share
        }
        self.threads = byKind.values.filter { $0.cpu > 0.0005 || $0.minorFaults > 0 }.sorted { $0.thread < $1.thread }
        let disk = (first.disk, last.disk)
        self.diskWriteMegabytes = Double(disk.1.sectorsWritten &- disk.0.sectorsWritten) * 512 / 1e6
        self.diskWrites = disk.1.writes &- disk.0.writes
        self.diskReadMegabytes = Double(disk.1.sectorsRead &- disk.0.sectorsRead) * 512 / 1e6
        self.diskFlushes = disk.1.flushes &- disk.0.flushes
        self.diskFlushMilliseconds = disk.1.flushMilliseconds &- disk.0.flushMilliseconds
        self.diskWriteMilliseconds = disk.1.writeMilliseconds &- disk.0.writeMilliseconds
        self.discards = disk.1.discards &- disk.0.discards
        self.discardMegabytes = Double(disk.1.sectorsDiscarded &- disk.0.sectorsDiscarded) * 512 / 1e6
        self.diskBusy = Double(disk.1.busyMilliseconds &- disk.0.busyMilliseconds) * 1e6 / elapsed
        self.dirtyMaxMegabytes = Double(inside.map(\.dirtyBytes).max() ?? 0) / 1e6
        self.writebackMaxMegabytes = Double(inside.map(\.writebackBytes).max() ?? 0) / 1e6
        self.residentMaxMegabytes = Double(inside.map(\.residentBytes).max() ?? 0) / 1e6
        self.ioSome = Double(last.ioSomeMicroseconds &- first.ioSomeMicroseconds) * 1e3 / elapsed
        self.ioFull = Double(last.ioFullMicroseconds &- first.ioFullMicroseconds) * 1e3 / elapsed
        self.cpuSome = Double(last.cpuSomeMicroseconds &- first.cpuSomeMicroseconds) * 1e3 / elapsed
        let tick = 1e9 / Double(sysconf(Int32(_SC_CLK_TCK)))
        let busy = Double(last.machineBusyTicks &- first.machineBusyTicks)
        let own = Double(last.processTicks &- first.processTicks)
        self.foreignCPU = max(0, busy - own) * tick / elapsed
        self.stealCPU = Double(last.stealTicks &- first.stealTicks) * tick / elapsed
    }

    func share(of kind: ThreadKind) -> ThreadShare? {
        self.threads.first { $0.thread == kind.rawValue }
    }
}

/// Postings answered in a window and the journal's syncs that started in it.
struct PostingFigures: Codable, Sendable {
    var postings: Int
    var postingsPerSecond: Double
    var latency: LatencySummary
    /// The journal sync thread's fdatasync calls and pwrite calls.
    var dataSyncs: Int
    var dataSync: LatencySummary
    var syncThreadWrite: LatencySummary

    init(
        completions: ArraySlice<Completion>,
        window: PhaseWindow,
        syncCalls: [ObservedFileSystem.SyncCall],
        recorder: inout LatencyRecorder
    ) {
        var latency = LatencyRecorder()
        for completion in completions {
            latency.record(completion.nanoseconds)
        }
        recorder.add(latency)
        var dataSync = LatencyRecorder()
        var write = LatencyRecorder()
        for call in syncCalls {
            if call.isDataSync {
                dataSync.record(call.nanoseconds)
            } else {
                write.record(call.nanoseconds)
            }
        }
        self.postings = completions.count
        self.postingsPerSecond = Double(completions.count) / Double(max(1, window.end - window.start)) * 1e9
        self.latency = latency.summary
        self.dataSyncs = Int(dataSync.count)
        self.dataSync = dataSync.summary
        self.syncThreadWrite = write.summary
    }
}

/// One stage of a snapshot, found from the snapshot threads' file system calls.
struct StageReport: Codable, Sendable {
    var stage: String
    /// From the snapshot's request.
    var offsetSeconds: Double
    var seconds: Double
    var figures: PostingFigures
    var activity: MachineActivity
}

/// A B phase's snapshot.
struct SnapshotReport: Codable, Sendable {
    /// The write policy in force (``SnapshotWritePolicy/name``).
    var variant: String
    var sequence: UInt64
    var fileBytes: Int64
    var seconds: Double
    var stages: [StageReport]
    /// What the snapshot threads wrote and read through the file system, and their longest calls.
    var bytesWritten: Int64
    var bytesRead: Int64
    var snapshotFileSyncSeconds: Double?
    var longestCalls: [String]
    var failure: String?
}

struct PhaseReport: Codable, Sendable {
    var label: String
    var startSeconds: Double
    var seconds: Double
    var figures: PostingFigures
    var activity: MachineActivity
    var snapshot: SnapshotReport?
}

/// Splits a snapshot (request at `start`, completion at `end`) into its stages from the snapshot
/// threads' calls: loading the newest snapshot (until the journal is first read), replaying the
/// journal after it (until the new file is created), encoding, compressing and writing the
/// sections, the state digest (from the last section write to the fsync; the 16-byte trailer and
/// the header are written at its end), the file's fsync, and the rest (rename, directory syncs, retention and archiving).
func snapshotStages(events: [FileEvent], start: UInt64, end: UInt64) -> [PhaseWindow] {
    let mine = events.filter {
        ($0.thread == .snapshot || $0.thread == .snapshotRead) && $0.start >= start && $0.start <= end
    }
    guard let firstJournalRead = mine.first(where: { $0.operation == .read && $0.path.contains("/journal/") }),
        let create = mine.first(where: { $0.operation == .create && $0.path.hasSuffix(".tsnap.tmp") })
    else {
        return [PhaseWindow(label: "whole", start: start, end: end)]
    }
    let temporary = create.path
    let writes = mine.filter { $0.operation == .write && $0.path == temporary }
    guard let trailer = writes.first(where: { $0.bytes == Int64(16) && $0.offset > 0 }),
        let lastSection = writes.last(where: { $0.start < trailer.start }),
        let sync = mine.first(where: { $0.operation == .sync && $0.path == temporary })
    else {
        return [
            PhaseWindow(label: "load", start: start, end: firstJournalRead.start),
            PhaseWindow(label: "replay", start: firstJournalRead.start, end: create.start),
            PhaseWindow(label: "rest", start: create.start, end: end),
        ]
    }
    let sectionsEnd = lastSection.start + lastSection.nanoseconds
    let syncEnd = sync.start + sync.nanoseconds
    return [
        PhaseWindow(label: "load", start: start, end: firstJournalRead.start),
        PhaseWindow(label: "replay", start: firstJournalRead.start, end: create.start),
        PhaseWindow(label: "encode+write", start: create.start, end: sectionsEnd),
        PhaseWindow(label: "digest", start: sectionsEnd, end: sync.start),
        PhaseWindow(label: "fsync", start: sync.start, end: syncEnd),
        PhaseWindow(label: "retention", start: syncEnd, end: end),
    ]
}

/// The completions answered within `window` (completions are in time order).
func completions(_ all: [Completion], in window: PhaseWindow) -> ArraySlice<Completion> {
    let low = partitionPoint(all) { $0.end < window.start }
    let high = partitionPoint(all) { $0.end < window.end }
    return all[low..<high]
}

private func partitionPoint(_ all: [Completion], _ before: (Completion) -> Bool) -> Int {
    var low = 0
    var high = all.count
    while low < high {
        let middle = (low + high) / 2
        if before(all[middle]) {
            low = middle + 1
        } else {
            high = middle
        }
    }
    return low
}
