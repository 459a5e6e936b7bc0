import CommitBenchmarkSupport
import Synchronization

/// Transfer sequence numbers handed out to every caller of a run: operation `n` has key
/// `Workload.key(.transfer, n)`, so keys are unique across callers, configurations and the prefill.
final class SequenceSource: Sendable {
    private let next = Atomic<UInt64>(0)

    /// The first of `count` fresh sequence numbers.
    func take(_ count: Int) -> UInt64 {
        self.next.add(UInt64(count), ordering: .relaxed).oldValue
    }
}

/// The measurement window of one load: set by the main thread, read by callers when a request
/// completes, so that only requests completed inside it count.
final class Window: Sendable {
    private let start = Atomic<UInt64>(UInt64.max)
    private let end = Atomic<UInt64>(UInt64.max)
    /// Set when callers should stop submitting.
    let stopping = Atomic<Bool>(false)

    func open(at time: UInt64) {
        self.start.store(time, ordering: .releasing)
    }

    func close(at time: UInt64) {
        self.end.store(time, ordering: .releasing)
    }

    @inline(__always)
    func contains(_ time: UInt64) -> Bool {
        time >= self.start.load(ordering: .acquiring) && time <= self.end.load(ordering: .acquiring)
    }
}

/// What callers counted inside the window.
struct CallerTotals {
    var latency = LatencyRecorder()
    var requests: UInt64 = 0
    var operations: UInt64 = 0
    /// Requests that failed or had an operation that was not `ok`.
    var failures: UInt64 = 0
    var firstFailure: String?

    mutating func add(_ other: CallerTotals) {
        self.latency.add(other.latency)
        self.requests += other.requests
        self.operations += other.operations
        self.failures += other.failures
        self.firstFailure = self.firstFailure ?? other.firstFailure
    }
}

/// One load configuration's figures.
struct LoadResult: Codable {
    var driver: String
    var callers: Int
    var operationsPerRequest: Int
    var seconds: Double
    var loadAverage: Double
    /// Durable 2-leg postings per second.
    var postingsPerSecond: Double
    var requestsPerSecond: Double
    var latency: LatencySummary
    var syncsPerSecond: Double
    var requestsPerSync: Double
    /// Journal bytes (records with their headers) written by the sync thread per second.
    var journalMegabytesPerSecond: Double
    var meanGroupBytes: Double
    /// Every byte written per second, spare segments' zero-fill included.
    var diskMegabytesPerSecond: Double
    var segmentRotations: UInt64
    /// The sync thread's time in pwrite and fdatasync, as shares of the window.
    var syncThreadWriteShare: Double
    var syncThreadDataSyncShare: Double
    /// Share of the window the sync thread waited for a spare segment at rotations.
    var syncThreadSpareWaitShare: Double
    var dataSync: LatencySummary
    /// The writer thread's CPU time as a share of the window: near 1, the writer is the limit.
    var writerBusy: Double
    var threads: ThreadActivity
    var failures: UInt64

    var label: String {
        "\(self.driver) \(self.callers) callers x \(self.operationsPerRequest) ops"
    }

    var lines: [String] {
        var lines = [
            "\(self.label) (\(format(self.loadAverage, digits: 2)) load): "
                + "\(format(self.postingsPerSecond, digits: 0)) postings/s durable, "
                + "\(format(self.requestsPerSecond, digits: 0)) requests/s, "
                + "\(format(self.syncsPerSecond, digits: 0)) syncs/s, \(format(self.requestsPerSync)) requests per sync",
            "  request latency \(self.latency.text)",
            "  journal \(format(self.journalMegabytesPerSecond)) MB/s (groups of \(format(self.meanGroupBytes / 1_000)) kB), "
                + "disk writes \(format(self.diskMegabytesPerSecond)) MB/s, \(self.segmentRotations) rotations; "
                + "writer thread cpu \(format(self.writerBusy * 100, digits: 0))%; sync thread in pwrite "
                + "\(format(self.syncThreadWriteShare * 100, digits: 0))%, in fdatasync "
                + "\(format(self.syncThreadDataSyncShare * 100, digits: 0))% (p50 "
                + "\(format(self.dataSync.p50Microseconds)) µs), waiting for spares "
                + "\(format(self.syncThreadSpareWaitShare * 100, digits: 0))%",
        ]
        for line in self.threads.lines(over: UInt64(self.seconds * 1e9)) {
            lines.append("  \(line)")
        }
        if self.failures > 0 {
            lines.append("  FAILED REQUESTS: \(self.failures)")
        }
        return lines
    }
}
