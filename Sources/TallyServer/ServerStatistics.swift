import Foundation
import Histogram
import Metrics
import NIOConcurrencyHelpers
import Synchronization
import TallyCore
import TallyEngine
import TallyWire

/// The server's counters and latency record: reported by the `statistics` opcode (and so by
/// `tally stats`) and, through swift-metrics, to whatever metrics backend the process bootstrapped.
///
/// Counters are atomics updated on the event loops; the latency histogram is behind a lock taken
/// once per request. swift-metrics objects are created once, with fixed labels.
final class ServerStatistics: Sendable {
    let connectionsAccepted = Atomic<UInt64>(0)
    let connectionsOpen = Atomic<UInt64>(0)
    let connectionsRefused = Atomic<UInt64>(0)
    let connectionsReadOnly = Atomic<UInt64>(0)
    let requests = Atomic<UInt64>(0)
    let submits = Atomic<UInt64>(0)
    let reads = Atomic<UInt64>(0)
    let operations = Atomic<UInt64>(0)
    let errorReplies = Atomic<UInt64>(0)
    let busyReplies = Atomic<UInt64>(0)
    let malformedRequests = Atomic<UInt64>(0)
    let idleClosed = Atomic<UInt64>(0)
    let bytesReceived = Atomic<UInt64>(0)
    let bytesSent = Atomic<UInt64>(0)
    let startedNanoseconds = DispatchTime.now().uptimeNanoseconds

    /// Submit round trips inside the server (decoded to reply written), in microseconds.
    private let submitLatency = NIOLockedValueBox(Histogram<UInt64>(highestTrackableValue: 60_000_000))

    private let requestCounter: Counter
    private let operationCounter: Counter
    private let errorCounter: Counter
    private let busyCounter: Counter
    private let connectionCounter: Counter
    private let openConnections: Gauge
    private let submitTimer: Timer

    /// Metrics are made from `factory`: the process's bootstrapped backend by default.
    init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.requestCounter = Counter(label: "tally_requests_total", factory: factory)
        self.operationCounter = Counter(label: "tally_operations_total", factory: factory)
        self.errorCounter = Counter(label: "tally_error_replies_total", factory: factory)
        self.busyCounter = Counter(label: "tally_busy_replies_total", factory: factory)
        self.connectionCounter = Counter(label: "tally_connections_total", factory: factory)
        self.openConnections = Gauge(label: "tally_connections_open", factory: factory)
        self.submitTimer = Timer(label: "tally_submit_duration", preferredDisplayUnit: .microseconds, factory: factory)
    }

    func connectionOpened(readOnly: Bool) {
        self.connectionsAccepted.add(1, ordering: .relaxed)
        let open = self.connectionsOpen.add(1, ordering: .relaxed).newValue
        if readOnly { self.connectionsReadOnly.add(1, ordering: .relaxed) }
        self.connectionCounter.increment()
        self.openConnections.record(Int64(open))
    }

    func connectionClosed() {
        let open = self.connectionsOpen.subtract(1, ordering: .relaxed).newValue
        self.openConnections.record(Int64(open))
    }

    func requestReceived(byteCount: Int) {
        self.requests.add(1, ordering: .relaxed)
        self.bytesReceived.add(UInt64(byteCount), ordering: .relaxed)
        self.requestCounter.increment()
    }

    func submitted(operations: Int) {
        self.submits.add(1, ordering: .relaxed)
        self.operations.add(UInt64(operations), ordering: .relaxed)
        self.operationCounter.increment(by: Int64(operations))
    }

    func replied(status: ReplyStatus, byteCount: Int) {
        self.bytesSent.add(UInt64(byteCount), ordering: .relaxed)
        guard status != .ok else { return }
        self.errorReplies.add(1, ordering: .relaxed)
        self.errorCounter.increment()
        if status == .busy {
            self.busyReplies.add(1, ordering: .relaxed)
            self.busyCounter.increment()
        }
        if status == .malformed {
            self.malformedRequests.add(1, ordering: .relaxed)
        }
    }

    func submitCompleted(nanoseconds: UInt64) {
        self.submitTimer.recordNanoseconds(Int64(clamping: nanoseconds))
        let microseconds = max(1, nanoseconds / 1_000)
        self.submitLatency.withLockedValue { _ = $0.record(min(microseconds, 60_000_000)) }
    }

    /// Every statistic, named as docs/PROTOCOL.md's statistics section lists them: the server's
    /// own, then the ledger's (`ledger`), the journal's and snapshots' (from `engine`) and the
    /// process's.
    func report(ledger: LedgerStatistics?, engine: Engine, metrics: MetricsRegistry? = nil) -> [Statistic] {
        var out: [Statistic] = []
        func counter(_ name: String, _ value: UInt64) { out.append(Statistic(name, .counter, value)) }
        func gauge(_ name: String, _ value: UInt64) { out.append(Statistic(name, .gauge, value)) }
        counter("server.connections.accepted", self.connectionsAccepted.load(ordering: .relaxed))
        gauge("server.connections.open", self.connectionsOpen.load(ordering: .relaxed))
        counter("server.connections.refused", self.connectionsRefused.load(ordering: .relaxed))
        counter("server.connections.read_only", self.connectionsReadOnly.load(ordering: .relaxed))
        counter("server.connections.idle_closed", self.idleClosed.load(ordering: .relaxed))
        counter("server.requests", self.requests.load(ordering: .relaxed))
        counter("server.requests.submit", self.submits.load(ordering: .relaxed))
        counter("server.requests.read", self.reads.load(ordering: .relaxed))
        counter("server.operations", self.operations.load(ordering: .relaxed))
        counter("server.replies.error", self.errorReplies.load(ordering: .relaxed))
        counter("server.replies.busy", self.busyReplies.load(ordering: .relaxed))
        counter("server.requests.malformed", self.malformedRequests.load(ordering: .relaxed))
        counter("server.bytes.received", self.bytesReceived.load(ordering: .relaxed))
        counter("server.bytes.sent", self.bytesSent.load(ordering: .relaxed))
        let latency = self.submitLatency.withLockedValue { histogram in
            (
                histogram.totalCount,
                histogram.valueAtPercentile(50), histogram.valueAtPercentile(99),
                histogram.valueAtPercentile(99.9), histogram.maxRecorded
            )
        }
        counter("server.submit.count", latency.0)
        gauge("server.submit.latency_us.p50", latency.0 == 0 ? 0 : latency.1)
        gauge("server.submit.latency_us.p99", latency.0 == 0 ? 0 : latency.2)
        gauge("server.submit.latency_us.p999", latency.0 == 0 ? 0 : latency.3)
        gauge("server.submit.latency_us.max", latency.0 == 0 ? 0 : latency.4)
        if let ledger {
            gauge("ledger.assets", UInt64(ledger.assets))
            gauge("ledger.accounts", UInt64(ledger.accounts))
            gauge("ledger.aggregate_buckets", UInt64(ledger.aggregateBuckets))
            gauge("ledger.open_holds", UInt64(ledger.openHolds))
            counter("ledger.transactions", ledger.transactions)
            gauge("ledger.retained_transactions", UInt64(ledger.retainedTransactions))
            gauge("ledger.retained_keys", UInt64(ledger.retainedKeys))
            counter("ledger.rejected_operations", ledger.rejectedOperations)
            counter("ledger.batches", ledger.batches)
            gauge("ledger.recorded_time_ns", ledger.recordedTime.nanosecondsSinceEpoch)
            gauge(
                "ledger.memory_bytes",
                UInt64(ledger.keyMemoryBytes + ledger.transactionMemoryBytes + ledger.accountMemoryBytes)
            )
        }
        gauge("journal.durable_sequence", engine.durableSequence)
        let syncs = engine.journalSyncs
        counter("journal.syncs", syncs.bySyncThread + syncs.byCaller)
        counter("journal.syncs.on_event_loop", syncs.byCaller)
        counter("journal.synced_records", syncs.records)
        let snapshots = engine.snapshotStatus
        counter("snapshot.written", snapshots.written)
        counter("snapshot.failed", snapshots.failed)
        gauge("snapshot.newest_sequence", snapshots.newest?.sequence ?? 0)
        counter("snapshot.archived_segments", snapshots.archivedSegments)
        gauge("process.resident_bytes", Self.residentBytes())
        gauge("process.uptime_ms", (DispatchTime.now().uptimeNanoseconds - self.startedNanoseconds) / 1_000_000)
        if let metrics {
            out += metrics.statistics()
        }
        return out
    }

    /// Resident set size from /proc/self/statm (pages × page size); 0 when it cannot be read.
    static func residentBytes() -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
